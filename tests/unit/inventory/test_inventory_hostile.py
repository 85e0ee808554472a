"""Inventories that once crashed or misled: recursive aliases, scripts, vault-encrypted files,
and groups listed under ``children:`` with no body."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import Vaulted, load_inventory
from sshorch.secrets.vault import vault_decrypter

from .conftest import WriteTree

VAULT = Path(__file__).parent / "vault_fixtures"
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"


def _error(path: Path, **kw: object) -> str:
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, **kw)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("all:\n  hosts:\n    a:\n      x: &r [1, *r]\n", 4),
        ("all:\n  vars: &v\n    k: *v\n  hosts:\n    a:\n", 3),
        ("all: &g\n  children:\n    x: *g\n", 3),
        ("all:\n  hosts:\n    a:\n      x: &m {k: {j: *m}}\n", 4),
    ],
)
def test_a_recursive_alias_is_one_line_naming_the_line(write_tree: WriteTree, text: str, line: int) -> None:
    root = write_tree({"inv.yml": text})
    message = _error(root / "inv.yml")
    assert message.startswith(f"{root / 'inv.yml'}: line {line}: invalid YAML: recursive alias *"), message


def test_an_alias_used_twice_is_not_recursive(write_tree: WriteTree) -> None:
    root = write_tree({"inv.yml": "all:\n  vars:\n    a: &x [1]\n    b: *x\n  hosts:\n    h:\n      c: {d: *x}\n"})
    assert load_inventory(root / "inv.yml").host("h").vars == {"a": [1], "b": [1], "c": {"d": [1]}}


def test_an_executable_inventory_script_is_refused_as_a_script(write_tree: WriteTree) -> None:
    root = write_tree({"inventory.py": "#!/usr/bin/env python3\nimport json\n\nprint(json.dumps({'all': {}}))\n"})
    (root / "inventory.py").chmod(0o755)
    message = _error(root / "inventory.py")
    assert message.startswith(f"{root / 'inventory.py'}: inventory scripts are not supported"), message
    assert "ansible-inventory -i" in message and "--list --yaml" in message


def test_an_executable_static_inventory_still_loads(write_tree: WriteTree) -> None:
    # Files copied from elsewhere often keep an executable bit: no '#!', no script.
    root = write_tree({"hosts": "[web]\nweb1\n"})
    (root / "hosts").chmod(0o755)
    assert [h.name for h in load_inventory(root / "hosts").hosts] == ["web1"]


def test_a_yaml_child_without_body_is_an_empty_group(write_tree: WriteTree) -> None:
    # Ansible's inventory guide: 'usa: children: {southeast: ..., northeast: , ...}'.
    root = write_tree({"inv.yml": "all:\n  children:\n    usa:\n      children:\n        northeast:\n        south:\n          hosts: {h1: }\n"})
    inventory = load_inventory(root / "inv.yml")
    assert inventory.groups["northeast"].hosts == () and inventory.groups["usa"].children == ("northeast", "south")
    assert inventory.host("h1").groups == ("south", "usa")


def test_an_ini_child_defined_nowhere_is_still_an_error(write_tree: WriteTree) -> None:
    # Ansible's INI plugin refuses it too ("includes undefined group").
    root = write_tree({"inv.ini": "[usa:children]\nnortheast\n[web]\nh1\n"})
    assert "group 'usa' lists unknown child group 'northeast'" in _error(root / "inv.ini")


# --- Ansible Vault ---------------------------------------------------------------

def test_an_encrypted_inventory_without_a_password_says_how_to_give_one() -> None:
    message = _error(VAULT / "encrypted-inventory")
    assert message == (
        f"{VAULT / 'encrypted-inventory'}: the file is encrypted with Ansible Vault;"
        " give its password with --vault-password-file FILE (or ANSIBLE_VAULT_PASSWORD_FILE)"
    )


def test_an_encrypted_inventory_with_a_wrong_password_is_refused(tmp_path: Path) -> None:
    (tmp_path / "wrong").write_text("not-the-password\n")
    message = _error(VAULT / "encrypted-inventory", decrypt=vault_decrypter(tmp_path / "wrong"))
    assert message.startswith(f"{VAULT / 'encrypted-inventory'}: cannot decrypt the file with the vault password: wrong vault password")


def test_an_encrypted_inventory_opens_with_its_password_whatever_its_name() -> None:
    inventory = load_inventory(VAULT / "encrypted-inventory", decrypt=vault_decrypter(VAULT / "password"))
    host = inventory.host("web1")
    assert host.address == "198.18.0.10"
    assert host.vars["db_user"] == "app"  # from the encrypted group_vars/web.yml
    assert isinstance(host.vars["db_password"], Vaulted)  # host_vars' !vault value: decrypted only where needed


def test_a_vaulted_value_never_becomes_text_by_accident() -> None:
    with pytest.raises(InventoryError, match="encrypted with Ansible Vault was used without decrypting it"):
        str(Vaulted("$ANSIBLE_VAULT;1.1;AES256\n3131\n"))
    assert repr(Vaulted("x")) == "Vaulted(<encrypted>)"


@pytest.mark.skipif(not ANSIBLE_INVENTORY.exists(), reason="ansible-inventory not installed (ansible-core)")
def test_the_encrypted_inventory_reads_as_ansible_reads_it(tmp_path: Path) -> None:
    listing = json.loads(subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(VAULT / "encrypted-inventory"), "--vault-password-file", str(VAULT / "password"), "--list"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "t")},
    ).stdout)
    expected = listing["_meta"]["hostvars"]["web1"]
    host = load_inventory(VAULT / "encrypted-inventory", decrypt=vault_decrypter(VAULT / "password")).host("web1")
    got = {k: ({"__ansible_vault": v.ciphertext} if isinstance(v, Vaulted) else v) for k, v in host.vars.items()}
    assert got == expected
