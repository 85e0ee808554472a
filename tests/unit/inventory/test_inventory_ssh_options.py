"""ansible_connection, ssh arguments and become settings: each honoured, or a problem
naming the file, host, variable and fix (raised when the host is connected to)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import load_inventory
from sshorch.inventory.ssh_options import HostConnection, parse_host_connection
from sshorch.secrets.vault import vault_decrypter
from sshorch.transport.hosttargets import target_for

from .conftest import WriteTree

VAULT = Path(__file__).parent / "vault_fixtures"


def _parse(**variables: Any) -> HostConnection:
    return parse_host_connection("web1", variables, {}, "inv.yml")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        # the sandbox's own inventory
        ({"ansible_ssh_common_args": "-o UserKnownHostsFile=/k/known_hosts -o StrictHostKeyChecking=yes"},
         {"known_hosts": "/k/known_hosts", "strict_host_keys": "yes"}),
        ({"ansible_ssh_common_args": "-o ProxyJump=admin@bastion:2222"}, {"proxy_jump": "admin@bastion:2222"}),
        ({"ansible_ssh_extra_args": "-J bastion"}, {"proxy_jump": "bastion"}),
        ({"ansible_ssh_common_args": "-oProxyJump=b1,b2"}, {"proxy_jump": "b1,b2"}),
        ({"ansible_ssh_common_args": "-o 'ProxyCommand ssh -W %h:%p -q pi@lb1.local'"},
         {"proxy_command": "ssh -W %h:%p -q pi@lb1.local"}),
        ({"ansible_ssh_common_args": '-o ProxyCommand="ssh -W %h:%p -q pi@lb1.local"'},
         {"proxy_command": "ssh -W %h:%p -q pi@lb1.local"}),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"},
         {"strict_host_keys": "accept-new", "known_hosts": "/dev/null"}),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=accept-new"}, {"strict_host_keys": "accept-new"}),
        ({"ansible_ssh_common_args": "-o Port=2200 -o User=deploy -o IdentityFile=~/.ssh/deploy"},
         {"args_port": 2200, "args_user": "deploy", "args_key_file": "~/.ssh/deploy"}),
        ({"ansible_ssh_common_args": "-o ConnectTimeout=10 -o ServerAliveInterval=2 -o ServerAliveCountMax=4"},
         {"connect_timeout": 10.0, "alive_interval": 2.0, "alive_count": 4}),
        # Ansible's own default ssh_args: connection sharing sshorch already does its way.
        ({"ansible_ssh_args": "-C -o ControlMaster=auto -o ControlPersist=60s"}, {"problems": (
            "inv.yml: host 'web1': ansible_ssh_args '-C' is not supported (sshorch takes -o Option=value, -J, -p, -l and -i)",)}),
        ({"ansible_ssh_common_args": "-o ControlMaster=auto -o ControlPersist=60s -o LogLevel=ERROR -q"}, {}),
        # ssh keeps the first value of an option
        ({"ansible_ssh_common_args": "-o ProxyJump=a", "ansible_ssh_extra_args": "-o ProxyJump=b"}, {"proxy_jump": "a"}),
        ({"ansible_connection": "local"}, {"kind": "local"}),
        ({"ansible_connection": "smart"}, {"kind": "ssh"}),
        ({"ansible_become_user": "app", "ansible_become_password": "pw"}, {"become_user": "app", "become_password": "pw"}),
        ({"ansible_become_pass": "a", "ansible_become_password": "b"}, {"become_password": "b"}),
        ({"ansible_become_method": "sudo"}, {}),
    ],
)
def test_settings_sshorch_honours(variables: dict[str, Any], expected: dict[str, Any]) -> None:
    parsed = _parse(**variables)
    for field, value in expected.items():
        assert getattr(parsed, field) == value, field
    if "problems" not in expected:
        assert parsed.problems == ()


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"ansible_ssh_common_args": "-o ForwardAgent=yes"}, "ansible_ssh_common_args -o ForwardAgent=yes is not supported (sshorch honours"),
        ({"ansible_ssh_extra_args": "-o PermitLocalCommand=yes"}, "ansible_ssh_extra_args -o PermitLocalCommand=yes is not supported"),
        ({"ansible_ssh_common_args": "-A"}, "ansible_ssh_common_args '-A' is not supported"),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=maybe"}, "StrictHostKeyChecking 'maybe' is not a valid value"),
        ({"ansible_ssh_common_args": "-o UserKnownHostsFile='/a /b'"}, "UserKnownHostsFile '/a /b' is not a valid value"),
        ({"ansible_ssh_common_args": "-o Port=0"}, "Port '0' is not a valid value"),
        ({"ansible_ssh_common_args": "-o"}, "'-o' needs a value"),
        ({"ansible_ssh_common_args": "-o 'unclosed"}, "cannot be split into ssh options"),
        ({"ansible_connection": "docker"}, "ansible_connection 'docker' is not supported: sshorch connects with ssh or local"),
        ({"ansible_become_method": "su"}, "ansible_become_method 'su' is not supported: sshorch becomes another user with sudo"),
        ({"ansible_become_flags": "-H -S"}, "ansible_become_flags is not supported"),
        ({"ansible_become_user": "a b"}, "ansible_become_user must be a user name, got 'a b'"),
        ({"ansible_become_password": "{{ pw }}"}, "ansible_become_password is a Jinja2 template"),
        ({"ansible_password": "secret"}, "ansible_password is not supported: sshorch logs in with keys only"),
        ({"ansible_connection": "local", "ansible_become_password": "pw"}, "is not supported with ansible_connection=local"),
    ],
)
def test_settings_sshorch_cannot_honour_are_named(variables: dict[str, Any], problem: str) -> None:
    problems = _parse(**variables).problems
    assert problems and problems[0].startswith("inv.yml: host 'web1': ") and problem in problems[0], problems


def test_the_inventory_loads_and_connecting_raises_the_problem(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[web]\nweb1 ansible_become_method=su\nweb2\n"})
    inventory = load_inventory(root / "inv.ini")
    target_for(inventory.host("web2"))
    with pytest.raises(InventoryError, match=rf"^{root / 'inv.ini'}: host 'web1': ansible_become_method 'su' is not supported"):
        target_for(inventory.host("web1"))


def test_ansible_vars_win_over_ssh_arguments(write_tree: WriteTree) -> None:
    root = write_tree({"inv.yml": "all:\n  vars:\n    ansible_ssh_common_args: -o Port=2200 -o User=deploy\n"
                                  "  hosts:\n    a:\n      ansible_port: 22\n    b:\n"})
    inventory = load_inventory(root / "inv.yml")
    assert (inventory.host("a").port, inventory.host("a").user) == (22, "deploy")
    assert (inventory.host("b").port, inventory.host("b").user) == (2200, "deploy")
    target = target_for(inventory.host("b"))
    assert "port" not in target.config_may_set and "user" not in target.config_may_set  # -o beats ~/.ssh/config
    assert "key" in target.config_may_set


def test_a_vaulted_become_password_is_decrypted_only_with_the_vault_password(write_tree: WriteTree) -> None:
    vaulted = (VAULT / "host_vars" / "web1.yml").read_text().replace("db_password", "ansible_become_password")
    root = write_tree({"inv.yml": "all:\n  hosts:\n    web1:\n      ansible_become: true\n      ansible_user: deploy\n",
                       "host_vars/web1.yml": vaulted})
    with_password = load_inventory(root / "inv.yml", decrypt=vault_decrypter(VAULT / "password")).host("web1")
    assert target_for(with_password).become_password == "s3cret"
    assert "s3cret" not in repr(target_for(with_password)) and "s3cret" not in repr(with_password)
    without = load_inventory(root / "inv.yml").host("web1")
    with pytest.raises(InventoryError, match=r"host 'web1': ansible_become_password is encrypted with Ansible Vault; give its password"):
        target_for(without)
