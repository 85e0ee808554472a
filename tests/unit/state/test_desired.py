import datetime
import sqlite3
from pathlib import Path

import pytest

from sshorch.state import ENCRYPTED_PREFIX, StateError
from sshorch.state.sqlite import SqliteStore
from sshorch.state.desired import KEEP_APPLIES

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}
CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}


def test_no_desired_state_yet(store: SqliteStore) -> None:
    assert store.desired() is None


def test_round_trip_keeps_documents_and_order(store: SqliteStore) -> None:
    apply_id = store.record_desired([DEPLOY, CONFIG], now=100.5, source="deploy.yaml")
    record = store.desired()
    assert record is not None
    assert record.id == apply_id
    assert record.documents == (DEPLOY, CONFIG)
    assert record.applied_at == 100.5
    assert record.source == "deploy.yaml"


def test_latest_apply_wins_and_ids_increase(store: SqliteStore) -> None:
    first = store.record_desired([DEPLOY], now=1, source="a")
    second = store.record_desired([CONFIG], now=2, source="b")
    assert second > first
    record = store.desired()
    assert record is not None and record.id == second and record.documents == (CONFIG,)


def test_empty_desired_state_is_recorded(store: SqliteStore) -> None:
    store.record_desired([DEPLOY], now=1, source="a")
    store.record_desired([], now=2, source="b")
    record = store.desired()
    assert record is not None and record.documents == ()


def test_ids_keep_increasing_after_old_applies_are_pruned(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        ids = [store.record_desired([CONFIG], now=i, source="s") for i in range(KEEP_APPLIES + 5)]
    assert ids == sorted(set(ids))
    with SqliteStore.open(path) as store:
        assert store.record_desired([CONFIG], now=99, source="s") > ids[-1]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM desired").fetchone()[0] == KEEP_APPLIES
    conn.close()


def test_clear_secret_is_refused_and_nothing_recorded(store: SqliteStore) -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}}
    with pytest.raises(StateError, match="Secret/default/db: stringData.password is not encrypted"):
        store.record_desired([CONFIG, secret], now=1, source="s")
    assert store.desired() is None


def test_encrypted_secret_is_recorded(store: SqliteStore) -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": ENCRYPTED_PREFIX + "Zm9v"}}
    store.record_desired([secret], now=1, source="s")
    record = store.desired()
    assert record is not None and record.documents == (secret,)


def test_values_json_cannot_hold_are_an_error(store: SqliteStore) -> None:
    document = {"kind": "ConfigMap", "data": {"when": datetime.date(2024, 1, 1)}}
    with pytest.raises(StateError, match="cannot be stored as JSON"):
        store.record_desired([document], now=1, source="s")
    assert store.desired() is None


def test_damaged_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        store.record_desired([CONFIG], now=1, source="s")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE desired SET documents = '{not json'")
    conn.commit()
    conn.close()
    with SqliteStore.open(path) as store:
        with pytest.raises(StateError) as caught:
            store.desired()
    assert str(path) in str(caught.value) and "damaged JSON" in str(caught.value)
