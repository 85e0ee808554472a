"""The INI format: sections, host lines, value types."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import load_inventory
from sshorch.inventory.ini import parse_ini, parse_ini_value
from sshorch.inventory.source import AddChild, AddHost, DeclareGroup, Place, SetGroupVar, SetHostVar

from .conftest import WriteTree


def _ini(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-3", -3),
        ("0x1f", 31),
        ("1_000", 1000),
        ("1.5", 1.5),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 'two']", [1, "two"]),
        ("(1, 2)", [1, 2]),
        ("{3}", [3]),
        ("{'k': (1, 2)}", {"k": [1, 2]}),
        ("'03'", "03"),
        ("b'raw'", "raw"),
        ("...", "..."),
        ("1j", "1j"),
        # not Python literals: kept as written
        ("yes", "yes"),
        ("true", "true"),
        ("007", "007"),
        ("web01", "web01"),
        ("a=b", "a=b"),
        ("", ""),
        ("/srv/data", "/srv/data"),
        ("foo # c", "foo # c"),
        ('"quoted"  # a Python comment', "quoted"),
    ],
)
def test_parse_ini_value(text: str, value: Any) -> None:
    assert parse_ini_value(text) == value
    assert type(parse_ini_value(text)) is type(value)


def test_parse_ini_statements() -> None:
    text = _ini(
        """
        # comment
        ; another comment
        lone1 a=1
        [web]
        web[1:2]:2222 role="front end"
        [web:vars]
        color = blue
        [all:children]
        web
        """
    )
    parsed = parse_ini(text, "inv.ini")

    def place(line: int) -> Place:
        return Place("inv.ini", line)

    assert parsed.path == "inv.ini"
    assert parsed.statements == (
        AddHost("lone1", "ungrouped", None, place(3)),
        SetHostVar("lone1", "a", 1, place(3)),
        DeclareGroup("web", True, place(4)),
        AddHost("web1", "web", 2222, place(5)),
        SetHostVar("web1", "role", "front end", place(5)),
        AddHost("web2", "web", 2222, place(5)),
        SetHostVar("web2", "role", "front end", place(5)),
        DeclareGroup("web", False, place(6)),
        SetGroupVar("web", "color", "blue", place(7)),
        DeclareGroup("all", True, place(8)),
        AddChild("all", "web", place(9)),
    )


def test_ini_inventory(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "hosts.ini": """
                top1
                [web]
                web1 ansible_host=198.18.0.11 ansible_port=2222
                web2:2200
                [db]
                db1
                [app:children]
                web
                db
                [app:vars]
                tier=app
                [web:vars]
                tier=web
            """
        }
    )
    inventory = load_inventory(root / "hosts.ini")
    assert [host.name for host in inventory.hosts] == ["top1", "web1", "web2", "db1"]
    web1, web2, db1 = inventory.host("web1"), inventory.host("web2"), inventory.host("db1")
    assert (web1.address, web1.port) == ("198.18.0.11", 2222)
    assert (web2.address, web2.port) == ("web2", 2200)
    assert web1.groups == ("app", "web")
    assert web1.vars["tier"] == "web"
    assert db1.vars["tier"] == "app"
    assert inventory.host("top1").groups == ()
    assert inventory.groups["ungrouped"].hosts == ("top1",)
    assert inventory.groups["app"].children == ("web", "db")
    assert inventory.groups["web"].hosts == ("web1", "web2")
    assert dict(inventory.groups["app"].vars) == {"tier": "app"}
    assert inventory.groups["all"].children == ("ungrouped", "app")


def test_port_shorthand_counts_only_where_the_host_first_appears(write_tree: WriteTree) -> None:
    root = write_tree({"inv": "[a]\nh1\n[b]\nh1:2222\nh2:2200\n[c]\nh2:2300\n"})
    inventory = load_inventory(root / "inv")
    assert inventory.host("h1").port == 22
    assert inventory.host("h2").port == 2200


def test_children_may_be_declared_before_the_child_group(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[parent:children]\nchild\n[parent:vars]\nx=1\n[child]\nh1\n"})
    inventory = load_inventory(root / "inv.ini")
    assert inventory.host("h1").groups == ("child", "parent")
    assert inventory.host("h1").vars["x"] == 1


def test_an_empty_section_defines_a_group(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[web:children]\ncanary\n[canary]\n[web]\nh1\n"})
    inventory = load_inventory(root / "inv.ini")
    assert inventory.groups["canary"].hosts == ()
    assert inventory.groups["web"].children == ("canary",)


def test_non_utf8_is_tolerated_in_comment_lines_only(write_tree: WriteTree) -> None:
    root = write_tree({"good.ini": b"# caf\xe9\n[web]\nh1\n", "bad.ini": b"[web]\nh\xe9\n"})
    assert load_inventory(root / "good.ini").host("h1").name == "h1"
    with pytest.raises(InventoryError, match=r"bad\.ini: line 2: not valid UTF-8"):
        load_inventory(root / "bad.ini")


def test_a_file_without_extension_is_ini_unless_it_reads_as_yaml(write_tree: WriteTree) -> None:
    root = write_tree({"ini/hosts": "[web]\nh1\n", "yaml/hosts": "web:\n  hosts:\n    h2:\n"})
    assert load_inventory(root / "ini" / "hosts").host("h1").groups == ("web",)
    assert load_inventory(root / "yaml" / "hosts").host("h2").groups == ("web",)
