"""Secret values at rest on the controller: encrypted with a key kept outside the repository.

The recorded desired state holds Secret documents whose values are
"sshorch-encrypted:<Fernet token>"; they are decrypted only in memory.
"""

from __future__ import annotations

import base64
import copy
import functools
import os
import shlex
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from sshorch.errors import SshorchError
from sshorch.state import ENCRYPTED_PREFIX

KEY_ENV = "SSHORCH_SECRET_KEY_FILE"


class SecretKeyError(SshorchError):
    pass


def default_key_path(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get(KEY_ENV):
        return Path(environ[KEY_ENV]).expanduser()
    base = Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "sshorch" / "secret.key"


def open_to_others(path: Path) -> int | None:
    """The file's mode when group or others may read, write or run it (None: private, or absent)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def load_key(path: Path) -> Fernet:
    """The controller's key; an error that says what to do when it is missing, damaged or not private."""
    mode = open_to_others(path)
    if mode is not None:
        raise SecretKeyError(
            f"{path}: the secret key is open to group or others (mode {mode:04o}); "
            f"make it private: chmod 600 {shlex.quote(str(path))} (and keep a copy of it safe)"
        )
    try:
        return Fernet(path.read_bytes().strip())
    except FileNotFoundError:
        raise SecretKeyError(
            f"no secret key at {path}: make one with 'sshorch secret init', or point {KEY_ENV} at yours"
        ) from None
    except (ValueError, OSError) as error:
        raise SecretKeyError(f"{path}: not a usable secret key ({error}); restore it or set {KEY_ENV}") from None


def init_key(path: Path) -> bool:
    """Make the key file (mode 0600, directory 0700) unless it exists; True if it was made."""
    if path.exists():
        load_key(path)  # an existing file must be a usable key
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key() + b"\n")
    return True


def encrypt_value(key: Fernet, value: bytes) -> str:
    return ENCRYPTED_PREFIX + key.encrypt(value).decode()


def decrypt_value(key: Fernet, token: str, what: str) -> bytes:
    """`what` names the value in the error (never the value itself)."""
    try:
        return key.decrypt(token.removeprefix(ENCRYPTED_PREFIX).encode())
    except InvalidToken:
        raise SecretKeyError(
            f"{what}: cannot decrypt: the key file is not the one it was encrypted with, or the value was "
            f"altered (key: {default_key_path()}; {KEY_ENV} chooses another)"
        ) from None


def _secret_values(document: Mapping[str, Any]) -> dict[str, bytes]:
    """A Secret document's values as bytes: data is base64, stringData text (it wins)."""
    values = {k: base64.b64decode(str(v)) for k, v in (document.get("data") or {}).items()}
    values.update({k: str(v).encode() for k, v in (document.get("stringData") or {}).items()})
    return values


def encrypt_documents(documents: Sequence[Mapping[str, Any]], key: Callable[[], Fernet]) -> list[dict[str, Any]]:
    """Copies of the documents with every Secret value encrypted (as `data`); the key is loaded only if needed."""
    key = functools.cache(key)
    result = []
    for document in documents:
        copied = copy.deepcopy(dict(document))
        if copied.get("kind") == "Secret":
            values = _secret_values(copied)
            copied.pop("stringData", None)
            copied["data"] = {k: encrypt_value(key(), v) for k, v in sorted(values.items())}
        result.append(copied)
    return result


def decrypt_documents(documents: Sequence[Mapping[str, Any]], key: Callable[[], Fernet]) -> list[dict[str, Any]]:
    key = functools.cache(key)
    result = []
    for document in documents:
        copied = copy.deepcopy(dict(document))
        if copied.get("kind") == "Secret" and copied.get("data"):
            name = (copied.get("metadata") or {}).get("name", "?")
            copied["data"] = {
                k: base64.b64encode(decrypt_value(key(), str(v), f"recorded Secret/{name}")).decode()
                for k, v in copied["data"].items()
            }
        result.append(copied)
    return result
