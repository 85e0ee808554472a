"""NoExecute evicts pods that do not tolerate it (and, after tolerationSeconds, those that
do for a while); NoSchedule only keeps new pods off; DaemonSets tolerate cordon."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sshorch.plan.reconcile import ClusterNode
from sshorch.spec.model import Desired
from sshorch.taints import UNSCHEDULABLE, Taint

from .helpers import cluster_nodes, daemon_set, decided, deployment, desired, moves, name_of, observe, observed_pod

STARTED = 1_700_000_000.0  # when the helpers' pods started
NOW = STARTED + 1000


def tainted(taints: Mapping[str, Sequence[Taint]]) -> tuple[ClusterNode, ...]:
    return tuple(replace(n, info=replace(n.info, taints=tuple(taints.get(n.target.name, ())))) for n in cluster_nodes())


def with_tolerations(doc: dict[str, Any], *tolerations: dict[str, Any]) -> dict[str, Any]:
    doc["spec"]["template"]["spec"]["tolerations"] = list(tolerations)
    return doc


def web(*tolerations: dict[str, Any]) -> Desired:
    return desired(with_tolerations(deployment("web", replicas=3), *tolerations))


def three(d: Desired) -> list[Any]:
    return [observed_pod(d, "web", i, f"n{i + 1}") for i in range(3)]


GONE = Taint("gone", "NoExecute", "", NOW - 100)


def test_untolerated_no_execute_moves_the_pod_elsewhere() -> None:
    d = web()
    decision = decided(d, observe(*three(d)), tainted({"n1": [GONE]}), now=NOW)
    assert moves(decision) == [("create-pod", "n2", name_of(d, "web", 0)), ("remove-pod", "n1", name_of(d, "web", 0))]
    (removal,) = [i for i in decision.intents if i.node == "n1"]
    assert "gone:NoExecute" in removal.reason


def test_tolerated_no_execute_stays() -> None:
    d = web({"key": "gone", "operator": "Exists", "effect": "NoExecute"})
    assert moves(decided(d, observe(*three(d)), tainted({"n1": [GONE]}), now=NOW)) == []


def test_toleration_seconds_let_the_pod_stay_that_long_after_the_taint() -> None:
    d = web({"key": "gone", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    decision = decided(d, observe(*three(d)), tainted({"n1": [GONE]}), now=NOW)
    assert moves(decision) == []
    assert decision.retry_at == GONE.added + 300  # when it is due
    later = decided(d, observe(*three(d)), tainted({"n1": [GONE]}), now=NOW + 250)
    assert ("remove-pod", "n1", name_of(d, "web", 0)) in moves(later)
    assert ("create-pod", "n1", name_of(d, "web", 0)) not in moves(later)


def test_toleration_seconds_count_from_a_pod_started_after_the_taint() -> None:
    d = web({"key": "gone", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    old_taint = replace(GONE, added=STARTED - 5000)
    assert moves(decided(d, observe(*three(d)), tainted({"n1": [old_taint]}), now=STARTED + 100)) == []
    assert moves(decided(d, observe(*three(d)), tainted({"n1": [old_taint]}), now=STARTED + 400))


def test_no_schedule_leaves_running_pods_alone() -> None:
    d = web()
    assert moves(decided(d, observe(*three(d)), tainted({"n1": [Taint("dedicated", "NoSchedule", "db")]}), now=NOW)) == []


def test_daemon_pod_leaves_an_untolerated_no_execute_node_and_is_not_made_again() -> None:
    d = desired(daemon_set("agent"))
    pods = [observed_pod(d, "agent", n, n, kind="DaemonSet") for n in ("n1", "n2", "n3")]
    decision = decided(d, observe(*pods), tainted({"n1": [GONE]}), now=NOW)
    assert moves(decision) == [("remove-pod", "n1", name_of(d, "agent", "n1", kind="DaemonSet"))]


def test_daemon_sets_tolerate_cordon_and_deployments_do_not() -> None:
    d = desired(daemon_set("agent"), deployment("web", replicas=3))
    cordoned = tainted({"n1": [Taint(UNSCHEDULABLE, "NoSchedule")]})
    made = {(node, target) for kind, node, target in moves(decided(d, observe(), cordoned, now=NOW))}
    assert ("n1", name_of(d, "agent", "n1", kind="DaemonSet")) in made
    assert not any(node == "n1" and "web" in target for node, target in made)


def test_daemon_set_keeps_off_a_no_schedule_node_it_does_not_tolerate() -> None:
    d = desired(daemon_set("agent"))
    decision = decided(d, observe(), tainted({"n1": [Taint("dedicated", "NoSchedule", "db")]}), now=NOW)
    assert [node for _, node, _ in moves(decision)] == ["n2", "n3"]
    assert not decision.pending
    tolerant = desired(with_tolerations(daemon_set("agent"), {"key": "dedicated", "operator": "Exists"}))
    assert [node for _, node, _ in moves(decided(tolerant, observe(), tainted({"n1": [Taint("dedicated", "NoSchedule", "db")]})))] == ["n1", "n2", "n3"]
