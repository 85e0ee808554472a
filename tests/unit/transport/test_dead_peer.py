"""A node that stops answering mid-command is reported within the connect timeout,
against a real SSH peer (paramiko's server side on loopback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sshorch.transport.connection import ConnectionLost, ConnectOptions, SshTarget, connect
from sshorch.transport.tcp import open_tcp

from .sshpeer import new_key, running_peer

HERE = Path(__file__).parent
REPO = HERE.parents[2]


def _options(tmp_path: Path, line: str, timeout: float = 2.0) -> ConnectOptions:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(line)
    return ConnectOptions(known_hosts=known_hosts, connect_timeout=timeout)


def test_the_peer_runs_commands_with_stdin_and_exit_status(tmp_path: Path) -> None:
    key = new_key()
    with running_peer(key) as peer:
        conn = connect(SshTarget("peer", peer.address, peer.port), _options(tmp_path, peer.known_hosts_line()), key)
        result = conn.run(["sh", "-c", "cat; echo err >&2; exit 3"], stdin=b"data")
        conn.close()
    assert (result.exit_status, result.stdout, result.stderr) == (3, b"data", b"err\n")


def test_a_connection_closed_mid_command_ends_the_command_at_once(tmp_path: Path) -> None:
    key = new_key()
    with running_peer(key) as peer:
        conn = connect(SshTarget("peer", peer.address, peer.port), _options(tmp_path, peer.known_hosts_line()), key)
        threading.Timer(0.5, peer.close).start()
        started = time.monotonic()
        with pytest.raises(ConnectionLost, match="^peer: connection lost while a command ran"):
            conn.run(["sleep", "60"], timeout=120)
        assert time.monotonic() - started < 3


def test_the_socket_gives_up_on_a_silent_peer() -> None:
    with __import__("socket").create_server(("127.0.0.1", 0)) as server:
        with open_tcp("127.0.0.1", server.getsockname()[1], 2.0, dead_after=3.5) as sock:
            import socket

            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            if hasattr(socket, "TCP_USER_TIMEOUT"):
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 3500


def _can_drop_packets() -> bool:
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("unshare", "iptables", "ip"))


@pytest.mark.skipif(not _can_drop_packets(), reason="needs root, unshare, ip and iptables to drop packets in a namespace")
@pytest.mark.parametrize("connect_timeout", [2.0, 4.0])
def test_a_node_that_stops_answering_mid_command_is_reported_within_the_connect_timeout(connect_timeout: float) -> None:
    # Every packet of the connection is dropped (iptables, in a network namespace of
    # its own) while `sleep 120` runs: no FIN, no RST, as when a node is cut off.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}
    probe = subprocess.run(
        ["unshare", "--net", sys.executable, str(HERE / "dead_peer_probe.py"), str(connect_timeout)],
        capture_output=True, text=True, env=env, timeout=connect_timeout + 90,
    )
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["error"] is not None and report["error"].startswith("ConnectionLost: peer: connection lost"), report
    assert report["seconds_after_drop"] is not None
    assert connect_timeout - 0.5 <= report["seconds_after_drop"] <= connect_timeout + 2.0, report
