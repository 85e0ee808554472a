"""JSON in and out of the state file, with errors that say which record."""

from __future__ import annotations

import json
from typing import Any

from sshorch.state.failures import DamagedRecord, StateError


def encode(value: Any, what: str) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        # e.g. a YAML timestamp left as a datetime: the caller must pass plain data.
        raise StateError(f"{what}: cannot be stored as JSON ({error}); quote the value in the manifest") from None


def decode(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise DamagedRecord(f"{what}: damaged JSON in the state file ({error}); re-apply the manifests") from None
