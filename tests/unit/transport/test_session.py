"""A lost node does not hold up later work: it is reported at once while a new connection
is made in the background, and used once it is up. Against a real SSH peer on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sshorch.transport import Session
from sshorch.transport.connection import Connection, ConnectOptions, SshTarget

from .sshpeer import Peer, new_key, write_key


def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.05)


def echo(conn: Connection) -> bytes:
    return conn.run(["echo", "up"]).stdout


def test_a_lost_node_is_reported_at_once_and_reconnected_in_the_background(tmp_path: Path) -> None:
    key = new_key()
    peer = Peer(key)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(peer.known_hosts_line())
    target = SshTarget("peer", peer.address, peer.port, key_file=str(write_key(key, tmp_path / "id")))
    lost: list[str] = []
    with Session(ConnectOptions(known_hosts=known_hosts, connect_timeout=3.0)) as session:
        session.watch(lost.append)
        assert session.map(echo, [target])[0].value == b"up\n"

        peer.close()  # between commands: the watcher sees the connection die
        until(lambda: lost == ["peer"], 5, "the lost connection reported")
        started = time.monotonic()
        outcome = session.map(echo, [target])[0]
        assert time.monotonic() - started < 0.5  # no wait for a connection attempt
        assert outcome.unreachable and outcome.error is not None
        assert outcome.error.startswith("peer: connection lost") and outcome.error.endswith(
            "(connecting again in the background)"), outcome.error

        back = Peer(key, host_key=peer.host_key, port=peer.port)
        try:
            until(lambda: session.map(echo, [target])[0].value == b"up\n", 10, "the node used again")
        finally:
            back.close()
