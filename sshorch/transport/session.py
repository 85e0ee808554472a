"""A run's connections: one per node, opened on first use, reused, closed at the end;
work fanned out over all nodes on a bounded pool, each node's outcome returned as data."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import paramiko

from sshorch.errors import TransportError
from sshorch.transport.connection import Connection, ConnectOptions, SshTarget, connect
from sshorch.transport.model import NodeOutcome
from sshorch.transport.dial import load_private_key
from sshorch.transport.local import LocalConnection

__all__ = ["DEFAULT_FORKS", "NodeOutcome", "Session", "load_private_key"]

T = TypeVar("T")
DEFAULT_FORKS = 32


# How often a watching session looks for connections that died between commands.
WATCH_INTERVAL = 0.25


class Session:
    """A node whose connection died or could not be made is *lost*: later work on it does
    not wait for a new connection, which is made in the background and used once it is
    up; until then the node is reported unreachable at once. A pass is then never held
    up by a node that is known to be gone."""

    def __init__(self, options: ConnectOptions, forks: int = DEFAULT_FORKS) -> None:
        if forks < 1:
            raise TransportError("--forks must be at least 1")
        self.options = options
        self.forks = forks
        self._connections: dict[str, Connection] = {}
        self._keys: dict[str, paramiko.PKey] = {}
        self._lock = threading.Lock()
        self._lost: dict[str, str] = {}  # node -> why, while it is lost
        self._dialing: dict[str, Future[Connection]] = {}
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None

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
        opened = self._open(target)
        with self._lock:
            self._connections[target.name] = opened
            self._lost.pop(target.name, None)
        return opened

    def _open(self, target: SshTarget) -> Connection:
        if target.local:
            return LocalConnection(target)
        return connect(target, self.options, self._key(target.key_file), self._loaded_key)

    def _lost_connection(self, target: SshTarget) -> Connection | None:
        """For a lost node: its new connection if the background attempt made one, else
        None, with an attempt under way."""
        with self._lock:
            dialing = self._dialing.get(target.name)
            if dialing is None:
                dialing = self._dialing[target.name] = Future()
                threading.Thread(target=self._dial, args=(target, dialing), daemon=True).start()
                return None
            if not dialing.done():
                return None
            del self._dialing[target.name]
        try:
            opened = dialing.result()
        except TransportError as error:
            with self._lock:
                self._lost[target.name] = str(error)
            return None
        with self._lock:
            self._connections[target.name] = opened
            self._lost.pop(target.name, None)
        return opened

    def _dial(self, target: SshTarget, result: Future[Connection]) -> None:
        try:
            opened = self._open(target)
        except TransportError as error:
            result.set_exception(error)
            return
        if self._closed.is_set():
            opened.close()
            result.set_exception(TransportError(f"{target.name}: session closed"))
        else:
            result.set_result(opened)

    def watch(self, on_lost: Callable[[str], None]) -> None:
        """Call `on_lost(node)` when an open connection dies between commands (checked every
        WATCH_INTERVAL): a watch loop then runs a pass at once instead of at its next interval."""
        def loop() -> None:
            while not self._closed.wait(WATCH_INTERVAL):
                with self._lock:
                    dead = [name for name, conn in self._connections.items() if not conn.alive]
                for name in dead:
                    self._drop(name, "connection lost")
                    on_lost(name)

        self._watcher = threading.Thread(target=loop, daemon=True)
        self._watcher.start()

    def map(self, work: Callable[[Connection], T], targets: Iterable[SshTarget]) -> list[NodeOutcome[T]]:
        """Run `work` on every node in parallel; failures come back as outcomes, in target order."""
        targets = list(targets)

        def one(target: SshTarget) -> NodeOutcome[T]:
            with self._lock:
                lost = self._lost.get(target.name)
            try:
                conn = self.connection(target) if lost is None else self._lost_connection(target)
            except TransportError as error:
                with self._lock:
                    self._lost[target.name] = str(error)
                return NodeOutcome(target, error=str(error), unreachable=True)
            if conn is None:
                with self._lock:
                    why = self._lost.get(target.name, lost)
                return NodeOutcome(target, error=f"{why} (connecting again in the background)", unreachable=True)
            try:
                return NodeOutcome(target, value=work(conn))
            except (TransportError, paramiko.SSHException, OSError, EOFError) as error:
                message = str(error) or type(error).__name__
                if not message.startswith(f"{target.name}: "):
                    message = f"{target.name}: {message}"
                # A connection that failed mid-command is not trusted again this run.
                self._drop(target.name, message)
                return NodeOutcome(target, error=message, unreachable=True)

        if not targets:
            return []
        with ThreadPoolExecutor(max_workers=min(self.forks, len(targets))) as pool:
            return list(pool.map(one, targets))

    def _drop(self, name: str, why: str | None = None) -> None:
        with self._lock:
            conn = self._connections.pop(name, None)
            if why is not None:
                self._lost[name] = why if why.startswith(f"{name}: ") else f"{name}: {why}"
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            conn.close()
