"""Revision hashes: the pod template plus the content of the configs it uses.

A Secret's values enter a hash only as their HMAC with the cluster's key
(Desired.hash_key, kept in the state store): revision hashes, pod names and
directory names show on nodes and in labels, and a plain hash of a value
would let anyone who sees one test guesses of the value against it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sshorch.observe.owned import ObservedPod
from sshorch.plan.naming import workload_key
from sshorch.spec.workloadkinds import PodWorkload, workloads
from sshorch.spec.model import (
    ADDED_FIELD, PLAIN_HASH, RESOLVED_FIELD, ConfigMap, ConfigMapVolume, Desired, KeyRef, PodTemplate, Secret, SecretBytes,
    SecretVolume,
)

if TYPE_CHECKING:
    from sshorch.plan.jobs import JobRecord


class UnkeyedSecretHash(ValueError):
    """A Secret's content was to be hashed without the cluster's key."""


def canonical(value: Any, key: bytes | None = None) -> Any:
    """A JSON-able form of spec data; secret values appear only as their HMAC with `key`."""
    if isinstance(value, SecretBytes):
        if key == PLAIN_HASH:  # a workload whose pods came before keyed hashes (Desired.plain_hashed)
            return {"sha256": hashlib.sha256(value.reveal()).hexdigest()}
        if key is None:
            raise UnkeyedSecretHash("a Secret's content is hashed only with the cluster's key (Desired.hash_key)")
        return {"hmac-sha256": hmac.new(key, value.reveal(), hashlib.sha256).hexdigest()}
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: canonical(getattr(value, f.name), key)
            for f in dataclasses.fields(value)
            if f.name != "source" and f.metadata != RESOLVED_FIELD and not (f.metadata == ADDED_FIELD and getattr(value, f.name) == f.default)
        }
    if isinstance(value, Mapping):
        return {str(k): canonical(v, key) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [canonical(v, key) for v in value]
    return value


def digest(value: Any, length: int = 64, key: bytes | None = None) -> str:
    """`key`: the cluster's, needed when `value` holds Secret content."""
    text = json.dumps(canonical(value, key), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def content_hash(obj: ConfigMap | Secret, key: bytes | None = None) -> str:
    """A ConfigMap's or Secret's content; a Secret's needs the cluster's key."""
    if isinstance(obj, ConfigMap):
        return digest({"data": obj.data, "binary": obj.binary_data})
    return digest({"data": obj.data, "type": obj.type}, key=key)


def revision_hash(template: PodTemplate, used: Mapping[str, str]) -> str:
    """10 hex digits; `used` maps "configmap/name" or "secret/name" to its content hash."""
    return digest({"template": template, "uses": dict(sorted(used.items()))}, 10)


def used_objects(template: PodTemplate) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret a pod template reads."""
    used: set[tuple[str, str]] = set()
    for volume in template.spec.volumes:
        if isinstance(volume.source, ConfigMapVolume):
            used.add(("ConfigMap", volume.source.name))
        elif isinstance(volume.source, SecretVolume):
            used.add(("Secret", volume.source.secret_name))
    for container in (*template.spec.init_containers, *template.spec.containers):
        used.update((source.kind, source.name) for source in container.env_from)
        used.update((v.value_from.kind, v.value_from.name) for v in container.env if isinstance(v.value_from, KeyRef))
    return used


def workload_revision(workload: PodWorkload, desired: Desired) -> str:
    key = desired.hash_key_for(workload_key(workload.meta.kind, workload.meta.namespace, workload.meta.name))
    hashes = {}
    for kind, name in sorted(used_objects(workload.template)):
        obj = desired.get(kind, name, workload.meta.namespace)
        if obj is not None:
            hashes[f"{kind.lower()}/{name}"] = content_hash(obj, key)  # type: ignore[arg-type]
    return revision_hash(workload.template, hashes)


def with_plain_hashes(desired: Desired, pods: Iterable[ObservedPod], jobs: Mapping[str, JobRecord]) -> Desired:
    """`desired` with the workloads that use a Secret and whose pods (or Job record) carry the
    revision of plain Secret hashes, from before hashes were keyed, and none the keyed one:
    those keep that revision, so an upgrade restarts nothing (Desired.plain_hashed)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for pod in pods:
        seen[workload_key(pod.kind, pod.namespace, pod.owner)].add(pod.revision)
    for key, record in jobs.items():
        seen[key].add(record.revision)
    plain = set()
    for workload in workloads(desired.objects):
        key = workload_key(workload.meta.kind, workload.meta.namespace, workload.meta.name)
        if not seen[key] or not any(kind == "Secret" for kind, _ in used_objects(workload.template)):
            continue
        keyed = workload_revision(workload, replace(desired, plain_hashed=frozenset()))
        old = workload_revision(workload, replace(desired, plain_hashed=frozenset({key})))
        if old != keyed and old in seen[key] and keyed not in seen[key]:
            plain.add(key)
    return desired if plain == set(desired.plain_hashed) else replace(desired, plain_hashed=frozenset(plain))
