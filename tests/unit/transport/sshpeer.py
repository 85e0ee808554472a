"""A real SSH server on loopback for transport tests (paramiko's server side, in-process).

It accepts one public key, runs each exec request with ``sh -c`` as a local
process (stdin, stdout, stderr and the exit status go over the channel, as
with sshd), and forwards ``direct-tcpip`` channels, so ProxyJump works
through it. It records what it was asked, for assertions.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paramiko


_PEMS: dict[str, bytes] = {}


def new_key() -> paramiko.Ed25519Key:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))
    _PEMS[key.get_base64()] = pem  # paramiko cannot write an Ed25519 key back out
    return key


def write_key(key: paramiko.PKey, path: Path) -> Path:
    path.write_bytes(_PEMS[key.get_base64()])
    path.chmod(0o600)
    return path


@dataclass
class Seen:
    """What the peer was asked: user names, exec commands, forwarding destinations."""

    users: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    forwards: list[tuple[str, int]] = field(default_factory=list)


class _Server(paramiko.ServerInterface):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if key.get_base64() == self.peer.client_key.get_base64():
            self.peer.seen.users.append(username)
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(self, chanid: int, origin: tuple[str, int], destination: tuple[str, int]) -> int:
        self.peer.seen.forwards.append(destination)
        self.peer.pending_forwards[chanid] = destination
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode()
        self.peer.seen.commands.append(text)
        threading.Thread(target=self.peer.run_exec, args=(channel, text), daemon=True).start()
        return True


class Peer:
    """The server: ``address`` and ``port`` to connect to, ``host_key`` for known_hosts."""

    def __init__(
        self, client_key: paramiko.PKey, env: Mapping[str, str] | None = None, *,
        host_key: paramiko.PKey | None = None, port: int = 0,
    ) -> None:
        self.client_key = client_key
        self.host_key = host_key or new_key()
        self.env = dict(env or os.environ)
        self.seen = Seen()
        self.pending_forwards: dict[int, tuple[str, int]] = {}
        self.processes: list[subprocess.Popen[bytes]] = []
        self._listener = socket.create_server(("127.0.0.1", port))
        self.address, self.port = "127.0.0.1", self._listener.getsockname()[1]
        self._transports: list[paramiko.Transport] = []
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def known_hosts_line(self, name: str | None = None) -> str:
        host = name or f"[{self.address}]:{self.port}"
        return f"{host} {self.host_key.get_name()} {self.host_key.get_base64()}\n"

    def _accept(self) -> None:
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(sock)
            transport.add_server_key(self.host_key)
            self._transports.append(transport)
            try:
                transport.start_server(server=_Server(self))
            except (paramiko.SSHException, EOFError, OSError):
                continue
            threading.Thread(target=self._channels, args=(transport,), daemon=True).start()

    def _channels(self, transport: paramiko.Transport) -> None:
        while transport.is_active():
            channel = transport.accept(0.5)
            if channel is not None and channel.get_id() in self.pending_forwards:
                destination = self.pending_forwards.pop(channel.get_id())
                threading.Thread(target=_forward, args=(channel, destination), daemon=True).start()

    def run_exec(self, channel: paramiko.Channel, command: str) -> None:
        process = subprocess.Popen(
            ["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env
        )
        self.processes.append(process)
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        pumps = [
            threading.Thread(target=_pump_in, args=(channel, process.stdin), daemon=True),
            threading.Thread(target=_pump_out, args=(process.stdout, channel.sendall), daemon=True),
            threading.Thread(target=_pump_out, args=(process.stderr, channel.sendall_stderr), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        status = process.wait()
        for pump in pumps[1:]:
            pump.join(5)
        try:
            channel.send_exit_status(status if status >= 0 else 128 - status)  # killed: as a shell reports it
            channel.shutdown_write()
            channel.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass

    def close(self) -> None:
        self._stopping = True
        try:  # wakes the accepting thread: a plain close leaves the port listening until then
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for transport in self._transports:
            transport.close()


def _pump_in(channel: paramiko.Channel, sink: io.BufferedWriter | object) -> None:
    assert isinstance(sink, io.BufferedIOBase) or hasattr(sink, "write")
    try:
        while True:
            data = channel.recv(65536)
            if not data:
                break
            sink.write(data)  # type: ignore[attr-defined]
            sink.flush()  # type: ignore[attr-defined]
    except (OSError, EOFError):
        pass
    finally:
        try:
            sink.close()  # type: ignore[attr-defined]
        except OSError:
            pass


def _pump_out(source: object, send: object) -> None:
    try:
        while True:
            data = os.read(source.fileno(), 65536)  # type: ignore[attr-defined]
            if not data:
                return
            send(data)  # type: ignore[operator]
    except (OSError, EOFError, paramiko.SSHException):
        return


def _forward(channel: paramiko.Channel, destination: tuple[str, int]) -> None:
    try:
        upstream = socket.create_connection(destination, timeout=5)
    except OSError:
        channel.close()
        return
    upstream.settimeout(None)

    def up() -> None:
        _pump_in(channel, _SocketWriter(upstream))

    threading.Thread(target=up, daemon=True).start()
    try:
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            channel.sendall(data)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        try:
            channel.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the client closed the transport first
        upstream.close()


class _SocketWriter:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@contextmanager
def running_peer(client_key: paramiko.PKey, env: Mapping[str, str] | None = None) -> Iterator[Peer]:
    peer = Peer(client_key, env)
    try:
        yield peer
    finally:
        peer.close()
