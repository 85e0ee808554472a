"""What the transport is told: where and as whom to connect (``SshTarget``) and how
(``ConnectOptions``); and what it gives back per node (``NodeOutcome``). Values only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar
from pathlib import Path

import paramiko

# Seconds of silence after which we send the node something, so a dead peer shows.
KEEPALIVE_INTERVAL = 1.0
# The shortest time without an answer that counts as a dead node (TCP's retransmission
# timer starts at 200 ms; a shorter bound would drop healthy connections).
MIN_DEAD_AFTER = 2.0


@dataclass(frozen=True)
class SshTarget:
    """Where and as whom to connect: the transport's view of an inventory host.

    Fields after ``become`` come from the host's ssh arguments and become
    settings; ``None`` leaves the choice to the run's ``ConnectOptions``.
    ``config_may_set`` names what ``~/.ssh/config`` may still supply
    (port, user, key, proxy): what the inventory did not set.
    """

    name: str
    address: str
    port: int = 22
    user: str = "root"
    key_file: str | None = None
    become: bool = False
    become_user: str = "root"
    become_password: str | None = field(default=None, repr=False)
    local: bool = False
    proxy_jump: str | None = None
    proxy_command: str | None = None
    known_hosts: Path | None = None
    accept_new_host_keys: bool | None = None
    connect_timeout: float | None = None
    keepalive_interval: float | None = None
    dead_after: float | None = None
    config_may_set: frozenset[str] = frozenset({"port", "user", "key", "proxy"})


@dataclass(frozen=True)
class ConnectOptions:
    """How to connect: the known_hosts file, whether to accept new host keys, timeout and attempts.

    ``known_hosts_forced`` (--known-hosts) beats a host's own UserKnownHostsFile;
    ``ssh_config`` is the parsed ``~/.ssh/config``, if any."""

    known_hosts: Path
    accept_new_host_keys: bool = False
    connect_timeout: float = 5.0
    attempts: int = 3
    known_hosts_forced: bool = False
    ssh_config: paramiko.SSHConfig | None = field(default=None, compare=False, hash=False)

    @property
    def dead_after(self) -> float:
        """Seconds without an answer after which an open connection counts as lost:
        a node that stops answering mid-command is reported within the connect timeout."""
        return max(MIN_DEAD_AFTER, self.connect_timeout)

    def for_target(self, target: SshTarget) -> tuple[Path, bool, float, float]:
        """known_hosts, accept new keys, connect timeout and dead-after for one target."""
        known_hosts = self.known_hosts if self.known_hosts_forced or target.known_hosts is None else target.known_hosts
        accept = self.accept_new_host_keys or bool(target.accept_new_host_keys)
        timeout = target.connect_timeout or self.connect_timeout
        dead_after = max(MIN_DEAD_AFTER, target.dead_after or timeout)
        return known_hosts, accept, timeout, dead_after


T = TypeVar("T")


@dataclass(frozen=True)
class NodeOutcome(Generic[T]):
    """What happened on one node: a value, or the one-line reason it failed."""

    target: SshTarget
    value: T | None = None
    error: str | None = None
    unreachable: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None
