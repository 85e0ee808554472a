import datetime
import sqlite3
from pathlib import Path

import pytest

from sshorch.state import ENCRYPTED_PREFIX, StateError
from sshorch.state.sqlite import SqliteStore
from sshorch.state.desired import KEEP_APPLIES
from sshorch.state.schema import MIGRATIONS, migrate

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}
CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}


def test_no_desired_state_yet(store: SqliteStore) -> None:
    assert store.desired() is None


def test_round_trip_keeps_documents_and_order(store: SqliteStore) -> None:
    apply_id = store.record_desired([DEPLOY, CONFIG], now=100.5, source="deploy.yaml", applysets=["a"] * 2)
    record = store.desired()
    assert record is not None
    assert record.id == apply_id
    assert record.documents == (DEPLOY, CONFIG)
    assert record.applied_at == 100.5
    assert record.source == "deploy.yaml"


def test_latest_apply_wins_and_ids_increase(store: SqliteStore) -> None:
    first = store.record_desired([DEPLOY], now=1, source="a", applysets=["a"] * 1)
    second = store.record_desired([CONFIG], now=2, source="b", applysets=["a"] * 1)
    assert second > first
    record = store.desired()
    assert record is not None and record.id == second and record.documents == (CONFIG,)


def test_empty_desired_state_is_recorded(store: SqliteStore) -> None:
    store.record_desired([DEPLOY], now=1, source="a", applysets=["a"] * 1)
    store.record_desired([], now=2, source="b", applysets=["a"] * 0)
    record = store.desired()
    assert record is not None and record.documents == ()


def test_ids_keep_increasing_after_old_applies_are_pruned(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        ids = [store.record_desired([CONFIG], now=i, source="s", applysets=["a"] * 1) for i in range(KEEP_APPLIES + 5)]
    assert ids == sorted(set(ids))
    with SqliteStore.open(path) as store:
        assert store.record_desired([CONFIG], now=99, source="s", applysets=["a"] * 1) > ids[-1]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM desired").fetchone()[0] == KEEP_APPLIES
    conn.close()


def test_clear_secret_is_refused_and_nothing_recorded(store: SqliteStore) -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}}
    with pytest.raises(StateError, match="Secret/default/db: stringData.password is not encrypted"):
        store.record_desired([CONFIG, secret], now=1, source="s", applysets=["a"] * 2)
    assert store.desired() is None


def test_encrypted_secret_is_recorded(store: SqliteStore) -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": ENCRYPTED_PREFIX + "Zm9v"}}
    store.record_desired([secret], now=1, source="s", applysets=["a"] * 1)
    record = store.desired()
    assert record is not None and record.documents == (secret,)


def test_values_json_cannot_hold_are_an_error(store: SqliteStore) -> None:
    document = {"kind": "ConfigMap", "data": {"when": datetime.date(2024, 1, 1)}}
    with pytest.raises(StateError, match="cannot be stored as JSON"):
        store.record_desired([document], now=1, source="s", applysets=["a"] * 1)
    assert store.desired() is None


def test_damaged_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        store.record_desired([CONFIG], now=1, source="s", applysets=["a"] * 1)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE desired SET documents = '{not json'")
    conn.commit()
    conn.close()
    with SqliteStore.open(path) as store:
        with pytest.raises(StateError) as caught:
            store.desired()
    assert str(path) in str(caught.value) and "damaged JSON" in str(caught.value)


def test_each_document_keeps_its_apply_set(store: SqliteStore) -> None:
    store.record_desired([DEPLOY, CONFIG], now=1, source="shop", applysets=["shop", "hello"])
    record = store.desired()
    assert record is not None and record.applysets == ("shop", "hello")
    with pytest.raises(StateError, match="2 documents but 1 apply sets"):
        store.record_desired([DEPLOY, CONFIG], now=2, source="shop", applysets=["shop"])


def test_a_record_from_before_apply_sets_has_none(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[:3])  # a file from before apply sets
    conn.execute("INSERT INTO desired (applied_at, source, documents) VALUES (1, 'examples/shop', '[{\"kind\": \"ConfigMap\"}]')")
    conn.execute("INSERT INTO desired (applied_at, source, documents) VALUES (2, 'scale deployment/web=3', '[{\"kind\": \"ConfigMap\"}]')")
    conn.close()
    with SqliteStore.open(path) as store:
        record = store.desired()
        assert record is not None and record.documents == ({"kind": "ConfigMap"},) and record.applysets is None
        assert store.desired_sources() == ("scale deployment/web=3", "examples/shop")
