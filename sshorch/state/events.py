"""Events, like `kubectl get events`: what happened to which object, kept up to a limit."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sshorch.state.model import EVENT_TYPES, Event

_COLUMNS = "time, type, reason, object, message, node"


def add_events(conn: sqlite3.Connection, events: Sequence[Event]) -> None:
    for event in events:
        if event.type not in EVENT_TYPES:
            raise ValueError(f"event type {event.type!r} is not one of {', '.join(EVENT_TYPES)}")
    conn.executemany(
        f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [(e.time, e.type, e.reason, e.object, e.message, e.node) for e in events],
    )


def events(conn: sqlite3.Connection, since: float | None, object: str | None, limit: int) -> tuple[Event, ...]:
    """The newest `limit` matching events, returned oldest first."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("time >= ?")
        params.append(since)
    if object is not None:
        where.append("object = ?")
        params.append(object)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM events {clause} ORDER BY time DESC, id DESC LIMIT ?", (*params, max(limit, 0))
    ).fetchall()
    return tuple(Event(*row) for row in reversed(rows))


def prune_events(conn: sqlite3.Connection, keep: int) -> int:
    cursor = conn.execute(
        "DELETE FROM events WHERE id NOT IN (SELECT id FROM events ORDER BY time DESC, id DESC LIMIT ?)", (max(keep, 0),)
    )
    return cursor.rowcount
