"""Drain: a node's Deployment pods leave one at a time, only while the rest are available."""

from __future__ import annotations

from sshorch.plan.model import Plan
from sshorch.spec.model import Desired

from .helpers import cluster_nodes, daemon_set, deployment, desired, observe, observed_pod, run

WEB = desired(deployment("web", replicas=3), daemon_set("agent"))


def drain_pass(d: Desired, pods: list, draining: frozenset[str] = frozenset()) -> Plan:  # type: ignore[type-arg]
    return run(d, observe(*pods), cluster_nodes(cordoned=("n2",)), draining=draining, evacuating=frozenset({"n2"}))


def spread() -> list:  # type: ignore[type-arg]
    pods = [observed_pod(WEB, "web", slot, node) for slot, node in enumerate(["n1", "n2", "n3"])]
    pods += [observed_pod(WEB, "agent", n, n, kind="DaemonSet") for n in ["n1", "n2", "n3"]]
    return pods


def leaving(plan: Plan) -> set[str]:
    """Pods this pass takes away: drained out of the rules, or (serving no Service) removed at once."""
    return set(dict(plan.draining)) | {a.target for a in plan.actions if a.kind == "remove-pod"}


def test_one_pod_leaves_and_daemon_pods_stay() -> None:
    pods = spread()
    on_n2 = next(p for p in pods if p.node == "n2" and p.kind == "deployment")
    plan = drain_pass(WEB, pods)
    assert leaving(plan) == {on_n2.name}
    assert "node n2 is being drained" in {a.reason for a in plan.actions}
    assert not [a for a in plan.actions if a.kind == "create-pod"]


def test_a_drained_pod_is_stopped_on_the_next_pass() -> None:
    pods = spread()
    on_n2 = next(p for p in pods if p.node == "n2" and p.kind == "deployment")
    plan = drain_pass(WEB, pods, draining=frozenset({on_n2.name}))
    assert [(a.kind, a.node, a.target) for a in plan.actions if a.kind == "remove-pod"] == [("remove-pod", "n2", on_n2.name)]


def test_then_its_slot_is_recreated_on_another_node() -> None:
    pods = spread()
    on_n2 = next(p for p in pods if p.node == "n2" and p.kind == "deployment")
    plan = drain_pass(WEB, [p for p in pods if p.name != on_n2.name])
    (create,) = [a for a in plan.actions if a.kind == "create-pod"]
    assert create.target == on_n2.name and create.node != "n2"


def test_nothing_leaves_while_another_pod_is_not_available() -> None:
    pods = [observed_pod(WEB, "web", 0, "n1", status="Exited") if p.node == "n1" and p.kind == "deployment" else p
            for p in spread()]
    assert not leaving(drain_pass(WEB, pods)) & {p.name for p in pods if p.node == "n2"}


def test_two_pods_on_the_node_leave_one_at_a_time() -> None:
    d = desired(deployment("web", replicas=4))
    pods = [observed_pod(d, "web", slot, node) for slot, node in enumerate(["n1", "n2", "n2", "n3"])]
    assert len(leaving(drain_pass(d, pods))) == 1
