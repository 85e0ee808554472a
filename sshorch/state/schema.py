"""The schema, versioned by PRAGMA user_version: migration N takes a file from version N to N+1."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from sshorch.state.failures import StateError

# "ssho": marks the file as an sshorch state file, so a foreign SQLite file is refused.
APPLICATION_ID = 0x7373686F

Migration = Sequence[str]

_V1: Migration = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    # AUTOINCREMENT: apply ids and event ids never go back, even after pruning.
    "CREATE TABLE desired (id INTEGER PRIMARY KEY AUTOINCREMENT, applied_at REAL NOT NULL,"
    " source TEXT NOT NULL, documents TEXT NOT NULL)",
    "CREATE TABLE revisions (workload TEXT NOT NULL, number INTEGER NOT NULL, template_hash TEXT NOT NULL,"
    " template TEXT NOT NULL, created_at REAL NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,"
    " cause TEXT NOT NULL, PRIMARY KEY (workload, number), UNIQUE (workload, template_hash))",
    "CREATE TABLE allocations (kind TEXT NOT NULL, owner TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (kind, owner), UNIQUE (kind, value))",
    "CREATE TABLE nodes (node TEXT PRIMARY KEY, status TEXT NOT NULL, since REAL NOT NULL,"
    " reason TEXT NOT NULL, last_seen REAL, cordoned INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, type TEXT NOT NULL,"
    " reason TEXT NOT NULL, object TEXT NOT NULL, message TEXT NOT NULL, node TEXT NOT NULL)",
    "CREATE INDEX events_by_time ON events (time, id)",
    "CREATE INDEX events_by_object ON events (object, time, id)",
    # One row at most: the run lock.
    "CREATE TABLE run_lock (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL,"
    " host TEXT NOT NULL, command TEXT NOT NULL, since REAL NOT NULL)",
    f"PRAGMA application_id = {APPLICATION_ID}",
)

# Secrets set with `sshorch secret set`: one row per key, the value always encrypted.
_V2: Migration = (
    "CREATE TABLE stored_secrets (namespace TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (namespace, name, key)) WITHOUT ROWID",
)

# Records (state.records) get a table of their own; earlier files kept them in meta under the same names.
_EARLIER_RECORDS = "('draining', 'evacuating-nodes', 'probes', 'jobs', 'cronjobs', 'autoscale', 'nodes', 'container-listings')"
_V3: Migration = (
    "CREATE TABLE records (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    f"INSERT INTO records (name, value) SELECT key, value FROM meta WHERE key IN {_EARLIER_RECORDS}",
    f"DELETE FROM meta WHERE key IN {_EARLIER_RECORDS}",
)

# Each recorded document's apply set (spec/applysets.py), a JSON list beside the documents;
# NULL in records made before sets (one set, named by the run layer).
_V4: Migration = ("ALTER TABLE desired ADD COLUMN applysets TEXT",)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the file up to len(migrations); returns the version it was at. conn must be in autocommit mode."""
    # IMMEDIATE: two processes opening a new file at once must not both run a migration.
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(conn)
        _check_ours(conn, path, found, len(migrations))
        for version in range(found, len(migrations)):
            for statement in migrations[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found


def _check_ours(conn: sqlite3.Connection, path: Path, version: int, latest: int) -> None:
    application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if application_id not in (0, APPLICATION_ID) or (application_id == 0 and has_tables):
        raise StateError(f"{path}: not an sshorch state file; point SSHORCH_STATE at another path")
    if version > latest:
        raise StateError(
            f"{path}: state file has schema version {version}, newer than this sshorch knows ({latest}); "
            "upgrade sshorch"
        )
