"""Where a Secret manifest's values come from: the secret store, Ansible Vault, or the manifest in clear.

Runs on the loaded documents before they are parsed, so the rest of sshorch
sees ordinary Secrets. A Secret names a stored secret with the annotation
`sshorch.io/stored-secret: NAME` (same namespace) and then carries no values
itself; a value that is Ansible Vault text (plain or tagged `!vault`) is
decrypted to the value itself, in `data` as in `stringData`; other values are
used as Kubernetes does, with a warning that they sit in the file in clear.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sshorch.secrets.vault import VaultError, decrypt_vault, is_vault
from sshorch.spec.annotations import STORED_SECRET
from sshorch.spec.problems import ManifestError, Problem
from sshorch.spec.model import DEFAULT_NAMESPACE, Source

_VALUE_FIELDS = ("data", "stringData")

Document = tuple[Source, dict[str, Any]]


@dataclass(frozen=True)
class SecretSources:
    """Where Secret values come from besides the manifest: the secret store and the Ansible Vault password."""

    # (namespace, name) -> the stored secret's values, or None when there is none.
    stored: Callable[[str, str], Mapping[str, bytes] | None]
    # The Ansible Vault password; raises (saying how to give one) when there is none.
    vault_password: Callable[[], bytes]


def _identity(document: Mapping[str, Any]) -> tuple[str, str]:
    meta = document.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    return str(meta.get("namespace") or DEFAULT_NAMESPACE), str(meta.get("name") or "?")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, text) of every string in a document."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _problem(source: Source, document: Mapping[str, Any], path: str | None, message: str) -> ManifestError:
    namespace, name = _identity(document)
    return ManifestError([Problem(source.file, f"{document.get('kind')}/{name}", path, message)])


def _stored_values(source: Source, document: dict[str, Any], sources: SecretSources) -> dict[str, bytes]:
    namespace, name = _identity(document)
    stored_name = str(document["metadata"]["annotations"][STORED_SECRET])
    if any(document.get(f) for f in _VALUE_FIELDS):
        raise _problem(source, document, f"metadata.annotations.{STORED_SECRET}",
                       "a Secret takes its values from the store or from the manifest, not both")
    values = sources.stored(namespace, stored_name)
    if values is None:
        raise _problem(source, document, f"metadata.annotations.{STORED_SECRET}",
                       f"no stored secret {stored_name!r} in namespace {namespace!r}; "
                       f"set it with 'sshorch secret set {stored_name} KEY=@FILE' (-n {namespace})")
    return dict(values)


def _manifest_values(source: Source, document: dict[str, Any], sources: SecretSources) -> tuple[dict[str, bytes], bool]:
    """The Secret's own values (vault ones decrypted), and whether any was in clear."""
    values: dict[str, bytes] = {}
    clear = False
    for field in _VALUE_FIELDS:
        entries = document.get(field)
        if not isinstance(entries, Mapping):
            continue
        for key, value in entries.items():
            text = str(value)  # a string: checked by _well_formed
            if is_vault(text):
                try:
                    values[str(key)] = decrypt_vault(text, sources.vault_password())
                except VaultError as error:
                    raise _problem(source, document, f"{field}.{key}", str(error)) from None
            elif field == "data":
                clear = True
                values[str(key)] = base64.b64decode(text)
            else:
                clear = True
                values[str(key)] = text.encode()
    return values, clear


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
        return True
    except ValueError:
        return False


def resolve_secrets(documents: Sequence[Document], sources: SecretSources) -> tuple[list[Document], list[str]]:
    """Documents whose Secrets hold their final values (as base64 `data`), and warnings."""
    resolved: list[Document] = []
    warnings: list[str] = []
    for source, document in documents:
        if document.get("kind") != "Secret":
            for path, text in _strings(document, ""):
                if is_vault(text):
                    raise _problem(source, document, path, "Ansible Vault values are only read in a Secret's data or stringData")
            resolved.append((source, document))
            continue
        meta = document.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
        if isinstance(annotations, Mapping) and STORED_SECRET in annotations:
            values, clear = _stored_values(source, document, sources), False
        else:
            if not _well_formed(document):
                resolved.append((source, document))  # the parser reports what is wrong
                continue
            values, clear = _manifest_values(source, document, sources)
        if clear:
            namespace, name = _identity(document)
            warnings.append(
                f"{source.file}: Secret/{name}: values are in the manifest in clear; keep them with "
                "'sshorch secret set' or encrypt them with ansible-vault"
            )
        copied = copy.deepcopy(document)
        copied.pop("stringData", None)
        copied["data"] = {key: base64.b64encode(value).decode() for key, value in sorted(values.items())}
        resolved.append((source, copied))
    return resolved, warnings


def _well_formed(document: Mapping[str, Any]) -> bool:
    """String values only, and base64 (or vault text) in `data`."""
    data, string_data = document.get("data") or {}, document.get("stringData") or {}
    if not isinstance(data, Mapping) or not isinstance(string_data, Mapping):
        return False
    if not all(isinstance(v, str) for v in (*data.values(), *string_data.values())):
        return False
    return all(is_vault(v) or _is_base64(v) for v in data.values())
