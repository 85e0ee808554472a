from collections.abc import Iterator
from pathlib import Path

import pytest

from sshorch.state.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore.open(tmp_path / "state" / "test.db") as opened:
        yield opened
