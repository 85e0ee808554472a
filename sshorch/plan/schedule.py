"""Placement of pods on nodes: filter, then score (DESIGN.md section 5). Pure.

Filters: Ready, not cordoned, every NoSchedule and NoExecute taint tolerated,
nodeSelector and required node affinity match, a named volume's node, privilege
allowed where a pod needs it, requests fit what is left of the capacity
(ephemeral-storage: of the disk free when the node was gathered), host ports
free, pod affinity, pod anti-affinity and topology spread constraints (interpod.py).
Score: fewest untolerated PreferNoSchedule taints first, then ScheduleAnyway spread
constraints and preferred pod (anti-)affinity (zero without them), then fewest
replicas of the same workload (spread), then
least-allocated (or most-allocated with `binpack`), then node name, so the
same inputs always give the same placement. Requests are placed highest priority first;
preemption.py makes room for one that fits nowhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sshorch.plan.interpod import inter_pod
from sshorch.plan.nodeaffinity import affinity_matches as affinity_matches  # the scheduler's node affinity rule
from sshorch.spec.model import NodeSelectorTerm, PodAffinityRules, TopologySpreadConstraint
from sshorch.taints import UNSCHEDULABLE, Taint, Toleration, eviction_time, untolerated

Strategy = Literal["spread", "binpack"]
HostPort = tuple[str, int]  # (protocol, port)


@dataclass(frozen=True)
class NodeInfo:
    """A node as the scheduler sees it: capacity, labels, taints, and whether it takes new pods.
    `cordoned`: it takes none at all (a node back from an eviction); `cordon` itself is the
    unschedulable taint, which DaemonSet pods tolerate."""

    name: str
    cpu_millis: int
    memory_bytes: int
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    ready: bool = True
    cordoned: bool = False
    allows_privileged: bool = False  # the inventory's sshorch_allow_privileged
    taints: tuple[Taint, ...] = ()
    ephemeral_bytes: int | None = None  # disk free for pods' ephemeral storage; None: unknown

    @property
    def unschedulable(self) -> bool:
        """Cordoned by `cordon` or `drain` (Kubernetes' spec.unschedulable)."""
        return any(t.key == UNSCHEDULABLE for t in self.taints)


@dataclass(frozen=True)
class PodRequest:
    """A pod to place: its requests, host ports and node constraints; `owner` is its workload, for spreading.
    `namespace` and `labels`: what other pods' affinity terms and spread constraints select it by."""

    name: str
    owner: str
    cpu_millis: int = 0
    memory_bytes: int = 0
    host_ports: frozenset[HostPort] = frozenset()
    node_selector: Mapping[str, str] = field(default_factory=dict, hash=False)
    affinity: tuple[NodeSelectorTerm, ...] = ()
    pinned_node: str | None = None
    privileged: bool = False  # privileged or in the node's namespaces (spec/privilege.py)
    tolerations: tuple[Toleration, ...] = ()
    ephemeral_bytes: int = 0
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    pod_affinity: PodAffinityRules = PodAffinityRules()
    pod_anti_affinity: PodAffinityRules = PodAffinityRules()
    spread: tuple[TopologySpreadConstraint, ...] = ()
    priority: int = 0  # from its PriorityClass: higher ones are placed first
    preempts: bool = True  # preemptionPolicy PreemptLowerPriority (plan/preemption.py)


@dataclass(frozen=True)
class PlacedPod:
    """A pod already on a node, counted against that node's capacity, host ports and spread.
    `ephemeral_bytes`: only for pods placed since the node's disk was gathered (what the
    others write is already out of the free disk). Its pod (anti-)affinity works on new pods
    too: required anti-affinity keeps those it selects out of its domain, and its
    preferred terms and required affinity rank nodes for them, as in Kubernetes."""

    node: str
    owner: str
    cpu_millis: int = 0
    memory_bytes: int = 0
    host_ports: frozenset[HostPort] = frozenset()
    ephemeral_bytes: int = 0
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    pod_affinity: PodAffinityRules = PodAffinityRules()
    pod_anti_affinity: PodAffinityRules = PodAffinityRules()
    name: str = ""
    priority: int = 0  # lower ones may be preempted for a pending pod (plan/preemption.py)


def placed_as(request: PodRequest, node: str) -> PlacedPod:
    """A request once placed on `node`: it counts against the pods placed after it."""
    return PlacedPod(
        node, request.owner, request.cpu_millis, request.memory_bytes, request.host_ports, request.ephemeral_bytes,
        request.namespace, request.labels, request.pod_affinity, request.pod_anti_affinity, request.name, request.priority,
    )  # fmt: skip


@dataclass(frozen=True)
class Placement:
    """Where a request went: its node, or None and why it is pending."""

    request: PodRequest
    node: str | None
    reason: str = ""

    @property
    def pending(self) -> bool:
        return self.node is None


@dataclass
class _Usage:
    """What is placed on one node so far: requests, host ports and pods per workload."""

    cpu: int = 0
    memory: int = 0
    ephemeral: int = 0
    ports: set[HostPort] = field(default_factory=set)
    owners: Counter[str] = field(default_factory=Counter)

    def add(self, owner: str, cpu: int, memory: int, ports: Iterable[HostPort], ephemeral: int = 0) -> None:
        self.cpu += cpu
        self.memory += memory
        self.ephemeral += ephemeral
        self.ports.update(ports)
        self.owners[owner] += 1


def _why_not(node: NodeInfo, usage: _Usage, request: PodRequest, now: float) -> str | None:
    """The first filter the node fails, in Kubernetes' words, or None if it fits."""
    if not node.ready:
        return "not ready"
    if node.cordoned:
        return "cordoned"
    blocking = untolerated(node.taints, request.tolerations, ("NoSchedule", "NoExecute")) or _expired(node, request, now)
    if blocking:
        taint = blocking[0]
        return "cordoned" if taint.key == UNSCHEDULABLE else f"had untolerated taint {{{taint.key}: {taint.value}}}"
    if request.pinned_node is not None and request.pinned_node != node.name:
        return "volume on another node"
    if any(node.labels.get(k) != v for k, v in request.node_selector.items()):
        return "didn't match node selector"
    if not affinity_matches(request.affinity, node.labels):
        return "didn't match node affinity"
    if request.privileged and not node.allows_privileged:
        return "doesn't allow privileged pods (sshorch_allow_privileged)"
    if usage.cpu + request.cpu_millis > node.cpu_millis:
        return "insufficient cpu"
    if usage.memory + request.memory_bytes > node.memory_bytes:
        return "insufficient memory"
    if request.ephemeral_bytes and node.ephemeral_bytes is not None and usage.ephemeral + request.ephemeral_bytes > node.ephemeral_bytes:
        return "insufficient ephemeral-storage"
    if usage.ports & request.host_ports:
        return "host port in use"
    return None


def refusal(request: PodRequest, node: NodeInfo, nodes: Sequence[NodeInfo], placed: Sequence[PlacedPod], now: float = 0.0) -> str | None:
    """Why `node` does not take `request` beside the pods `placed` (on any of `nodes`), or None."""
    usage = _Usage()
    for pod in placed:
        if pod.node == node.name:
            usage.add(pod.owner, pod.cpu_millis, pod.memory_bytes, pod.host_ports, pod.ephemeral_bytes)
    return _why_not(node, usage, request, now) or inter_pod(request, nodes, placed).refusal(node)


def _expired(node: NodeInfo, request: PodRequest, now: float) -> list[Taint]:
    """NoExecute taints tolerated for tolerationSeconds that have passed since the taint was
    added: a pod evicted by them is not placed there again (without a time, none has passed)."""
    found = []
    for taint in node.taints:
        if taint.effect == "NoExecute" and now and taint.added is not None:
            due = eviction_time((taint,), request.tolerations, None)
            if due is not None and due <= now:
                found.append(taint)
    return found


def _free_fraction(node: NodeInfo, usage: _Usage, request: PodRequest) -> float:
    cpu = 1 - (usage.cpu + request.cpu_millis) / node.cpu_millis if node.cpu_millis else 0.0
    memory = 1 - (usage.memory + request.memory_bytes) / node.memory_bytes if node.memory_bytes else 0.0
    return (cpu + memory) / 2


def pending_reason(reasons: Sequence[str], total: int) -> str:
    """"0/3 nodes: 2 insufficient memory, 1 cordoned" (most common first)."""
    if total == 0:
        return "0/0 nodes: no nodes in the inventory"
    counts = Counter(reasons)
    parts = ", ".join(f"{n} {why}" for why, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return f"0/{total} nodes: {parts}"


def schedule(
    requests: Sequence[PodRequest],
    nodes: Sequence[NodeInfo],
    placed: Iterable[PlacedPod] = (),
    strategy: Strategy = "spread",
    now: float = 0.0,
) -> tuple[Placement, ...]:
    """Place each request in turn, highest priority first (in the given order among equals);
    earlier placements count against later ones. The placements are in the requests' order.
    `now`: the wall-clock time, for NoExecute taints tolerated for a while (0: unknown)."""
    usage = {node.name: _Usage() for node in nodes}
    pods = list(placed)
    for pod in pods:
        if pod.node in usage:
            usage[pod.node].add(pod.owner, pod.cpu_millis, pod.memory_bytes, pod.host_ports, pod.ephemeral_bytes)
    results: dict[int, Placement] = {}
    for index in by_priority(requests):
        request = requests[index]
        others = inter_pod(request, nodes, pods)
        fitting, reasons = [], []
        for node in nodes:
            why = _why_not(node, usage[node.name], request, now) or others.refusal(node)
            if why is None:
                fitting.append(node)
            else:
                reasons.append(why)
        if not fitting:
            results[index] = Placement(request, None, pending_reason(reasons, len(nodes)))
            continue
        sign = 1 if strategy == "binpack" else -1

        def score(node: NodeInfo) -> tuple[int, tuple[int, int, int], int, float, str]:
            node_usage = usage[node.name]
            avoided = len(untolerated(node.taints, request.tolerations, ("PreferNoSchedule",)))
            return (
                avoided, others.score(node), node_usage.owners[request.owner],
                sign * _free_fraction(node, node_usage, request), node.name,
            )  # fmt: skip

        best = min(fitting, key=score)
        usage[best.name].add(request.owner, request.cpu_millis, request.memory_bytes, request.host_ports, request.ephemeral_bytes)
        pods.append(placed_as(request, best.name))
        results[index] = Placement(request, best.name)
    return tuple(results[i] for i in range(len(requests)))


def by_priority(requests: Sequence[PodRequest]) -> list[int]:
    """The requests' indexes, highest priority first and in their order among equals, as
    Kubernetes' scheduling queue pops pods: when room is short, the important pods get it."""
    return sorted(range(len(requests)), key=lambda i: -requests[i].priority)
