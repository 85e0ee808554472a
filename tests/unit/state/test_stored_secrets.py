"""Secrets kept by `sshorch secret set`: per key, encrypted only."""

from __future__ import annotations

import pytest

from sshorch.state import ENCRYPTED_PREFIX, StateError, StoredSecret
from sshorch.state.sqlite import SqliteStore

E = ENCRYPTED_PREFIX


def test_set_merges_keys_and_get_returns_them(store: SqliteStore) -> None:
    store.set_stored_secret("default", "db", {"user": E + "u", "password": E + "p1"}, now=1.0)
    store.set_stored_secret("default", "db", {"password": E + "p2"}, now=2.0)
    assert store.stored_secret("default", "db") == {"password": E + "p2", "user": E + "u"}
    assert store.stored_secret("other", "db") == {}


def test_clear_values_are_refused(store: SqliteStore) -> None:
    with pytest.raises(StateError, match="password is not encrypted") as caught:
        store.set_stored_secret("default", "db", {"password": "hunter2"}, now=1.0)
    assert "hunter2" not in str(caught.value)
    assert store.stored_secrets() == ()


def test_list_names_keys_and_newest_update(store: SqliteStore) -> None:
    store.set_stored_secret("default", "db", {"b": E + "1", "a": E + "2"}, now=5.0)
    store.set_stored_secret("default", "db", {"c": E + "3"}, now=7.0)
    store.set_stored_secret("prod", "api", {"token": E + "t"}, now=6.0)
    assert store.stored_secrets() == (
        StoredSecret("default", "db", ("a", "b", "c"), 7.0),
        StoredSecret("prod", "api", ("token",), 6.0),
    )


def test_remove_keys_or_the_whole_secret(store: SqliteStore) -> None:
    store.set_stored_secret("default", "db", {"a": E + "1", "b": E + "2", "c": E + "3"}, now=1.0)
    assert store.remove_stored_secret("default", "db", ("a", "missing")) == 1
    assert set(store.stored_secret("default", "db")) == {"b", "c"}
    assert store.remove_stored_secret("default", "db") == 2
    assert store.remove_stored_secret("default", "db") == 0
    assert store.stored_secrets() == ()
