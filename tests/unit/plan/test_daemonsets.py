"""DaemonSets: one pod per eligible Ready node, nodeSelector respected."""

from __future__ import annotations

from typing import Any


from sshorch.observe.owned import ObservedPod
from sshorch.plan.naming import pod_name
from tests.unit.plan.helpers import CLUSTER
from sshorch.runtime import PortBinding
from sshorch.spec.model import Desired

from .helpers import (
    address_of,
    cluster_nodes,
    daemon_set,
    desired,
    key_of,
    moves,
    name_of,
    observe,
    observed_pod,
    revision_of,
    run,
)

AGENT = key_of("agent", "DaemonSet")
EDGE = desired(daemon_set("agent", node_selector={"role": "edge"}))
ROLES = {"n1": {"role": "edge"}, "n2": {"role": "core"}, "n3": {"role": "edge"}}


def daemon(d: Desired, node: str, **kwargs: Any) -> ObservedPod:
    return observed_pod(d, "agent", node, node, kind="DaemonSet", **kwargs)


def ds_name(d: Desired, node: str) -> str:
    return name_of(d, "agent", node, kind="DaemonSet")


def test_one_pod_per_ready_node() -> None:
    d = desired(daemon_set("agent"))
    plan = run(d, observe(), cluster_nodes(not_ready=["n2"]))
    assert moves(plan) == [("create-pod", "n1", ds_name(d, "n1")), ("create-pod", "n3", ds_name(d, "n3"))]
    assert not plan.pending


def test_daemon_pod_slot_is_its_node() -> None:
    d = desired(daemon_set("agent"))
    (create, *_) = run(d, observe()).actions
    assert "sshorch.io/slot=n1" in create.steps[0].argv
    assert create.target == pod_name(CLUSTER, "default", "agent", revision_of(d, "agent", "DaemonSet"), "n1")


def test_node_selector_is_respected() -> None:
    plan = run(EDGE, observe(), cluster_nodes(labels=ROLES))
    assert moves(plan) == [("create-pod", "n1", ds_name(EDGE, "n1")), ("create-pod", "n3", ds_name(EDGE, "n3"))]


def test_pod_on_a_node_no_longer_selected_is_removed() -> None:
    observed = observe(daemon(EDGE, "n1"), daemon(EDGE, "n2"), daemon(EDGE, "n3"))
    plan = run(EDGE, observed, cluster_nodes(labels=ROLES))
    assert moves(plan) == [("remove-pod", "n2", ds_name(EDGE, "n2"))]
    assert plan.actions[0].reason == "node no longer selected"
    assert plan.ready == {AGENT}


def test_all_selected_nodes_running_is_an_empty_plan() -> None:
    plan = run(EDGE, observe(daemon(EDGE, "n1"), daemon(EDGE, "n3")), cluster_nodes(labels=ROLES))
    assert plan.empty and plan.ready == {AGENT}


def test_stopped_daemon_pod_is_started() -> None:
    plan = run(EDGE, observe(daemon(EDGE, "n1"), daemon(EDGE, "n3", status="Exited")), cluster_nodes(labels=ROLES))
    assert moves(plan) == [("start-pod", "n3", ds_name(EDGE, "n3"))]


def test_new_revision_replaces_per_node_once_running() -> None:
    v1 = desired(daemon_set("agent"))
    v2 = desired(daemon_set("agent", image="localhost/web:v2"))
    olds = [daemon(v1, n) for n in ("n1", "n2", "n3")]
    # n1 runs the new revision already, n2's new pod is not running yet, n3 has none:
    # n2 uses the one node maxUnavailable allows, so n3 waits.
    observed = observe(*olds, daemon(v2, "n1"), daemon(v2, "n2", status="Degraded", states=["exited"]))
    plan = run(v2, observed)
    assert moves(plan) == [("remove-pod", "n1", ds_name(v1, "n1"))]
    assert plan.actions[0].reason == f"replaced by revision {revision_of(v2, 'agent', 'DaemonSet')}"


def test_new_revision_replaces_old_first_one_node_at_a_time() -> None:
    v1 = desired(daemon_set("agent"))
    v2 = desired(daemon_set("agent", image="localhost/web:v2"))
    plan = run(v2, observe(*(daemon(v1, n) for n in ("n1", "n2", "n3"))))
    assert moves(plan) == [("remove-pod", "n1", ds_name(v1, "n1")), ("create-pod", "n1", ds_name(v2, "n1"))]


def test_unreachable_node_gets_nothing() -> None:
    d = desired(daemon_set("agent"))
    plan = run(d, observe(unreachable=["n2"]))
    assert moves(plan) == [("create-pod", "n1", ds_name(d, "n1")), ("create-pod", "n3", ds_name(d, "n3"))]
    assert plan.unreachable == ("n2",)


def test_daemon_set_is_ready_only_when_every_eligible_node_runs_it() -> None:
    d = desired(daemon_set("agent"))
    starting = [daemon(d, n, status="Degraded", states=["exited"]) for n in ("n2", "n3")]
    plan = run(d, observe(daemon(d, "n1"), *starting))
    assert plan.empty  # nothing to do but wait ...
    assert AGENT not in plan.ready  # ... so converge must not call it settled


def test_cordoning_a_node_keeps_its_running_daemon_pod() -> None:
    d = desired(daemon_set("agent"))
    observed = observe(*(daemon(d, n) for n in ("n1", "n2", "n3")))
    plan = run(d, observed, cluster_nodes(cordoned=["n2"]))
    assert moves(plan) == []


def test_daemon_set_with_a_host_port_rolls_to_a_new_revision() -> None:
    port = [{"containerPort": 9100, "hostPort": 9100}]
    v1 = desired(daemon_set("agent", ports=port))
    v2 = desired(daemon_set("agent", ports=port, image="localhost/web:v2"))
    olds = [daemon(v1, n, ports=[PortBinding(address_of(n), 9100, 9100)]) for n in ("n1", "n2", "n3")]
    plan = run(v2, observe(*olds))
    # Today: three PendingPods "0/3 nodes: 2 volume on another node, 1 host port in use", no action.
    assert plan.pending == ()
    assert not plan.empty
