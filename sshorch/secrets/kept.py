"""Secrets kept with `sshorch secret`: encrypted in the cluster's state file, decrypted only in memory."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from sshorch.errors import SshorchError
from sshorch.secrets.atrest import KEY_ENV, SecretKeyError, decrypt_value, default_key_path, encrypt_value, init_key, load_key
from sshorch.secrets.resolve import SecretSources
from sshorch.secrets.vault import VaultError, read_vault_password
from sshorch.state import StateStore

VAULT_PASSWORD_ENV = "ANSIBLE_VAULT_PASSWORD_FILE"


def secret_key() -> Fernet:
    """The controller's key, read once per run (and again only if the file changes)."""
    path = default_key_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _key_at(path, stamp)


@functools.lru_cache(maxsize=4)
def _key_at(path: Path, stamp: int) -> Fernet:
    return load_key(path)


HASH_KEY_META = "secret_hash_key"


def secret_hash_key(store: StateStore) -> bytes:
    """The cluster's key for hashes of Secret content that show on nodes (plan/revision.py),
    made on first use and kept in the state store. Not a secret's value, but a state file
    readable by others would let them test guesses against those hashes again."""
    return bytes.fromhex(store.meta_default(HASH_KEY_META, secrets.token_hex(32)))


def holds_encrypted(store: StateStore) -> bool:
    record = store.desired()
    recorded = record is not None and any(d.get("kind") == "Secret" and d.get("data") for d in record.documents)
    return recorded or bool(store.stored_secrets())


def ensure_key(store: StateStore) -> Path | None:
    """The key, made on first use; returns its path when it was just made.

    Once the state holds values encrypted with a key, a missing key file is an
    error: a new key could never read them."""
    path = default_key_path()
    if path.exists():
        load_key(path)
        return None
    if holds_encrypted(store):
        raise SecretKeyError(
            f"no secret key at {path}, but {store.location} holds values encrypted with one: "
            f"restore the key file or point {KEY_ENV} at it"
        )
    init_key(path)
    return path


def set_secret(store: StateStore, namespace: str, name: str, values: Mapping[str, bytes], now: float) -> None:
    key = secret_key()
    store.set_stored_secret(namespace, name, {k: encrypt_value(key, v) for k, v in values.items()}, now=now)


def stored_values(store: StateStore, namespace: str, name: str) -> dict[str, bytes] | None:
    tokens = store.stored_secret(namespace, name)
    if not tokens:
        return None
    key = secret_key()
    return {k: decrypt_value(key, token, f"stored secret {namespace}/{name} ({k})") for k, token in tokens.items()}


def get_secret(store: StateStore, namespace: str, name: str) -> dict[str, bytes]:
    values = stored_values(store, namespace, name)
    if values is None:
        raise SshorchError(f"no stored secret {name!r} in namespace {namespace!r} (see 'sshorch secret list')")
    return values


def secret_sources(store: StateStore, vault_password_file: Path | None) -> SecretSources:
    @functools.cache
    def vault_password() -> bytes:
        if vault_password_file is None:
            raise VaultError(f"an Ansible Vault value needs its password: give --vault-password-file FILE (or set {VAULT_PASSWORD_ENV})")
        return read_vault_password(vault_password_file)

    return SecretSources(stored=lambda ns, name: stored_values(store, ns, name), vault_password=vault_password)
