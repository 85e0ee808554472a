"""The TCP socket under an SSH connection, tuned for many small request/reply exchanges.

Both ends' small packets meet Nagle's algorithm on one side and delayed ACKs
on the other: a small packet sent while an earlier one is unacknowledged
waits for that ACK, which the receiver holds back for up to 40 ms (Linux).

A node that stops answering (cut off, frozen, powered off) sends no FIN or
RST: without a bound the kernel retransmits for about 15 minutes while a
command waits for output. Keepalive probes and TCP_USER_TIMEOUT make the
kernel give up after ``dead_after`` seconds without an acknowledgement.
"""

from __future__ import annotations

import socket

# Linux only; elsewhere the socket just acknowledges as the system does.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
_USER_TIMEOUT: int | None = getattr(socket, "TCP_USER_TIMEOUT", None)


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


def set_dead_peer_timeout(sock: socket.socket, dead_after: float) -> None:
    """Abort the connection when the peer acknowledges nothing for ``dead_after`` seconds:
    keepalive probes after a second of silence, and a bound on unacknowledged data."""
    seconds = max(1, int(dead_after))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 1), ("TCP_KEEPINTVL", 1), ("TCP_KEEPCNT", seconds)):
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
    if _USER_TIMEOUT is not None:  # Linux: also bounds data sent and never acknowledged
        sock.setsockopt(socket.IPPROTO_TCP, _USER_TIMEOUT, int(dead_after * 1000))


def open_tcp(address: str, port: int, timeout: float, dead_after: float | None = None) -> socket.socket:
    """A connected socket with Nagle's algorithm off (our side's small packets
    go at once), prompt ACKs (the node's small packets do not wait for ours),
    and, with ``dead_after``, a bound on how long a silent peer keeps it open."""
    plain = socket.create_connection((address, port), timeout=timeout)
    plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if dead_after is not None:
        set_dead_peer_timeout(plain, dead_after)
    if _QUICKACK is None:
        return plain
    sock = _PromptAckSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    return sock
