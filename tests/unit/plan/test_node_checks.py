"""The checks a node makes before a pod's mounts, run with the real sh and realpath."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sshorch.plan.podbuild import _HOST_PATH_CHECK, _SUB_PATH_CHECK


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", script, "sh", *args], capture_output=True, text=True)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "srv" / "data").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "srv" / "data" / "escape").symlink_to(tmp_path / "etc")
    (tmp_path / "link-to-data").symlink_to(tmp_path / "srv" / "data")
    return tmp_path


def test_a_host_path_under_an_allowed_one_passes(tree: Path) -> None:
    allowed = str(tree / "srv" / "data")
    assert run(_HOST_PATH_CHECK, f"{allowed}/new/dir", allowed).returncode == 0
    assert run(_HOST_PATH_CHECK, allowed, "/x", allowed).returncode == 0
    # The allowed path itself may be a symlink on the node: compared resolved.
    assert run(_HOST_PATH_CHECK, f"{allowed}/x", str(tree / "link-to-data")).returncode == 0


def test_a_host_path_that_escapes_through_a_symlink_is_refused(tree: Path) -> None:
    allowed = str(tree / "srv" / "data")
    done = run(_HOST_PATH_CHECK, f"{allowed}/escape/passwd", allowed)
    assert done.returncode == 1
    assert done.stderr.strip() == f"hostPath resolves to {tree}/etc/passwd, which is not under sshorch_allowed_host_paths"


def test_a_host_path_with_no_allowed_path_is_refused(tree: Path) -> None:
    assert run(_HOST_PATH_CHECK, str(tree / "srv")).returncode == 1
    assert run(_HOST_PATH_CHECK, str(tree / "srvx"), str(tree / "srv")).returncode == 1  # a prefix, not a string prefix


def test_a_sub_path_through_a_symlink_a_container_made_is_refused(tree: Path) -> None:
    volume = str(tree / "srv" / "data")
    done = run(_SUB_PATH_CHECK, volume, "escape")
    assert done.returncode == 1 and "outside its volume" in done.stderr
    assert not os.path.exists(tree / "etc" / "sub")


def test_a_sub_path_inside_its_volume_is_made_when_missing(tree: Path) -> None:
    volume = tree / "srv" / "data"
    assert run(_SUB_PATH_CHECK, str(volume), "a/b").returncode == 0
    assert (volume / "a" / "b").is_dir()
    (volume / "file").write_text("x")
    assert run(_SUB_PATH_CHECK, str(volume), "file").returncode == 0  # an existing file stays a file
