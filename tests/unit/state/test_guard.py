from typing import Any

import pytest

from sshorch.state import ENCRYPTED_PREFIX, StateError, check_no_clear_secrets

ENC = ENCRYPTED_PREFIX + "abc"


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "prod"}, **fields}


def test_encrypted_secrets_pass() -> None:
    check_no_clear_secrets([secret(data={"password": ENC}, stringData={"user": ENC})])


def test_secrets_without_values_pass() -> None:
    check_no_clear_secrets([secret(), secret(data={}), secret(data=None, stringData={})])


def test_other_kinds_are_not_checked() -> None:
    check_no_clear_secrets([{"kind": "ConfigMap", "data": {"password": "hunter2"}}])


@pytest.mark.parametrize("field", ["data", "stringData"])
def test_clear_value_is_refused_without_showing_it(field: str) -> None:
    with pytest.raises(StateError) as caught:
        check_no_clear_secrets([{"kind": "ConfigMap"}, secret(**{field: {"a": ENC, "password": "hunter2"}})])
    message = str(caught.value)
    assert f"Secret/prod/db: {field}.password is not encrypted" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("value", [None, 42, "", "sshorch-encrypted", "SSHORCH-ENCRYPTED:x", b"sshorch-encrypted:x"])
def test_non_string_or_unmarked_values_are_refused(value: Any) -> None:
    with pytest.raises(StateError, match="not encrypted"):
        check_no_clear_secrets([secret(data={"k": value})])


def test_non_mapping_data_is_refused() -> None:
    with pytest.raises(StateError, match="must be a mapping"):
        check_no_clear_secrets([secret(data=["x"])])


def test_secret_without_metadata_is_still_named() -> None:
    with pytest.raises(StateError, match=r"Secret/\?"):
        check_no_clear_secrets([{"kind": "Secret", "data": {"k": "v"}}])
