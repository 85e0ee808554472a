"""An apply of one apply set: the files' documents with what the other sets recorded.

The files are validated together with every other recorded object (a Deployment may use
a ConfigMap another set applied), and the record after the apply is decided by
spec/applysets.py: the files' objects in this set, the other sets' as they were, and
this set's objects no longer in the files pruned or left, as asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sshorch.inventory import Inventory
from sshorch.run.apply import file_documents, last_applied_paths, validated
from sshorch.secrets.atrest import decrypt_documents
from sshorch.secrets.kept import secret_key
from sshorch.secrets.resolve import SecretSources
from sshorch.spec.applysets import ObjectId, Recorded, SetApply, apply_set, legacy_records, object_id
from sshorch.spec.model import Desired, Source
from sshorch.state import StateStore


@dataclass(frozen=True)
class SetChoice:
    """The set an apply is of (`--applyset`, else named after its paths) and whether it prunes."""

    name: str
    prune: bool = False


def recorded_sets(store: StateStore) -> tuple[Recorded, ...]:
    """Every recorded document (secrets decrypted in memory only) with its apply set."""
    record = store.desired()
    if record is None:
        return ()
    documents = decrypt_documents(record.documents, secret_key)
    if record.applysets is None:
        return legacy_records(documents, last_applied_paths(store.desired_sources()))
    return tuple(Recorded(applyset, document) for applyset, document in zip(record.applysets, documents))


def merged_documents(
    files: Sequence[tuple[Source, dict[str, Any]]], change: SetApply,
) -> list[tuple[Source, dict[str, Any]]]:
    """The record after the apply, as documents to validate: the other objects recorded, then
    the files' documents with their own sources (a duplicate in the files names both files)."""
    kept = change.documents[: len(change.documents) - len(files)]
    recorded = [(Source(f"recorded (apply set {r.applyset})", i), dict(r.document)) for i, r in enumerate(kept)]
    return [*recorded, *files]


def load_set_apply(
    inventory: Inventory,
    store: StateStore,
    paths: Sequence[Path],
    set_values: Sequence[str],
    values_files: Sequence[Path],
    secrets: SecretSources,
    warn: Callable[[str], None],
    hash_key: bytes,
    choice: SetChoice,
) -> tuple[Desired, SetApply]:
    """The desired state after applying the files as `choice`'s set, and what that changes in the record."""
    files = file_documents(inventory, paths, set_values, values_files, secrets, warn)
    change = apply_set(recorded_sets(store), [document for _, document in files], choice.name, prune=choice.prune)
    return validated(inventory, merged_documents(files, change), warn, hash_key), change


def set_lines(change: SetApply, choice: SetChoice) -> list[str]:
    """What an apply does to the record, for `plan` and `apply`: its set, what it prunes, what it leaves."""
    mine = sum(1 for r in change.documents if r.applyset == choice.name)
    parts = [f"{len(change.created)} new"] if change.created else []
    parts += [f"{oid} from apply set {before}" for oid, before in change.moved]
    lines = [f"apply set {choice.name}: {_objects(mine)}" + (f" ({', '.join(parts)})" if parts else "")
             + (f"; {_objects(change.others)} of other sets left as they are" if change.others else "")]
    lines += [f"prune: {oid} (apply set {choice.name}, no longer in the files)" for oid in change.pruned]
    if change.left:
        names = ", ".join(map(str, change.left))
        lines.append(f"info: apply set {choice.name}: no longer in the files, kept: {names} (--prune removes what is no longer in them)")
    return lines


def _objects(count: int) -> str:
    return f"{count} object{'' if count == 1 else 's'}"


def applysets_of(change: SetApply) -> dict[ObjectId, str]:
    return {object_id(r.document): r.applyset for r in change.documents}


def set_json(change: SetApply, name: str) -> dict[str, Any]:
    """`plan -o json`'s account of the apply set."""
    return {
        "name": name,
        "objects": sum(1 for r in change.documents if r.applyset == name),
        "created": [str(oid) for oid in change.created],
        "moved": [{"object": str(oid), "from": before} for oid, before in change.moved],
        "pruned": [str(oid) for oid in change.pruned],
        "left": [str(oid) for oid in change.left],
        "others": change.others,
    }
