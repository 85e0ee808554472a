"""The SQLite state store: each method is one transaction on the shared connection, or joins an open one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sshorch.state import allocations as _allocations
from sshorch.state import desired as _desired
from sshorch.state import events as _events
from sshorch.state import keyvalue as _keyvalue
from sshorch.state import nodestatus as _nodes
from sshorch.state import revisions as _revisions
from sshorch.state import runlock as _runlock
from sshorch.state import stored as _stored
from sshorch.state.sqlconn import Database
from sshorch.state.model import DesiredRecord, Event, LockHolder, NodeHealth, Revision, StoredSecret
from sshorch.state.records import Record, T
from sshorch.state.store import ClosingStore, StateStore


class SqliteStore(ClosingStore):
    """Safe to share between the threads of one process; processes coordinate through SQLite's locks."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    def open(cls, path: Path) -> SqliteStore:
        """Open or create the file (parents 0700, file 0600) and migrate it to the current schema."""
        return cls(Database.open(path))

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def location(self) -> str:
        return str(self._db.path)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction for everything inside; the store's methods join it."""
        with self._db.write():
            yield

    # Metadata

    def get_meta(self, key: str) -> str | None:
        with self._db.read() as conn:
            return _keyvalue.get_meta(conn, key)

    def set_meta(self, key: str, value: str) -> None:
        with self._db.write() as conn:
            _keyvalue.set_meta(conn, key, value)

    def meta_default(self, key: str, value: str) -> str:
        with self._db.write() as conn:
            return _keyvalue.meta_default(conn, key, value)

    def check_cluster(self, name: str) -> None:
        with self._db.write() as conn:
            _keyvalue.check_cluster(conn, name, str(self.path))

    # Typed records

    def load(self, record: Record[T]) -> T:
        with self._db.read() as conn:
            return _keyvalue.load_record(conn, record)

    def save(self, record: Record[T], value: T) -> None:
        with self._db.write() as conn:
            _keyvalue.save_record(conn, record, value)

    # Secrets set by `sshorch secret set` (values encrypted by the caller)

    def stored_secret(self, namespace: str, name: str) -> dict[str, str]:
        with self._db.read() as conn:
            return _stored.stored_secret(conn, namespace, name)

    def set_stored_secret(self, namespace: str, name: str, values: Mapping[str, str], *, now: float) -> None:
        with self._db.write() as conn:
            _stored.set_stored_secret(conn, namespace, name, values, now)

    def remove_stored_secret(self, namespace: str, name: str, keys: tuple[str, ...] = ()) -> int:
        with self._db.write() as conn:
            return _stored.remove_stored_secret(conn, namespace, name, keys)

    def stored_secrets(self) -> tuple[StoredSecret, ...]:
        with self._db.read() as conn:
            return _stored.stored_secrets(conn)

    # Desired state

    def record_desired(
        self, documents: Sequence[Mapping[str, Any]], *, now: float, source: str, applysets: Sequence[str]
    ) -> int:
        with self._db.write() as conn:
            return _desired.record_desired(conn, documents, now, source, applysets)

    def desired(self) -> DesiredRecord | None:
        with self._db.read() as conn:
            return _desired.latest_desired(conn)

    def desired_sources(self) -> tuple[str, ...]:
        with self._db.read() as conn:
            return _desired.desired_sources(conn)

    # Revisions

    def record_revision(
        self, workload: str, template_hash: str, template: Mapping[str, Any], *, now: float, cause: str = ""
    ) -> Revision:
        with self._db.write() as conn:
            return _revisions.record_revision(conn, workload, template_hash, template, now, cause)

    def revisions(self, workload: str) -> tuple[Revision, ...]:
        with self._db.read() as conn:
            return _revisions.revisions(conn, workload)

    def current_revision(self, workload: str) -> Revision | None:
        with self._db.read() as conn:
            return _revisions.current_revision(conn, workload)

    def set_revision_status(self, workload: str, number: int, status: str, reason: str = "") -> None:
        with self._db.write() as conn:
            _revisions.set_revision_status(conn, workload, number, status, reason)

    def prune_revisions(self, workload: str, keep: int) -> int:
        with self._db.write() as conn:
            return _revisions.prune_revisions(conn, workload, keep)

    def forget_workload(self, workload: str) -> None:
        with self._db.write() as conn:
            _revisions.forget_workload(conn, workload)

    def workloads_with_revisions(self) -> tuple[str, ...]:
        with self._db.read() as conn:
            return _revisions.workloads_with_revisions(conn)

    # Allocations

    def allocations(self, kind: str) -> dict[str, str]:
        with self._db.read() as conn:
            return _allocations.allocations(conn, kind)

    def allocate(self, kind: str, owner: str, value: str) -> None:
        with self._db.write() as conn:
            _allocations.allocate(conn, kind, owner, value)

    def release(self, kind: str, owner: str) -> None:
        with self._db.write() as conn:
            _allocations.release(conn, kind, owner)

    def replace_allocations(self, kind: str, mapping: Mapping[str, str]) -> None:
        with self._db.write() as conn:
            _allocations.replace_allocations(conn, kind, mapping)

    # Node health

    def node_health(self) -> dict[str, NodeHealth]:
        with self._db.read() as conn:
            return _nodes.node_health(conn)

    def record_node_status(self, node: str, status: str, *, now: float, reason: str = "") -> NodeHealth:
        with self._db.write() as conn:
            return _nodes.record_node_status(conn, node, status, now, reason)

    def set_cordoned(self, node: str, cordoned: bool) -> None:
        with self._db.write() as conn:
            _nodes.set_cordoned(conn, node, cordoned)

    def forget_node(self, node: str) -> None:
        with self._db.write() as conn:
            _nodes.forget_node(conn, node)

    # Counters

    def counter(self, key: str) -> int:
        with self._db.read() as conn:
            return _keyvalue.counter(conn, key)

    def set_counter(self, key: str, value: int) -> None:
        with self._db.write() as conn:
            _keyvalue.set_counter(conn, key, value)

    def counters(self, prefix: str) -> dict[str, int]:
        with self._db.read() as conn:
            return _keyvalue.counters(conn, prefix)

    def clear_counters(self, prefix: str) -> int:
        with self._db.write() as conn:
            return _keyvalue.clear_counters(conn, prefix)

    # Events

    def add_events(self, events: Sequence[Event]) -> None:
        with self._db.write() as conn:
            _events.add_events(conn, events)

    def events(self, *, since: float | None = None, object: str | None = None, limit: int = 200) -> tuple[Event, ...]:
        with self._db.read() as conn:
            return _events.events(conn, since, object, limit)

    def prune_events(self, keep: int = 10000) -> None:
        with self._db.write() as conn:
            _events.prune_events(conn, keep)

    # Run lock

    def acquire_lock(self, holder: LockHolder, *, now: float, stale_after: float = 0) -> LockHolder | None:
        """None when holder now has the lock, else the holder that has it."""
        with self._db.write() as conn:
            return _runlock.acquire_lock(conn, holder, now, stale_after)

    def release_lock(self, holder: LockHolder) -> None:
        with self._db.write() as conn:
            _runlock.release_lock(conn, holder)

    def lock_holder(self) -> LockHolder | None:
        with self._db.read() as conn:
            return _runlock.lock_holder(conn)


def _conforms(store: SqliteStore) -> StateStore:
    return store  # mypy checks here that SqliteStore implements the interface
