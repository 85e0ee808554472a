"""Stable values handed out to objects: service VIPs, node ports, pod host ports."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from sshorch.state.failures import StateError


def allocations(conn: sqlite3.Connection, kind: str) -> dict[str, str]:
    rows = conn.execute("SELECT owner, value FROM allocations WHERE kind = ? ORDER BY owner", (kind,))
    return {owner: value for owner, value in rows}


def allocate(conn: sqlite3.Connection, kind: str, owner: str, value: str) -> None:
    """Give value to owner; the same pair again is a no-op, any other overlap names the holder."""
    held = conn.execute("SELECT value FROM allocations WHERE kind = ? AND owner = ?", (kind, owner)).fetchone()
    if held is not None:
        if held[0] == value:
            return
        raise StateError(f"{kind} for {owner} is already {held[0]}, not {value}; release it before changing it")
    holder = conn.execute("SELECT owner FROM allocations WHERE kind = ? AND value = ?", (kind, value)).fetchone()
    if holder is not None:
        raise StateError(f"{kind} {value} is already held by {holder[0]}; choose another value for {owner}")
    conn.execute("INSERT INTO allocations (kind, owner, value) VALUES (?, ?, ?)", (kind, owner, value))


def release(conn: sqlite3.Connection, kind: str, owner: str) -> None:
    conn.execute("DELETE FROM allocations WHERE kind = ? AND owner = ?", (kind, owner))


def replace_allocations(conn: sqlite3.Connection, kind: str, mapping: Mapping[str, str]) -> None:
    holders: dict[str, str] = {}
    for owner, value in mapping.items():
        if value in holders:
            raise StateError(f"{kind} {value} given to both {holders[value]} and {owner}; each must be unique")
        holders[value] = owner
    conn.execute("DELETE FROM allocations WHERE kind = ?", (kind,))
    conn.executemany(
        "INSERT INTO allocations (kind, owner, value) VALUES (?, ?, ?)",
        [(kind, owner, value) for owner, value in mapping.items()],
    )
