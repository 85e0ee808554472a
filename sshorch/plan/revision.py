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
from collections.abc import Mapping
from typing import Any

from sshorch.spec.model import PLAIN_HASH, ConfigMap, PodTemplate, Secret, SecretBytes


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
        return {f.name: canonical(getattr(value, f.name), key) for f in dataclasses.fields(value) if f.name != "source"}
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
