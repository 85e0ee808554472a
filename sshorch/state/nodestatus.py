"""Node health, kept across runs so NotReady and eviction can be timed."""

from __future__ import annotations

import sqlite3
from typing import Any

from sshorch.state.model import NODE_READY, NODE_STATUSES, NODE_UNKNOWN, NodeHealth

_COLUMNS = "node, status, since, reason, last_seen, cordoned"


def node_health(conn: sqlite3.Connection) -> dict[str, NodeHealth]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM nodes ORDER BY node")
    return {row[0]: _health(row) for row in rows}


def record_node_status(conn: sqlite3.Connection, node: str, status: str, now: float, reason: str) -> NodeHealth:
    if status not in NODE_STATUSES:
        raise ValueError(f"node status {status!r} is not one of {', '.join(NODE_STATUSES)}")
    now = float(now)
    row = conn.execute(f"SELECT {_COLUMNS} FROM nodes WHERE node = ?", (node,)).fetchone()
    before = _health(row) if row is not None else None
    # since marks the last change of status: eviction counts from when a node went NotReady.
    since = before.since if before is not None and before.status == status else now
    last_seen = now if status == NODE_READY else (before.last_seen if before is not None else None)
    cordoned = before.cordoned if before is not None else False
    conn.execute(
        f"INSERT OR REPLACE INTO nodes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (node, status, since, reason, last_seen, int(cordoned)),
    )
    return NodeHealth(node, status, since, reason, last_seen, cordoned)


def set_cordoned(conn: sqlite3.Connection, node: str, cordoned: bool) -> None:
    # A node can be cordoned before any pass has seen it; it stays Unknown until one does.
    conn.execute(
        "INSERT INTO nodes (node, status, since, reason, last_seen, cordoned) VALUES (?, ?, 0, '', NULL, ?) "
        "ON CONFLICT (node) DO UPDATE SET cordoned = excluded.cordoned",
        (node, NODE_UNKNOWN, int(cordoned)),
    )


def forget_node(conn: sqlite3.Connection, node: str) -> None:
    conn.execute("DELETE FROM nodes WHERE node = ?", (node,))


def _health(row: tuple[Any, ...]) -> NodeHealth:
    node, status, since, reason, last_seen, cordoned = row
    return NodeHealth(node, status, since, reason, last_seen, bool(cordoned))
