"""A state store in memory, for tests and `memory://`: the same rules as the SQLite one, nothing on disk."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sshorch.state.desired import KEEP_APPLIES, check_applysets, desired_record
from sshorch.state.failures import DamagedRecord, StateError
from sshorch.state.guard import ENCRYPTED_PREFIX, check_no_clear_secrets
from sshorch.state.jsoncodec import decode, encode
from sshorch.state.keyvalue import CLUSTER_KEY
from sshorch.state.model import (
    EVENT_TYPES,
    NODE_READY,
    NODE_STATUSES,
    NODE_UNKNOWN,
    REVISION_PENDING,
    REVISION_STATUSES,
    DesiredRecord,
    Event,
    LockHolder,
    NodeHealth,
    Revision,
    StoredSecret,
)
from sshorch.state.records import Record, T, record_text, record_value
from sshorch.state.runlock import may_take
from sshorch.state.store import ClosingStore, StateStore

LOCATION = "memory://"


@dataclass
class _Tables:
    """Values are kept as the SQLite store keeps them (JSON text where it does), so nothing aliases a caller's."""

    meta: dict[str, str] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)
    secrets: dict[tuple[str, str], dict[str, tuple[str, float]]] = field(default_factory=dict)
    desired: list[tuple[int, float, str, str, str | None]] = field(default_factory=list)
    last_apply: int = 0
    revisions: dict[str, list[tuple[Revision, str]]] = field(default_factory=dict)  # by number, template as text
    allocations: dict[str, dict[str, str]] = field(default_factory=dict)
    nodes: dict[str, NodeHealth] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    events: list[tuple[int, Event]] = field(default_factory=list)
    last_event: int = 0
    lock: LockHolder | None = None


