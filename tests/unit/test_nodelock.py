"""The node lock, run for real with sh and flock on a lock file in tmp_path:
actions hold it alone, gathers share it, and a gather never waits on a node no run has acted on."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sshorch.run.nodelock import BUSY_STATUS, gave_up, locked, shared
from sshorch.transport import CommandResult


@contextmanager
def held(lock: Path, *flags: str) -> Iterator[None]:
    """The lock held by another process (as a dead run's leftover script would) until the block ends."""
    # Its own process group: the sleep shares flock's descriptor, so both must go to free the lock.
    with subprocess.Popen(["flock", *flags, str(lock), "sleep", "30"], start_new_session=True) as holder:
        try:
            deadline = time.monotonic() + 10
            while subprocess.run(["flock", "-n", str(lock), "true"]).returncode == 0 and time.monotonic() < deadline:
                pass
            yield
        finally:
            os.killpg(holder.pid, signal.SIGKILL)


def test_a_locked_script_runs_with_its_argument_quoting_intact(tmp_path: Path) -> None:
    lock = str(tmp_path / "run" / "node.lock")
    done = subprocess.run(locked("printf '%s|' \"$0\" 'a b'", lock), capture_output=True, text=True, timeout=20)
    assert done.stdout == "sh|a b|" and done.returncode == 0


@pytest.mark.parametrize("wrap", [locked, shared], ids=["actions", "gather"])
def test_actions_and_gathers_wait_out_actions_under_way_and_say_so_when_they_give_up(
    tmp_path: Path, wrap: Callable[..., list[str]]
) -> None:
    lock = tmp_path / "node.lock"
    argv = wrap("echo ran", str(lock), wait_seconds=1)
    with held(lock):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    assert done.returncode == BUSY_STATUS and done.stdout == ""
    assert gave_up(CommandResult(tuple(argv), done.returncode, done.stdout.encode(), b""))
    ran = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    assert not gave_up(CommandResult(tuple(argv), ran.returncode, ran.stdout.encode(), b"")) and ran.stdout == "ran\n"


def test_processes_a_locked_script_leaves_behind_do_not_hold_the_lock(tmp_path: Path) -> None:
    # conmon outlives the podman command that started it; it must not keep the node locked.
    lock = str(tmp_path / "node.lock")
    done = subprocess.run(locked("sleep 30 >/dev/null 2>&1 & echo $!", lock), capture_output=True, text=True, timeout=20)
    left = int(done.stdout)
    try:
        assert subprocess.run(["flock", "-n", lock, "true"]).returncode == 0
    finally:
        os.kill(left, signal.SIGKILL)


def test_gathers_read_side_by_side(tmp_path: Path) -> None:
    lock = tmp_path / "node.lock"
    with held(lock, "-s"):
        done = subprocess.run(shared("echo read", str(lock), wait_seconds=1), capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and done.stdout == "read\n"


def test_a_gather_on_a_node_no_run_acted_on_makes_nothing(tmp_path: Path) -> None:
    lock = tmp_path / "run" / "node.lock"
    done = subprocess.run(shared("printf '%s|' 'a b'", str(lock)), capture_output=True, text=True, timeout=20)
    assert done.stdout == "a b|" and done.returncode == 0
    assert not lock.parent.exists()
