"""The cluster's key for hashes of Secret content: made once, kept in the state store, and
what every revision of a workload that uses a Secret is hashed with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sshorch.run.apply import record_documents, recorded_desired
from sshorch.plan.revision import workload_revision
from sshorch.secrets.atrest import KEY_ENV, init_key
from sshorch.secrets.kept import secret_hash_key
from sshorch.spec.model import Deployment
from sshorch.state import StateStore, open_store


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateStore]:
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "secret.key"))
    init_key(tmp_path / "secret.key")
    with open_store(tmp_path / "state.db") as opened:
        yield opened


def test_the_key_is_made_on_first_use_and_kept(store: StateStore, tmp_path: Path) -> None:
    key = secret_hash_key(store)
    assert len(key) == 32 and secret_hash_key(store) == key
    with open_store(tmp_path / "state.db") as again:
        assert secret_hash_key(again) == key
    with open_store(tmp_path / "other.db") as other:
        assert secret_hash_key(other) != key  # another cluster, another key


def test_meta_default_keeps_the_first_value(store: StateStore) -> None:
    assert store.meta_default("k", "first") == "first"
    assert store.meta_default("k", "second") == "first"


DOCUMENTS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"pw": "1234"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{
            "name": "main", "image": "localhost/web:v1",
            "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}]}]}}}},
]  # fmt: skip


def test_recorded_and_applied_states_hash_secrets_with_the_stores_key(store: StateStore) -> None:
    applied = record_documents(store, DOCUMENTS, "test", now=1.0)
    recorded = recorded_desired(store)
    assert recorded is not None and applied.hash_key == recorded.hash_key == secret_hash_key(store)
    web = applied.get("Deployment", "web")
    assert isinstance(web, Deployment)
    assert workload_revision(web, applied) == workload_revision(web, recorded)
    assert store.current_revision("deployment/default/web") is not None
