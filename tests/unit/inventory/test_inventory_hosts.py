"""Host settings (connection, sshorch_*), labels, immutability and select()."""

from __future__ import annotations

import copy
import os
import pickle
from pathlib import Path

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import FrozenMap, Host, Inventory, load_inventory
from sshorch.inventory.settings import parse_bool

from .conftest import WriteTree


@pytest.fixture
def cluster(write_tree: WriteTree) -> Inventory:
    root = write_tree(
        {
            "inv.yml": """
                all:
                  vars:
                    sshorch_cluster: test
                    sshorch_service_cidr: 198.19.0.0/16
                  hosts:
                    solo:
                  children:
                    web:
                      hosts:
                        web1:
                          ansible_host: 198.18.0.11
                          ansible_port: "2222"
                          ansible_user: deploy
                          ansible_ssh_private_key_file: ~/.ssh/id_test
                          ansible_become: "yes"
                          sshorch_labels: {zone: a, web: "overridden", gpu: true, count: 2, empty: null}
                          sshorch_capacity: {cpu: "2", memory: 4Gi}
                        web2:
                          sshorch_runtime: docker
                      children:
                        canary:
                          hosts:
                            web2:
                    db:
                      hosts:
                        db1:
                        "2001:db8::5":
            """
        }
    )
    return load_inventory(root / "inv.yml")


def test_defaults(cluster: Inventory) -> None:
    solo = cluster.host("solo")
    assert (solo.address, solo.port, solo.user) == ("solo", 22, "root")
    assert (solo.private_key_file, solo.become, solo.runtime) == (None, False, "podman")
    assert solo.groups == ()
    assert solo.labels == {}
    assert solo.capacity == {}


def test_connection_settings(cluster: Inventory) -> None:
    web1 = cluster.host("web1")
    assert (web1.address, web1.port, web1.user, web1.become) == ("198.18.0.11", 2222, "deploy", True)
    assert web1.private_key_file == os.path.expanduser("~/.ssh/id_test")
    assert web1.capacity == {"cpu": "2", "memory": "4Gi"}
    assert cluster.host("web2").runtime == "docker"


def test_labels_are_groups_plus_sshorch_labels(cluster: Inventory) -> None:
    assert cluster.host("web1").labels == {"web": "overridden", "zone": "a", "gpu": "true", "count": "2", "empty": ""}
    assert cluster.host("web2").labels == {"canary": "true", "web": "true"}
    assert cluster.host("web2").groups == ("canary", "web")


def test_cluster_vars(cluster: Inventory) -> None:
    assert cluster.cluster_vars == {"sshorch_cluster": "test", "sshorch_service_cidr": "198.19.0.0/16"}
    assert cluster.groups["all"].vars == cluster.cluster_vars


def test_alias_variables(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.ini": "h1 ansible_host=198.18.0.1 ansible_ssh_host=198.18.0.2 ansible_port=1 ansible_ssh_port=2"
            " ansible_user=a ansible_ssh_user=b ansible_private_key_file=/k1 ansible_ssh_private_key_file=/k2\n"
            "h2 ansible_private_key_file=/k1\n"
        }
    )
    inventory = load_inventory(root / "inv.ini")
    h1 = inventory.host("h1")
    # Ansible's ssh plugin reads the ansible_ssh_* spelling last, so it wins.
    assert (h1.address, h1.port, h1.user, h1.private_key_file) == ("198.18.0.2", 2, "b", "/k2")
    assert inventory.host("h2").private_key_file == "/k1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("yes", True), ("On", True), (" TRUE ", True), ("1", True), (1, True), ("t", True), ("y", True),
     (False, False), ("no", False), ("off", False), ("0", False), (0, False), (0.0, False), ("F", False),
     ("maybe", None), (2, None), (None, None), ([], None)],
)
def test_parse_bool(value: object, expected: bool | None) -> None:
    assert parse_bool(value) is expected


def test_hosts_are_immutable_and_copyable(cluster: Inventory) -> None:
    web1 = cluster.host("web1")
    with pytest.raises(AttributeError):
        web1.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        web1.vars["ansible_port"] = 1  # type: ignore[index]
    assert isinstance(web1.vars, FrozenMap)
    assert len({web1, cluster.host("web1")}) == 1
    assert pickle.loads(pickle.dumps(cluster)) == cluster
    assert copy.deepcopy(cluster) == cluster


def test_host_vars_do_not_share_mutable_values(write_tree: WriteTree) -> None:
    root = write_tree({"inv.yml": "web:\n  vars:\n    ports: [80]\n  hosts:\n    w1:\n    w2:\n"})
    inventory = load_inventory(root / "inv.yml")
    inventory.host("w1").vars["ports"].append(443)
    assert inventory.host("w2").vars["ports"] == [80]
    assert inventory.groups["web"].vars["ports"] == [80]


def test_host_lookup_error(cluster: Inventory) -> None:
    with pytest.raises(InventoryError, match=r"inv\.yml: no host named 'nope' in the inventory"):
        cluster.host("nope")


def _names(hosts: tuple[Host, ...]) -> list[str]:
    return [host.name for host in hosts]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (None, ["solo", "web1", "web2", "db1", "2001:db8::5"]),
        ("all", ["solo", "web1", "web2", "db1", "2001:db8::5"]),
        ("web", ["web1", "web2"]),  # includes child group 'canary'
        ("canary", ["web2"]),
        ("ungrouped", ["solo"]),
        ("db1", ["db1"]),
        ("2001:db8::5", ["2001:db8::5"]),
        ("db,canary", ["web2", "db1", "2001:db8::5"]),
        ("db:canary", ["web2", "db1", "2001:db8::5"]),
        ("solo, web:web1 ,", ["solo", "web1", "web2"]),
        ("2001:db8::5,solo", ["solo", "2001:db8::5"]),
    ],
)
def test_select(cluster: Inventory, pattern: str | None, expected: list[str]) -> None:
    assert _names(cluster.select(pattern)) == expected


@pytest.mark.parametrize("pattern", ["nope", "web,nope", "web:nope", "!web", "web*", "", " , "])
def test_select_unknown(cluster: Inventory, pattern: str) -> None:
    with pytest.raises(InventoryError) as caught:
        cluster.select(pattern)
    message = str(caught.value)
    assert message.startswith(f"{cluster.sources[0]}: ") and "\n" not in message


def test_inventory_sources_and_order(write_tree: WriteTree) -> None:
    root: Path = write_tree({"inv/b.ini": "[g]\nb1\na1\n", "inv/a.ini": "[g]\nz1\n"})
    inventory = load_inventory(str(root / "inv"))
    assert inventory.sources == (str(root / "inv"),)
    assert _names(inventory.hosts) == ["z1", "b1", "a1"]  # files in sorted order, hosts as written


def test_allow_privileged_is_per_host_and_group_and_a_boolean(write_tree: WriteTree) -> None:
    root = write_tree({"inv.yml": """
        all:
          hosts:
            plain:
          children:
            edge:
              vars:
                sshorch_allow_privileged: "yes"
              hosts:
                edge1:
                edge2:
                  sshorch_allow_privileged: false
    """})  # fmt: skip
    inventory = load_inventory(root / "inv.yml")
    assert [(h.name, h.allow_privileged) for h in inventory.hosts] == [("plain", False), ("edge1", True), ("edge2", False)]
    bad = write_tree({"bad.yml": "all:\n  hosts:\n    web1:\n      sshorch_allow_privileged: maybe\n"})
    with pytest.raises(InventoryError, match="sshorch_allow_privileged must be a boolean"):
        load_inventory(bad / "bad.yml")
