"""Edits of recorded manifest documents: the pure half of `scale` and `rollout undo`."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from sshorch.errors import SshorchError
from sshorch.spec.workloadkinds import kind_named, workload_kinds
from sshorch.spec.model import DEFAULT_NAMESPACE


class WorkloadNotFound(SshorchError):
    pass


# What `rollout` and `scale` name: the kinds with recorded revisions.
REVISIONED_KINDS = tuple(kind.name for kind in workload_kinds() if kind.revisions)


def parse_workload_ref(text: str, kinds: Sequence[str] = REVISIONED_KINDS) -> tuple[str, str, str]:
    """"web", "deployment/web" or "prod/deployment/web" -> (kind, namespace, name); a bare name is a Deployment."""
    parts = text.split("/")
    if len(parts) == 1:
        return "Deployment", DEFAULT_NAMESPACE, parts[0]
    by_lower = {k.lower(): k for k in kinds}
    if len(parts) == 2 and parts[0].lower() in by_lower:
        return by_lower[parts[0].lower()], DEFAULT_NAMESPACE, parts[1]
    if len(parts) == 3 and parts[1].lower() in by_lower:
        return by_lower[parts[1].lower()], parts[0], parts[2]
    raise SshorchError(f"{text!r}: name a workload as NAME, KIND/NAME or NAMESPACE/KIND/NAME ({', '.join(k.lower() for k in kinds)})")


def _matches(document: Mapping[str, Any], kind: str, namespace: str, name: str) -> bool:
    meta = document.get("metadata") or {}
    return (
        document.get("kind") == kind
        and meta.get("name") == name
        and (meta.get("namespace") or DEFAULT_NAMESPACE) == namespace
    )


def find_document(documents: Sequence[Mapping[str, Any]], kind: str, namespace: str, name: str) -> Mapping[str, Any]:
    for document in documents:
        if _matches(document, kind, namespace, name):
            return document
    raise WorkloadNotFound(f"{kind.lower()}/{name} (namespace {namespace}) is not in the recorded desired state; see 'sshorch status'")


def pod_template_of(documents: Sequence[Mapping[str, Any]], kind: str, namespace: str, name: str) -> dict[str, Any]:
    """The workload's pod template as written in its manifest."""
    return copy.deepcopy(dict((find_document(documents, kind, namespace, name).get("spec") or {}).get("template") or {}))


def _edited(documents: Sequence[Mapping[str, Any]], kind: str, namespace: str, name: str, field: str, value: Any) -> list[dict[str, Any]]:
    find_document(documents, kind, namespace, name)
    result = []
    for document in documents:
        copied = copy.deepcopy(dict(document))
        if _matches(copied, kind, namespace, name):
            copied.setdefault("spec", {})[field] = copy.deepcopy(value)
        result.append(copied)
    return result


def with_template(documents: Sequence[Mapping[str, Any]], kind: str, namespace: str, name: str, template: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _edited(documents, kind, namespace, name, "template", dict(template))


def with_replicas(documents: Sequence[Mapping[str, Any]], kind: str, namespace: str, name: str, replicas: int) -> list[dict[str, Any]]:
    workload_kind = kind_named(kind)
    if workload_kind is None or not workload_kind.scalable:
        raise SshorchError(f"{kind.lower()}/{name}: only a Deployment has replicas to scale")
    if replicas < 0:
        raise SshorchError(f"deployment/{name}: replicas must be 0 or more, got {replicas}")
    return _edited(documents, kind, namespace, name, "replicas", replicas)
