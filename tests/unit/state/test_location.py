from pathlib import Path

import pytest

from sshorch.state import StateError, open_store, state_file
from sshorch.state.inmemory import InMemoryStore
from sshorch.state.sqlite import SqliteStore


def test_a_plain_path_and_a_sqlite_url_name_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "test.db"
    with open_store(path) as store:
        assert isinstance(store, SqliteStore) and store.location == str(path)
        store.set_meta("k", "v")
    with open_store(str(path)) as store:
        assert store.get_meta("k") == "v"
    with open_store(f"sqlite://{path}") as store:
        assert store.get_meta("k") == "v"
    assert state_file(f"sqlite://{path}") == state_file(str(path)) == path


def test_memory_is_a_new_empty_store_each_time() -> None:
    with open_store("memory://") as store:
        assert isinstance(store, InMemoryStore)
        store.set_meta("k", "v")
    with open_store("memory://") as store:
        assert store.get_meta("k") is None
    assert state_file("memory://") is None


def test_an_unknown_scheme_is_one_line_naming_the_supported_ones() -> None:
    with pytest.raises(StateError) as raised:
        open_store("etcd://10.0.0.1:2379")
    assert str(raised.value) == (
        "state location 'etcd://10.0.0.1:2379': unknown scheme 'etcd'; use one of sqlite://, memory:// or a file path"
    )


def test_a_sqlite_url_without_a_path_is_refused() -> None:
    with pytest.raises(StateError, match="names no file"):
        open_store("sqlite://")
