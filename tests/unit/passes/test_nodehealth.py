"""judge_nodes: what a pass's gather means for a node's pods, pass after pass. Table tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from sshorch.plan.nodehealth import NodeMemory, judge_nodes, pod_to_json
from tests.unit.plan.helpers import deployment, desired, observe, observed_pod

D = desired(deployment("web", replicas=2))
P1, P2 = observed_pod(D, "web", 0, "n1"), observed_pod(D, "web", 1, "n2")
TIMEOUT = 60.0


@dataclass(frozen=True)
class Gather:
    """One pass: the nodes that did not answer, and when."""

    now: float
    unreachable: Sequence[str] = ()
    pods_on_n2: bool = True


@dataclass(frozen=True)
class Row:
    name: str
    passes: Sequence[Gather]
    assumed: Sequence[str]  # pods assumed on the last pass
    evicted_now: Sequence[str] = ()
    returning: Sequence[str] = ()
    evicted: Sequence[str] = ()  # in memory after the last pass
    not_ready_since: dict[str, float] | None = None


ROWS = [
    Row("every node answers", [Gather(0)], assumed=[], not_ready_since={}),
    Row("a node stops answering: its last pods are assumed", [Gather(0), Gather(5, ["n2"])],
        assumed=[P2.name], not_ready_since={"n2": 5}),
    Row("still within the timeout", [Gather(0), Gather(5, ["n2"]), Gather(64.9, ["n2"])],
        assumed=[P2.name], not_ready_since={"n2": 5}),
    Row("the timeout runs out: evicted on that pass, nothing assumed",
        [Gather(0), Gather(5, ["n2"]), Gather(65, ["n2"])],
        assumed=[], evicted_now=["n2"], evicted=["n2"], not_ready_since={"n2": 5}),
    Row("evicted once only", [Gather(0), Gather(5, ["n2"]), Gather(65, ["n2"]), Gather(70, ["n2"])],
        assumed=[], evicted=["n2"], not_ready_since={"n2": 5}),
    Row("back after eviction with its pods: returning, they go first",
        [Gather(0), Gather(5, ["n2"]), Gather(65, ["n2"]), Gather(80)],
        assumed=[], returning=["n2"], evicted=["n2"], not_ready_since={}),
    Row("back after eviction with no pods left: an ordinary node again",
        [Gather(0), Gather(5, ["n2"]), Gather(65, ["n2"]), Gather(80, pods_on_n2=False)],
        assumed=[], not_ready_since={}),
    Row("back before the timeout: nothing happened", [Gather(0), Gather(5, ["n2"]), Gather(20)],
        assumed=[], not_ready_since={}),
    Row("never seen answering: NotReady, nothing to assume", [Gather(0, ["n2"])],
        assumed=[], not_ready_since={"n2": 0}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_judge_nodes(row: Row) -> None:
    memory = NodeMemory()
    for gather in row.passes:
        pods = [P1, P2] if gather.pods_on_n2 else [P1]
        before = NodeMemory.from_json(memory.to_json())
        verdicts = judge_nodes(memory, observe(*pods, unreachable=gather.unreachable), gather.now, TIMEOUT)
        assert memory == before  # a decision returns its next memory, it does not change its input
        memory = verdicts.memory
    assert [p.name for p in verdicts.assumed] == list(row.assumed)
    assert all(p.assumed and p.node == "n2" for p in verdicts.assumed)
    assert sorted(verdicts.evicted_now) == list(row.evicted_now)
    assert sorted(verdicts.returning) == list(row.returning)
    assert sorted(memory.evicted) == list(row.evicted)
    assert memory.not_ready_since == row.not_ready_since


def test_node_memory_round_trips_through_json() -> None:
    memory = NodeMemory({"n2": 5.0}, {"n2": [pod_to_json(P2)]}, {"n3"})
    assert NodeMemory.from_json(memory.to_json()) == memory
    assert NodeMemory.from_json({}) == NodeMemory()
