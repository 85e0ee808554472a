"""Scheduling as tables of (requests, nodes, placed) -> placements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sshorch.plan.schedule import NodeInfo, PlacedPod, PodRequest, affinity_matches, schedule
from sshorch.spec.model import NodeSelectorRequirement as Req
from sshorch.spec.model import NodeSelectorTerm as Term

GiB = 1024**3


def nodes(*names: str, cpu: int = 2000, memory: int = 4 * GiB, **overrides: object) -> list[NodeInfo]:
    return [NodeInfo(n, cpu, memory, labels={"kubernetes.io/hostname": n}, **overrides) for n in names]  # type: ignore[arg-type]


def pods(owner: str, count: int, **fields: object) -> list[PodRequest]:
    return [PodRequest(f"{owner}-{i}", owner, **fields) for i in range(count)]  # type: ignore[arg-type]


def where(placements: tuple) -> list[str | None]:  # type: ignore[type-arg]
    return [p.node for p in placements]


def test_replicas_spread_across_nodes_deterministically() -> None:
    assert where(schedule(pods("web", 4), nodes("n1", "n2", "n3"))) == ["n1", "n2", "n3", "n1"]


def test_spread_counts_pods_already_placed() -> None:
    placed = [PlacedPod("n1", "web"), PlacedPod("n2", "web")]
    assert where(schedule(pods("web", 1), nodes("n1", "n2", "n3"), placed)) == ["n3"]


def test_least_allocated_prefers_the_emptier_node() -> None:
    placed = [PlacedPod("n1", "db", cpu_millis=1500, memory_bytes=GiB)]
    assert where(schedule(pods("web", 1, cpu_millis=100), nodes("n1", "n2"), placed)) == ["n2"]


def test_binpack_prefers_the_fuller_node() -> None:
    placed = [PlacedPod("n1", "db", cpu_millis=1500, memory_bytes=GiB)]
    assert where(schedule(pods("web", 1, cpu_millis=100), nodes("n1", "n2"), placed, strategy="binpack")) == ["n1"]


@pytest.mark.parametrize(
    ("node_kwargs", "request_kwargs", "reason"),
    [
        ({"ready": False}, {}, "0/2 nodes: 2 not ready"),
        ({"cordoned": True}, {}, "0/2 nodes: 2 cordoned"),
        ({}, {"memory_bytes": 8 * GiB}, "0/2 nodes: 2 insufficient memory"),
        ({}, {"cpu_millis": 2001}, "0/2 nodes: 2 insufficient cpu"),
        ({}, {"node_selector": {"disk": "ssd"}}, "0/2 nodes: 2 didn't match node selector"),
        ({}, {"pinned_node": "elsewhere"}, "0/2 nodes: 2 volume on another node"),
    ],
)
def test_pending_says_why(node_kwargs: dict, request_kwargs: dict, reason: str) -> None:  # type: ignore[type-arg]
    (placement,) = schedule(pods("web", 1, **request_kwargs), nodes("n1", "n2", **node_kwargs))
    assert placement.pending and placement.reason == reason


def test_mixed_reasons_are_counted_most_common_first() -> None:
    cluster = [*nodes("n1", "n2", memory=GiB), *nodes("n3", cordoned=True)]
    (placement,) = schedule(pods("web", 1, memory_bytes=2 * GiB), cluster)
    assert placement.reason == "0/3 nodes: 2 insufficient memory, 1 cordoned"


def test_requests_count_against_capacity_as_they_are_placed() -> None:
    result = schedule(pods("web", 3, memory_bytes=3 * GiB), nodes("n1", "n2"))
    assert where(result) == ["n1", "n2", None]
    assert result[2].reason == "0/2 nodes: 2 insufficient memory"


def test_host_ports_conflict_per_node() -> None:
    port = frozenset({("TCP", 8080)})
    result = schedule(pods("web", 3, host_ports=port), nodes("n1", "n2"))
    assert where(result) == ["n1", "n2", None]
    assert result[2].reason == "0/2 nodes: 2 host port in use"


def test_pinned_pod_goes_to_its_volume_node() -> None:
    assert where(schedule(pods("db", 1, pinned_node="n2"), nodes("n1", "n2", "n3"))) == ["n2"]


def test_required_affinity_terms_or_expressions_and() -> None:
    labels = {"zone": "a", "disk": "ssd", "cores": "8"}
    assert affinity_matches([Term((Req("zone", "In", ("a", "b")), Req("disk", "Exists")))], labels)
    assert not affinity_matches([Term((Req("zone", "In", ("a",)), Req("gpu", "Exists")))], labels)
    assert affinity_matches([Term((Req("gpu", "Exists"),)), Term((Req("cores", "Gt", ("4",)),))], labels)
    assert affinity_matches([Term((Req("zone", "NotIn", ("c",)), Req("gpu", "DoesNotExist")))], labels)
    assert not affinity_matches([Term((Req("cores", "Lt", ("4",)),))], labels)
    assert affinity_matches([], labels)


def test_affinity_filters_nodes() -> None:
    cluster = [NodeInfo("n1", 1000, GiB, {"zone": "a"}), NodeInfo("n2", 1000, GiB, {"zone": "b"})]
    term = Term((Req("zone", "In", ("b",)),))
    assert where(schedule(pods("web", 2, affinity=(term,)), cluster)) == ["n2", "n2"]


@given(st.lists(st.sampled_from(["a", "b", "c"]), max_size=12), st.integers(1, 5))
def test_placement_is_deterministic_and_never_overcommits(owners: list[str], node_count: int) -> None:
    cluster = nodes(*[f"n{i}" for i in range(node_count)], cpu=1000, memory=GiB)
    requests = [PodRequest(f"p{i}", o, cpu_millis=300, memory_bytes=GiB // 4) for i, o in enumerate(owners)]
    first = schedule(requests, cluster)
    assert first == schedule(requests, cluster)
    for node in cluster:
        on_node = [p.request for p in first if p.node == node.name]
        assert sum(r.cpu_millis for r in on_node) <= node.cpu_millis
        assert sum(r.memory_bytes for r in on_node) <= node.memory_bytes
