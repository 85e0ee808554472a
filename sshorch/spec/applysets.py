"""Apply sets: which recorded objects an apply may change, and which it may remove. Pure.

kubectl users expect `apply -f` to create or update what is in the files and leave
every other object alone, and to remove objects only when asked (`--prune`, scoped
to an apply set: KEP-3659). Each recorded document belongs to one apply set; an
apply of set S records the files' documents under S, keeps every other recorded
document as it was, and, with prune, drops S's documents that are no longer in
the files. An object is one document by kind, namespace and name: applied from
another set, it moves to the set that applied it last, as kubectl's part-of label
does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

# Kinds with no namespace: a namespace written on one names nothing.
CLUSTER_SCOPED = frozenset({"PriorityClass", "ClusterRole", "ClusterRoleBinding", "Namespace", "StorageClass"})
MAX_NAME = 63
_NOT_NAME = re.compile(r"[^a-z0-9.-]+")


@dataclass(frozen=True, order=True)
class ObjectId:
    """An object as kubectl names it: `kind/name` in a namespace ("" for cluster-scoped kinds)."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f" (namespace {self.namespace})" if self.namespace not in ("", "default") else ""
        return f"{self.kind.lower()}/{self.name}{where}"


@dataclass(frozen=True)
class Recorded:
    """One recorded document and the apply set it belongs to."""

    applyset: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class SetApply:
    """What an apply of one set records, and what it changes in the record."""

    documents: tuple[Recorded, ...]  # the whole recorded state after the apply: what is kept, then the files'
    created: tuple[ObjectId, ...]  # not recorded before
    moved: tuple[tuple[ObjectId, str], ...]  # recorded under another set before (that set's name)
    pruned: tuple[ObjectId, ...]  # of this set, no longer in the files (with prune)
    left: tuple[ObjectId, ...]  # of this set, no longer in the files, kept (without prune)
    others: int  # objects of other sets, left as they were


def object_id(document: Mapping[str, Any]) -> ObjectId:
    """The object a (validated) document describes."""
    kind = str(document.get("kind", ""))
    metadata = document.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return ObjectId(kind, namespace, str(meta.get("name", "")))


def default_applyset(paths: Sequence[str]) -> str:
    """The set a list of paths applies when none is named: their last names, joined
    (`examples/shop/` -> `shop`, `web.yaml db.yaml` -> `db+web`); long ones end in a hash."""
    stems = sorted({_stem(p) for p in paths if p.strip()}) or ["default"]
    name = "+".join(stems)
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256("\0".join(sorted(paths)).encode()).hexdigest()[:10]
    return f"{name[: MAX_NAME - 11].rstrip('+.-')}-{digest}"


def _stem(path: str) -> str:
    name = PurePath(path.strip().rstrip("/")).name
    for suffix in (".j2", ".yaml", ".yml", ".json"):
        name = name.removesuffix(suffix)
    return _NOT_NAME.sub("-", name.lower()).strip("-.") or "default"


def check_applyset_name(name: str) -> str | None:
    """Why `name` cannot name an apply set, or None."""
    if not name or len(name) > MAX_NAME or not re.fullmatch(r"[a-z0-9]([a-z0-9.+-]*[a-z0-9])?", name):
        return f"must be at most {MAX_NAME} lowercase letters, digits, '-', '.' or '+', starting and ending with a letter or digit"
    return None


def apply_set(
    recorded: Sequence[Recorded], applied: Sequence[Mapping[str, Any]], applyset: str, *, prune: bool,
) -> SetApply:
    """The record after applying `applied` (the files' documents) as `applyset`."""
    applied_ids = [object_id(d) for d in applied]
    wanted = set(applied_ids)
    before = {object_id(r.document): r.applyset for r in recorded}
    kept: list[Recorded] = []
    pruned: list[ObjectId] = []
    left: list[ObjectId] = []
    for record in recorded:
        oid = object_id(record.document)
        if oid in wanted:
            continue  # replaced by the file's document, below
        if record.applyset == applyset:
            if prune:
                pruned.append(oid)
                continue
            left.append(oid)
        kept.append(record)
    documents = (*kept, *(Recorded(applyset, d) for d in applied))
    return SetApply(
        documents=documents,
        created=tuple(oid for oid in applied_ids if oid not in before),
        moved=tuple((oid, before[oid]) for oid in applied_ids if before.get(oid, applyset) != applyset),
        pruned=tuple(pruned),
        left=tuple(left),
        others=sum(1 for r in kept if r.applyset != applyset),
    )


def legacy_records(documents: Sequence[Mapping[str, Any]], source: str) -> tuple[Recorded, ...]:
    """A record from before apply sets: the complete state of one apply, whose paths
    (`source`, comma-separated) name its set."""
    applyset = default_applyset(source.split(",")) if source else "default"
    return tuple(Recorded(applyset, d) for d in documents)
