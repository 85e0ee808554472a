"""Nodes that stop answering: their pods are assumed where they were until the
eviction timeout, then placed elsewhere; when the node returns its stale pods
go before it takes new ones. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ASSUMED_STATUS, ObservedPod
from sshorch.runtime import PortBinding

DEFAULT_EVICTION_TIMEOUT = 60.0


@dataclass(frozen=True)
class NodeMemory:
    """What is kept in state about nodes between passes: since when each is unreachable, its last pods, evictions."""

    not_ready_since: dict[str, float] = field(default_factory=dict)
    last_pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    evicted: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"not_ready_since": self.not_ready_since, "last_pods": self.last_pods, "evicted": sorted(self.evicted)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeMemory:
        return cls(dict(data.get("not_ready_since", {})), dict(data.get("last_pods", {})), set(data.get("evicted", [])))


@dataclass(frozen=True)
class NodeVerdicts:
    """What this pass's node health means for scheduling."""

    assumed: tuple[ObservedPod, ...]  # pods of unreachable nodes, not yet evicted
    returning: frozenset[str]  # reachable nodes whose pods were placed elsewhere meanwhile
    evicted_now: frozenset[str]  # nodes whose eviction timeout ran out on this pass
    memory: NodeMemory  # what the next pass starts from


def pod_to_json(pod: ObservedPod) -> dict[str, Any]:
    return {
        "name": pod.name,
        "labels": dict(pod.labels),
        "ports": [[b.host_ip, b.host_port, b.container_port, b.protocol] for b in pod.ports],
        "ip": pod.ip,
    }


def pod_from_json(node: str, data: dict[str, Any]) -> ObservedPod:
    ports = tuple(PortBinding(p[0], int(p[1]), int(p[2]), p[3]) for p in data.get("ports", []))
    # Unknown state: not running, so never an endpoint, but it holds its slot.
    return ObservedPod(data["name"], node, dict(data.get("labels", {})), ASSUMED_STATUS, (), ports, data.get("ip", ""))


def judge_nodes(before: NodeMemory, observed: Observed, now: float, timeout: float) -> NodeVerdicts:
    """What this pass's gather means for scheduling, and the memory the next pass starts
    from (`before` is left as it was)."""
    memory = NodeMemory(dict(before.not_ready_since), dict(before.last_pods), set(before.evicted))
    assumed: list[ObservedPod] = []
    returning: set[str] = set()
    evicted_now: set[str] = set()
    for node in observed.nodes:
        if node.reachable and node.owned is not None:
            memory.not_ready_since.pop(node.name, None)
            if node.name in memory.evicted:
                if node.owned.pods:
                    returning.add(node.name)
                else:
                    memory.evicted.discard(node.name)
            memory.last_pods[node.name] = [pod_to_json(p) for p in node.owned.pods]
            continue
        since = memory.not_ready_since.setdefault(node.name, now)
        if node.name in memory.evicted:
            continue
        if now - since < timeout:
            assumed += [pod_from_json(node.name, p) for p in memory.last_pods.get(node.name, [])]
        else:
            memory.evicted.add(node.name)
            evicted_now.add(node.name)
    return NodeVerdicts(tuple(assumed), frozenset(returning), frozenset(evicted_now), memory)
