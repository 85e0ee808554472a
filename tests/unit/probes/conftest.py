"""Fixtures for probe tests: a fake container runtime on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FAKE_RUNTIME = """#!/bin/sh
# A fake runtime: `podman exec NAME CMD...` runs CMD here, with $CONTAINER set to NAME.
[ "$1" = exec ] || { echo "fake podman: only exec" >&2; exit 125; }
name=$2
shift 2
CONTAINER=$name exec "$@"
"""


@pytest.fixture()
def fake_runtime(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH finds the fake `podman` first (and TMPDIR inside tmp_path)."""
    binary = tmp_path / "bin" / "podman"
    binary.parent.mkdir()
    binary.write_text(FAKE_RUNTIME)
    binary.chmod(0o755)
    return {**os.environ, "PATH": f"{binary.parent}:{os.environ['PATH']}", "TMPDIR": str(tmp_path)}
