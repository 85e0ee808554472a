"""Secrets at rest on the controller: encrypted documents, the key file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from sshorch.secrets.atrest import (
    KEY_ENV,
    SecretKeyError,
    decrypt_documents,
    default_key_path,
    encrypt_documents,
    decrypt_value,
    encrypt_value,
    init_key,
    load_key,
)
from sshorch.spec import parse_documents
from sshorch.spec.model import Secret, Source
from sshorch.state import ENCRYPTED_PREFIX, check_no_clear_secrets

_FERNET = Fernet(Fernet.generate_key())


def KEY() -> Fernet:  # noqa: N802 - the key source the functions take
    return _FERNET


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


SECRET: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "creds"},
    "data": {"token": b64(b"t0k3n-value"), "pw": b64(b"old-password")},
    "stringData": {"pw": "hunter2-password"},
}
CONFIG: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"LEVEL": "info"}}
CLEAR = ("t0k3n-value", "hunter2-password", "old-password", b64(b"t0k3n-value"), b64(b"hunter2-password"), b64(b"old-password"))


def test_encrypt_turns_data_and_string_data_into_encrypted_data() -> None:
    encrypted, config = encrypt_documents([SECRET, CONFIG], KEY)
    assert "stringData" not in encrypted
    assert sorted(encrypted["data"]) == ["pw", "token"]
    assert all(v.startswith(ENCRYPTED_PREFIX) and v.startswith("sshorch-encrypted:") for v in encrypted["data"].values())
    dump = json.dumps([encrypted, config])
    assert not [value for value in CLEAR if value in dump]
    assert config == CONFIG
    check_no_clear_secrets([encrypted, config])  # what the state store accepts


def test_encrypt_leaves_its_input_alone() -> None:
    before = json.dumps(SECRET, sort_keys=True)
    encrypt_documents([SECRET], KEY)
    assert json.dumps(SECRET, sort_keys=True) == before


def test_decrypt_round_trips_to_base64_data_with_string_data_winning() -> None:
    (decrypted,) = decrypt_documents(encrypt_documents([SECRET], KEY), KEY)
    assert decrypted["data"] == {"pw": b64(b"hunter2-password"), "token": b64(b"t0k3n-value")}
    assert "stringData" not in decrypted
    (parsed,) = parse_documents([(Source("state", 0), decrypted)]).objects
    assert isinstance(parsed, Secret)
    assert {k: v.reveal() for k, v in parsed.data.items()} == {"pw": b"hunter2-password", "token": b"t0k3n-value"}


def test_binary_values_survive() -> None:
    raw = bytes(range(256))
    doc = {**SECRET, "data": {"blob": b64(raw)}}
    doc.pop("stringData")
    (decrypted,) = decrypt_documents(encrypt_documents([doc], KEY), KEY)
    assert base64.b64decode(decrypted["data"]["blob"]) == raw


def test_each_encryption_is_different_but_decrypts_the_same() -> None:
    first, second = encrypt_documents([SECRET], KEY)[0], encrypt_documents([SECRET], KEY)[0]
    assert first["data"] != second["data"]
    assert decrypt_documents([first], KEY) == decrypt_documents([second], KEY)


def test_a_wrong_key_names_the_secret() -> None:
    encrypted = encrypt_documents([CONFIG, SECRET], KEY)
    other = Fernet(Fernet.generate_key())
    with pytest.raises(SecretKeyError, match=r"recorded Secret/creds: cannot decrypt: the key file is not the one") as caught:
        decrypt_documents(encrypted, lambda: other)
    assert KEY_ENV in str(caught.value)
    assert not [value for value in CLEAR if value in str(caught.value)]


def test_documents_without_secret_values_pass_through() -> None:
    empty = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty"}}
    assert decrypt_documents([CONFIG, empty], KEY) == [CONFIG, empty]
    (encrypted,) = encrypt_documents([empty], KEY)
    assert encrypted["data"] == {}


def test_init_key_makes_a_0600_file_once(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "sshorch" / "secret.key"
    assert init_key(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token, written = load_key(path).encrypt(b"x"), path.read_bytes()
    assert init_key(path) is False
    assert load_key(path).decrypt(token) == b"x"
    assert path.read_bytes() == written  # read, not rewritten
    assert len(list(path.parent.iterdir())) == 1


def test_a_missing_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="no secret key at .*sshorch secret init"):
        load_key(tmp_path / "none.key")


def test_a_damaged_key_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(SecretKeyError, match=f"{path}: not a usable secret key"):
        load_key(path)
    with pytest.raises(SecretKeyError, match=f"{path}: not a usable secret key"):
        init_key(path)
    assert path.read_text() == "not a key\n"  # never replaced


def test_a_tampered_value_is_refused_without_showing_it() -> None:
    token = encrypt_value(KEY(), b"hunter2")
    assert decrypt_value(KEY(), token, "x") == b"hunter2"
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretKeyError, match="stored secret db/pw: cannot decrypt") as caught:
        decrypt_value(KEY(), tampered, "stored secret db/pw")
    assert "hunter2" not in str(caught.value)


def test_default_key_path() -> None:
    assert default_key_path({KEY_ENV: "/etc/sshorch.key"}) == Path("/etc/sshorch.key")
    assert default_key_path({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/sshorch/secret.key")
    assert default_key_path({"XDG_CONFIG_HOME": "/cfg", KEY_ENV: ""}) == Path("/cfg/sshorch/secret.key")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o601, 0o666])
def test_a_key_file_open_to_others_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "my keys" / "secret.key"
    assert init_key(path) is True
    path.chmod(mode)
    with pytest.raises(SecretKeyError) as raised:
        load_key(path)
    assert str(raised.value) == (
        f"{path}: the secret key is open to group or others (mode {mode:04o}); "
        f"make it private: chmod 600 '{path}' (and keep a copy of it safe)"
    )
    path.chmod(0o600)
    load_key(path)
    path.chmod(0o400)
    load_key(path)
