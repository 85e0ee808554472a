"""reconcile as a table: (desired, observed, nodes) -> (kind, node, target) of every intent
decided, plus the workloads the pass calls ready. What each intent compiles to: test_compile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.plan.naming import pod_name
from tests.unit.plan.helpers import CLUSTER
from sshorch.plan.reconcile import ClusterNode
from sshorch.spec.model import Desired

from .helpers import (
    cluster_nodes,
    decided,
    deployment,
    desired,
    key_of,
    moves,
    name_of,
    observe,
    observed_pod,
    revision_of,
    run,
)

WEB = key_of("web")
API = key_of("api")
V1 = desired(deployment("web", replicas=3))
V2 = desired(deployment("web", replicas=3, image="localhost/web:v2"))
R1, R2 = revision_of(V1, "web"), revision_of(V2, "web")


def old(slot: int) -> str:
    return pod_name(CLUSTER, "default", "web", R1, str(slot))


def new(slot: int) -> str:
    return name_of(V2, "web", slot)


def running_v1() -> list[ObservedPod]:
    return [observed_pod(V1, "web", i, f"n{i + 1}") for i in range(3)]


@dataclass
class Row:
    desired: Desired
    observed: Observed
    moves: list[tuple[str, str, str]]
    ready: set[str] = field(default_factory=set)
    reasons: dict[str, str] = field(default_factory=dict)  # target -> the action's reason
    nodes: tuple[ClusterNode, ...] = field(default_factory=cluster_nodes)
    unreachable: tuple[str, ...] = ()


def empty_cluster() -> Row:
    return Row(V1, observe(), [
        ("create-pod", "n1", name_of(V1, "web", 0)),
        ("create-pod", "n2", name_of(V1, "web", 1)),
        ("create-pod", "n3", name_of(V1, "web", 2)),
    ])


def all_running() -> Row:
    return Row(V1, observe(*running_v1()), [], ready={WEB})


def scale_down() -> Row:
    one = desired(deployment("web", replicas=1))
    return Row(one, observe(*running_v1()), [
        ("remove-pod", "n2", name_of(one, "web", 1)),
        ("remove-pod", "n3", name_of(one, "web", 2)),
    ], reasons={name_of(one, "web", 1): "scaled to 1", name_of(one, "web", 2): "scaled to 1"})


def scale_up() -> Row:
    # Slot 0 runs on n2: only slots 1 and 2 are added, on the nodes without a replica.
    return Row(V1, observe(observed_pod(V1, "web", 0, "n2")), [
        ("create-pod", "n1", name_of(V1, "web", 1)),
        ("create-pod", "n3", name_of(V1, "web", 2)),
    ])


def image_change_starts_new_beside_old() -> Row:
    # 25 % of 3: maxSurge rounds up to 1, maxUnavailable down to 0: one new pod at a time.
    return Row(V2, observe(*running_v1()), [("create-pod", "n1", new(0))])


def image_change_new_not_running_yet() -> Row:
    news = [observed_pod(V2, "web", i, f"n{i + 1}", status="Degraded", states=["exited"]) for i in range(3)]
    return Row(V2, observe(*running_v1(), *news), [])


def image_change_one_new_stopped() -> Row:
    news = [observed_pod(V2, "web", i, f"n{i + 1}") for i in range(2)]
    news.append(observed_pod(V2, "web", 2, "n3", status="Exited"))
    # Two new pods are available, so two old ones may go (which two: the rollout's
    # tie-break by name); the stopped one starts again.
    return Row(V2, observe(*running_v1(), *news), [
        ("start-pod", "n3", new(2)),
        ("remove-pod", "n2", old(1)),
        ("remove-pod", "n3", old(2)),
    ])


def image_change_all_new_running() -> Row:
    news = [observed_pod(V2, "web", i, f"n{i + 1}") for i in range(3)]
    return Row(V2, observe(*running_v1(), *news), [
        ("remove-pod", "n1", old(0)),
        ("remove-pod", "n2", old(1)),
        ("remove-pod", "n3", old(2)),
    ], reasons={old(i): f"replaced by revision {R2}" for i in range(3)})


def workload_removed() -> Row:
    both = desired(deployment("web", replicas=2), deployment("api"))
    only_api = desired(deployment("api"))
    observed = observe(
        observed_pod(both, "web", 0, "n1"), observed_pod(both, "web", 1, "n2"), observed_pod(both, "api", 0, "n3")
    )
    gone = f"{WEB} is no longer desired"
    return Row(only_api, observed, [
        ("remove-pod", "n1", name_of(both, "web", 0)),
        ("remove-pod", "n2", name_of(both, "web", 1)),
    ], ready={API}, reasons={name_of(both, "web", 0): gone, name_of(both, "web", 1): gone})


def duplicate_slot() -> Row:
    one = desired(deployment("web", replicas=1))
    twice = observe(observed_pod(one, "web", 0, "n1"), observed_pod(one, "web", 0, "n2"))
    return Row(one, twice, [("remove-pod", "n2", name_of(one, "web", 0))],
               reasons={name_of(one, "web", 0): "duplicate replica"})


def duplicate_slot_keeps_the_running_one() -> Row:
    one = desired(deployment("web", replicas=1))
    twice = observe(observed_pod(one, "web", 0, "n1", status="Exited"), observed_pod(one, "web", 0, "n2"))
    return Row(one, twice, [("remove-pod", "n1", name_of(one, "web", 0))])


def stopped_pod() -> Row:
    one = desired(deployment("web", replicas=1))
    return Row(one, observe(observed_pod(one, "web", 0, "n2", status="Exited")),
               [("start-pod", "n2", name_of(one, "web", 0))], reasons={name_of(one, "web", 0): "pod is exited"})


def unreachable_node_running() -> Row:
    two = desired(deployment("web", replicas=2))
    return Row(two, observe(observed_pod(two, "web", 0, "n1"), observed_pod(two, "web", 1, "n2"), unreachable=["n3"]),
               [], ready={WEB}, unreachable=("n3",))


def unreachable_node_gets_no_new_pods() -> Row:
    return Row(V1, observe(unreachable=["n3"]), [
        ("create-pod", "n1", name_of(V1, "web", 0)),
        ("create-pod", "n2", name_of(V1, "web", 1)),
        ("create-pod", "n1", name_of(V1, "web", 2)),
    ], unreachable=("n3",))


def node_missing_from_the_gather_is_unreachable() -> Row:
    return Row(V1, observe(nodes=["n1", "n2"]), [
        ("create-pod", "n1", name_of(V1, "web", 0)),
        ("create-pod", "n2", name_of(V1, "web", 1)),
        ("create-pod", "n1", name_of(V1, "web", 2)),
    ], unreachable=("n3",))


def cordoned_and_not_ready_nodes_get_no_new_pods() -> Row:
    return Row(V1, observe(), [
        ("create-pod", "n3", name_of(V1, "web", 0)),
        ("create-pod", "n3", name_of(V1, "web", 1)),
        ("create-pod", "n3", name_of(V1, "web", 2)),
    ], nodes=cluster_nodes(cordoned=["n1"], not_ready=["n2"]))


def running_pod_on_cordoned_node_stays() -> Row:
    return Row(V1, observe(*running_v1()), [], ready={WEB}, nodes=cluster_nodes(cordoned=["n1"]))


ROWS: list[Callable[[], Row]] = [
    empty_cluster,
    all_running,
    scale_down,
    scale_up,
    image_change_starts_new_beside_old,
    image_change_new_not_running_yet,
    image_change_one_new_stopped,
    image_change_all_new_running,
    workload_removed,
    duplicate_slot,
    duplicate_slot_keeps_the_running_one,
    stopped_pod,
    unreachable_node_running,
    unreachable_node_gets_no_new_pods,
    node_missing_from_the_gather_is_unreachable,
    cordoned_and_not_ready_nodes_get_no_new_pods,
    running_pod_on_cordoned_node_stays,
]


@pytest.mark.parametrize("build", ROWS, ids=[f.__name__ for f in ROWS])
def test_reconcile(build: Callable[[], Row]) -> None:
    row = build()
    decision = decided(row.desired, row.observed, row.nodes)
    assert moves(decision) == row.moves
    assert decision.ready == row.ready
    assert decision.unreachable == row.unreachable
    assert not decision.pending and not decision.blocked
    assert {i.target: i.reason for i in decision.intents if i.target in row.reasons} == row.reasons
    assert not {i.node for i in decision.intents} & set(row.unreachable)
    # The plan is that decision compiled: one action per intent, in the same order.
    assert moves(run(row.desired, row.observed, row.nodes)) == row.moves


def test_reconcile_is_deterministic() -> None:
    first = run(V2, observe(*running_v1()))
    assert run(V2, observe(*running_v1())) == first


def test_a_pass_repeated_on_its_own_result_is_empty() -> None:
    """After the creates of an empty cluster run, the next pass has nothing to do."""
    plan = run(V1, observe())
    placed = [observed_pod(V1, "web", slot, a.node) for slot, a in enumerate(plan.actions)]
    assert run(V1, observe(*placed)).empty


def test_scaling_keeps_the_revision() -> None:
    assert revision_of(desired(deployment("web", replicas=1)), "web") == R1


def test_actions_carry_their_workload_and_runtime_commands() -> None:
    plan = run(desired(deployment("web", replicas=1)), observe())
    (create,) = plan.actions
    assert create.workload == WEB
    assert create.reason == f"new pod of {WEB} (revision {R1})"
    assert [s.argv[:3] for s in create.steps] == [
        ("podman", "pod", "create"), ("podman", "run", "-d")
    ]
    assert [s.argv for s in create.undo] == [
        ("podman", "pod", "stop", "--ignore", "-t", "0", create.target),
        ("podman", "pod", "rm", "--ignore", "-f", create.target),
    ]
    assert all(s.ignore_errors for s in create.undo)


def test_remove_pod_stops_with_the_grace_period_and_removes_scratch_dirs() -> None:
    one = desired(deployment("web", replicas=1))
    plan = run(desired(deployment("web", replicas=0)), observe(observed_pod(one, "web", 0, "n1")))
    (remove,) = plan.actions
    name = name_of(one, "web", 0)
    assert [s.argv for s in remove.steps] == [
        ("podman", "pod", "stop", "--ignore", "-t", "30", name),
        ("podman", "pod", "rm", "--ignore", "-f", name),
        ("rm", "-rf", "--", f"/var/lib/sshorch/clusters/test/pods/{name}", f"/run/sshorch/clusters/test/pods/{name}",
         f"/var/lib/sshorch/pods/{name}", f"/run/sshorch/pods/{name}"),
    ]


def test_docker_nodes_get_docker_commands() -> None:
    one = desired(deployment("web", replicas=1))
    plan = run(one, observe(observed_pod(one, "web", 0, "n1", status="Exited")), cluster_nodes(runtime="docker"))
    (start,) = plan.actions
    name = name_of(one, "web", 0)
    assert start.steps[0].argv == ("docker", "start", name, f"{name}-main")


def test_create_pod_names_the_images_it_needs() -> None:
    d = desired(deployment("web", containers=[
        {"name": "app", "image": "localhost/web:v2"}, {"name": "side", "image": "docker.io/library/busybox:1.36"},
    ]))
    (create,) = run(d, observe()).actions
    assert create.images == ("docker.io/library/busybox:1.36", "localhost/web:v2")
    assert run(d, observe(observed_pod(d, "web", 0, "n1", containers=("app", "side")), nodes=["n1"]),
               cluster_nodes("n1")).empty


CLAIM: dict[str, Any] = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
         "volume_mounts": [{"name": "data", "mountPath": "/data"}]}


def test_a_pod_follows_its_named_volume_to_the_node_holding_it() -> None:
    d = desired(deployment("db", **CLAIM))
    plan = run(d, observe(volumes={"n2": ["data"]}))
    assert moves(plan) == [("create-pod", "n2", name_of(d, "db", 0))]


def test_pods_sharing_a_new_named_volume_land_together() -> None:
    d = desired(deployment("db", replicas=2, **CLAIM))
    plan = run(d, observe())
    assert moves(plan) == [("create-pod", "n1", name_of(d, "db", 0)), ("create-pod", "n1", name_of(d, "db", 1))]


def test_a_named_volume_on_a_full_node_leaves_the_pod_pending() -> None:
    d = desired(deployment("db", requests={"memory": "3Gi"}, **CLAIM), deployment("big", requests={"memory": "3Gi"}))
    big = observed_pod(d, "big", 0, "n2")
    plan = run(d, observe(big, volumes={"n2": ["data"]}))
    assert moves(plan) == []
    assert [(p.pod, p.reason) for p in plan.pending] == [
        (name_of(d, "db", 0), "0/3 nodes: 2 volume on another node, 1 insufficient memory")
    ]


def test_a_pod_assumed_on_a_node_that_does_not_answer_holds_its_slot() -> None:
    # Remembered from the node's last gather, with no containers seen: neither broken nor
    # missing, so nothing replaces it until the node's eviction timeout.
    from sshorch.plan.nodehealth import pod_from_json, pod_to_json

    three = desired(deployment("web", replicas=3))
    pods = [observed_pod(three, "web", i, f"n{i + 1}") for i in range(3)]
    assumed = (pod_from_json("n3", pod_to_json(pods[2])),)
    plan = run(three, observe(*pods[:2], unreachable=["n3"]), assumed=assumed)
    assert moves(plan) == [] and plan.unreachable == ("n3",)
    after_eviction = run(three, observe(*pods[:2], unreachable=["n3"]))
    assert moves(after_eviction) == [("create-pod", "n1", name_of(three, "web", 2))]
