"""sshorch_taints on a host or group: read as kubectl writes taints; a bad one names file, host and taint."""

from __future__ import annotations

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import load_inventory
from sshorch.taints import Taint

from .conftest import WriteTree

INVENTORY = """
all:
  children:
    db:
      hosts:
        db1:
        db2:
          sshorch_taints: ["gpu:NoExecute", "dedicated=db:NoSchedule"]
      vars:
        sshorch_taints: ["dedicated=db:NoSchedule"]
  hosts:
    web1:
"""


def test_taints_come_from_the_host_or_its_group(write_tree: WriteTree) -> None:
    root = write_tree({"inv.yml": INVENTORY})
    hosts = {h.name: h for h in load_inventory(root / "inv.yml").hosts}
    assert hosts["db1"].taints == (Taint("dedicated", "NoSchedule", "db"),)
    # The host's list replaces the group's, as Ansible variables do.
    assert hosts["db2"].taints == (Taint("gpu", "NoExecute"), Taint("dedicated", "NoSchedule", "db"))
    assert hosts["web1"].taints == ()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('"dedicated=db:NoSchedule"', "sshorch_taints must be a list of taints"),
        ('["dedicated=db"]', "sshorch_taints has a bad taint: 'dedicated=db' is not a taint"),
        ('["dedicated=db:Sometimes"]', "the effect must be one of NoSchedule, PreferNoSchedule, NoExecute"),
        ("[{key: a}]", "sshorch_taints must hold taints as text"),
    ],
)
def test_a_bad_taint_is_one_line_naming_the_file(write_tree: WriteTree, value: str, problem: str) -> None:
    root = write_tree({"inv.yml": f"all:\n  hosts:\n    web1:\n      sshorch_taints: {value}\n"})
    with pytest.raises(InventoryError) as caught:
        load_inventory(root / "inv.yml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{root / 'inv.yml'}: host 'web1': "), message
    assert problem in message, message
