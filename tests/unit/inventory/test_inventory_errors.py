"""Every problem is one InventoryError line that names the file (and line, when known)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import load_inventory

from .conftest import WriteTree


def _error(path: Path | list[Path]) -> str:
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, InventoryError)
    return message


@pytest.mark.parametrize(
    ("name", "text", "where", "problem"),
    [
        ("bad.yml", "all:\n  hosts:\n    web1:\n  vars: x: y\n", "bad.yml: line 4", "invalid YAML: mapping values are not allowed here"),
        ("bad.yml", "all:\n  hosts: {web1\n", "bad.yml: line 3", "invalid YAML"),
        ("bad.yml", "a: !custom 1\n", "bad.yml: line 1", "could not determine a constructor for the tag '!custom'"),
        ("inv.ini", "[web:children]\nnope\n[web]\nh1\n", "inv.ini: line 2", "group 'web' lists unknown child group 'nope'"),
        ("inv.ini", "[web]\nh1\n[db:vars]\nx=1\n", "inv.ini: line 3", "section [db:vars] is for group 'db', which is never defined"),
        ("inv.ini", "[web servers]\nh1\n", "inv.ini: line 1", "invalid section header '[web servers]'"),
        ("inv.ini", "[web:hosts2]\nh1\n", "inv.ini: line 1", "unknown type 'hosts2'"),
        ("inv.ini", "[web]\nh1 novalue\n", "inv.ini: line 2", "expected key=value after the host name, got 'novalue'"),
        ("inv.ini", "[web]\nh1 a='x\n", "inv.ini: line 2", "cannot split host line"),
        ("inv.ini", "[web:vars]\njust text\n[web]\nh1\n", "inv.ini: line 2", "expected key=value in [web:vars]"),
        ("inv.ini", "[web:children]\nbad name\n", "inv.ini: line 2", "expected a group name, got 'bad name'"),
        ("inv.ini", "[web]\nweb$(reboot)\n", "inv.ini: line 2", "invalid host name 'web$(reboot)'"),
        ("inv.ini", "[web]\n-oProxyCommand=x\n", "inv.ini: line 2", "invalid host name '-oProxyCommand=x'"),
        ("inv.ini", "[web]\nweb[3:1]\n", "inv.ini: line 2", "range [3:1] ends before it begins"),
        ("inv.ini", "---\nall:\n", "inv.ini: line 1", "starts a YAML document"),
        ("inv.ini", "[a:children]\nb\n[b:children]\na\n", "inv.ini: line 4", "making 'a' a child of 'b' creates a loop"),
        ("inv.ini", "[a:children]\na\n", "inv.ini: line 2", "creates a loop"),
        ("inv.ini", "[web:children]\nall\n", "inv.ini: line 2", "group 'all' cannot be a child"),
        ("inv.ini", "[web]\nweb\n", "inv.ini: line 2", "'web' is the name of both a host and a group"),
        ("inv.ini", "[web]\nh1\n[web:vars]\nansible_group_priority=high\n", "inv.ini: line 4", "ansible_group_priority must be an integer, got 'high'"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_port: abc\n", "inv.yml", "host 'web1': ansible_port must be an integer 1-65535, got 'abc'"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_port: 70000\n", "inv.yml", "ansible_port must be an integer 1-65535, got 70000"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_port: true\n", "inv.yml", "ansible_port must be an integer 1-65535, got True"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_runtime: containerd\n", "inv.yml", "host 'web1': sshorch_runtime must be 'podman' or 'docker', got 'containerd'"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_become: maybe\n", "inv.yml", "ansible_become must be a boolean"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_host: '{{ ip }}'\n", "inv.yml", "Jinja2 templates in inventory variables are not supported"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_host: 'a b'\n", "inv.yml", "ansible_host must be a host name or IP address"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      ansible_user: 'root; reboot'\n", "inv.yml", "ansible_user must be a user name"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_labels: [a, b]\n", "inv.yml", "sshorch_labels must be a mapping"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_labels: {a: [1]}\n", "inv.yml", "sshorch_labels must have text, number or boolean label values"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_capacity: 4\n", "inv.yml", "sshorch_capacity must be a mapping"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_capacity: {gpu: 1}\n", "inv.yml", "sshorch_capacity may only set cpu and memory, got 'gpu'"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_capacity: {cpu: lots}\n", "inv.yml", "sshorch_capacity.cpu must be a CPU quantity such as 500m, 0.5 or 2, got 'lots'"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_capacity: {memory: 4m}\n", "inv.yml", "sshorch_capacity.memory must be a memory quantity"),
        ("inv.yml", "web:\n  hosts:\n    web1:\n      sshorch_capacity: {memory: [1]}\n", "inv.yml", "sshorch_capacity.memory must be a memory quantity"),
        # The cluster name reaches a crontab line, file names and labels: a newline once added a crontab entry.
        ("inv.yml", "all:\n  vars:\n    sshorch_cluster: \"a\\n* * * * * root evil\"\n  hosts: {h1: }\n", "inv.yml", "sshorch_cluster must be a DNS-1123 label"),
        ("inv.yml", "all:\n  vars:\n    sshorch_cluster: 50%\n  hosts: {h1: }\n", "inv.yml", "sshorch_cluster must be a DNS-1123 label (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit), got '50%'"),
        ("inv.yml", "all:\n  vars:\n    sshorch_cluster: Prod\n  hosts: {h1: }\n", "inv.yml", "got 'Prod'"),
        ("inv.yml", "all:\n  vars:\n    sshorch_cluster: [a]\n  hosts: {h1: }\n", "inv.yml", "got a list"),
        ("inv.yml", "all:\n  vars:\n    sshorch_cluster: " + "a" * 64 + "\n  hosts: {h1: }\n", "inv.yml", "sshorch_cluster must be a DNS-1123 label"),
        ("inv.yml", "", "inv.yml", "the inventory has no hosts"),
        ("inv.ini", "[web]\n[db]\n", "inv.ini", "the inventory has no hosts"),
        ("inv.toml", "[web]\n", "inv.toml", "TOML inventories are not supported"),
        ("inv.yml", "$ANSIBLE_VAULT;1.1;AES256\n3131\n", "inv.yml", "encrypted with Ansible Vault"),
    ],
)
def test_inventory_file_errors(write_tree: WriteTree, name: str, text: str, where: str, problem: str) -> None:
    root = write_tree({name: text})
    message = _error(root / name)
    assert message.startswith(f"{root / where}: "), message
    assert problem in message, message


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.ini") == f"{tmp_path / 'nope.ini'}: no such file or directory"


def test_relative_paths_are_reported_as_given(write_tree: WriteTree, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree({"inventories/bad.yml": "all:\n  hosts:\n    web1:\n  vars: x: y\n"})
    monkeypatch.chdir(root)
    assert _error(Path("inventories/bad.yml")) == (
        "inventories/bad.yml: line 4: invalid YAML: mapping values are not allowed here"
    )


def test_not_utf8(write_tree: WriteTree) -> None:
    root = write_tree({"inv.yml": b"web:\n  hosts:\n    w\xff:\n"})
    assert _error(root / "inv.yml") == f"{root / 'inv.yml'}: line 3: not valid UTF-8"


def test_error_names_the_vars_file_that_set_the_value(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[web]\nweb1 ansible_port=22\n", "host_vars/web1/conn.yml": "ansible_port: '0'\n"})
    assert _error(root / "inv.ini") == (
        f"{root / 'host_vars/web1/conn.yml'}: host 'web1': ansible_port must be an integer 1-65535, got '0'"
    )


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("web.yml", "a: [1\n", "line 2: invalid YAML"),
        ("web.yml", "- a\n- b\n", "a vars file must be a mapping"),
        ("web.json", '{"a": [}', "line 1: invalid YAML"),
        ("web.yml", b"a: caf\xe9\n", "line 1: not valid UTF-8"),
        ("web.yml", "$ANSIBLE_VAULT;1.1;AES256\n3131\n", "encrypted with Ansible Vault"),
    ],
)
def test_group_vars_file_errors(write_tree: WriteTree, name: str, text: str | bytes, problem: str) -> None:
    root = write_tree({"inv.ini": "[web]\nw1\n", f"group_vars/{name}": text})
    message = _error(root / "inv.ini")
    assert message.startswith(f"{root / 'group_vars' / name}: "), message
    assert problem in message


def test_the_cluster_name_error_names_the_group_vars_file(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[web]\nw1\n", "group_vars/all.yml": "sshorch_cluster: my_cluster\n"})
    assert _error(root / "inv.ini").startswith(f"{root / 'group_vars/all.yml'}: sshorch_cluster must be a DNS-1123 label")


def test_vars_files_of_unknown_groups_are_not_read(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[web]\nw1\n", "group_vars/old.yml": "a: [broken\n"})
    assert load_inventory(root / "inv.ini").host("w1").vars == {}


def test_no_inventory_given() -> None:
    with pytest.raises(InventoryError, match="no inventory given"):
        load_inventory([])


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[web]\nw1\n"})
    (root / "inv.ini").chmod(0)
    assert _error(root / "inv.ini") == f"{root / 'inv.ini'}: cannot read: Permission denied"
