"""A store that notes each call, and whether it happened inside a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sshorch.state import StateStore


class CountingStore:
    """A store that notes each write, and whether it happened inside a transaction."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.calls: list[Any] = []
        self.depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.calls.append("begin")
        self.depth += 1
        with self.inner.transaction():
            yield
        self.depth -= 1

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, self.depth > 0))
            return attr(*args, **kwargs)

        return call

    @property
    def transactions(self) -> int:
        return self.calls.count("begin")

    @property
    def outside(self) -> list[str]:
        return [call[0] for call in self.calls if call != "begin" and not call[1]]
