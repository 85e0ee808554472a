"""One SSH connection to one node, and running commands on it.

Commands are argv lists, quoted here with shlex: this is the one place where
values meet a shell. Data (files, secrets) goes over the channel's stdin,
never into the command line.
"""

from __future__ import annotations

import select
import shlex
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko
from tenacity import retry_if_exception, stop_after_attempt, stop_after_delay, Retrying, wait_exponential

from sshorch.errors import TransportError
from sshorch.transport.become import become_command, sudo_handshake
from sshorch.transport.dial import LoadKey, load_private_key, open_client, resolve
from sshorch.transport.hostkeys import UnknownHostKey
from sshorch.transport.model import KEEPALIVE_INTERVAL, MIN_DEAD_AFTER, ConnectOptions, SshTarget

# The most output (stdout and stderr together) read from one command on a node: a gather
# of hundreds of pods is a few MiB; a node (or a container's output it passes on) sending
# more is cut off with an error, not read into memory without end.
MAX_OUTPUT_BYTES = 64 * 1024 * 1024

__all__ = [
    "KEEPALIVE_INTERVAL", "CommandResult", "ConnectOptions", "Connection", "ConnectionLost", "SshTarget", "Unreachable",
    "connect", "describe_connect_error",
]


@dataclass(frozen=True)
class CommandResult:
    """What a command run on a node gave: its argv, exit status and raw output."""

    argv: tuple[str, ...]
    exit_status: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    @property
    def text(self) -> str:
        return self.stdout.decode(errors="replace")

    def error_line(self) -> str:
        lines = self.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self.exit_status}"


class Unreachable(TransportError):
    """The node could not be reached or would not let us in."""


def describe_connect_error(target: SshTarget, error: BaseException, timeout: float) -> str:
    where = f"{target.user}@{target.address}:{target.port}"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"{where}: connection timed out after {timeout:g}s"
    if isinstance(error, paramiko.BadHostKeyException):
        return (
            f"{where}: host key CHANGED (got {error.key.get_name()} {error.key.fingerprint}); "
            "if the node was rebuilt, remove its old line from known_hosts"
        )
    if isinstance(error, UnknownHostKey):
        return f"{where}: {error}"
    if isinstance(error, paramiko.AuthenticationException):
        key = target.key_file or "ssh-agent/default keys"
        return f"{where}: authentication failed with {key}"
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        return f"{where}: connection refused"
    if isinstance(error, ConnectionRefusedError):
        return f"{where}: connection refused"
    if isinstance(error, OSError) and error.strerror:
        return f"{where}: {error.strerror.lower()}"
    return f"{where}: {error or type(error).__name__}"


def _transient(error: BaseException) -> bool:
    # A timeout already used the whole budget; key and auth problems do not heal.
    if isinstance(error, (socket.timeout, TimeoutError, paramiko.BadHostKeyException, paramiko.AuthenticationException, UnknownHostKey)):
        return False
    return isinstance(error, (OSError, EOFError, paramiko.SSHException))


class ConnectionLost(TransportError):
    """The node stopped answering, or closed the connection, while a command ran."""


