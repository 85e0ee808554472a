from __future__ import annotations

from dataclasses import replace

from sshorch.deploy import config_changes
from sshorch.spec import parse_documents
from sshorch.spec.model import Desired, Source


def desired(password: str, setting: str) -> Desired:
    docs = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": password}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"mode": setting}},
    ]
    return replace(parse_documents([(Source("app.yaml", i), d) for i, d in enumerate(docs)]), hash_key=b"k" * 32)


def test_a_changed_secret_is_named_and_its_value_hidden() -> None:
    lines = config_changes(desired("old-pass", "a"), desired("new-pass", "a"))
    assert lines == ["secret/db changed (value hidden)"]
    assert not any("pass" in line.replace("password", "") for line in lines)


def test_changed_configmaps_and_new_objects() -> None:
    assert config_changes(desired("p", "a"), desired("p", "b")) == ["configmap/app changed"]
    assert config_changes(None, desired("p", "a")) == ["secret/db new (value hidden)", "configmap/app new"]
    assert config_changes(desired("p", "a"), desired("p", "a")) == []
