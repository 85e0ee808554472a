"""What every StateStore does, whatever keeps it: each test runs on SQLite (a temporary file) and in memory."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sshorch.state import (
    ENCRYPTED_PREFIX,
    EVENT_NORMAL,
    EVENT_WARNING,
    NODE_NOT_READY,
    NODE_READY,
    NODE_UNKNOWN,
    REVISION_COMPLETE,
    REVISION_FAILED,
    REVISION_PENDING,
    Event,
    LockHolder,
    NodeHealth,
    Record,
    StateError,
    StateStore,
    StoredSecret,
    open_store,
)

NAMES: Record[frozenset[str]] = Record("draining", sorted, frozenset, frozenset)
COUNTS: Record[dict[str, int]] = Record("counts", dict, lambda raw: {k: int(v) for k, v in raw.items()}, dict)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    location = f"sqlite://{tmp_path}/state.db" if request.param == "sqlite" else "memory://"
    with open_store(location) as opened:
        yield opened


def encrypted(text: str) -> str:
    return ENCRYPTED_PREFIX + text


def deployment(image: str) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}


# Records, metadata, cluster


def test_a_record_missing_reads_as_empty_and_round_trips(store: StateStore) -> None:
    assert store.load(NAMES) == frozenset()
    store.save(NAMES, frozenset({"b", "a"}))
    assert store.load(NAMES) == frozenset({"a", "b"})
    store.save(COUNTS, {"x": 1})
    assert store.load(COUNTS) == {"x": 1}
    assert store.load(NAMES) == frozenset({"a", "b"})  # records do not overwrite each other


def test_a_damaged_record_reads_as_empty(store: StateStore) -> None:
    store.save(Record("counts", lambda v: v, lambda raw: raw, dict), {"x": "not a number"})
    assert store.load(COUNTS) == {}


def test_a_saved_value_is_not_shared_with_the_caller(store: StateStore) -> None:
    counts = {"x": 1}
    store.save(COUNTS, counts)
    counts["x"] = 2
    assert store.load(COUNTS) == {"x": 1}


def test_a_value_that_is_not_json_is_a_state_error(store: StateStore) -> None:
    with pytest.raises(StateError, match="record odd"):
        store.save(Record("odd", lambda v: v, lambda raw: raw, dict), {"x": object()})


def test_meta(store: StateStore) -> None:
    assert store.get_meta("k") is None
    store.set_meta("k", "v1")
    store.set_meta("k", "v2")
    assert store.get_meta("k") == "v2"
    assert store.meta_default("d", "first") == "first"
    assert store.meta_default("d", "second") == "first"


def test_cluster_is_recorded_at_first_use_then_checked(store: StateStore) -> None:
    store.check_cluster("a")
    store.check_cluster("a")
    with pytest.raises(StateError, match=f"{store.location}.*belongs to cluster 'a', not 'b'"):
        store.check_cluster("b")


# Transactions


def test_a_transaction_commits_everything_inside(store: StateStore) -> None:
    with store.transaction():
        store.set_meta("k", "v")
        store.save(NAMES, frozenset({"p"}))
        assert store.get_meta("k") == "v"  # reads inside see the transaction's writes
    assert store.get_meta("k") == "v"
    assert store.load(NAMES) == {"p"}


def test_an_error_in_a_transaction_undoes_everything_inside(store: StateStore) -> None:
    store.set_meta("k", "before")
    with pytest.raises(StateError):
        with store.transaction():
            store.set_meta("k", "after")
            store.save(NAMES, frozenset({"p"}))
            store.set_counter("c", 3)
            store.allocate("vip", "web", "10.0.0.1")
            store.allocate("vip", "db", "10.0.0.1")  # taken: fails, and takes the rest with it
    assert store.get_meta("k") == "before"
    assert store.load(NAMES) == frozenset()
    assert store.counter("c") == 0
    assert store.allocations("vip") == {}


def test_an_error_caught_inside_a_transaction_leaves_the_rest_to_commit(store: StateStore) -> None:
    with store.transaction():
        store.allocate("vip", "web", "10.0.0.1")
        with pytest.raises(StateError, match="already held by web"):
            store.allocate("vip", "db", "10.0.0.1")
        store.set_meta("k", "v")
    assert store.allocations("vip") == {"web": "10.0.0.1"}
    assert store.get_meta("k") == "v"


def test_transactions_nest(store: StateStore) -> None:
    with store.transaction():
        with store.transaction():
            store.set_meta("k", "v")
    assert store.get_meta("k") == "v"


# Secrets set by `sshorch secret set`


def test_stored_secrets(store: StateStore) -> None:
    assert store.stored_secret("default", "db") == {}
    store.set_stored_secret("default", "db", {"password": encrypted("p"), "user": encrypted("u")}, now=10)
    store.set_stored_secret("default", "db", {"user": encrypted("u2")}, now=20)
    store.set_stored_secret("other", "api", {"token": encrypted("t")}, now=5)
    assert store.stored_secret("default", "db") == {"password": encrypted("p"), "user": encrypted("u2")}
    assert store.stored_secrets() == (
        StoredSecret("default", "db", ("password", "user"), 20.0),
        StoredSecret("other", "api", ("token",), 5.0),
    )
    assert store.remove_stored_secret("default", "db", ("user", "missing")) == 1
    assert store.stored_secret("default", "db") == {"password": encrypted("p")}
    assert store.remove_stored_secret("other", "api") == 1
    assert store.stored_secrets() == (StoredSecret("default", "db", ("password",), 10.0),)


def test_a_clear_stored_secret_is_refused_and_nothing_is_kept(store: StateStore) -> None:
    with pytest.raises(StateError, match="default/db: user is not encrypted"):
        store.set_stored_secret("default", "db", {"password": encrypted("p"), "user": "clear"}, now=1)
    assert store.stored_secret("default", "db") == {}
    assert store.stored_secrets() == ()


# Desired state


def test_desired_keeps_the_last_apply(store: StateStore) -> None:
    assert store.desired() is None
    first = store.record_desired([{"kind": "ConfigMap", "data": {"a": "1"}}], now=1, source="a.yaml", applysets=["a"] * 1)
    second = store.record_desired([{"kind": "ConfigMap", "data": {"a": "2"}}], now=2, source="b.yaml", applysets=["a"] * 1)
    assert second > first
    record = store.desired()
    assert record is not None
    assert (record.id, record.documents, record.applied_at, record.source, record.applysets) == (
        second, ({"kind": "ConfigMap", "data": {"a": "2"}},), 2, "b.yaml", ("a",)
    )
    assert store.desired_sources() == ("b.yaml", "a.yaml")


def test_desired_keeps_each_documents_apply_set(store: StateStore) -> None:
    with pytest.raises(StateError, match="2 documents but 1 apply sets"):
        store.record_desired([{"n": 1}, {"n": 2}], now=1, source="", applysets=["shop"])
    store.record_desired([{"n": 1}, {"n": 2}], now=1, source="", applysets=["shop", "hello"])
    record = store.desired()
    assert record is not None and record.applysets == ("shop", "hello")


def test_desired_refuses_clear_secrets_and_values_that_are_not_json(store: StateStore) -> None:
    with pytest.raises(StateError, match="not encrypted"):
        store.record_desired([{"kind": "Secret", "metadata": {"name": "db"}, "data": {"k": "clear"}}], now=1, source="", applysets=["a"] * 1)
    with pytest.raises(StateError, match="cannot be stored as JSON"):
        store.record_desired([{"kind": "ConfigMap", "data": {"when": object()}}], now=1, source="", applysets=["a"] * 1)
    assert store.desired() is None
    store.record_desired([{"kind": "Secret", "data": {"k": encrypted("x")}}], now=1, source="", applysets=["a"] * 1)


def test_apply_ids_never_go_back(store: StateStore) -> None:
    ids = [store.record_desired([{"n": n}], now=n, source="", applysets=["a"] * 1) for n in range(25)]
    assert ids == sorted(set(ids))
    record = store.desired()
    assert record is not None and record.id == ids[-1] and record.documents == ({"n": 24},)


# Revisions


def test_revisions_record_status_prune_and_forget(store: StateStore) -> None:
    key = "deployment/default/web"
    assert store.current_revision(key) is None
    one = store.record_revision(key, "h1", deployment("v1"), now=1, cause="apply")
    assert (one.number, one.status, one.cause, one.template) == (1, REVISION_PENDING, "apply", deployment("v1"))
    assert store.record_revision(key, "h1", deployment("v1"), now=2) == one  # same template: same revision
    two = store.record_revision(key, "h2", deployment("v2"), now=3)
    three = store.record_revision(key, "h3", deployment("v3"), now=4)
    assert [r.number for r in store.revisions(key)] == [1, 2, 3]
    assert store.current_revision(key) == three
    store.set_revision_status(key, 2, REVISION_FAILED, "crash loop")
    failed = store.revisions(key)[1]
    assert (failed.status, failed.reason, failed.template_hash) == (REVISION_FAILED, "crash loop", two.template_hash)
    with pytest.raises(StateError, match="has no revision 9"):
        store.set_revision_status(key, 9, REVISION_COMPLETE)
    with pytest.raises(ValueError):
        store.set_revision_status(key, 1, "bogus")
    # Going back to h1 renumbers it as the newest.
    back = store.record_revision(key, "h1", deployment("v1"), now=5)
    assert back.number == 4 and [r.template_hash for r in store.revisions(key)] == ["h2", "h3", "h1"]
    assert store.prune_revisions(key, 1) == 1
    assert [r.number for r in store.revisions(key)] == [3, 4]
    with pytest.raises(ValueError):
        store.prune_revisions(key, -1)
    store.record_revision("deployment/default/db", "d1", deployment("db"), now=1)
    assert store.workloads_with_revisions() == ("deployment/default/db", key)
    store.forget_workload(key)
    assert store.revisions(key) == () and store.workloads_with_revisions() == ("deployment/default/db",)


def test_a_returned_template_is_the_callers_to_change(store: StateStore) -> None:
    revision = store.record_revision("deployment/default/web", "h1", deployment("v1"), now=1)
    revision.template["spec"] = {}
    assert store.revisions("deployment/default/web")[0].template == deployment("v1")


# Allocations


def test_allocations(store: StateStore) -> None:
    store.allocate("vip", "web", "10.96.0.2")
    store.allocate("vip", "web", "10.96.0.2")  # the same pair again: nothing to do
    store.allocate("vip", "api", "10.96.0.3")
    store.allocate("nodeport", "web", "30000")
    assert store.allocations("vip") == {"api": "10.96.0.3", "web": "10.96.0.2"}
    assert list(store.allocations("vip")) == ["api", "web"]
    with pytest.raises(StateError, match="vip for web is already 10.96.0.2, not 10.96.0.9"):
        store.allocate("vip", "web", "10.96.0.9")
    with pytest.raises(StateError, match="vip 10.96.0.3 is already held by api"):
        store.allocate("vip", "db", "10.96.0.3")
    store.release("vip", "api")
    assert store.allocations("vip") == {"web": "10.96.0.2"}
    store.replace_allocations("vip", {"db": "10.96.0.5", "web": "10.96.0.2"})
    assert store.allocations("vip") == {"db": "10.96.0.5", "web": "10.96.0.2"}
    with pytest.raises(StateError, match="given to both"):
        store.replace_allocations("vip", {"a": "10.96.0.7", "b": "10.96.0.7"})
    assert store.allocations("vip") == {"db": "10.96.0.5", "web": "10.96.0.2"}
    assert store.allocations("nodeport") == {"web": "30000"}


# Node health and cordon


def test_node_health_times_changes_of_status(store: StateStore) -> None:
    assert store.node_health() == {}
    assert store.record_node_status("n1", NODE_READY, now=10) == NodeHealth("n1", NODE_READY, 10.0, "", 10.0)
    assert store.record_node_status("n1", NODE_READY, now=20).since == 10.0
    down = store.record_node_status("n1", NODE_NOT_READY, now=30, reason="ssh timeout")
    assert down == NodeHealth("n1", NODE_NOT_READY, 30.0, "ssh timeout", 20.0)
    assert store.record_node_status("n1", NODE_NOT_READY, now=40, reason="ssh timeout").since == 30.0
    with pytest.raises(ValueError):
        store.record_node_status("n1", "Gone", now=50)
    assert store.node_health() == {"n1": NodeHealth("n1", NODE_NOT_READY, 30.0, "ssh timeout", 20.0)}


def test_cordon_before_and_after_a_node_is_seen(store: StateStore) -> None:
    store.set_cordoned("new", True)
    assert store.node_health()["new"] == NodeHealth("new", NODE_UNKNOWN, 0.0, "", None, True)
    store.record_node_status("new", NODE_READY, now=5)
    assert store.node_health()["new"].cordoned  # a pass keeps the cordon
    store.set_cordoned("new", False)
    assert store.node_health()["new"] == NodeHealth("new", NODE_READY, 5.0, "", 5.0, False)
    store.record_node_status("other", NODE_READY, now=1)
    assert list(store.node_health()) == ["new", "other"]
    store.forget_node("new")
    assert list(store.node_health()) == ["other"]


# Counters


def test_counters(store: StateStore) -> None:
    assert store.counter("restarts/a") == 0
    store.set_counter("restarts/a", 2)
    store.set_counter("restarts/b", 3)
    store.set_counter("restarts_x", 9)  # '_' is literal in a prefix
    store.set_counter("other", 1)
    assert store.counter("restarts/a") == 2
    assert store.counters("restarts/") == {"restarts/a": 2, "restarts/b": 3}
    assert store.counters("restarts_") == {"restarts_x": 9}
    assert store.clear_counters("restarts/") == 2
    assert store.counters("restarts") == {"restarts_x": 9}
    assert store.counter("other") == 1


# Events


def event(time: float, object: str = "deployment/web", reason: str = "Scaled") -> Event:
    return Event(time, EVENT_NORMAL, reason, object, f"at {time}")


def test_events_since_object_and_limit(store: StateStore) -> None:
    assert store.events() == ()
    store.add_events([event(3), event(1), event(2, "job/migrate"), Event(2, EVENT_WARNING, "Failed", "pod/x", "m", "n1")])
    assert [e.time for e in store.events()] == [1, 2, 2, 3]
    assert store.events(since=2, limit=2) == (Event(2, EVENT_WARNING, "Failed", "pod/x", "m", "n1"), event(3))
    assert store.events(object="job/migrate") == (event(2, "job/migrate"),)
    assert store.events(limit=0) == ()
    with pytest.raises(ValueError):
        store.add_events([Event(4, "Bogus", "r", "o", "m")])
    assert len(store.events()) == 4


def test_pruning_keeps_the_newest_events(store: StateStore) -> None:
    store.add_events([event(t) for t in (5, 1, 4, 2, 3)])
    store.prune_events(keep=2)
    assert [e.time for e in store.events()] == [4, 5]
    store.prune_events(keep=0)
    assert store.events() == ()


# Run lock


def holder(pid: int, host: str = "controller-1", since: float = 100.0) -> LockHolder:
    return LockHolder(pid=pid, host=host, command="sshorch converge", since=since)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_run_lock_is_held_by_one_run(store: StateStore) -> None:
    me, other = holder(os.getpid()), holder(os.getppid(), since=105)
    assert store.lock_holder() is None
    assert store.acquire_lock(me, now=100) is None
    assert store.acquire_lock(me, now=101) is None  # the same process again
    assert store.acquire_lock(other, now=105) == me
    store.release_lock(other)  # not its lock: nothing happens
    assert store.lock_holder() == me
    store.release_lock(me)
    assert store.lock_holder() is None
    assert store.acquire_lock(other, now=106) is None


def test_a_stale_lock_is_taken_over(store: StateStore) -> None:
    dead = holder(dead_pid())
    assert store.acquire_lock(dead, now=100) is None
    me = holder(os.getpid(), since=110)
    assert store.acquire_lock(me, now=110) is None  # same host, process gone
    remote = holder(1, host="controller-2", since=120)
    assert store.acquire_lock(remote, now=120) == me
    # Another host cannot see the process: the lock is stale once older than stale_after.
    assert store.acquire_lock(holder(2, host="controller-3", since=150), now=150, stale_after=60) == me
    assert store.acquire_lock(holder(2, host="controller-3", since=200), now=200, stale_after=60) is None
    assert store.lock_holder() == holder(2, host="controller-3", since=200)
