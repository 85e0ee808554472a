import pytest

from sshorch.state import NodeHealth
from sshorch.state.sqlite import SqliteStore


def test_first_report(store: SqliteStore) -> None:
    assert store.node_health() == {}
    health = store.record_node_status("web01", "Ready", now=100)
    assert health == NodeHealth("web01", "Ready", since=100.0, reason="", last_seen=100.0, cordoned=False)
    assert store.node_health() == {"web01": health}


def test_first_report_not_ready_has_never_been_seen(store: SqliteStore) -> None:
    health = store.record_node_status("web01", "NotReady", now=100, reason="connection refused")
    assert (health.since, health.last_seen, health.reason) == (100.0, None, "connection refused")


def test_since_changes_only_when_status_changes(store: SqliteStore) -> None:
    store.record_node_status("web01", "Ready", now=100)
    assert store.record_node_status("web01", "Ready", now=110).since == 100.0
    down = store.record_node_status("web01", "NotReady", now=120, reason="timeout")
    assert (down.since, down.last_seen) == (120.0, 110.0)
    still = store.record_node_status("web01", "NotReady", now=190, reason="no route to host")
    assert (still.since, still.last_seen, still.reason) == (120.0, 110.0, "no route to host")
    back = store.record_node_status("web01", "Ready", now=200)
    assert (back.since, back.last_seen, back.reason) == (200.0, 200.0, "")
    assert store.node_health()["web01"] == back


def test_unknown_status_is_a_bug(store: SqliteStore) -> None:
    with pytest.raises(ValueError):
        store.record_node_status("web01", "Cordoned", now=1)


def test_cordon_survives_status_changes(store: SqliteStore) -> None:
    store.record_node_status("web01", "Ready", now=100)
    store.set_cordoned("web01", True)
    assert store.node_health()["web01"].cordoned
    assert store.node_health()["web01"].since == 100.0
    assert store.record_node_status("web01", "NotReady", now=120).cordoned
    store.set_cordoned("web01", False)
    assert not store.node_health()["web01"].cordoned


def test_cordon_before_first_observation(store: SqliteStore) -> None:
    store.set_cordoned("web09", True)
    assert store.node_health()["web09"] == NodeHealth("web09", "Unknown", 0.0, "", None, True)
    health = store.record_node_status("web09", "Ready", now=50)
    assert (health.status, health.since, health.cordoned) == ("Ready", 50.0, True)


def test_forget_node(store: SqliteStore) -> None:
    store.record_node_status("web01", "Ready", now=1)
    store.record_node_status("web02", "Ready", now=1)
    store.forget_node("web01")
    assert list(store.node_health()) == ["web02"]
