"""priorityClassName in whole passes: the important pods get the room when it is short, and
take it from pods of lower priority by preemption, over the passes it takes them to leave."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .helpers import cluster_nodes, decided, deployment, desired, moves, name_of, observe, observed_pod, run

HIGH = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1000}
NEVER = {**HIGH, "metadata": {"name": "polite"}, "preemptionPolicy": "Never"}


def classed(doc: dict[str, Any], name: str) -> dict[str, Any]:
    doc["spec"]["template"]["spec"]["priorityClassName"] = name
    return doc


ONE_NODE = cluster_nodes("n1", cpu=1000)


def service(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}  # fmt: skip


def test_when_room_is_short_the_higher_priority_pod_is_placed() -> None:
    d = desired(HIGH, deployment("batch", requests={"cpu": "800m"}), classed(deployment("web", requests={"cpu": "800m"}), "high"))
    plan = run(d, observe(nodes=["n1"]), nodes=ONE_NODE)
    assert moves(plan) == [("create-pod", "n1", name_of(d, "web", 0))]
    assert [(p.pod, p.reason) for p in plan.pending] == [(name_of(d, "batch", 0), "0/1 nodes: 1 insufficient cpu")]


def test_a_pending_pod_preempts_a_lower_priority_one_and_gets_its_room() -> None:
    d = desired(HIGH, deployment("batch", requests={"cpu": "800m"}), classed(deployment("web", requests={"cpu": "800m"}), "high"))
    batch = observed_pod(d, "batch", 0, "n1")
    # Pass 1: the pod of lower priority goes; the new one waits for its room.
    plan = run(d, observe(batch, nodes=["n1"]), nodes=ONE_NODE)
    assert moves(plan) == [("remove-pod", "n1", batch.name)]
    (web,) = plan.pending
    assert web.pod == name_of(d, "web", 0)
    assert web.reason == "0/1 nodes: 1 insufficient cpu; preempting 1 lower-priority pod on n1"
    # Pass 2: it is gone; the higher priority pod is placed before its replacement.
    plan = run(d, observe(nodes=["n1"]), nodes=ONE_NODE)
    assert moves(plan) == [("create-pod", "n1", name_of(d, "web", 0))]
    assert [p.pod for p in plan.pending] == [batch.name]


def test_a_preempted_pod_that_serves_traffic_is_drained_first_then_removed() -> None:
    d = desired(HIGH, service("batch"), deployment("batch", requests={"cpu": "800m"}),
                classed(deployment("web", requests={"cpu": "800m"}), "high"))  # fmt: skip
    batch = observed_pod(d, "batch", 0, "n1")
    batch = replace(batch, labels={**batch.labels, "app": "batch"})
    first = decided(d, observe(batch, nodes=["n1"]), nodes=ONE_NODE)
    assert [(p.target, p.reason) for p in first.draining] == [(batch.name, "preempted by " + name_of(d, "web", 0) +
                                                               " (priority 1000), as Kubernetes does when room is short")]
    # The next pass stops it, and its room (it is no longer counted) goes to the waiting pod.
    second = decided(d, observe(batch, nodes=["n1"]), nodes=ONE_NODE, draining=frozenset({batch.name}))
    assert ("remove-pod", "n1", batch.name) in moves(second)
    assert ("create-pod", "n1", name_of(d, "web", 0)) in moves(second)
    assert second.pending == ()  # its slot is made again once it is gone


def test_preemption_policy_never_waits() -> None:
    d = desired(NEVER, deployment("batch", requests={"cpu": "800m"}), classed(deployment("web", requests={"cpu": "800m"}), "polite"))
    plan = run(d, observe(observed_pod(d, "batch", 0, "n1"), nodes=["n1"]), nodes=ONE_NODE)
    assert moves(plan) == []
    assert [p.reason for p in plan.pending] == ["0/1 nodes: 1 insufficient cpu"]


def test_equal_priority_never_preempts() -> None:
    d = desired(deployment("batch", requests={"cpu": "800m"}), deployment("web", requests={"cpu": "800m"}))
    plan = run(d, observe(observed_pod(d, "batch", 0, "n1"), nodes=["n1"]), nodes=ONE_NODE)
    assert moves(plan) == []
    assert [p.reason for p in plan.pending] == ["0/1 nodes: 1 insufficient cpu"]


def test_one_victim_is_preempted_for_one_pod_only() -> None:
    """Two pending pods of high priority, room for one taken by a low one: the first takes it;
    the second finds no other pod to preempt."""
    d = desired(HIGH, deployment("batch", requests={"cpu": "800m"}), classed(deployment("web", 2, requests={"cpu": "800m"}), "high"))
    batch = observed_pod(d, "batch", 0, "n1")
    plan = run(d, observe(batch, nodes=["n1"]), nodes=ONE_NODE)
    assert moves(plan) == [("remove-pod", "n1", batch.name)]
    assert [p.reason for p in plan.pending] == [
        "0/1 nodes: 1 insufficient cpu; preempting 1 lower-priority pod on n1", "0/1 nodes: 1 insufficient cpu",
    ]


def test_a_preempted_daemon_pod_that_serves_traffic_is_chosen_again_and_removed() -> None:
    """A DaemonSet keeps a draining pod of its own: the next pass chooses the same victim (it is
    already leaving) and removes it, rather than preempting another pod."""
    agent = deployment("agent", kind="DaemonSet", requests={"cpu": "500m"})
    d = desired(HIGH, service("agent"), agent, deployment("batch", requests={"cpu": "300m"}),
                classed(deployment("web", requests={"cpu": "600m"}), "high"))  # fmt: skip
    pod = observed_pod(d, "agent", "n1", "n1", kind="DaemonSet")
    pod = replace(pod, labels={**pod.labels, "app": "agent"})
    batch = observed_pod(d, "batch", 0, "n1")
    first = decided(d, observe(pod, batch, nodes=["n1"]), nodes=ONE_NODE)
    assert [p.target for p in first.draining] == [pod.name]
    second = decided(d, observe(pod, batch, nodes=["n1"]), nodes=ONE_NODE, draining=frozenset({pod.name}))
    assert [m for m in moves(second) if m[0] == "remove-pod"] == [("remove-pod", "n1", pod.name)]
    assert [p.reason for p in second.pending] == ["0/1 nodes: 1 insufficient cpu; preempting 1 lower-priority pod on n1"]
