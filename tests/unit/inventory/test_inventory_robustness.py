"""Whatever a file contains, loading it either works or raises one InventoryError line."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sshorch.errors import InventoryError
from sshorch.inventory.reader import parse_inventory_file
from sshorch.inventory.merge import VarsRoot, merge_inventory
from sshorch.inventory.vars_dirs import VarsTree

_INI_PIECES = st.sampled_from(
    ["[web]", "[web:vars]", "[web:children]", "[db]", "[x:y]", "h1", "h[1:3]", "h[3:1]", "h:22", "a=1", "b='x",
     "c=[1,", "d={[1]: 2}", "e=b'\\xff'", "ansible_port=abc", "ansible_port=22", "sshorch_runtime=lxc", "#", ";",
     " ", "=", "[", "]", "db", "all", "ungrouped", "web", "1e999", "-", "$", "\t", "{{ x }}", "ansible_become=maybe"]
)
_YAML_PIECES = st.sampled_from(
    ["all:", "web:", "hosts:", "vars:", "children:", "h1:", "h[1:2]:", "  ", "    ", "- ", "~", "{}", "[]", "'", '"',
     "!vault x", "!unsafe y", "!foo", "1:", "ansible_port: abc", "ansible_port: 2222", "sshorch_labels: [1]", "&a",
     "*a", "<<: *a", "? ", "plugin: x", "db", ":", "yes", "2024-01-01", "{{ x }}"]
)


def _text(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    line = st.lists(pieces, max_size=4).map(" ".join)
    return st.lists(line, max_size=8).map("\n".join)


def _load(name: str, text: str, group_vars: str = "") -> None:
    parsed = parse_inventory_file(name, text.encode())
    tree = VarsTree("group_vars", {"web.yml": group_vars.encode()}, {"": ("web.yml",)})
    merge_inventory([name], [parsed], [VarsRoot(group_vars=tree)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text(_INI_PIECES), st.sampled_from(["inv.ini", "hosts"]))
def test_ini_never_crashes(text: str, name: str) -> None:
    try:
        _load(name, text)
    except InventoryError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text(_YAML_PIECES), _text(_YAML_PIECES), st.sampled_from(["inv.yml", "hosts"]))
def test_yaml_never_crashes(text: str, group_vars: str, name: str) -> None:
    try:
        _load(name, text, group_vars)
    except InventoryError as exc:
        assert "\n" not in str(exc) and str(exc).startswith((name, "group_vars"))


@pytest.mark.parametrize("data", [b"\xff\xfe\x00", b"\x00\x01", "\ufeff[web]\nh1\n".encode()])
def test_binary_content(data: bytes) -> None:
    for name in ("inv.ini", "inv.yml", "hosts"):
        try:
            parse_inventory_file(name, data)
        except InventoryError as exc:
            assert "\n" not in str(exc)
