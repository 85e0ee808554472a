import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sshorch.state import LockHolder
from sshorch.state.sqlite import SqliteStore

HERE = "controller-1"


def holder(pid: int, host: str = HERE, since: float = 100.0, command: str = "sshorch converge") -> LockHolder:
    return LockHolder(pid=pid, host=host, command=command, since=since)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid no longer names a process
    return child.pid


def test_acquire_free_lock(store: SqliteStore) -> None:
    me = holder(os.getpid())
    assert store.lock_holder() is None
    assert store.acquire_lock(me, now=100) is None
    assert store.lock_holder() == me


def test_second_acquire_returns_the_live_holder(store: SqliteStore) -> None:
    first = holder(os.getpid(), command="sshorch apply -f web.yaml")
    second = holder(os.getppid(), since=105)
    assert store.acquire_lock(first, now=100) is None
    assert store.acquire_lock(second, now=105) == first
    assert store.lock_holder() == first


def test_same_process_acquires_again(store: SqliteStore) -> None:
    assert store.acquire_lock(holder(os.getpid()), now=100) is None
    assert store.acquire_lock(holder(os.getpid(), since=200), now=200) is None
    assert store.lock_holder() == holder(os.getpid(), since=200)


def test_dead_holder_on_this_host_is_taken_over(store: SqliteStore) -> None:
    stale = holder(dead_pid())
    me = holder(os.getpid(), since=110)
    assert store.acquire_lock(stale, now=100) is None
    assert store.acquire_lock(me, now=110) is None
    assert store.lock_holder() == me


def test_holder_on_another_host_is_kept_unless_stale_after_is_given(store: SqliteStore) -> None:
    remote = holder(dead_pid(), host="controller-2", since=100)  # its pid means nothing here
    me = holder(os.getpid(), since=1000)
    assert store.acquire_lock(remote, now=100) is None
    assert store.acquire_lock(me, now=1000) == remote
    assert store.acquire_lock(me, now=1000, stale_after=3600) == remote
    assert store.acquire_lock(me, now=160, stale_after=60) == remote
    assert store.acquire_lock(me, now=161, stale_after=60) is None
    assert store.lock_holder() == me


def test_release_by_holder(store: SqliteStore) -> None:
    me = holder(os.getpid())
    store.release_lock(me)  # nothing held: fine
    store.acquire_lock(me, now=100)
    store.release_lock(me)
    assert store.lock_holder() is None


def test_release_by_non_holder_is_ignored(store: SqliteStore) -> None:
    me = holder(os.getpid())
    store.acquire_lock(me, now=100)
    store.release_lock(holder(os.getppid()))
    store.release_lock(holder(os.getpid(), host="controller-2"))
    assert store.lock_holder() == me


def test_lock_is_seen_by_another_store_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    me = holder(os.getpid())
    with SqliteStore.open(path) as first, SqliteStore.open(path) as second:
        assert first.acquire_lock(me, now=100) is None
        assert second.lock_holder() == me
        assert second.acquire_lock(holder(os.getppid()), now=101) == me


def _race(path: str, iterations: int, inside: Any, overlaps: Any, acquired: Any) -> None:
    me = LockHolder(os.getpid(), HERE, "race", 0.0)
    with SqliteStore.open(Path(path)) as store:
        done = 0
        while done < iterations:
            if store.acquire_lock(me, now=0.0) is not None:
                time.sleep(0.0002)
                continue
            with inside.get_lock():
                inside.value += 1
                if inside.value > 1:
                    overlaps.value += 1
            time.sleep(0.0005)  # widen the window a second holder would show up in
            if store.lock_holder() != me:
                with overlaps.get_lock():
                    overlaps.value += 1
            with inside.get_lock():
                inside.value -= 1
            store.release_lock(me)
            with acquired.get_lock():
                acquired.value += 1
            done += 1


def test_processes_racing_never_both_hold_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SqliteStore.open(path).close()
    context = multiprocessing.get_context("fork")
    inside, overlaps, acquired = context.Value("i", 0), context.Value("i", 0), context.Value("i", 0)
    processes, iterations = 3, 60
    racers = [
        context.Process(target=_race, args=(str(path), iterations, inside, overlaps, acquired)) for _ in range(processes)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    assert [racer.exitcode for racer in racers] == [0] * processes
    assert overlaps.value == 0
    assert acquired.value == processes * iterations
    with SqliteStore.open(path) as store:
        assert store.lock_holder() is None
