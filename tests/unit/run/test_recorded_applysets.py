"""Apply sets in the record: kept by commands that edit it, and given to a record from before sets."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sshorch.run.apply import last_applied_paths, record_documents, recorded_applysets
from sshorch.spec.applysets import ObjectId
from sshorch.state.inmemory import InMemoryStore
from sshorch.state.schema import MIGRATIONS, migrate
from sshorch.state.sqlite import SqliteStore


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "main", "image": "web:v1"}]}}}}


WEB, HELLO = ObjectId("Deployment", "default", "web"), ObjectId("Deployment", "default", "hello")


@pytest.mark.parametrize(("sources", "paths"), [
    (("examples/shop",), "examples/shop"),
    (("scale deployment/web=3", "autoscale: deployment/web=4", "rollback of deployment/default/web to revision 1", "a.yaml,b.yaml"),
     "a.yaml,b.yaml"),
    (("scale deployment/web=3",), ""),
    ((), ""),
])
def test_the_last_applied_paths_skip_what_commands_recorded(sources: tuple[str, ...], paths: str) -> None:
    assert last_applied_paths(sources) == paths


def test_a_record_from_before_sets_is_the_set_of_its_last_apply(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[:3])  # a file from before apply sets
    for at, source in ((1, "examples/shop/"), (2, "scale deployment/web=3")):
        conn.execute("INSERT INTO desired (applied_at, source, documents) VALUES (?, ?, ?)", (at, source, json.dumps([deployment("web")])))
    conn.close()
    with SqliteStore.open(path) as store:
        assert recorded_applysets(store) == {WEB: "shop"}


def test_an_edit_by_a_command_keeps_each_objects_set() -> None:
    store = InMemoryStore()
    store.record_desired([deployment("web"), deployment("hello")], now=1, source="x", applysets=["shop", "hello"])
    record_documents(store, [deployment("web", replicas=3), deployment("hello")], "scale deployment/web=3", now=2)
    assert recorded_applysets(store) == {WEB: "shop", HELLO: "hello"}
    record = store.desired()
    assert record is not None and record.documents[0]["spec"]["replicas"] == 3
