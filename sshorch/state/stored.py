"""Secrets kept by `sshorch secret set`: encrypted values, one row per key."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from sshorch.state.failures import StateError
from sshorch.state.guard import ENCRYPTED_PREFIX
from sshorch.state.model import StoredSecret


def stored_secret(conn: sqlite3.Connection, namespace: str, name: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT key, value FROM stored_secrets WHERE namespace = ? AND name = ? ORDER BY key", (namespace, name)
    )
    return {key: value for key, value in rows}


def set_stored_secret(conn: sqlite3.Connection, namespace: str, name: str, values: Mapping[str, str], now: float) -> None:
    for key, value in values.items():
        if not value.startswith(ENCRYPTED_PREFIX):
            raise StateError(f"secret {namespace}/{name}: {key} is not encrypted; refusing to store it in clear")
        conn.execute(
            "INSERT OR REPLACE INTO stored_secrets (namespace, name, key, value, updated_at) VALUES (?, ?, ?, ?, ?)",
            (namespace, name, key, value, now),
        )


def remove_stored_secret(conn: sqlite3.Connection, namespace: str, name: str, keys: tuple[str, ...] = ()) -> int:
    """Remove the named keys, or the whole secret without keys; returns how many keys went."""
    if not keys:
        return conn.execute("DELETE FROM stored_secrets WHERE namespace = ? AND name = ?", (namespace, name)).rowcount
    removed = 0
    for key in keys:
        removed += conn.execute(
            "DELETE FROM stored_secrets WHERE namespace = ? AND name = ? AND key = ?", (namespace, name, key)
        ).rowcount
    return removed


def stored_secrets(conn: sqlite3.Connection) -> tuple[StoredSecret, ...]:
    rows = conn.execute(
        "SELECT namespace, name, group_concat(key, char(10)), max(updated_at) FROM"
        " (SELECT * FROM stored_secrets ORDER BY key) GROUP BY namespace, name ORDER BY namespace, name"
    )
    return tuple(StoredSecret(ns, name, tuple(keys.split("\n")), float(updated)) for ns, name, keys, updated in rows)
