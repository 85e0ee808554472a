"""The SSH connection's TCP socket: no Nagle on our side, and an ACK at once for what the node sends."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from sshorch.transport.tcp import open_tcp

quickack = pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux only")


def _ping_pong(connect: Callable[[int], socket.socket], rounds: int = 5) -> Iterator[int]:
    """A peer that sends small messages and waits for each answer, as sshd does;
    yields, after each read, whether our socket would acknowledge at once."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        peer, _ = server.accept()
        with peer:
            for _ in range(rounds):
                peer.sendall(b"ping")
                peer.recv(4)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with connect(port) as sock:
            for _ in range(rounds):
                assert sock.recv(4) == b"ping"
                yield sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK)
                sock.sendall(b"pong")
    finally:
        thread.join(5)
        server.close()


@quickack
def test_the_socket_acknowledges_at_once_after_every_read() -> None:
    assert list(_ping_pong(lambda port: open_tcp("127.0.0.1", port, 5.0))) == [1] * 5


@quickack
def test_a_plain_socket_falls_back_to_delayed_acks_in_such_an_exchange() -> None:
    # What the socket above guards against: Linux leaves quick-ACK mode by itself.
    assert 0 in list(_ping_pong(lambda port: socket.create_connection(("127.0.0.1", port))))


def test_nagle_is_off_and_the_timeout_holds() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        with open_tcp("127.0.0.1", server.getsockname()[1], 2.5) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert sock.gettimeout() == 2.5
