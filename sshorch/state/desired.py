"""The recorded desired state: every manifest document, each with its apply set, as of each record."""

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


def record_desired(
    conn: sqlite3.Connection, documents: Sequence[Mapping[str, Any]], now: float, source: str, applysets: Sequence[str],
) -> int:
    check_no_clear_secrets(documents)
    check_applysets(documents, applysets)
    text = encode([dict(document) for document in documents], f"desired state from {source or 'apply'}")
    sets = encode(list(applysets), "apply sets")
    cursor = conn.execute(
        "INSERT INTO desired (applied_at, source, documents, applysets) VALUES (?, ?, ?, ?)", (now, source, text, sets)
    )
    apply_id = cursor.lastrowid
    if apply_id is None:
        raise StateError("the state file did not return an apply id")
    conn.execute("DELETE FROM desired WHERE id <= ?", (apply_id - KEEP_APPLIES,))
    return apply_id


def check_applysets(documents: Sequence[Mapping[str, Any]], applysets: Sequence[str]) -> None:
    if len(applysets) != len(documents):
        raise StateError(f"{len(documents)} documents but {len(applysets)} apply sets to record")


def desired_record(apply_id: int, text: str, applied_at: float, source: str, sets: str | None) -> DesiredRecord:
    """A stored row read back; DamagedRecord when it does not hold what was written."""
    documents = decode(text, f"desired state #{apply_id}")
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        raise DamagedRecord(f"desired state #{apply_id}: not a list of documents in the state file; re-apply the manifests")
    applysets = None if sets is None else decode(sets, f"apply sets of desired state #{apply_id}")
    if applysets is not None and (
        not isinstance(applysets, list) or len(applysets) != len(documents) or not all(isinstance(a, str) for a in applysets)
    ):
        raise DamagedRecord(f"desired state #{apply_id}: its apply sets do not match its documents; re-apply the manifests")
    return DesiredRecord(apply_id, tuple(documents), applied_at, source, None if applysets is None else tuple(applysets))


def latest_desired(conn: sqlite3.Connection) -> DesiredRecord | None:
    row = conn.execute("SELECT id, documents, applied_at, source, applysets FROM desired ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else desired_record(*row)


def desired_sources(conn: sqlite3.Connection) -> tuple[str, ...]:
    return tuple(row[0] for row in conn.execute("SELECT source FROM desired ORDER BY id DESC"))
