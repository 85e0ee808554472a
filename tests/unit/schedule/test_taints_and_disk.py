"""Placement with node taints (NoSchedule, PreferNoSchedule, NoExecute) and ephemeral-storage, as tables."""

from __future__ import annotations

import pytest

from sshorch.plan.schedule import NodeInfo, PlacedPod, PodRequest, schedule
from sshorch.taints import DAEMON_TOLERATIONS, UNSCHEDULABLE, Taint, Toleration

GiB = 1024**3
DB = Taint("dedicated", "NoSchedule", "db")
DB_OK = Toleration("dedicated", "Equal", "db", "NoSchedule")


def node(name: str, *taints: Taint, disk: int | None = None) -> NodeInfo:
    return NodeInfo(name, 2000, 4 * GiB, labels={"kubernetes.io/hostname": name}, taints=taints, ephemeral_bytes=disk)


def place(request: PodRequest, nodes: list[NodeInfo], placed: tuple[PlacedPod, ...] = ()) -> str | None:
    (placement,) = schedule([request], nodes, placed)
    return placement.node


def reason(request: PodRequest, nodes: list[NodeInfo]) -> str:
    (placement,) = schedule([request], nodes)
    assert placement.pending
    return placement.reason


@pytest.mark.parametrize(
    ("tolerations", "expected"),
    [
        ((), "n2"),  # n1 is not for it
        ((DB_OK,), "n1"),  # tolerated: n1 is the first of two equal nodes
        ((Toleration("dedicated", "Exists"),), "n1"),
        ((Toleration("dedicated", "Equal", "web"),), "n2"),
        ((Toleration("", "Exists"),), "n1"),
    ],
)
def test_no_schedule_keeps_pods_that_do_not_tolerate_it_off(tolerations: tuple[Toleration, ...], expected: str) -> None:
    assert place(PodRequest("p", "web", tolerations=tolerations), [node("n1", DB), node("n2")]) == expected


def test_untolerated_taints_are_the_pending_reason() -> None:
    nodes = [node("n1", DB), node("n2", Taint("gone", "NoExecute")), node("n3", Taint(UNSCHEDULABLE, "NoSchedule"))]
    assert reason(PodRequest("p", "web"), nodes) == (
        "0/3 nodes: 1 cordoned, 1 had untolerated taint {dedicated: db}, 1 had untolerated taint {gone: }"
    )


def test_no_execute_blocks_placement_unless_tolerated() -> None:
    gone = Taint("gone", "NoExecute", "", 100.0)
    tolerated = Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=60)
    assert place(PodRequest("p", "web"), [node("n1", gone)]) is None
    assert place(PodRequest("p", "web", tolerations=(tolerated,)), [node("n1", gone)]) == "n1"


def test_prefer_no_schedule_is_scored_lower_not_filtered() -> None:
    slow = Taint("slow", "PreferNoSchedule")
    nodes = [node("n1", slow), node("n2")]
    # The untainted node first, even over spreading; when it is the only one, the tainted node takes it.
    placed = (PlacedPod("n2", "web"),)
    assert place(PodRequest("p", "web"), nodes, placed) == "n2"
    assert place(PodRequest("p", "web"), [node("n1", slow)]) == "n1"
    # Tolerated: no longer avoided, spreading decides.
    assert place(PodRequest("p", "web", tolerations=(Toleration("slow", "Exists"),)), nodes, placed) == "n1"


def test_cordon_is_tolerated_by_daemon_pods_only() -> None:
    cordoned = [node("n1", Taint(UNSCHEDULABLE, "NoSchedule"))]
    assert place(PodRequest("p", "web"), cordoned) is None
    assert place(PodRequest("p", "agent", tolerations=DAEMON_TOLERATIONS, pinned_node="n1"), cordoned) == "n1"


def test_a_node_taking_no_pods_at_all_stays_closed_to_daemon_pods() -> None:
    returning = [NodeInfo("n1", 2000, 4 * GiB, cordoned=True)]
    assert place(PodRequest("p", "agent", tolerations=(Toleration("", "Exists"),)), returning) is None


@pytest.mark.parametrize(
    ("disk", "placed", "wanted", "expected"),
    [
        (10 * GiB, (), 4 * GiB, "n1"),
        (3 * GiB, (), 4 * GiB, None),
        (10 * GiB, (PlacedPod("n1", "db", ephemeral_bytes=8 * GiB),), 4 * GiB, None),  # placed this pass, counted
        (None, (), 4 * GiB, "n1"),  # free disk unknown: not checked
        (0, (), 0, "n1"),  # no request: no check
    ],
)
def test_ephemeral_storage_fits_the_free_disk(disk: int | None, placed: tuple[PlacedPod, ...], wanted: int, expected: str | None) -> None:
    assert place(PodRequest("p", "web", ephemeral_bytes=wanted), [node("n1", disk=disk)], placed) == expected


def test_ephemeral_storage_reason_and_requests_add_up() -> None:
    assert reason(PodRequest("p", "web", ephemeral_bytes=GiB), [node("n1", disk=GiB // 2)]) == "0/1 nodes: 1 insufficient ephemeral-storage"
    requests = [PodRequest(f"p{i}", "web", ephemeral_bytes=3 * GiB) for i in range(3)]
    placements = schedule(requests, [node("n1", disk=7 * GiB)])
    assert [p.node for p in placements] == ["n1", "n1", None]


def test_no_execute_tolerated_for_a_while_takes_new_pods_only_until_that_has_passed() -> None:
    gone = Taint("gone", "NoExecute", "", 100.0)
    request = PodRequest("p", "web", tolerations=(Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=60),))
    assert [p.node for p in schedule([request], [node("n1", gone)], now=150.0)] == ["n1"]
    assert [p.node for p in schedule([request], [node("n1", gone)], now=160.0)] == [None]
    assert [p.node for p in schedule([request], [node("n1", gone)])] == ["n1"]  # no time: nothing has passed
