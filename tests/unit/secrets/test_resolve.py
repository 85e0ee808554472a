"""Where Secret values come from: the store, Ansible Vault (real vectors), or the manifest in clear."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from sshorch.secrets.resolve import SecretSources, resolve_secrets
from sshorch.secrets.vault import VaultError, read_vault_password
from sshorch.spec import ManifestError, parse_documents
from sshorch.spec.documents import parse_yaml_text
from sshorch.spec.model import Secret, Source

VAULT = Path(__file__).parent / "fixtures" / "vault"
PASSWORD = read_vault_password(VAULT / "password.txt")


def no_password() -> bytes:
    raise VaultError("an Ansible Vault value needs its password")


def sources(stored: Mapping[tuple[str, str], Mapping[str, bytes]] | None = None, password: bool = True) -> SecretSources:
    table = dict(stored or {})
    return SecretSources(stored=lambda ns, name: table.get((ns, name)), vault_password=(lambda: PASSWORD) if password else no_password)


def documents(text: str) -> list[tuple[Source, dict[str, Any]]]:
    found, problems = parse_yaml_text(textwrap.dedent(text), "app.yaml")
    problems.raise_if_any()
    return found


def values_of(resolved: list[tuple[Source, dict[str, Any]]]) -> dict[str, bytes]:
    (secret,) = [o for o in parse_documents(resolved).objects if isinstance(o, Secret)]
    return {k: v.reveal() for k, v in secret.data.items()}


STORED = """\
    apiVersion: v1
    kind: Secret
    metadata:
      name: db
      namespace: prod
      annotations: {sshorch.io/stored-secret: db-creds}
    """


def test_a_stored_secret_supplies_every_value_without_warning() -> None:
    resolved, warnings = resolve_secrets(documents(STORED), sources({("prod", "db-creds"): {"password": b"s3cret", "user": b"app"}}))
    assert values_of(resolved) == {"password": b"s3cret", "user": b"app"}
    assert warnings == []


def test_a_missing_stored_secret_says_how_to_set_it() -> None:
    with pytest.raises(ManifestError, match=r"app.yaml: Secret/db: metadata.annotations.sshorch.io/stored-secret: "
                                            r"no stored secret 'db-creds' in namespace 'prod'; set it with 'sshorch secret set db-creds"):
        resolve_secrets(documents(STORED), sources())


def test_a_stored_secret_with_values_in_the_manifest_too_is_refused() -> None:
    with pytest.raises(ManifestError, match="from the store or from the manifest, not both"):
        resolve_secrets(documents(STORED + "stringData: {password: x}\n"), sources({("prod", "db-creds"): {"p": b"1"}}))


def inline_vault_secret() -> str:
    vars_text = (VAULT / "inline_vars.yml").read_text().replace("db_password:", "password:")
    return "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n" + textwrap.indent(vars_text, "  ")


def test_a_vault_tagged_value_is_decrypted_with_the_password() -> None:
    resolved, warnings = resolve_secrets(documents(inline_vault_secret()), sources())
    assert values_of(resolved)["password"] == b"hunter2-db-pass"
    assert warnings == []


def test_a_plain_vault_string_in_data_is_decrypted_too() -> None:
    text = (VAULT / "multiline.vault").read_text()
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"conf": text}}
    resolved, _ = resolve_secrets([(Source("app.yaml"), doc)], sources())
    assert values_of(resolved) == {"conf": (VAULT / "multiline.txt").read_bytes()}


def test_a_vault_value_without_a_password_says_how_to_give_one() -> None:
    with pytest.raises(ManifestError, match="app.yaml: Secret/db: stringData.password: an Ansible Vault value needs its password"):
        resolve_secrets(documents(inline_vault_secret()), sources(password=False))


def test_a_wrong_vault_password_is_a_clear_error() -> None:
    wrong = SecretSources(stored=lambda ns, name: None, vault_password=lambda: b"not-the-password")
    with pytest.raises(ManifestError, match="stringData.password: wrong vault password or tampered value") as caught:
        resolve_secrets(documents(inline_vault_secret()), wrong)
    assert "hunter2" not in str(caught.value)


def test_a_vault_value_outside_a_secret_is_refused() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n" + textwrap.indent(
        (VAULT / "inline_vars.yml").read_text(), "  ")
    with pytest.raises(ManifestError, match="ConfigMap/c: data.db_password: Ansible Vault values are only read in a Secret"):
        resolve_secrets(documents(text), sources())


def test_clear_values_work_as_in_kubernetes_with_a_warning() -> None:
    text = f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: db}}
        data: {{user: {base64.b64encode(b"app").decode()}}}
        stringData: {{password: hunter2}}
        """
    resolved, warnings = resolve_secrets(documents(text), sources())
    assert values_of(resolved) == {"user": b"app", "password": b"hunter2"}
    assert warnings == ["app.yaml: Secret/db: values are in the manifest in clear; keep them with 'sshorch secret set' "
                        "or encrypt them with ansible-vault"]
    assert "hunter2" not in warnings[0]


def test_bad_base64_is_left_for_the_parser_to_report() -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"x": "***"}}
    resolved, _ = resolve_secrets([(Source("app.yaml"), doc)], sources())
    with pytest.raises(ManifestError, match="data"):
        parse_documents(resolved)


def test_other_documents_pass_through_unchanged() -> None:
    docs = documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    resolved, warnings = resolve_secrets(docs, sources())
    assert resolved == docs and warnings == []


@pytest.mark.parametrize("field, value", [("stringData", 12345678), ("stringData", ["leak-me"]), ("data", {"a": "leak-me"})])
def test_values_that_are_not_strings_are_left_for_the_parser_to_report_without_showing_them(field: str, value: Any) -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, field: {"pw": value}}
    resolved, _ = resolve_secrets([(Source("app.yaml"), doc)], sources())
    assert resolved == [(Source("app.yaml"), doc)]
    with pytest.raises(ManifestError, match=f"{field}\\[pw\\]: must be a string") as caught:
        parse_documents(resolved)
    assert "leak-me" not in str(caught.value) and "12345678" not in str(caught.value)
