"""The TCP socket under an SSH connection, tuned for many small request/reply exchanges.

Both ends' small packets meet Nagle's algorithm on one side and delayed ACKs
on the other: a small packet sent while an earlier one is unacknowledged
waits for that ACK, which the receiver holds back for up to 40 ms (Linux).
"""

from __future__ import annotations

import socket

# Linux only; elsewhere the socket just acknowledges as the system does.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class _PromptAckSocket(socket.socket):
    """Acknowledges what it receives at once.

    sshd sets TCP_NODELAY only on sessions with a terminal, and right after
    authentication it sends two small messages (hostkeys-00, a debug line):
    without a prompt ACK the node's answer to our first exec waited 40 ms for
    ours. Linux leaves quick-ACK mode on its own, so it is set after each read.
    """

    def recv(self, bufsize: int, flags: int = 0, /) -> bytes:
        data = super().recv(bufsize, flags)
        if _QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return data


def open_tcp(address: str, port: int, timeout: float) -> socket.socket:
    """A connected socket with Nagle's algorithm off (our side's small packets
    go at once) and prompt ACKs (the node's small packets do not wait for ours)."""
    plain = socket.create_connection((address, port), timeout=timeout)
    plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if _QUICKACK is None:
        return plain
    sock = _PromptAckSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    return sock
