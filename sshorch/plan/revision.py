"""Revision hashes: the pod template plus the content of the configs it uses."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sshorch.spec.model import ConfigMap, PodTemplate, Secret, SecretBytes


def canonical(value: Any) -> Any:
    """A JSON-able form of spec data; secret values appear only as their hash."""
    if isinstance(value, SecretBytes):
        return {"sha256": hashlib.sha256(value.reveal()).hexdigest()}
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "source"}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [canonical(v) for v in value]
    return value


def digest(value: Any, length: int = 64) -> str:
    text = json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def content_hash(obj: ConfigMap | Secret) -> str:
    if isinstance(obj, ConfigMap):
        return digest({"data": obj.data, "binary": obj.binary_data})
    return digest({"data": obj.data, "type": obj.type})


def revision_hash(template: PodTemplate, used: Mapping[str, str]) -> str:
    """10 hex digits; `used` maps "configmap/name" or "secret/name" to its content hash."""
    return digest({"template": template, "uses": dict(sorted(used.items()))}, 10)
