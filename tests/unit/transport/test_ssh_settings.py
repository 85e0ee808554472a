"""The inventory's ssh settings carried out against real SSH peers on loopback:
ProxyJump (direct-tcpip through a jump host), ProxyCommand, ~/.ssh/config,
become with sudo (password on stdin only), and ansible_connection=local."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import paramiko
import pytest

from sshorch.errors import TransportError
from sshorch.inventory import load_inventory
from sshorch.transport import Session
from sshorch.transport.connection import ConnectOptions, SshTarget, Unreachable, connect
from sshorch.transport.sshconfig import load_ssh_config
from sshorch.transport.hosttargets import target_for

from .sshpeer import Peer, new_key, running_peer, write_key

HERE = Path(__file__).parent

# A stand-in for sudo on the peer: -n, -S, -p PROMPT, -u USER, as sudo reads them.
FAKE_SUDO = r"""#!/bin/sh
nopass=""; prompt="Password:"; user=root
while [ $# -gt 0 ]; do
  case "$1" in
    -n) nopass=1 ;; -S) ;; -p) prompt="$2"; shift ;; -u) user="$2"; shift ;; --) shift; break ;; *) break ;;
  esac
  shift
done
if [ -n "$FAKE_SUDO_NOPASSWD" ]; then exec env SUDO_AS="$user" "$@"; fi
if [ -n "$nopass" ]; then echo "sudo: a password is required" >&2; exit 1; fi
tries=0
while [ $tries -lt 3 ]; do
  printf '%s' "$prompt" >&2
  IFS= read -r line || exit 1
  if [ "$line" = "$FAKE_SUDO_PASSWORD" ]; then exec env SUDO_AS="$user" "$@"; fi
  echo "Sorry, try again." >&2
  tries=$((tries + 1))
