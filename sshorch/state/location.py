"""Where the state is: a URL names the store (sqlite:///path, memory://), a plain path a SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

from sshorch.state.failures import StateError
from sshorch.state.inmemory import InMemoryStore
from sshorch.state.sqlite import SqliteStore
from sshorch.state.store import StateStore

SCHEMES = ("sqlite", "memory")


def state_file(location: str | os.PathLike[str]) -> Path | None:
    """The SQLite file a location names, or None for a store without one; StateError for an unknown scheme."""
    if not isinstance(location, str):
        return Path(location)
    scheme, separator, rest = location.partition("://")
    if not separator:
        return Path(location)
    if scheme == "sqlite":
        if not rest:
            raise StateError(f"state location {location!r} names no file; write sqlite:///absolute/path")
        return Path(rest).expanduser()
    if scheme == "memory":
        return None
    raise StateError(
        f"state location {location!r}: unknown scheme {scheme!r}; use one of "
        + ", ".join(f"{name}://" for name in SCHEMES) + " or a file path"
    )


def open_store(location: str | os.PathLike[str]) -> StateStore:
    """Open the store a location names; `memory://` is a new, empty store each time."""
    path = state_file(location)
    if path is None:
        return InMemoryStore()
    return SqliteStore.open(path)
