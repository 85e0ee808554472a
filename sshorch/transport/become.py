"""Running a node's commands as another user with sudo (``ansible_become*``).

Without a password: ``sudo -n``, which fails at once instead of waiting for
one. With a password (``ansible_become_password``, usually vaulted): sudo
reads it from the channel's stdin, never from the command line. As Ansible
does, the password is sent only when sudo's prompt (a random marker) shows on
stderr, and the command's own stdin only after the command has started (it
prints another marker first), so neither can reach the wrong reader.
"""

from __future__ import annotations

import secrets
import select
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paramiko

from sshorch.errors import TransportError
from sshorch.transport.model import SshTarget


@dataclass(frozen=True)
class Become:
    """The command to run, and what the handshake looks for when sudo takes a password."""

    command: tuple[str, ...]
    password: str | None = None
    prompt: bytes = b""
    started: bytes = b""


def become_command(target: SshTarget, argv: Sequence[str], login_user: str) -> Become:
    """``argv`` as the target's become user; ``login_user`` is who runs it now."""
    if not target.become or login_user == target.become_user:
        return Become(tuple(argv))
    user = () if target.become_user == "root" else ("-u", target.become_user)
    if target.become_password is None:
        return Become(("sudo", "-n", *user, "--", *argv))
    token = secrets.token_hex(8)
    prompt, started = f"[sshorch-sudo-{token}]", f"SSHORCH-BECOME-{token}"
    command = ("sudo", "-S", "-p", prompt, *user, "--", "sh", "-c", f'echo {started}; exec "$@"', "sh", *argv)
    return Become(command, target.become_password, prompt.encode(), started.encode() + b"\n")


def sudo_handshake(
    channel: paramiko.Channel, become: Become, name: str, timeout: float, check_alive: Callable[[], None]
) -> tuple[bytes, bytes]:
    """Answer sudo's prompt and wait until the command runs; the output that came after, (stdout, stderr)."""
    assert become.password is not None
    out, err, answered = b"", b"", False
    deadline = time.monotonic() + timeout
    while True:
        while channel.recv_ready():
            out += channel.recv(65536)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(65536)
        if become.started in out:
            return out.split(become.started, 1)[1], err.replace(become.prompt, b"")
        prompts = err.count(become.prompt)
        if prompts > 1:
            raise TransportError(f"{name}: sudo refused ansible_become_password (asked again)")
        if prompts == 1 and not answered:
            channel.sendall(become.password.encode() + b"\n")
            answered = True
        if channel.exit_status_ready():
            lines = err.replace(become.prompt, b"").decode(errors="replace").strip().splitlines()
            raise TransportError(f"{name}: sudo failed: {lines[-1] if lines else 'exit status %d' % channel.recv_exit_status()}")
        check_alive()
        if time.monotonic() > deadline:
            raise TransportError(f"{name}: sudo did not start the command within {timeout:g}s")
        select.select([channel], [], [], 0.2)
