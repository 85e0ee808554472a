"""Ansible Vault decryption, checked against vectors made by the real ansible-vault."""

from __future__ import annotations

import binascii
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.errors import SshorchError
from sshorch.secrets.vault import VAULT_HEADER, VaultError, decrypt_vault, is_vault, read_vault_password

FIXTURES = Path(__file__).parent / "fixtures" / "vault"
INDEX: list[dict[str, str]] = json.loads((FIXTURES / "index.json").read_text())
PASSWORD = read_vault_password(FIXTURES / "password.txt")
MULTILINE_VAULT = (FIXTURES / "multiline.vault").read_text()
MULTILINE_PLAIN = (FIXTURES / "multiline.txt").read_bytes()


def split_vault(text: str) -> tuple[str, list[bytes]]:
    """Header line and the inner [salt hex, hmac hex, ciphertext hex] of a vault value."""
    lines = [line.strip() for line in text.strip().splitlines()]
    inner = binascii.unhexlify("".join(lines[1:]))
    return lines[0], inner.split(b"\n", 2)


def join_vault(header: str, parts: list[bytes]) -> str:
    body = binascii.hexlify(b"\n".join(parts)).decode()
    return "\n".join([header] + [body[i : i + 80] for i in range(0, len(body), 80)]) + "\n"


def reference_encrypt(plaintext: bytes, password: bytes, salt: bytes, vault_id: str | None = None) -> str:
    """Test-only encryptor in Ansible's VaultAES256 layout, independent of the code under test."""
    material = PBKDF2HMAC(algorithm=hashes.SHA256(), length=80, salt=salt, iterations=10000).derive(password)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(material[:32]), modes.CTR(material[64:])).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = HMAC(material[32:64], hashes.SHA256())
    mac.update(ciphertext)
    header = f"{VAULT_HEADER};1.2;AES256;{vault_id}" if vault_id else f"{VAULT_HEADER};1.1;AES256"
    parts = [binascii.hexlify(salt), binascii.hexlify(mac.finalize()), binascii.hexlify(ciphertext)]
    return join_vault(header, parts)


@pytest.mark.parametrize("entry", INDEX, ids=[entry["vault"] for entry in INDEX])
def test_real_ansible_vectors_decrypt(entry: dict[str, str]) -> None:
    text = (FIXTURES / entry["vault"]).read_text()
    password = read_vault_password(FIXTURES / entry["password"])
    assert is_vault(text)
    assert decrypt_vault(text, password) == (FIXTURES / entry["plaintext"]).read_bytes()


def test_inline_vault_value_in_yaml() -> None:
    class VaultLoader(yaml.SafeLoader):
        pass

    def vault_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return loader.construct_scalar(node)  # type: ignore[arg-type]

    VaultLoader.add_constructor("!vault", vault_tag)
    values = yaml.load((FIXTURES / "inline_vars.yml").read_text(), Loader=VaultLoader)
    assert is_vault(values["db_password"])
    assert decrypt_vault(values["db_password"], PASSWORD) == b"hunter2-db-pass"


def test_blank_lines_and_indentation_tolerated() -> None:
    lines = MULTILINE_VAULT.splitlines()
    messy = "\n\n" + "\n\n".join("    " + line + "  " for line in lines) + "\n\n"
    assert decrypt_vault(messy, PASSWORD) == MULTILINE_PLAIN


def test_is_vault() -> None:
    assert is_vault("  \n  $ANSIBLE_VAULT;1.1;AES256\n61")
    assert not is_vault("plain value")
    assert not is_vault("")


def test_wrong_password_reports_hmac_mismatch() -> None:
    with pytest.raises(VaultError, match="HMAC mismatch") as caught:
        decrypt_vault(MULTILINE_VAULT, b"not the password")
    assert isinstance(caught.value, SshorchError)
    assert "wrong vault password" in str(caught.value)


@pytest.mark.parametrize("part", [1, 2], ids=["hmac", "ciphertext"])
def test_flipped_hex_digit_is_rejected_before_decrypting(part: int) -> None:
    header, parts = split_vault(MULTILINE_VAULT)
    digits = bytearray(parts[part])
    digits[5] = ord("0") if digits[5] != ord("0") else ord("1")
    parts[part] = bytes(digits)
    with pytest.raises(VaultError, match="HMAC mismatch"):
        decrypt_vault(join_vault(header, parts), PASSWORD)


def test_flipped_digit_in_outer_hex_is_rejected() -> None:
    lines = MULTILINE_VAULT.splitlines()
    last = lines[-1]
    lines[-1] = last[:-1] + ("0" if last[-1] != "0" else "1")
    with pytest.raises(VaultError):
        decrypt_vault("\n".join(lines), PASSWORD)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "not an Ansible Vault value"),
        ("$ANSIBLE_VAULTX;1.1;AES256\n6161", "not an Ansible Vault value"),
        ("$ANSIBLE_VAULT;1.1;AES256\n", "no data"),
        ("$ANSIBLE_VAULT;1.1\n6161", "malformed vault header"),
        ("$ANSIBLE_VAULT;1.0;AES\n6161", "unsupported vault format version '1.0'; supported: 1.1, 1.2"),
        ("$ANSIBLE_VAULT;2.0;AES256\n6161", "unsupported vault format version"),
        ("$ANSIBLE_VAULT;1.1;AES128\n6161", "unsupported vault cipher 'AES128'; supported: AES256"),
        ("$ANSIBLE_VAULT;1.1;AES256\nzz11", "not valid hex"),
        ("$ANSIBLE_VAULT;1.1;AES256\n616", "not valid hex"),
        ("$ANSIBLE_VAULT;1.1;AES256\nfcfc", "expected salt, HMAC and ciphertext"),
        ("$ANSIBLE_VAULT;1.1;AES256\n616263", "expected salt, HMAC and ciphertext"),
        ("$ANSIBLE_VAULT;1.1;AES256\n61620a63640a", "expected salt, HMAC and ciphertext"),
        ("$ANSIBLE_VAULT;1.1;AES256\n61620a63640a7a7a", "ciphertext is not valid hex"),
        ("$ANSIBLE_VAULT;1.1;AES256\n6162é", "non-ASCII"),
    ],
)
def test_malformed_values(text: str, message: str) -> None:
    with pytest.raises(VaultError, match=message.replace(".", r"\.")):
        decrypt_vault(text, PASSWORD)


