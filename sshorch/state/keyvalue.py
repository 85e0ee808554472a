"""Small key/value tables: integer counters that must survive runs, string metadata, and typed records."""

from __future__ import annotations

import sqlite3

from sshorch.state.failures import StateError
from sshorch.state.records import Record, T, record_text, record_value

CLUSTER_KEY = "cluster"


def counter(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
    return 0 if row is None else int(row[0])


def set_counter(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT OR REPLACE INTO counters (key, value) VALUES (?, ?)", (key, value))


def counters(conn: sqlite3.Connection, prefix: str) -> dict[str, int]:
    # substr, not LIKE: prefixes hold '_' and '%' literally.
    rows = conn.execute(
        "SELECT key, value FROM counters WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix)
    )
    return {key: int(value) for key, value in rows}


def clear_counters(conn: sqlite3.Connection, prefix: str) -> int:
    cursor = conn.execute("DELETE FROM counters WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
    return cursor.rowcount


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def meta_default(conn: sqlite3.Connection, key: str, value: str) -> str:
    """The value of `key`, set to `value` first if it has none (two processes agree on one)."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
    stored = get_meta(conn, key)
    assert stored is not None
    return stored


def load_record(conn: sqlite3.Connection, record: Record[T]) -> T:
    row = conn.execute("SELECT value FROM records WHERE name = ?", (record.name,)).fetchone()
    return record_value(record, None if row is None else str(row[0]))


def save_record(conn: sqlite3.Connection, record: Record[T], value: T) -> None:
    conn.execute("INSERT OR REPLACE INTO records (name, value) VALUES (?, ?)", (record.name, record_text(record, value)))


def check_cluster(conn: sqlite3.Connection, name: str, where: str) -> None:
    """Record the cluster on first use; afterwards a different name is an error, not a silent mix-up."""
    recorded = get_meta(conn, CLUSTER_KEY)
    if recorded is None:
        set_meta(conn, CLUSTER_KEY, name)
    elif recorded != name:
        raise StateError(
            f"state file {where} belongs to cluster {recorded!r}, not {name!r}; "
            "point SSHORCH_STATE at this cluster's own state file"
        )
