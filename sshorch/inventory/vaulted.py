"""Ansible Vault in inventories: encrypted files (whatever their name) and ``!vault`` values.

The inventory package never reads a password: the caller passes a ``Decrypt``
(vault text -> plaintext) built from ``--vault-password-file``, or ``None``.
A value is decrypted only where sshorch needs it, as Ansible does, so values
sshorch never uses need no password.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sshorch.errors import InventoryError, SshorchError

__all__ = ["Decrypt", "PASSWORD_HINT", "Vaulted", "is_vault_file", "open_vault_file", "reveal", "reveal_nested"]

# Vault text -> plaintext bytes; raises an SshorchError (wrong password, tampered value).
Decrypt = Callable[[str], bytes]

VAULT_FILE_HEADER = b"$ANSIBLE_VAULT;"
PASSWORD_HINT = "give its password with --vault-password-file FILE (or ANSIBLE_VAULT_PASSWORD_FILE)"


@dataclass(frozen=True)
class Vaulted:
    """A value written with Ansible's ``!vault`` tag, still encrypted."""

    ciphertext: str

    def __repr__(self) -> str:
        return "Vaulted(<encrypted>)"

    def __str__(self) -> str:
        # Never let the placeholder text stand in for the secret (it was once deployed as a password).
        raise InventoryError(f"a value encrypted with Ansible Vault was used without decrypting it; {PASSWORD_HINT}")


def is_vault_file(data: bytes) -> bool:
    """True for a file ``ansible-vault encrypt`` wrote (Ansible looks at the start only)."""
    return data.lstrip(b"\xef\xbb\xbf").startswith(VAULT_FILE_HEADER)


def open_vault_file(data: bytes, path: str, decrypt: Decrypt | None) -> bytes:
    """The plaintext of a vault-encrypted file, or ``data`` unchanged if it is not one."""
    if not is_vault_file(data):
        return data
    if decrypt is None:
        raise InventoryError(f"{path}: the file is encrypted with Ansible Vault; {PASSWORD_HINT}")
    try:
        return decrypt(data.decode("ascii", errors="replace"))
    except SshorchError as exc:
        raise InventoryError(f"{path}: cannot decrypt the file with the vault password: {exc}") from None


def reveal(value: Vaulted, decrypt: Decrypt | None, where: str) -> str:
    """The plaintext of a ``!vault`` value; ``where`` names the file, host and variable."""
    if decrypt is None:
        raise InventoryError(f"{where} is encrypted with Ansible Vault; {PASSWORD_HINT}")
    try:
        plain = decrypt(value.ciphertext)
    except SshorchError as exc:
        raise InventoryError(f"{where} is encrypted with Ansible Vault and cannot be decrypted: {exc}") from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise InventoryError(f"{where}: the decrypted value is not UTF-8 text") from None


def reveal_nested(value: Any, decrypt: Decrypt | None, where: str, refused: Callable[[str], Any]) -> Any:
    """``value`` with every ``!vault`` value inside it decrypted; one that cannot be
    becomes ``refused(message)``, so only a use of it fails (as in Ansible)."""
    if isinstance(value, Vaulted):
        try:
            return reveal(value, decrypt, where)
        except InventoryError as exc:
            return refused(str(exc))
    if isinstance(value, Mapping):
        return {key: reveal_nested(item, decrypt, f"{where}.{key}", refused) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal_nested(item, decrypt, f"{where}[{index}]", refused) for index, item in enumerate(value)]
    return value
