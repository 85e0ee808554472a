"""Helpers for inventory tests: write a small inventory tree into a temporary directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteTree = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Write ``{relative path: content}`` under tmp_path (text is dedented) and return tmp_path."""

    def write(files: dict[str, str | bytes]) -> Path:
        for relative, content in files.items():
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"))
        return tmp_path

    return write