class InMemoryStore(ClosingStore):
    """Safe to share between threads; a transaction is a copy of the tables put back on error."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = threading.RLock()
        self._depth = 0

    @property
    def location(self) -> str:
        return LOCATION

    def close(self) -> None:
        pass

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            before = copy.deepcopy(self._tables)
            self._depth = 1
            try:
                yield
            except DamagedRecord as error:
                self._tables = before
                raise StateError(f"{LOCATION}: {error}") from None
            except BaseException:
                self._tables = before
                raise
            finally:
                self._depth = 0

    @contextmanager
    def _read(self) -> Iterator[_Tables]:
        with self._lock:
            try:
                yield self._tables
            except DamagedRecord as error:
                raise StateError(f"{LOCATION}: {error}") from None

    @contextmanager
    def _write(self) -> Iterator[_Tables]:
        with self.transaction():
            yield self._tables

    # Typed records

    def load(self, record: Record[T]) -> T:
        with self._read() as t:
            return record_value(record, t.records.get(record.name))

    def save(self, record: Record[T], value: T) -> None:
        text = record_text(record, value)
        with self._write() as t:
            t.records[record.name] = text

    # Metadata

    def get_meta(self, key: str) -> str | None:
        with self._read() as t:
            return t.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as t:
            t.meta[key] = value

    def meta_default(self, key: str, value: str) -> str:
        with self._write() as t:
            return t.meta.setdefault(key, value)

    def check_cluster(self, name: str) -> None:
        with self._write() as t:
            recorded = t.meta.setdefault(CLUSTER_KEY, name)
            if recorded != name:
                raise StateError(
                    f"state file {LOCATION} belongs to cluster {recorded!r}, not {name!r}; "
                    "point SSHORCH_STATE at this cluster's own state file"
                )

    # Secrets set by `sshorch secret set`

    def stored_secret(self, namespace: str, name: str) -> dict[str, str]:
        with self._read() as t:
            return {key: value for key, (value, _) in sorted(t.secrets.get((namespace, name), {}).items())}

    def set_stored_secret(self, namespace: str, name: str, values: Mapping[str, str], *, now: float) -> None:
        for key, value in values.items():
            if not value.startswith(ENCRYPTED_PREFIX):
                raise StateError(f"secret {namespace}/{name}: {key} is not encrypted; refusing to store it in clear")
        if not values:
            return
        with self._write() as t:
            t.secrets.setdefault((namespace, name), {}).update((key, (value, now)) for key, value in values.items())

    def remove_stored_secret(self, namespace: str, name: str, keys: tuple[str, ...] = ()) -> int:
        with self._write() as t:
            held = t.secrets.get((namespace, name), {})
            gone = [key for key in held if not keys or key in keys]
            for key in gone:
                del held[key]
            if not held:
                t.secrets.pop((namespace, name), None)
            return len(gone)

    def stored_secrets(self) -> tuple[StoredSecret, ...]:
        with self._read() as t:
            return tuple(
                StoredSecret(ns, name, tuple(sorted(keys)), float(max(at for _, at in keys.values())))
                for (ns, name), keys in sorted(t.secrets.items())
            )

    # Desired state

    def record_desired(
        self, documents: Sequence[Mapping[str, Any]], *, now: float, source: str, applysets: Sequence[str]
    ) -> int:
        check_no_clear_secrets(documents)
        check_applysets(documents, applysets)
        text = encode([dict(document) for document in documents], f"desired state from {source or 'apply'}")
        sets = encode(list(applysets), "apply sets")
        with self._write() as t:
            t.last_apply += 1
            t.desired = [row for row in t.desired if row[0] > t.last_apply - KEEP_APPLIES]
            t.desired.append((t.last_apply, now, source, text, sets))
            return t.last_apply

    def desired(self) -> DesiredRecord | None:
        with self._read() as t:
            if not t.desired:
                return None
            apply_id, applied_at, source, text, sets = t.desired[-1]
            return desired_record(apply_id, text, applied_at, source, sets)

    def desired_sources(self) -> tuple[str, ...]:
        with self._read() as t:
            return tuple(row[2] for row in reversed(t.desired))

    # Revisions

    def record_revision(
        self, workload: str, template_hash: str, template: Mapping[str, Any], *, now: float, cause: str = ""
    ) -> Revision:
        text = encode(dict(template), f"{workload} template")
        with self._write() as t:
            kept = t.revisions.setdefault(workload, [])
            if kept and kept[-1][0].template_hash == template_hash:
                return self._revision(kept[-1])
            number = kept[-1][0].number + 1 if kept else 1
            # Going back to an older template renumbers it as the newest, as `kubectl rollout undo` does.
            kept[:] = [row for row in kept if row[0].template_hash != template_hash]
            revision = Revision(workload, number, template_hash, {}, float(now), REVISION_PENDING, "", cause)
            kept.append((revision, text))
            return self._revision(kept[-1])

    def revisions(self, workload: str) -> tuple[Revision, ...]:
        with self._read() as t:
            return tuple(self._revision(row) for row in t.revisions.get(workload, []))

    def current_revision(self, workload: str) -> Revision | None:
        with self._read() as t:
            kept = t.revisions.get(workload)
            return self._revision(kept[-1]) if kept else None

    def set_revision_status(self, workload: str, number: int, status: str, reason: str = "") -> None:
        if status not in REVISION_STATUSES:
            raise ValueError(f"revision status {status!r} is not one of {', '.join(REVISION_STATUSES)}")
        with self._write() as t:
            kept = t.revisions.get(workload, [])
            for index, (revision, text) in enumerate(kept):
                if revision.number == number:
                    kept[index] = (replace(revision, status=status, reason=reason), text)
                    return
            raise StateError(f"{workload} has no revision {number}; list its revisions with 'sshorch rollout history'")

    def prune_revisions(self, workload: str, keep: int) -> int:
        """Keep the current revision and the `keep` newest before it (revisionHistoryLimit semantics)."""
        if keep < 0:
            raise ValueError(f"keep must be >= 0, not {keep}")
        with self._write() as t:
            kept = t.revisions.get(workload, [])
            gone = max(len(kept) - (keep + 1), 0)
            del kept[:gone]
            if not kept:
                t.revisions.pop(workload, None)
            return gone

    def forget_workload(self, workload: str) -> None:
        with self._write() as t:
            t.revisions.pop(workload, None)

    def workloads_with_revisions(self) -> tuple[str, ...]:
        with self._read() as t:
            return tuple(sorted(workload for workload, kept in t.revisions.items() if kept))

    @staticmethod
    def _revision(row: tuple[Revision, str]) -> Revision:
        revision, text = row
        template = decode(text, f"{revision.workload} revision {revision.number}")
        return replace(revision, template=template)

    # Allocations

    def allocations(self, kind: str) -> dict[str, str]:
        with self._read() as t:
            return dict(sorted(t.allocations.get(kind, {}).items()))

    def allocate(self, kind: str, owner: str, value: str) -> None:
        """Give value to owner; the same pair again is a no-op, any other overlap names the holder."""
        with self._write() as t:
            held = t.allocations.setdefault(kind, {})
            if owner in held:
                if held[owner] == value:
                    return
                raise StateError(f"{kind} for {owner} is already {held[owner]}, not {value}; release it before changing it")
            for holder, taken in held.items():
                if taken == value:
                    raise StateError(f"{kind} {value} is already held by {holder}; choose another value for {owner}")
            held[owner] = value

    def release(self, kind: str, owner: str) -> None:
        with self._write() as t:
            t.allocations.get(kind, {}).pop(owner, None)

    def replace_allocations(self, kind: str, mapping: Mapping[str, str]) -> None:
        holders: dict[str, str] = {}
        for owner, value in mapping.items():
            if value in holders:
                raise StateError(f"{kind} {value} given to both {holders[value]} and {owner}; each must be unique")
            holders[value] = owner
        with self._write() as t:
            t.allocations[kind] = dict(mapping)

    # Node health

    def node_health(self) -> dict[str, NodeHealth]:
        with self._read() as t:
            return dict(sorted(t.nodes.items()))

    def record_node_status(self, node: str, status: str, *, now: float, reason: str = "") -> NodeHealth:
        if status not in NODE_STATUSES:
            raise ValueError(f"node status {status!r} is not one of {', '.join(NODE_STATUSES)}")
        now = float(now)
        with self._write() as t:
            before = t.nodes.get(node)
            # since marks the last change of status: eviction counts from when a node went NotReady.
            since = before.since if before is not None and before.status == status else now
            last_seen = now if status == NODE_READY else (before.last_seen if before is not None else None)
            cordoned = before.cordoned if before is not None else False
            t.nodes[node] = NodeHealth(node, status, since, reason, last_seen, cordoned)
            return t.nodes[node]

    def set_cordoned(self, node: str, cordoned: bool) -> None:
        with self._write() as t:
            before = t.nodes.get(node)
            # A node can be cordoned before any pass has seen it; it stays Unknown until one does.
            t.nodes[node] = replace(before, cordoned=cordoned) if before else NodeHealth(node, NODE_UNKNOWN, 0.0, "", None, cordoned)

    def forget_node(self, node: str) -> None:
        with self._write() as t:
            t.nodes.pop(node, None)

    # Counters

    def counter(self, key: str) -> int:
        with self._read() as t:
            return t.counters.get(key, 0)

    def set_counter(self, key: str, value: int) -> None:
        with self._write() as t:
            t.counters[key] = value

    def counters(self, prefix: str) -> dict[str, int]:
        with self._read() as t:
            return {key: value for key, value in sorted(t.counters.items()) if key.startswith(prefix)}

    def clear_counters(self, prefix: str) -> int:
        with self._write() as t:
            gone = [key for key in t.counters if key.startswith(prefix)]
            for key in gone:
                del t.counters[key]
            return len(gone)

    # Events

    def add_events(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type not in EVENT_TYPES:
                raise ValueError(f"event type {event.type!r} is not one of {', '.join(EVENT_TYPES)}")
        with self._write() as t:
            for event in events:
                t.last_event += 1
                t.events.append((t.last_event, event))

    def events(self, *, since: float | None = None, object: str | None = None, limit: int = 200) -> tuple[Event, ...]:
        """The newest `limit` matching events, returned oldest first."""
        with self._read() as t:
            matching = [
                (event.time, number, event) for number, event in t.events
                if (since is None or event.time >= since) and (object is None or event.object == object)
            ]
        newest = sorted(matching, key=lambda row: (row[0], row[1]), reverse=True)[: max(limit, 0)]
        return tuple(event for _, _, event in reversed(newest))

    def prune_events(self, keep: int = 10000) -> None:
        with self._write() as t:
            newest = sorted(t.events, key=lambda row: (row[1].time, row[0]), reverse=True)[: max(keep, 0)]
            t.events = sorted(newest)

    # Run lock

    def acquire_lock(self, holder: LockHolder, *, now: float, stale_after: float = 0) -> LockHolder | None:
        """None when holder now has the lock, else the holder that has it."""
        with self._write() as t:
            if not may_take(t.lock, holder, now, stale_after):
                return t.lock
            t.lock = holder
            return None

    def release_lock(self, holder: LockHolder) -> None:
        # Only the holder releases: a run that lost the lock to a takeover must not free its successor's.
        with self._write() as t:
            if t.lock is not None and (t.lock.pid, t.lock.host) == (holder.pid, holder.host):
                t.lock = None

    def lock_holder(self) -> LockHolder | None:
        with self._read() as t:
            return t.lock


def _conforms(store: InMemoryStore) -> StateStore:
    return store  # mypy checks here that InMemoryStore implements the interface
