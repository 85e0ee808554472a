import os
import sqlite3
import stat
from pathlib import Path

import pytest

from sshorch.run.apply import open_state
from sshorch.inventory import Inventory
from sshorch.state import SCHEMA_VERSION, StateError
from sshorch.state.sqlite import SqliteStore
from sshorch.state.schema import APPLICATION_ID, MIGRATIONS, migrate

TABLES = {"meta", "desired", "revisions", "allocations", "nodes", "counters", "events", "run_lock"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_parents_0700_and_file_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "a" / "b" / "c.db"
        SqliteStore.open(path).close()
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "b") == 0o700


def test_existing_parent_permissions_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    SqliteStore.open(tmp_path / "c.db").close()
    assert mode(tmp_path) == 0o755


def test_wal_and_shm_files_are_private_too(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        store.set_meta("k", "v")
        for sidecar in (tmp_path / "c.db-wal", tmp_path / "c.db-shm"):
            assert mode(sidecar) == 0o600


def test_wal_mode_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SqliteStore.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_empty_file_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    SqliteStore.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= names
    conn.close()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        store.set_meta("k", "v")
    with SqliteStore.open(path) as store:
        assert store.get_meta("k") == "v"


def test_later_migration_is_applied_to_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        store.set_meta("k", "v")
    later = (*MIGRATIONS, ("CREATE TABLE leases (name TEXT PRIMARY KEY)",))
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, path, later) == SCHEMA_VERSION
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 0
    assert conn.execute("SELECT value FROM meta WHERE key = 'k'").fetchone()[0] == "v"
    assert migrate(conn, path, later) == SCHEMA_VERSION + 1  # already there: nothing to do
    conn.close()


def test_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SqliteStore.open(path).close()
    broken = (*MIGRATIONS, ("CREATE TABLE ok1 (x)", "CREATE TABLE meta (x)"))
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, path, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ok1'").fetchone()[0] == 0
    conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SqliteStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="newer than this sshorch knows.*upgrade sshorch"):
        SqliteStore.open(path)


def test_corrupt_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(StateError) as caught:
        SqliteStore.open(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert "move it aside" in message


def test_truncated_database_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SqliteStore.open(path).close()
    data = path.read_bytes()
    path.write_bytes(b"X" * 100 + data[100:])
    with pytest.raises(StateError, match="cannot read the state file"):
        SqliteStore.open(path)


def test_unreadable_path_names_it(tmp_path: Path) -> None:
    path = tmp_path / "dir.db"
    path.mkdir()
    with pytest.raises(StateError) as caught:
        SqliteStore.open(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_parent_that_is_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StateError, match="cannot create the state file"):
        SqliteStore.open(tmp_path / "file" / "c.db")


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="not an sshorch state file"):
        SqliteStore.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1  # untouched
    conn.close()


def test_use_after_close_is_a_state_error(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "c.db")
    store.close()
    with pytest.raises(StateError, match="c.db"):
        store.get_meta("k")


def test_meta_round_trip(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "c.db") as store:
        assert store.get_meta("missing") is None
        store.set_meta("k", "v1")
        store.set_meta("k", "v2")
        assert store.get_meta("k") == "v2"


def test_cluster_is_recorded_at_first_use_then_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SqliteStore.open(path) as store:
        store.check_cluster("a")
        store.check_cluster("a")
        assert store.get_meta("cluster") == "a"
    with SqliteStore.open(path) as store:
        with pytest.raises(StateError) as caught:
            store.check_cluster("b")
    assert f"state file {path} belongs to cluster 'a', not 'b'" in str(caught.value)


def test_a_state_file_open_to_others_is_a_warning_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "cluster.db"
    warnings: list[str] = []
    inventory = Inventory(sources=("inv.yml",), hosts=(), groups={}, cluster_vars={})
    with open_state(inventory, path, warnings.append):
        pass
    assert warnings == []  # made private
    path.chmod(0o644)
    with open_state(inventory, path, warnings.append):
        pass
    assert warnings == [f"{path}: the state file is open to group or others (mode 0644); make it private: chmod 600 {path}"]


def test_open_state_takes_a_url(tmp_path: Path) -> None:
    path = tmp_path / "cluster.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    warnings: list[str] = []
    inventory = Inventory(sources=("inv.yml",), hosts=(), groups={}, cluster_vars={"sshorch_cluster": "prod"})
    with open_state(inventory, f"sqlite://{path}", warnings.append) as store:
        assert store.get_meta("cluster") == "prod"
    assert warnings == [f"{path}: the state file is open to group or others (mode 0644); make it private: chmod 600 {path}"]
    with open_state(inventory, "memory://", warnings.append) as store:
        assert store.location == "memory://" and store.get_meta("cluster") == "prod"
    assert len(warnings) == 1
