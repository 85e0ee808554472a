"""A run's connections: one per node, opened on first use, reused, closed at the end;
work fanned out over all nodes on a bounded pool, each node's outcome returned as data."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

import paramiko

from sshorch.errors import TransportError
from sshorch.transport.connection import Connection, ConnectOptions, SshTarget, connect
from sshorch.transport.dial import load_private_key
from sshorch.transport.local import LocalConnection

__all__ = ["DEFAULT_FORKS", "NodeOutcome", "Session", "load_private_key"]

T = TypeVar("T")
DEFAULT_FORKS = 32


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


class Session:
    def __init__(self, options: ConnectOptions, forks: int = DEFAULT_FORKS) -> None:
        if forks < 1:
            raise TransportError("--forks must be at least 1")
        self.options = options
        self.forks = forks
        self._connections: dict[str, Connection] = {}
        self._keys: dict[str, paramiko.PKey] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _key(self, path: str | None) -> paramiko.PKey | None:
        if path is None:
            return None
        with self._lock:
            if path not in self._keys:
                self._keys[path] = load_private_key(Path(path))
            return self._keys[path]

    def _loaded_key(self, path: str) -> paramiko.PKey:
        key = self._key(path)
        assert key is not None
        return key

    def connection(self, target: SshTarget) -> Connection:
        """The node's connection, opened once per session and again when it died."""
        with self._lock:
            existing = self._connections.get(target.name)
        if existing is not None and existing.alive:
            return existing
        if existing is not None:
            self._drop(target.name)
        opened: Connection
        if target.local:
            opened = LocalConnection(target)
        else:
            opened = connect(target, self.options, self._key(target.key_file), self._loaded_key)
        with self._lock:
            self._connections[target.name] = opened
        return opened

    def map(self, work: Callable[[Connection], T], targets: Iterable[SshTarget]) -> list[NodeOutcome[T]]:
        """Run `work` on every node in parallel; failures come back as outcomes, in target order."""
        targets = list(targets)

        def one(target: SshTarget) -> NodeOutcome[T]:
            try:
                conn = self.connection(target)
            except TransportError as error:
                return NodeOutcome(target, error=str(error), unreachable=True)
            try:
                return NodeOutcome(target, value=work(conn))
            except (TransportError, paramiko.SSHException, OSError, EOFError) as error:
                # A connection that failed mid-command is not trusted again this run.
                self._drop(target.name)
                message = str(error) or type(error).__name__
                if not message.startswith(f"{target.name}: "):
                    message = f"{target.name}: {message}"
                return NodeOutcome(target, error=message, unreachable=True)

        if not targets:
            return []
        with ThreadPoolExecutor(max_workers=min(self.forks, len(targets))) as pool:
            return list(pool.map(one, targets))

    def _drop(self, name: str) -> None:
        with self._lock:
            conn = self._connections.pop(name, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            conn.close()
