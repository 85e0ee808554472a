"""Events for what happened on the nodes between runs: restarts and out-of-memory kills."""

from __future__ import annotations

from sshorch.observe.cluster import NodeObservation, Observed
from sshorch.observe.nodereport import READY, NodeReport
from sshorch.observe.owned import ObservedContainer, ObservedPod, Owned
from sshorch.run.apply import observation_events
from sshorch.state.inmemory import InMemoryStore


def _observed(restarts: int, kills: int, last_kill: float | None, finished: float | None = None) -> Observed:
    hog = ObservedContainer("hog-1-hog", "a" * 64, "img", "id", "running", 0, 0.0, restarts, {}, False, finished, kills, last_kill)
    pod = ObservedPod("hog-1", "node1", {}, "Running", (hog,), ())
    owned = Owned((pod,), (), (), frozenset(), {})
    report = NodeReport("node1", "198.18.0.2", READY)
    return Observed((NodeObservation("node1", "198.18.0.2", True, "", report, owned),))


def _said(store: InMemoryStore, observed: Observed) -> list[tuple[str, str]]:
    return [(e.reason, e.message) for e in observation_events(store, observed, now=5000.0) if e.reason != "NodeReady"]


def test_each_kill_is_told_once_even_when_the_kernel_log_no_longer_grows() -> None:
    store = InMemoryStore()
    assert _said(store, _observed(0, 0, None)) == []
    assert _said(store, _observed(3, 3, 1000.0, 1000.1)) == [
        ("BackOff", "container hog-1-hog restarted 3 more times (total 3, last killed for running out of memory)"),
        ("OOMKilled", "container hog-1-hog was killed for using more memory than its limit (3 such kills in the node's kernel log)"),
    ]
    assert _said(store, _observed(3, 3, 1000.0, 1000.1)) == []
    # the log wrapped: the count stays, the last kill is newer
    assert [reason for reason, _ in _said(store, _observed(9, 3, 1010.0, 1010.1))] == ["BackOff", "OOMKilled"]


def test_a_restart_after_a_later_exit_gives_its_exit_code() -> None:
    store = InMemoryStore()
    said = _said(store, _observed(1, 1, 1000.0, 4000.0))
    assert said[0] == ("BackOff", "container hog-1-hog restarted 1 more times (total 1, last exit code 0)")