done
exit 1
"""


@pytest.fixture
def key() -> paramiko.PKey:
    return new_key()


def _options(tmp_path: Path, *peers: Peer, ssh_config: Path | None = None) -> ConnectOptions:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("".join(peer.known_hosts_line() for peer in peers))
    return ConnectOptions(known_hosts=known_hosts, connect_timeout=3.0, ssh_config=load_ssh_config(ssh_config))


def _run(target: SshTarget, options: ConnectOptions, key: paramiko.PKey | None, argv: list[str], stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    conn = connect(target, options, key)
    try:
        result = conn.run(argv, stdin=stdin, timeout=20)
    finally:
        conn.close()
    return result.exit_status, result.stdout, result.stderr


# --- ProxyJump and ProxyCommand ---------------------------------------------------

def test_proxy_jump_reaches_the_node_through_the_jump_host(tmp_path: Path, key: paramiko.PKey) -> None:
    with running_peer(key) as jump, running_peer(key, {**os.environ, "WHO": "node"}) as node:
        target = SshTarget("node", node.address, node.port, proxy_jump=f"jumper@{jump.address}:{jump.port}")
        status, out, _ = _run(target, _options(tmp_path, jump, node), key, ["sh", "-c", "echo $WHO; cat"], b"over the jump")
    assert (status, out) == (0, b"node\nover the jump")
    assert jump.seen.users == ["jumper"] and jump.seen.forwards == [(node.address, node.port)]
    assert jump.seen.commands == []  # the jump host runs nothing


def test_proxy_jump_through_two_hosts(tmp_path: Path, key: paramiko.PKey) -> None:
    with running_peer(key) as first, running_peer(key) as second, running_peer(key) as node:
        spec = f"{first.address}:{first.port},{second.address}:{second.port}"
        target = SshTarget("node", node.address, node.port, proxy_jump=spec)
        assert _run(target, _options(tmp_path, first, second, node), key, ["true"])[0] == 0
    assert first.seen.forwards == [(second.address, second.port)] and second.seen.forwards == [(node.address, node.port)]


def test_an_unknown_jump_host_key_is_refused_like_a_node_key(tmp_path: Path, key: paramiko.PKey) -> None:
    with running_peer(key) as jump, running_peer(key) as node:
        target = SshTarget("node", node.address, node.port, proxy_jump=f"{jump.address}:{jump.port}")
        with pytest.raises(Unreachable, match="is not in .*known_hosts"):
            connect(target, _options(tmp_path, node), key)


def test_a_bad_proxy_jump_is_one_line(tmp_path: Path, key: paramiko.PKey) -> None:
    with running_peer(key) as node:
        target = SshTarget("node", node.address, node.port, proxy_jump="user@host:99999")
        with pytest.raises(Unreachable, match=r"^node: ProxyJump 'user@host:99999': 'user@host:99999' is not \[user@\]host\[:port\]$"):
            connect(target, _options(tmp_path, node), key)


def test_proxy_command_carries_the_connection(tmp_path: Path, key: paramiko.PKey) -> None:
    relay = f"{sys.executable} {HERE / 'tcp_relay.py'} %h %p"
    with running_peer(key) as node:
        target = SshTarget("node", node.address, node.port, proxy_command=relay)
        assert _run(target, _options(tmp_path, node), key, ["echo", "relayed"])[:2] == (0, b"relayed\n")


# --- ~/.ssh/config -----------------------------------------------------------------

def test_ssh_config_supplies_what_the_inventory_leaves_open(tmp_path: Path, key: paramiko.PKey) -> None:
    key_file = write_key(key, tmp_path / "id_node")
    with running_peer(key) as node:
        config = tmp_path / "ssh_config"
        config.write_text(f"Host mynode\n  HostName {node.address}\n  Port {node.port}\n  User cfguser\n  IdentityFile {key_file}\n")
        options = _options(tmp_path, node, ssh_config=config)
        # the inventory says only 'mynode': address, port, user and key come from the config
        assert _run(SshTarget("mynode", "mynode"), options, None, ["true"])[0] == 0
        # an inventory's ansible_user wins over the config's User
        explicit = SshTarget("mynode", "mynode", user="invuser", config_may_set=frozenset({"port", "key", "proxy"}))
        assert _run(explicit, options, None, ["true"])[0] == 0
    assert node.seen.users == ["cfguser", "invuser"]


def test_ssh_config_proxy_jump_applies(tmp_path: Path, key: paramiko.PKey) -> None:
    with running_peer(key) as jump, running_peer(key) as node:
        config = tmp_path / "ssh_config"
        config.write_text(f"Host {node.address}\n  ProxyJump {jump.address}:{jump.port}\n")
        target = SshTarget("node", node.address, node.port)
        assert _run(target, _options(tmp_path, jump, node, ssh_config=config), key, ["true"])[0] == 0
    assert jump.seen.forwards == [(node.address, node.port)]


def test_an_unreadable_ssh_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host a\n  Port\n")
    with pytest.raises(TransportError, match=rf"^{config}: cannot read ssh config"):
        load_ssh_config(config)


# --- become ------------------------------------------------------------------------

@pytest.fixture
def sudo_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sudo").write_text(FAKE_SUDO)
    (bin_dir / "sudo").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SUDO_PASSWORD": "pa ss'word"}


def test_become_with_a_password_sends_it_on_stdin_only(tmp_path: Path, key: paramiko.PKey, sudo_env: dict[str, str]) -> None:
    with running_peer(key, sudo_env) as node:
        target = SshTarget("node", node.address, node.port, user="deploy", become=True, become_user="app",
                           become_password="pa ss'word")
        status, out, err = _run(target, _options(tmp_path, node), key, ["sh", "-c", 'echo "as=$SUDO_AS"; cat'], b"data\nmore")
    assert (status, out, err) == (0, b"as=app\ndata\nmore", b"")
    assert node.seen.commands and all("pa ss" not in command for command in node.seen.commands)
    assert node.seen.commands[0].startswith("sudo -S -p '[sshorch-sudo-")


def test_a_wrong_become_password_is_one_line(tmp_path: Path, key: paramiko.PKey, sudo_env: dict[str, str]) -> None:
    with running_peer(key, sudo_env) as node:
        target = SshTarget("node", node.address, node.port, user="deploy", become=True, become_password="wrong")
        with pytest.raises(TransportError, match=r"^node: sudo refused ansible_become_password \(asked again\)$"):
            _run(target, _options(tmp_path, node), key, ["true"])


@pytest.mark.parametrize(("nopasswd", "expected"), [("1", (0, b"as=root\n")), ("", (1, b""))])
def test_become_without_a_password_never_waits(
    tmp_path: Path, key: paramiko.PKey, sudo_env: dict[str, str], nopasswd: str, expected: tuple[int, bytes]
) -> None:
    with running_peer(key, {**sudo_env, "FAKE_SUDO_NOPASSWD": nopasswd}) as node:
        target = SshTarget("node", node.address, node.port, user="deploy", become=True)
        status, out, err = _run(target, _options(tmp_path, node), key, ["sh", "-c", 'echo "as=$SUDO_AS"'])
    assert (status, out) == expected
    assert node.seen.commands[0].startswith("sudo -n -- ")
    if status:
        assert b"a password is required" in err


def test_no_sudo_when_already_the_become_user(tmp_path: Path, key: paramiko.PKey) -> None:
    with running_peer(key) as node:
        target = SshTarget("node", node.address, node.port, user="app", become=True, become_user="app", become_password="x")
        assert _run(target, _options(tmp_path, node), key, ["true"])[0] == 0
    assert node.seen.commands == ["true"]


# --- ansible_connection=local ------------------------------------------------------

def test_a_local_host_runs_its_commands_here(tmp_path: Path) -> None:
    inventory_file = tmp_path / "inv.ini"
    inventory_file.write_text("[ctl]\nlocalhost ansible_connection=local\n")
    host = load_inventory(inventory_file).host("localhost")
    with Session(ConnectOptions(known_hosts=tmp_path / "kh")) as session:
        conn = session.connection(target_for(host))
        result = conn.run(["sh", "-c", "cat; echo err >&2; exit 4"], stdin=b"local data")
        chunks: list[bytes] = []
        status = conn.stream(["echo", "streamed"], chunks.append, chunks.append)
    assert (result.exit_status, result.stdout, result.stderr) == (4, b"local data", b"err\n")
    assert (status, b"".join(chunks)) == (0, b"streamed\n")


def test_local_become_uses_sudo_only_for_another_user(tmp_path: Path) -> None:
    from sshorch.transport.local import LocalConnection

    me = getpass.getuser()
    same = LocalConnection(SshTarget("l", "localhost", local=True, become=True, become_user=me))
    assert same.run(["echo", "ok"]).stdout == b"ok\n"
    other = LocalConnection(SshTarget("l", "localhost", local=True, become=True, become_user="nobody-else"))
    assert other._command(["id"]) == ["sudo", "-n", "-u", "nobody-else", "--", "id"]
