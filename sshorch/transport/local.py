"""``ansible_connection=local``: the node is this machine, its commands run here.

The same interface as an SSH connection (run, stream, run_script), so every
part of a run treats the node alike; argv lists run without a shell, and
stdin carries the data, as over SSH.
"""

from __future__ import annotations

import getpass
import os
import select
import subprocess
from collections.abc import Callable, Sequence

import paramiko

from sshorch.errors import TransportError
from sshorch.transport.become import become_command
from sshorch.transport.connection import MAX_OUTPUT_BYTES, CommandResult, Connection
from sshorch.transport.model import SshTarget


class LocalConnection(Connection):
    def __init__(self, target: SshTarget) -> None:
        super().__init__(target, paramiko.SSHClient())  # never connected: nothing goes over SSH

    def _command(self, argv: Sequence[str]) -> list[str]:
        # A local password would have to go to sudo through our own stdin: the inventory refuses it.
        return list(become_command(self.target, argv, getpass.getuser()).command)

    def run(self, argv: Sequence[str], *, stdin: bytes | None = None, timeout: float = 300.0,
            max_output: int = MAX_OUTPUT_BYTES) -> CommandResult:  # fmt: skip
        command = self._command(argv)
        try:
            done = subprocess.run(command, input=stdin or b"", capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TransportError(f"{self.target.name}: command did not finish within {timeout:g}s") from None
        except OSError as exc:
            raise TransportError(f"{self.target.name}: cannot run {command[0]}: {exc.strerror}") from None
        if len(done.stdout) + len(done.stderr) > max_output:
            raise TransportError(f"{self.target.name}: command output exceeds {max_output // 2**20} MiB")
        return CommandResult(tuple(argv), _status(done.returncode), done.stdout, done.stderr)

    def stream(self, argv: Sequence[str], write: Callable[[bytes], object], write_err: Callable[[bytes], object]) -> int:
        command = self._command(argv)
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise TransportError(f"{self.target.name}: cannot run {command[0]}: {exc.strerror}") from None
        assert process.stdout is not None and process.stderr is not None
        sinks = {process.stdout.fileno(): write, process.stderr.fileno(): write_err}
        try:
            while sinks:
                ready, _, _ = select.select(list(sinks), [], [], 1.0)
                for fd in ready:
                    data = os.read(fd, 65536)
                    if data:
                        sinks[fd](data)
                    else:
                        del sinks[fd]
            return _status(process.wait())
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    @property
    def alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _status(code: int) -> int:
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it
