import pytest

from sshorch.state import StateError, workload_key
from sshorch.state.sqlite import SqliteStore

WEB = "deployment/default/web"


def template(image: str) -> dict[str, object]:
    return {"spec": {"containers": [{"name": "app", "image": image}]}}


def record(store: SqliteStore, hash_: str, now: float = 0.0, cause: str = "") -> int:
    return store.record_revision(WEB, hash_, template(hash_), now=now, cause=cause).number


def numbers_and_hashes(store: SqliteStore) -> list[tuple[int, str]]:
    return [(r.number, r.template_hash) for r in store.revisions(WEB)]


def test_workload_key_lowercases_the_kind() -> None:
    assert workload_key("Deployment", "default", "web") == WEB


def test_no_revisions_yet(store: SqliteStore) -> None:
    assert store.revisions(WEB) == ()
    assert store.current_revision(WEB) is None
    assert store.workloads_with_revisions() == ()


def test_round_trip(store: SqliteStore) -> None:
    made = store.record_revision(WEB, "h1", template("nginx:1"), now=10, cause="apply deploy.yaml")
    assert made.number == 1
    assert made.status == "pending"
    assert store.revisions(WEB) == (made,)
    assert store.current_revision(WEB) == made
    assert made.template == template("nginx:1")
    assert made.created_at == 10.0 and made.cause == "apply deploy.yaml" and made.reason == ""


def test_numbers_are_per_workload(store: SqliteStore) -> None:
    record(store, "a")
    record(store, "b")
    other = store.record_revision("daemonset/kube/agent", "a", template("a"), now=0)
    assert other.number == 1
    assert store.workloads_with_revisions() == ("daemonset/kube/agent", WEB)


def test_same_hash_is_idempotent(store: SqliteStore) -> None:
    first = store.record_revision(WEB, "h1", template("x"), now=1, cause="first")
    store.set_revision_status(WEB, 1, "complete")
    again = store.record_revision(WEB, "h1", template("x"), now=2, cause="second")
    assert again.number == 1 and again.created_at == first.created_at and again.cause == "first"
    assert again.status == "complete"
    assert numbers_and_hashes(store) == [(1, "h1")]


def test_rollback_renumbers_the_old_template_as_newest(store: SqliteStore) -> None:
    assert [record(store, h, now=i) for i, h in enumerate(["a", "b", "c"])] == [1, 2, 3]
    assert record(store, "a", now=10, cause="rollout undo") == 4
    assert numbers_and_hashes(store) == [(2, "b"), (3, "c"), (4, "a")]
    current = store.current_revision(WEB)
    assert current is not None
    assert current.template == template("a") and current.status == "pending" and current.cause == "rollout undo"
    assert record(store, "b") == 5
    assert numbers_and_hashes(store) == [(3, "c"), (4, "a"), (5, "b")]


def test_status_and_reason(store: SqliteStore) -> None:
    record(store, "a")
    record(store, "b")
    store.set_revision_status(WEB, 2, "failed", "progress deadline exceeded")
    store.set_revision_status(WEB, 1, "rolled-back")
    first, second = store.revisions(WEB)
    assert (first.status, first.reason) == ("rolled-back", "")
    assert (second.status, second.reason) == ("failed", "progress deadline exceeded")


def test_unknown_status_is_a_bug(store: SqliteStore) -> None:
    record(store, "a")
    with pytest.raises(ValueError, match="not one of"):
        store.set_revision_status(WEB, 1, "done")


def test_status_of_missing_revision_is_an_error(store: SqliteStore) -> None:
    record(store, "a")
    with pytest.raises(StateError, match="has no revision 7"):
        store.set_revision_status(WEB, 7, "complete")


def test_prune_keeps_current_plus_history(store: SqliteStore) -> None:
    for i in range(6):
        record(store, f"h{i}")
    assert store.prune_revisions(WEB, keep=2) == 3
    assert [n for n, _ in numbers_and_hashes(store)] == [4, 5, 6]
    assert store.prune_revisions(WEB, keep=2) == 0
    assert store.prune_revisions(WEB, keep=0) == 2
    assert numbers_and_hashes(store) == [(6, "h5")]
    assert record(store, "new") == 7  # numbering continues after pruning


def test_prune_leaves_other_workloads(store: SqliteStore) -> None:
    record(store, "a")
    record(store, "b")
    store.record_revision("deployment/default/api", "x", {}, now=0)
    store.record_revision("deployment/default/api", "y", {}, now=0)
    store.prune_revisions(WEB, keep=0)
    assert len(store.revisions("deployment/default/api")) == 2


def test_negative_keep_is_a_bug(store: SqliteStore) -> None:
    with pytest.raises(ValueError):
        store.prune_revisions(WEB, keep=-1)


def test_forget_workload(store: SqliteStore) -> None:
    record(store, "a")
    store.record_revision("deployment/default/api", "x", {}, now=0)
    store.forget_workload(WEB)
    assert store.revisions(WEB) == ()
    assert store.workloads_with_revisions() == ("deployment/default/api",)
    assert record(store, "a") == 1  # a workload that comes back starts again at 1
