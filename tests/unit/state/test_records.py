import sqlite3
from pathlib import Path

from sshorch.state import Record
from sshorch.state.schema import MIGRATIONS, migrate
from sshorch.state.sqlite import SqliteStore

DRAINING: Record[frozenset[str]] = Record("draining", sorted, frozenset, frozenset)


def test_records_an_earlier_file_kept_in_meta_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[:2])  # a file from before records had their own table
    conn.execute("INSERT INTO meta (key, value) VALUES ('draining', '[\"web-1\"]'), ('cluster', 'prod')")
    conn.close()
    with SqliteStore.open(path) as store:
        assert store.load(DRAINING) == {"web-1"}
        assert store.get_meta("draining") is None  # moved, not copied
        assert store.get_meta("cluster") == "prod"
