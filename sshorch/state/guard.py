"""Refuse to store Secret values in clear: encryption happens before the store, this catches a slip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sshorch.state.failures import StateError

ENCRYPTED_PREFIX = "sshorch-encrypted:"
_SECRET_FIELDS = ("data", "stringData")


def check_no_clear_secrets(documents: Sequence[Mapping[str, Any]]) -> None:
    """Raise StateError if a Secret's data or stringData holds a value not marked as encrypted.

    The message names the Secret and the key, never the value.
    """
    for document in documents:
        if not isinstance(document, Mapping) or document.get("kind") != "Secret":
            continue
        for field_name in _SECRET_FIELDS:
            values = document.get(field_name)
            if not values:
                continue
            if not isinstance(values, Mapping):
                raise StateError(f"{_secret_name(document)}: {field_name} must be a mapping of encrypted values")
            for key, value in values.items():
                if not (isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)):
                    raise StateError(
                        f"{_secret_name(document)}: {field_name}.{key} is not encrypted; "
                        "refusing to write a clear secret to the state file (encrypt it first, e.g. with 'sshorch secret set')"
                    )


def _secret_name(document: Mapping[str, Any]) -> str:
    metadata = document.get("metadata")
    if not isinstance(metadata, Mapping):
        return "Secret/?"
    return f"Secret/{metadata.get('namespace') or 'default'}/{metadata.get('name') or '?'}"
