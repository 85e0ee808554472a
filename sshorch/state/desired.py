"""The recorded desired state: the complete set of manifest documents of each apply."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sshorch.state.failures import DamagedRecord, StateError
from sshorch.state.guard import check_no_clear_secrets
from sshorch.state.jsoncodec import decode, encode
from sshorch.state.model import DesiredRecord

# Imperative commands (scale, autoscaling) record often; older applies are only history.
KEEP_APPLIES = 20


def record_desired(conn: sqlite3.Connection, documents: Sequence[Mapping[str, Any]], now: float, source: str) -> int:
    check_no_clear_secrets(documents)
    text = encode([dict(document) for document in documents], f"desired state from {source or 'apply'}")
    cursor = conn.execute("INSERT INTO desired (applied_at, source, documents) VALUES (?, ?, ?)", (now, source, text))
    apply_id = cursor.lastrowid
    if apply_id is None:
        raise StateError("the state file did not return an apply id")
    conn.execute("DELETE FROM desired WHERE id <= ?", (apply_id - KEEP_APPLIES,))
    return apply_id


def latest_desired(conn: sqlite3.Connection) -> DesiredRecord | None:
    row = conn.execute("SELECT id, documents, applied_at, source FROM desired ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    apply_id, text, applied_at, source = row
    documents = decode(text, f"desired state #{apply_id}")
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        raise DamagedRecord(f"desired state #{apply_id}: not a list of documents in the state file; re-apply the manifests")
    return DesiredRecord(id=apply_id, documents=tuple(documents), applied_at=applied_at, source=source)
