"""Ansible Vault values, decrypted so existing Ansible secrets can be reused unchanged.

Only the current format is read: `$ANSIBLE_VAULT;1.1;AES256` and
`$ANSIBLE_VAULT;1.2;AES256;<vault-id label>` (the label is informational).
The layout follows Ansible's VaultAES256: the body is hex of
`hex(salt)\\nhex(hmac)\\nhex(ciphertext)`; PBKDF2-HMAC-SHA256 (10000 rounds)
yields an AES-256 key, an HMAC-SHA256 key and the CTR initial counter.
Error messages never include the password or any plaintext.
"""

from __future__ import annotations

import binascii
import functools
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from sshorch.errors import SshorchError

VAULT_HEADER = "$ANSIBLE_VAULT"
SUPPORTED_VERSIONS = ("1.1", "1.2")
SUPPORTED_CIPHERS = ("AES256",)

_KDF_ITERATIONS = 10000
_KEY_LENGTH = 32
_IV_LENGTH = 16


class VaultError(SshorchError):
    """An Ansible Vault value cannot be decrypted (format, password or integrity)."""


def is_vault(text: str) -> bool:
    """True if the text looks like a vault value (leading whitespace allowed, as in YAML)."""
    return text.lstrip().startswith(VAULT_HEADER)


def _unhex(data: bytes, what: str) -> bytes:
    try:
        return binascii.unhexlify(data)
    except (binascii.Error, ValueError):
        raise VaultError(f"malformed vault body: {what} is not valid hex") from None


def _split(text: str) -> tuple[str, str, bytes]:
    """Version, cipher and hex body; tolerates indentation and blank lines."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or not lines[0].startswith(VAULT_HEADER + ";"):
        raise VaultError(f"not an Ansible Vault value (expected a '{VAULT_HEADER};...' header)")
    fields = [field.strip() for field in lines[0].split(";")]
    if len(fields) not in (3, 4):
        raise VaultError(f"malformed vault header: expected '{VAULT_HEADER};<version>;<cipher>[;<vault-id>]'")
    version, cipher = fields[1], fields[2]
    if version not in SUPPORTED_VERSIONS:
        raise VaultError(
            f"unsupported vault format version {version!r}; supported: {', '.join(SUPPORTED_VERSIONS)}"
        )
    if cipher not in SUPPORTED_CIPHERS:
        raise VaultError(f"unsupported vault cipher {cipher!r}; supported: {', '.join(SUPPORTED_CIPHERS)}")
    try:
        body = "".join(lines[1:]).encode("ascii")
    except UnicodeEncodeError:
        raise VaultError("malformed vault body: non-ASCII characters") from None
    if not body:
        raise VaultError("malformed vault body: no data after the header")
    return version, cipher, body


def decrypt_vault(text: str, password: bytes) -> bytes:
    """The plaintext of an AES256 vault value; the HMAC is checked before decrypting."""
    _, _, body = _split(text)
    parts = _unhex(body, "body").split(b"\n", 2)
    if len(parts) != 3 or not all(parts):
        raise VaultError("malformed vault body: expected salt, HMAC and ciphertext")
    salt = _unhex(parts[0], "salt")
    expected_hmac = _unhex(parts[1], "HMAC")
    ciphertext = _unhex(parts[2], "ciphertext")

    material = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=2 * _KEY_LENGTH + _IV_LENGTH,
        salt=salt,
        iterations=_KDF_ITERATIONS,
    ).derive(password)
    aes_key = material[:_KEY_LENGTH]
    hmac_key = material[_KEY_LENGTH : 2 * _KEY_LENGTH]
    iv = material[2 * _KEY_LENGTH :]

    # Authenticate first: never feed unauthenticated data to the cipher or unpadder.
    mac = HMAC(hmac_key, hashes.SHA256())
    mac.update(ciphertext)
    try:
        mac.verify(expected_hmac)  # constant-time comparison
    except InvalidSignature:
        raise VaultError("wrong vault password or tampered value (HMAC mismatch)") from None

    decryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise VaultError("bad padding in decrypted vault value") from None


def read_vault_password(path: Path) -> bytes:
    """A vault password file's contents, surrounding whitespace stripped as Ansible does.

    Script password files are not supported: an executable file is read as
    plain text, never run.
    """
    try:
        password = path.read_bytes().strip()
    except FileNotFoundError:
        raise VaultError(f"{path}: vault password file not found") from None
    except OSError as error:
        raise VaultError(f"{path}: cannot read vault password file ({error.strerror})") from None
    if not password:
        raise VaultError(f"{path}: vault password file is empty")
    return password


def vault_decrypter(password_file: Path | None) -> Callable[[str], bytes] | None:
    """Vault text -> plaintext with the password in ``password_file``, read on first use;
    ``None`` without a file (then whatever needs a vault value says how to give one)."""
    if password_file is None:
        return None
    password = functools.cache(lambda: read_vault_password(password_file))
    return lambda text: decrypt_vault(text, password())
