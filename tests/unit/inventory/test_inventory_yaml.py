"""The YAML format: all / children / hosts / vars, nested, and YAML/JSON vars files."""

from __future__ import annotations

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import Vaulted, load_inventory
from sshorch.inventory.source import AddChild, AddHost, DeclareGroup, Place, SetGroupVar, SetHostVar
from sshorch.inventory.yaml_source import load_yaml_text, parse_yaml_inventory

from .conftest import WriteTree


def test_parse_yaml_statements() -> None:
    data = load_yaml_text(
        "all:\n  vars: {a: 1}\n  children:\n    web:\n      hosts:\n        w[1:2]:2200: {role: x}\n    db:\n",
        "inv.yml",
    )
    place = Place("inv.yml")
    assert parse_yaml_inventory(data, "inv.yml").statements == (
        DeclareGroup("all", True, place),
        SetGroupVar("all", "a", 1, place),
        DeclareGroup("web", True, place),
        AddHost("w1", "web", 2200, place),
        SetHostVar("w1", "role", "x", place),
        AddHost("w2", "web", 2200, place),
        SetHostVar("w2", "role", "x", place),
        AddChild("all", "web", place),
        DeclareGroup("db", True, place),  # a null child defines an (empty) group, as in Ansible
        AddChild("all", "db", place),
    )


def test_yaml_inventory(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.yml": """
                all:
                  vars:
                    sshorch_cluster: test
                  hosts:
                    solo:
                  children:
                    web:
                      hosts:
                        web1:
                          ansible_host: 198.18.0.11
                        web2: ~
                      children:
                        canary:
                          hosts:
                            web2:
                    db:
                db:
                  hosts: db1
                  vars:
                    flag: yes
            """
        }
    )
    inventory = load_inventory(root / "inv.yml")
    assert [host.name for host in inventory.hosts] == ["solo", "web1", "web2", "db1"]
    assert inventory.cluster_vars == {"sshorch_cluster": "test"}
    assert inventory.host("web2").groups == ("canary", "web")
    assert inventory.host("db1").vars == {"sshorch_cluster": "test", "flag": True}
    assert inventory.host("web1").address == "198.18.0.11"
    assert inventory.groups["ungrouped"].hosts == ("solo",)
    assert inventory.groups["web"].children == ("canary",)


def test_yaml_11_scalars_like_ansible() -> None:
    data = load_yaml_text("a: yes\nb: on\nc: 010\nd: 0o10\ne: 1_000\nf: '22'\ng: null\n", "v.yml")
    assert data == {"a": True, "b": True, "c": 8, "d": "0o10", "e": 1000, "f": "22", "g": None}


def test_ansible_yaml_tags() -> None:
    data = load_yaml_text("a: !unsafe '{{ x }}'\nb: !unsafe 5\nc: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n", "v.yml")
    assert data["a"] == "{{ x }}"
    assert data["b"] == 5
    assert data["c"] == Vaulted("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    assert "6162" not in repr(data["c"])


def test_json_inventory(write_tree: WriteTree) -> None:
    root = write_tree({"inv.json": '{"web": {"hosts": {"w1": {"ansible_port": 2222}}}}'})
    assert load_inventory(root / "inv.json").host("w1").port == 2222


def test_empty_yaml_file_adds_nothing(write_tree: WriteTree) -> None:
    root = write_tree({"inv/a.yml": "# nothing yet\n", "inv/b.yml": "web: {hosts: {w1: }}\n"})
    assert [host.name for host in load_inventory(root / "inv").hosts] == ["w1"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- web\n", "must be a mapping of groups, got a list"),
        ("web: [w1]\n", "group 'web' must be a mapping of hosts, vars and children, got a list"),
        ("web:\n  host:\n    w1:\n", "group 'web': unknown key 'host'"),
        ("web:\n  hosts: [w1]\n", "group 'web': hosts must be a mapping, got a list"),
        ("web:\n  hosts:\n    1:\n", "host name 1 must be a string"),
        ("web:\n  hosts:\n    w1: 5\n", "host 'w1': variables must be a mapping"),
        ("web:\n  vars:\n    1: x\n  hosts: {w1: }\n", "variable name 1 must be a non-empty string"),
        ("plugin: aws_ec2\n", "inventory plugin configurations"),
        ("'bad group':\n  hosts: {w1: }\n", "invalid group name 'bad group'"),
    ],
)
def test_yaml_structure_errors(write_tree: WriteTree, text: str, problem: str) -> None:
    root = write_tree({"inv.yml": text})
    with pytest.raises(InventoryError) as caught:
        load_inventory(root / "inv.yml")
    message = str(caught.value)
    assert message.startswith(f"{root / 'inv.yml'}: ")
    assert problem in message
