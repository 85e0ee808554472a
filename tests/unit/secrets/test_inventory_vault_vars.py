"""A vaulted inventory variable used in a manifest template: decrypted with the vault
password, or the template fails on that line saying why; never its placeholder text."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshorch.run.apply import file_documents, validated
from sshorch.inventory import load_inventory
from sshorch.secrets.resolve import SecretSources
from sshorch.secrets.vault import VaultError
from sshorch.spec.problems import ManifestError

VAULT = Path(__file__).parents[1] / "inventory" / "vault_fixtures"
PASSWORD = (VAULT / "password").read_bytes().strip()
# `db_password: !vault |` as ansible-vault encrypt_string wrote it (see vault_fixtures/README.md).
VAULTED = (VAULT / "host_vars" / "web1.yml").read_text()


def _no_password() -> bytes:
    raise VaultError("an Ansible Vault value needs its password: give --vault-password-file FILE")


def _sources(password: object) -> SecretSources:
    return SecretSources(stored=lambda namespace, name: None, vault_password=password)  # type: ignore[arg-type]


def _setup(tmp_path: Path, template: str) -> tuple[Path, Path]:
    inventory = tmp_path / "inv.yml"
    inventory.write_text("all:\n  hosts:\n    n1:\n  vars:\n    " + VAULTED.replace("\n", "\n    ") + "\n    plain: x\n")
    manifest = tmp_path / "config.yaml.j2"
    manifest.write_text(template)
    return inventory, manifest


CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  plain: {{ plain }}\n  password: {{ db_password }}\n"


def _data(tmp_path: Path, template: str, password: object) -> dict[str, str]:
    inventory, manifest = _setup(tmp_path, template)
    loaded = load_inventory(inventory)
    documents = file_documents(loaded, [manifest], (), (), _sources(password), lambda _: None)
    desired = validated(loaded, documents, lambda _: None, b"k")
    [config] = desired.of_kind("ConfigMap")
    return dict(config.data)  # type: ignore[attr-defined]


def test_a_vaulted_variable_renders_as_its_plaintext_with_the_password(tmp_path: Path) -> None:
    assert _data(tmp_path, CONFIG, lambda: PASSWORD) == {"plain": "x", "password": "s3cret"}


@pytest.mark.parametrize(
    ("password", "why"),
    [
        (_no_password, "give --vault-password-file"),
        (lambda: b"wrong", "wrong vault password"),
    ],
)
def test_without_the_right_password_the_template_line_fails_saying_why(tmp_path: Path, password: object, why: str) -> None:
    with pytest.raises(ManifestError) as caught:
        _data(tmp_path, CONFIG, password)
    message = str(caught.value)
    assert "\n" not in message and "Vaulted" not in message
    assert "config.yaml.j2: line 6: undefined variable:" in message
    assert "inventory variable db_password is encrypted with Ansible Vault and cannot be decrypted" in message
    assert why in message


def test_a_template_that_does_not_use_the_vaulted_variable_needs_no_password(tmp_path: Path) -> None:
    template = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  plain: {{ plain }}\n"
    assert _data(tmp_path, template, _no_password) == {"plain": "x"}
