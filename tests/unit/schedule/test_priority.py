"""Pod priority in the scheduler: order of placement, and preemption of pods of lower priority."""

from __future__ import annotations

import pytest

from sshorch.plan.preemption import preemption
from sshorch.plan.schedule import NodeInfo, PlacedPod, PodRequest, schedule

GiB = 1024**3


def node(name: str, cpu: int = 1000, **fields: object) -> NodeInfo:
    return NodeInfo(name, cpu, 4 * GiB, labels={"kubernetes.io/hostname": name}, **fields)  # type: ignore[arg-type]


def want(name: str, cpu: int = 0, priority: int = 0, **fields: object) -> PodRequest:
    return PodRequest(name, f"deployment/default/{name.split('-')[0]}", cpu_millis=cpu, priority=priority, **fields)  # type: ignore[arg-type]


def on(node_name: str, name: str, cpu: int, priority: int = 0, **fields: object) -> PlacedPod:
    return PlacedPod(node_name, f"deployment/default/{name.split('-')[0]}", cpu_millis=cpu, name=name, priority=priority, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("requests", "expected"),
    [
        # Room for one: the higher priority gets it, whatever the order of the requests.
        ([want("low", 800), want("high", 800, 10)], {"low": None, "high": "n1"}),
        ([want("high", 800, 10), want("low", 800)], {"low": None, "high": "n1"}),
        ([want("low", 800, -5), want("mid", 800), want("top", 800, 2000000000)], {"low": None, "mid": None, "top": "n1"}),
        # Equal priorities keep the order they came in.
        ([want("a", 800, 3), want("b", 800, 3)], {"a": "n1", "b": None}),
        ([want("b", 800, 3), want("a", 800, 3)], {"a": None, "b": "n1"}),
        # Enough room: all placed, as before.
        ([want("low", 400), want("high", 400, 10)], {"low": "n1", "high": "n1"}),
    ],
)
def test_higher_priority_pods_are_placed_first(requests: list[PodRequest], expected: dict[str, str | None]) -> None:
    placements = schedule(requests, [node("n1")])
    # Placements come back in the requests' order.
    assert [p.request.name for p in placements] == [r.name for r in requests]
    assert {p.request.name: p.node for p in placements} == expected


def test_pending_lower_priority_pods_say_why() -> None:
    low, high = schedule([want("low", 800), want("high", 800, 10)], [node("n1")])
    assert (low.reason, high.pending) == ("0/1 nodes: 1 insufficient cpu", False)


N1, N2 = node("n1"), node("n2")


@pytest.mark.parametrize(
    ("request_", "placed", "leaving", "expected"),
    [
        # Only pods of lower priority go, and only as many as the room needs.
        (want("high", 400, 10), [on("n1", "a-1", 500, 0), on("n1", "b-1", 500, 0)], (), ("n1", ["b-1"])),
        (want("high", 400, 10), [on("n1", "a-1", 500, 10), on("n1", "b-1", 500, 10)], (), None),
        (want("high", 400, 10), [on("n1", "a-1", 500, 0), on("n1", "b-1", 500, 10)], (), ("n1", ["a-1"])),
        (want("high", 1000, 10), [on("n1", "a-1", 500, 0), on("n1", "b-1", 500, 0)], (), ("n1", ["a-1", "b-1"])),
        # The most important pods are given back first: the least important go.
        (want("high", 500, 10), [on("n1", "a-1", 500, 5), on("n1", "b-1", 500, 1)], (), ("n1", ["b-1"])),
        # A pod that may not preempt (preemptionPolicy Never) does not.
        (want("high", 400, 10, preempts=False), [on("n1", "a-1", 500), on("n1", "b-1", 500)], (), None),
        # A node where no removal helps is no candidate.
        (want("high", 1200, 10), [on("n1", "a-1", 500), on("n1", "b-1", 500)], (), None),
        (want("high", 600, 10, node_selector={"disk": "ssd"}), [on("n1", "a-1", 500), on("n1", "b-1", 500)], (), None),
        # Of several nodes: the lowest most important victim, then the lowest sum, then the fewest victims.
        (want("high", 600, 10), [on("n1", "a-1", 600, 5), on("n2", "b-1", 600, 3)], (), ("n2", ["b-1"])),
        (want("high", 800, 10), [on("n1", "a-1", 400, 3), on("n1", "a-2", 400, 3), on("n2", "b-1", 400, 3), on("n2", "b-2", 400, 1)],
         (), ("n2", ["b-1", "b-2"])),
        (want("high", 700, 10), [on("n1", "a-1", 300), on("n1", "a-2", 300), on("n1", "a-3", 400), on("n2", "b-1", 1000)],
         (), ("n2", ["b-1"])),
        # A node whose victims are already leaving is chosen again (the next pass, while they stop).
        (want("high", 600, 10), [on("n1", "a-1", 600, 0), on("n2", "b-1", 600, 0)], ("b-1",), ("n2", ["b-1"])),
        # Pods of the same pass (no name yet) are never victims.
        (want("high", 600, 10), [PlacedPod("n1", "deployment/default/x", cpu_millis=600)], (), None),
    ],
)
def test_preemption_chooses_node_and_victims(
    request_: PodRequest, placed: list[PlacedPod], leaving: tuple[str, ...], expected: tuple[str, list[str]] | None,
) -> None:
    nodes = [n for n in (N1, N2) if any(p.node == n.name for p in placed)]  # the nodes the table fills
    (placement,) = schedule([request_], nodes, placed)
    assert placement.pending
    chosen = preemption(request_, nodes, placed, leaving)
    assert (chosen and (chosen.node, sorted(v.name for v in chosen.victims))) == expected


def test_preemption_frees_a_host_port() -> None:
    port = frozenset({("TCP", 80)})
    placed = [on("n1", "a-1", 0, host_ports=port)]
    chosen = preemption(want("high", 0, 10, host_ports=port), [N1], placed)
    assert chosen is not None and chosen.says() == "preempting 1 lower-priority pod on n1"