class Connection:
    def __init__(
        self,
        target: SshTarget,
        client: paramiko.SSHClient,
        dead_after: float = MIN_DEAD_AFTER,
        jumps: Sequence[paramiko.SSHClient] = (),
    ) -> None:
        self.target = target
        self._client = client
        self._dead_after = dead_after
        self._jumps = tuple(jumps)  # ProxyJump hosts' clients, closed with this one

    def _check_alive(self, channel: paramiko.Channel) -> None:
        """Raise ConnectionLost once the transport under a running command is gone."""
        transport = self._client.get_transport()
        if transport is not None and transport.is_active() and not (channel.closed and not channel.eof_received):
            return
        # paramiko reports a dropped TCP connection as EOF: the cause is not known here.
        raise ConnectionLost(
            f"{self.target.name}: connection lost while a command ran"
            f" (the node closed it or did not answer for {self._dead_after:g}s)"
        )

    def _exec(self, argv: Sequence[str], timeout: float | None) -> tuple[paramiko.Channel, bytes, bytes]:
        """A channel running argv (through sudo when the target becomes another user),
        and any output that came while sudo took its password (stdout, stderr)."""
        become = become_command(self.target, argv, self.target.user)
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            raise TransportError(f"{self.target.name}: connection closed")
        channel = transport.open_session(timeout=timeout)
        channel.exec_command(shlex.join(become.command))
        if become.password is None:
            return channel, b"", b""
        try:
            handshake = max(10.0, 2 * self._dead_after)
            out, err = sudo_handshake(channel, become, self.target.name, handshake, lambda: self._check_alive(channel))
        except BaseException:
            channel.close()
            raise
        return channel, out, err

    def run(self, argv: Sequence[str], *, stdin: bytes | None = None, timeout: float = 300.0,
            max_output: int = MAX_OUTPUT_BYTES) -> CommandResult:  # fmt: skip
        """Run argv on the node; stdin bytes are streamed to it, not quoted into the command.
        Output beyond `max_output` bytes is a TransportError."""
        channel, early_out, early_err = self._exec(argv, timeout)
        try:
            feeder = _feed(channel, stdin)
            stdout, stderr = _collect(channel, timeout, self.target.name, lambda: self._check_alive(channel), max_output)
            if feeder is not None:
                feeder.join()
            return CommandResult(tuple(argv), channel.recv_exit_status(), early_out + stdout, early_err + stderr)
        finally:
            channel.close()

    def stream(self, argv: Sequence[str], write: Callable[[bytes], object], write_err: Callable[[bytes], object]) -> int:
        """Run argv, passing output on as it arrives (for `logs -f`); return the exit status."""
        channel, early_out, early_err = self._exec(argv, None)
        try:
            channel.shutdown_write()
            if early_out:
                write(early_out)
            if early_err:
                write_err(early_err)
            while True:
                select.select([channel], [], [], 1.0)
                while channel.recv_ready():
                    write(channel.recv(65536))
                while channel.recv_stderr_ready():
                    write_err(channel.recv_stderr(65536))
                if _finished(channel):
                    return channel.recv_exit_status()
                self._check_alive(channel)
        finally:
            channel.close()

    def run_script(self, script: str, *, timeout: float = 300.0) -> CommandResult:
        return self.run(["sh", "-c", script], timeout=timeout)

    @property
    def alive(self) -> bool:
        transport = self._client.get_transport()
        return transport is not None and transport.is_active()

    def close(self) -> None:
        self._client.close()
        for jump in reversed(self._jumps):
            jump.close()


def _feed(channel: paramiko.Channel, data: bytes | None) -> threading.Thread | None:
    if not data:
        channel.shutdown_write()
        return None

    def send() -> None:
        try:
            channel.sendall(data)
        finally:
            channel.shutdown_write()

    # A thread, so a node that writes a lot while reading stdin cannot deadlock us.
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _finished(channel: paramiko.Channel) -> bool:
    return (
        channel.exit_status_ready()
        and bool(channel.eof_received)
        and not channel.recv_ready()
        and not channel.recv_stderr_ready()
    )


def _collect(
    channel: paramiko.Channel, timeout: float, name: str, check_alive: Callable[[], None], max_output: int = MAX_OUTPUT_BYTES
) -> tuple[bytes, bytes]:
    out: list[bytes] = []
    err: list[bytes] = []
    read = 0

    def count(chunk: bytes) -> bytes:
        nonlocal read
        read += len(chunk)
        if read > max_output:
            raise TransportError(f"{name}: command output exceeds {max_output // 2**20} MiB; not read further")
        return chunk

    deadline = time.monotonic() + timeout
    while True:
        while channel.recv_ready():
            out.append(count(channel.recv(65536)))
        while channel.recv_stderr_ready():
            err.append(count(channel.recv_stderr(65536)))
        # sshd may send the exit status before the last output: wait for EOF too.
        if _finished(channel):
            return b"".join(out), b"".join(err)
        check_alive()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TransportError(f"{name}: command did not finish within {timeout:g}s")
        select.select([channel], [], [], min(remaining, 1.0))


def connect(
    target: SshTarget, options: ConnectOptions, pkey: paramiko.PKey | None, load_key: LoadKey | None = None
) -> Connection:
    """Open a connection, retrying transient failures with backoff within the connect timeout.

    ``~/.ssh/config`` (``options.ssh_config``) is applied first; ``load_key`` loads a key
    file it names (and a jump host's)."""
    given_key = target.key_file
    target = resolve(target, options)
    if target.key_file != given_key and target.key_file is not None:
        pkey = (load_key or _load_key)(target.key_file)
    _, _, connect_timeout, dead_after = options.for_target(target)
    started = time.monotonic()
    retrying = Retrying(
        stop=stop_after_attempt(options.attempts) | stop_after_delay(connect_timeout),
        wait=wait_exponential(multiplier=0.2, max=1.0),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                remaining = max(0.5, connect_timeout - (time.monotonic() - started))
                client, jumps = open_client(target, options, pkey, remaining, load_key or _load_key)
                return Connection(target, client, dead_after, jumps)
    except TransportError as error:
        raise Unreachable(str(error)) from error
    except Exception as error:  # every failure becomes one line about this node
        raise Unreachable(describe_connect_error(target, error, connect_timeout)) from error
    raise AssertionError("unreachable")  # pragma: no cover


def _load_key(path: str) -> paramiko.PKey:
    return load_private_key(Path(path))
