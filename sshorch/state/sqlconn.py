"""One SQLite connection per store, shared by the controller's threads under a lock."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sshorch.state.failures import DamagedRecord, StateError
from sshorch.state.schema import migrate

# Long enough to wait out another process's write transaction, short enough to report a wedged one.
BUSY_TIMEOUT_SECONDS = 10.0


class Database:
    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        # Open transactions of the thread holding the lock: an inner write or read joins the outer one.
        self._depth = 0

    @classmethod
    def open(cls, path: Path) -> Database:
        create_private_file(path)
        try:
            # isolation_level=None: transactions are begun explicitly, never implicitly by the module.
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise unreadable(path, error) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            # Safe with WAL: a power cut may lose the last commit, never corrupt the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn, path)
        except sqlite3.Error as error:
            conn.close()
            raise unreadable(path, error) from None
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; IMMEDIATE takes the file's write lock up front, so read-then-write is atomic.

        Inside another write it joins that one: everything commits, or rolls back, together."""
        with self._lock:
            outer = not self._depth
            if outer:
                self._run("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
                if outer:
                    self._run("COMMIT")
            except sqlite3.Error as error:
                if outer:
                    self._rollback()
                raise self._failed(error) from None
            except DamagedRecord as error:
                if outer:
                    self._rollback()
                raise StateError(f"{self.path}: {error}") from None
            except BaseException:
                if outer:
                    self._rollback()
                raise
            finally:
                self._depth -= 1

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Reads run in one deferred transaction, so several SELECTs see one snapshot; inside a write, in that one."""
        with self._lock:
            outer = not self._depth
            if outer:
                self._run("BEGIN")
            try:
                yield self._conn
            except sqlite3.Error as error:
                raise self._failed(error) from None
            except DamagedRecord as error:
                raise StateError(f"{self.path}: {error}") from None
            finally:
                if outer:
                    self._rollback()

    def _run(self, statement: str) -> None:
        try:
            self._conn.execute(statement)
        except sqlite3.Error as error:
            raise self._failed(error) from None

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the original error is the one worth reporting

    def _failed(self, error: sqlite3.Error) -> StateError:
        if "locked" in str(error) or "busy" in str(error):
            return StateError(
                f"{self.path}: state file stayed locked by another process for {BUSY_TIMEOUT_SECONDS:g} s; retry"
            )
        return StateError(f"{self.path}: state file error: {error}")


def create_private_file(path: Path) -> None:
    """Create missing parent directories (0700) and the file (0600); leave existing ones as they are."""
    missing = [parent for parent in reversed(path.parents) if not parent.exists()]
    try:
        for directory in missing:
            directory.mkdir(mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StateError(f"{path}: cannot create the state file ({error.strerror}); check the directory's permissions") from None
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def unreadable(path: Path, error: sqlite3.Error) -> StateError:
    return StateError(
        f"{path}: cannot read the state file ({error}); restore it from a backup, "
        "or move it aside to start with empty state"
    )
