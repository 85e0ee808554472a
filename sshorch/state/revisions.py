"""Revisions per workload, numbered like Kubernetes: 1-based, the highest is current."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sshorch.state.failures import DamagedRecord, StateError
from sshorch.state.jsoncodec import decode, encode
from sshorch.state.model import REVISION_PENDING, REVISION_STATUSES, Revision

_COLUMNS = "workload, number, template_hash, template, created_at, status, reason, cause"


def record_revision(
    conn: sqlite3.Connection, workload: str, template_hash: str, template: Mapping[str, Any], now: float, cause: str
) -> Revision:
    now = float(now)
    latest = current_revision(conn, workload)
    if latest is not None and latest.template_hash == template_hash:
        return latest
    number = latest.number + 1 if latest is not None else 1
    # Going back to an older template renumbers it as the newest, as `kubectl rollout undo` does.
    conn.execute("DELETE FROM revisions WHERE workload = ? AND template_hash = ?", (workload, template_hash))
    revision = Revision(workload, number, template_hash, dict(template), now, REVISION_PENDING, "", cause)
    conn.execute(
        f"INSERT INTO revisions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (workload, number, template_hash, encode(revision.template, f"{workload} template"), now, REVISION_PENDING, "", cause),
    )
    return revision


def revisions(conn: sqlite3.Connection, workload: str) -> tuple[Revision, ...]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM revisions WHERE workload = ? ORDER BY number", (workload,))
    return tuple(_revision(row) for row in rows)


def current_revision(conn: sqlite3.Connection, workload: str) -> Revision | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM revisions WHERE workload = ? ORDER BY number DESC LIMIT 1", (workload,)
    ).fetchone()
    return None if row is None else _revision(row)


def set_revision_status(conn: sqlite3.Connection, workload: str, number: int, status: str, reason: str) -> None:
    if status not in REVISION_STATUSES:
        raise ValueError(f"revision status {status!r} is not one of {', '.join(REVISION_STATUSES)}")
    cursor = conn.execute(
        "UPDATE revisions SET status = ?, reason = ? WHERE workload = ? AND number = ?", (status, reason, workload, number)
    )
    if cursor.rowcount == 0:
        raise StateError(f"{workload} has no revision {number}; list its revisions with 'sshorch rollout history'")


def prune_revisions(conn: sqlite3.Connection, workload: str, keep: int) -> int:
    """Keep the current revision and the `keep` newest before it (revisionHistoryLimit semantics)."""
    if keep < 0:
        raise ValueError(f"keep must be >= 0, not {keep}")
    cursor = conn.execute(
        "DELETE FROM revisions WHERE workload = ? AND number NOT IN "
        "(SELECT number FROM revisions WHERE workload = ? ORDER BY number DESC LIMIT ?)",
        (workload, workload, keep + 1),
    )
    return cursor.rowcount


def forget_workload(conn: sqlite3.Connection, workload: str) -> None:
    conn.execute("DELETE FROM revisions WHERE workload = ?", (workload,))


def workloads_with_revisions(conn: sqlite3.Connection) -> tuple[str, ...]:
    return tuple(row[0] for row in conn.execute("SELECT DISTINCT workload FROM revisions ORDER BY workload"))


def _revision(row: tuple[Any, ...]) -> Revision:
    workload, number, template_hash, text, created_at, status, reason, cause = row
    template = decode(text, f"{workload} revision {number}")
    if not isinstance(template, dict):
        raise DamagedRecord(f"{workload} revision {number}: template is not a mapping; re-apply the manifests")
    return Revision(workload, number, template_hash, template, created_at, status, reason, cause)