def test_truncated_body() -> None:
    lines = MULTILINE_VAULT.splitlines()
    for cut in (lines[:2], lines[:-1], [lines[0], lines[1][:-1]]):
        with pytest.raises(VaultError):
            decrypt_vault("\n".join(cut), PASSWORD)


def test_bad_padding_after_valid_hmac() -> None:
    # Only a broken encryptor can produce this: the HMAC is right, the padding is not.
    salt = b"s" * 32
    material = PBKDF2HMAC(algorithm=hashes.SHA256(), length=80, salt=salt, iterations=10000).derive(PASSWORD)
    encryptor = Cipher(algorithms.AES(material[:32]), modes.CTR(material[64:])).encryptor()
    ciphertext = encryptor.update(b"x" * 16) + encryptor.finalize()
    mac = HMAC(material[32:64], hashes.SHA256())
    mac.update(ciphertext)
    parts = [binascii.hexlify(salt), binascii.hexlify(mac.finalize()), binascii.hexlify(ciphertext)]
    with pytest.raises(VaultError, match="bad padding"):
        decrypt_vault(join_vault(f"{VAULT_HEADER};1.1;AES256", parts), PASSWORD)


def test_error_messages_never_leak_password_or_plaintext() -> None:
    header, parts = split_vault(MULTILINE_VAULT)
    tampered = join_vault(header, [parts[0], parts[1], parts[2][:-2] + b"00"])
    attempts = [
        (MULTILINE_VAULT, b"wrong-" + PASSWORD),
        (tampered, PASSWORD),
        (MULTILINE_VAULT.replace("AES256", "AES128"), PASSWORD),
        (MULTILINE_VAULT[:-20], PASSWORD),
    ]
    secrets = [PASSWORD.decode(), "s3cr3t-Valu3", MULTILINE_PLAIN.decode()]
    for text, password in attempts:
        with pytest.raises(VaultError) as caught:
            decrypt_vault(text, password)
        message = str(caught.value) + repr(caught.value)
        assert not any(secret in message for secret in secrets + [password.decode()])
        # No chained exception that a traceback could print either.
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_read_vault_password(tmp_path: Path) -> None:
    path = tmp_path / "pass"
    path.write_bytes(b"  p\xc3\xa4ss word \r\n\n")
    assert read_vault_password(path) == "päss word".encode()


def test_read_vault_password_executable_is_read_not_run(tmp_path: Path) -> None:
    path = tmp_path / "pass.sh"
    path.write_text("#!/bin/sh\necho from-script\n")
    path.chmod(0o755)
    assert read_vault_password(path) == b"#!/bin/sh\necho from-script"


def test_read_vault_password_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="not found"):
        read_vault_password(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.write_text(" \n")
    with pytest.raises(VaultError, match="empty"):
        read_vault_password(empty)
    with pytest.raises(VaultError, match="cannot read"):
        read_vault_password(tmp_path)


@settings(max_examples=25, deadline=None)
@given(
    plaintext=st.binary(max_size=70),
    password=st.binary(min_size=1, max_size=40),
    salt=st.binary(min_size=32, max_size=32),
    vault_id=st.none() | st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
)
def test_reference_encryptor_round_trips(plaintext: bytes, password: bytes, salt: bytes, vault_id: str | None) -> None:
    assert decrypt_vault(reference_encrypt(plaintext, password, salt, vault_id), password) == plaintext


def test_reference_encryptor_matches_real_vector_layout() -> None:
    # Same salt and password as a real vector gives the identical value: the layout is Ansible's.
    header, parts = split_vault(MULTILINE_VAULT)
    salt = binascii.unhexlify(parts[0])
    assert split_vault(reference_encrypt(MULTILINE_PLAIN, PASSWORD, salt)) == (header, parts)


def _ansible_vault() -> str | None:
    return shutil.which("ansible-vault", path=str(Path(sys.executable).parent)) or shutil.which("ansible-vault")


@pytest.mark.skipif(_ansible_vault() is None, reason="ansible-vault (ansible-core) is not installed")
@pytest.mark.parametrize("vault_id", [None, "stage"])
def test_round_trip_with_real_ansible_vault(tmp_path: Path, vault_id: str | None) -> None:
    tool = _ansible_vault()
    assert tool is not None
    password = os.urandom(12).hex().encode()
    plaintext = os.urandom(41) + "\n日本\n".encode()
    (tmp_path / "pw").write_bytes(password + b"\n")
    (tmp_path / "plain").write_bytes(plaintext)
    secret = f"{vault_id}@pw" if vault_id else "pw"
    option = "--vault-id" if vault_id else "--vault-password-file"
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ansible"), "ANSIBLE_CONFIG": str(tmp_path / "none.cfg")}
    result = subprocess.run(
        [tool, "encrypt", option, secret, "--output", "-", "plain"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    text = result.stdout.decode()
    assert text.startswith(f"{VAULT_HEADER};1.2;AES256;{vault_id}" if vault_id else f"{VAULT_HEADER};1.1;AES256")
    assert decrypt_vault(text, read_vault_password(tmp_path / "pw")) == plaintext
