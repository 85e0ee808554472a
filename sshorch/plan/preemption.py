"""Preemption: a pending pod takes the room of pods of lower priority on one node, chosen as
Kubernetes' DefaultPreemption plugin chooses them. Pure.

Only a pod whose preemptionPolicy is PreemptLowerPriority preempts. Each node is tried with
every pod of lower priority gone; where the pod then fits, each of those pods is given back,
the most important first (equals by name; Kubernetes keeps the older), if the pod still fits
beside it: the rest are the victims. Of those
nodes, the one chosen has the fewest victims not already leaving (so that the next pass,
while the victims are being stopped, chooses the same node again), then the lowest priority
of its most important victim, the lowest sum of the victims' priorities, the fewest
victims, the first in order. The victims go; the pod stays pending until they are gone,
and then, placed before pods of lower priority, gets their room.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sshorch.plan.schedule import NodeInfo, PlacedPod, PodRequest, refusal


@dataclass(frozen=True)
class Preemption:
    """The node a pending pod is to have, and the pods that leave it to make the room."""

    node: str
    victims: tuple[PlacedPod, ...]

    def says(self) -> str:
        count = len(self.victims)
        return f"preempting {count} lower-priority pod{'s' if count != 1 else ''} on {self.node}"


def preemption(
    request: PodRequest, nodes: Sequence[NodeInfo], placed: Sequence[PlacedPod], leaving: Collection[str] = (), now: float = 0.0,
) -> Preemption | None:
    """Where `request`, which fits on no node beside `placed`, fits once pods of lower priority
    go, and which; None when it may not preempt or no such node exists. `leaving`: names of
    pods already on their way out (preempted or drained by an earlier pass)."""
    if not request.preempts:
        return None
    lower: dict[str, list[PlacedPod]] = defaultdict(list)  # by node
    for pod in placed:
        if pod.name and pod.priority < request.priority:
            lower[pod.node].append(pod)
    best: tuple[tuple[int, int, int, int, int], Preemption] | None = None
    for order, node in enumerate(nodes):
        candidates = lower.get(node.name, [])
        if not candidates:
            continue
        going = {id(p) for p in candidates}
        kept = [p for p in placed if id(p) not in going]
        if refusal(request, node, nodes, kept, now) is not None:
            continue
        victims = []
        for pod in sorted(candidates, key=lambda p: (p.name in leaving, -p.priority, p.name)):
            if refusal(request, node, nodes, [*kept, pod], now) is None:
                kept.append(pod)
            else:
                victims.append(pod)
        if not victims:
            continue  # it fits as things are: nothing to preempt for
        rank = (
            sum(1 for v in victims if v.name not in leaving), max(v.priority for v in victims),
            sum(v.priority for v in victims), len(victims), order,
        )  # fmt: skip
        if best is None or rank < best[0]:
            best = (rank, Preemption(node.name, tuple(victims)))
    return best[1] if best is not None else None
