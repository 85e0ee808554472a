"""Secret values at rest on the controller: encrypted with a key kept outside the repository.

The recorded desired state holds Secret documents whose values are
"sshorch-encrypted:<Fernet token>"; they are decrypted only in memory.
"""

from __future__ import annotations

import base64
import copy
import os
from collections.abc import Mapping, Sequence
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


def load_or_create_key(path: Path) -> Fernet:
    """The controller's key; made (mode 0600) on first use."""
    try:
        return Fernet(path.read_bytes().strip())
    except FileNotFoundError:
        pass
    except (ValueError, OSError) as error:
        raise SecretKeyError(f"{path}: not a usable secret key ({error}); restore it or set {KEY_ENV}") from None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return Fernet(key)


def _secret_values(document: Mapping[str, Any]) -> dict[str, bytes]:
    """A Secret document's values as bytes: data is base64, stringData text (it wins)."""
    values = {k: base64.b64decode(str(v)) for k, v in (document.get("data") or {}).items()}
    values.update({k: str(v).encode() for k, v in (document.get("stringData") or {}).items()})
    return values


def encrypt_documents(documents: Sequence[Mapping[str, Any]], key: Fernet) -> list[dict[str, Any]]:
    """Copies of the documents with every Secret value encrypted (as `data`)."""
    result = []
    for document in documents:
        copied = copy.deepcopy(dict(document))
        if copied.get("kind") == "Secret":
            values = _secret_values(copied)
            copied.pop("stringData", None)
            copied["data"] = {k: ENCRYPTED_PREFIX + key.encrypt(v).decode() for k, v in sorted(values.items())}
        result.append(copied)
    return result


def decrypt_documents(documents: Sequence[Mapping[str, Any]], key: Fernet) -> list[dict[str, Any]]:
    result = []
    for document in documents:
        copied = copy.deepcopy(dict(document))
        if copied.get("kind") == "Secret" and copied.get("data"):
            try:
                copied["data"] = {
                    k: base64.b64encode(key.decrypt(str(v).removeprefix(ENCRYPTED_PREFIX).encode())).decode()
                    for k, v in copied["data"].items()
                }
            except InvalidToken:
                name = (copied.get("metadata") or {}).get("name", "?")
                raise SecretKeyError(f"Secret/{name}: cannot decrypt with this key; is {KEY_ENV} the key it was recorded with?") from None
        result.append(copied)
    return result
