import pytest

from sshorch.state import Event
from sshorch.state.sqlite import SqliteStore


def test_counter_round_trip(store: SqliteStore) -> None:
    assert store.counter("liveness/default/web-1/app") == 0
    store.set_counter("liveness/default/web-1/app", 2)
    store.set_counter("liveness/default/web-1/app", 3)
    assert store.counter("liveness/default/web-1/app") == 3


def test_counters_by_prefix_treat_wildcards_literally(store: SqliteStore) -> None:
    store.set_counter("restarts/a", 1)
    store.set_counter("restarts/b", 2)
    store.set_counter("restartsX", 9)
    store.set_counter("liveness/a", 5)
    store.set_counter("r_%/x", 7)
    assert store.counters("restarts/") == {"restarts/a": 1, "restarts/b": 2}
    assert store.counters("r_%") == {"r_%/x": 7}
    assert len(store.counters("")) == 5


def test_clear_counters(store: SqliteStore) -> None:
    store.set_counter("restarts/a", 1)
    store.set_counter("restarts/b", 2)
    store.set_counter("liveness/a", 5)
    assert store.clear_counters("restarts/") == 2
    assert store.counters("") == {"liveness/a": 5}


def event(time: float, obj: str = "deployment/default/web", type_: str = "Normal", node: str = "") -> Event:
    return Event(time, type_, "Scaled", obj, f"at {time}", node)


def test_events_round_trip(store: SqliteStore) -> None:
    assert store.events() == ()
    added = [event(1), event(2, type_="Warning", node="web01")]
    store.add_events(added)
    assert store.events() == tuple(added)


def test_events_are_oldest_first_of_the_newest_limit(store: SqliteStore) -> None:
    store.add_events([event(t) for t in (5, 1, 3, 2, 4)])
    assert [e.time for e in store.events(limit=3)] == [3, 4, 5]
    assert [e.time for e in store.events()] == [1, 2, 3, 4, 5]
    assert store.events(limit=0) == ()


def test_events_filter_by_time_and_object(store: SqliteStore) -> None:
    store.add_events([event(1), event(2, obj="service/default/web"), event(3), event(4, obj="service/default/web")])
    assert [e.time for e in store.events(since=2)] == [2, 3, 4]
    assert [e.time for e in store.events(object="service/default/web")] == [2, 4]
    assert [e.time for e in store.events(since=3, object="service/default/web")] == [4]


def test_events_at_the_same_time_keep_insertion_order(store: SqliteStore) -> None:
    store.add_events([Event(1, "Normal", r, "x", "") for r in ("A", "B", "C")])
    assert [e.reason for e in store.events()] == ["A", "B", "C"]
    assert [e.reason for e in store.events(limit=2)] == ["B", "C"]


def test_prune_events_keeps_the_newest(store: SqliteStore) -> None:
    store.add_events([event(t) for t in range(10)])
    store.prune_events(keep=3)
    assert [e.time for e in store.events()] == [7, 8, 9]
    store.prune_events()
    assert len(store.events()) == 3


def test_bad_event_type_adds_nothing(store: SqliteStore) -> None:
    with pytest.raises(ValueError):
        store.add_events([event(1), event(2, type_="Error")])
    assert store.events() == ()
