"""The run lock: one run at a time per state file, across processes and hosts."""

from __future__ import annotations

import os
import sqlite3

from sshorch.state.model import LockHolder


def acquire_lock(conn: sqlite3.Connection, holder: LockHolder, now: float, stale_after: float) -> LockHolder | None:
    """Take the lock for holder and return None, or return whoever holds it. Call inside a write transaction."""
    current = lock_holder(conn)
    if not may_take(current, holder, now, stale_after):
        return current
    conn.execute(
        "INSERT OR REPLACE INTO run_lock (id, pid, host, command, since) VALUES (1, ?, ?, ?, ?)",
        (holder.pid, holder.host, holder.command, holder.since),
    )
    return None


def release_lock(conn: sqlite3.Connection, holder: LockHolder) -> None:
    # Only the holder releases: a run that lost the lock to a takeover must not free its successor's.
    conn.execute("DELETE FROM run_lock WHERE id = 1 AND pid = ? AND host = ?", (holder.pid, holder.host))


def lock_holder(conn: sqlite3.Connection) -> LockHolder | None:
    row = conn.execute("SELECT pid, host, command, since FROM run_lock WHERE id = 1").fetchone()
    return None if row is None else LockHolder(*row)


def may_take(current: LockHolder | None, holder: LockHolder, now: float, stale_after: float) -> bool:
    """Free, already holder's, or left by a dead process (same host) or one silent past stale_after (another host)."""
    return current is None or _same_process(current, holder) or _is_stale(current, holder, now, stale_after)


def _same_process(current: LockHolder, holder: LockHolder) -> bool:
    return current.pid == holder.pid and current.host == holder.host


def _is_stale(current: LockHolder, holder: LockHolder, now: float, stale_after: float) -> bool:
    if current.host == holder.host:
        return not pid_alive(current.pid)
    return stale_after > 0 and now - current.since > stale_after


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False  # 0 and negatives address process groups, never one process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
