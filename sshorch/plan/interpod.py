"""What pods already placed make of a node for a new pod: pod affinity, pod anti-affinity
and topology spread constraints, as Kubernetes' InterPodAffinity and PodTopologySpread
plugins decide them. Pure.

A topology domain is one value of a node label (`kubernetes.io/hostname`: one node).
Required affinity: the node's domain holds a pod matching every term, unless no pod matches
them anywhere and the new pod matches them itself (the first of a group). Required
anti-affinity, the new pod's or an existing pod's: no matching pod in the node's domain.
DoNotSchedule spread: matching pods in the node's domain, plus the new pod if it matches,
minus the fewest in any domain of the eligible nodes (0 with fewer than minDomains domains),
must not exceed maxSkew.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sshorch.plan.nodeaffinity import affinity_matches
from sshorch.spec.meta import selector_matches
from sshorch.spec.model import LabelSelector, PodAffinityTerm, TopologySpreadConstraint
from sshorch.taints import untolerated

if TYPE_CHECKING:
    from sshorch.plan.schedule import NodeInfo, PlacedPod, PodRequest

SPREAD_REFUSED = "didn't match pod topology spread constraints"
SPREAD_NO_LABEL = "didn't match pod topology spread constraints (missing required label)"
AFFINITY_REFUSED = "didn't match pod affinity rules"
ANTI_AFFINITY_REFUSED = "didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_REFUSED = "didn't satisfy existing pods anti-affinity rules"

Domain = tuple[str, str]  # (topology key, the node's value for it)


def term_matches(term: PodAffinityTerm, term_namespace: str, namespace: str, labels: Mapping[str, str]) -> bool:
    """Whether a pod (`namespace`, `labels`) is one the term, of a pod in `term_namespace`, selects."""
    if term.selector is None:
        return False
    if not term.all_namespaces and namespace not in (term.namespaces or (term_namespace,)):
        return False
    return selector_matches(term.selector, labels)


def _selects(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    return selector is not None and selector_matches(selector, labels)


@dataclass(frozen=True)
class _Spread:
    """One constraint's matching pods per domain of its eligible nodes."""

    constraint: TopologySpreadConstraint
    counts: Counter[str]
    fewest: int

    def skew(self, value: str, self_match: int) -> int:
        return self.counts[value] + self_match - self.fewest


@dataclass(frozen=True)
class InterPod:
    """One request's view of the pods placed so far; `refusal` filters, `score` ranks (lower first)."""

    request: PodRequest
    affinity: Counter[Domain]
    anti_affinity: Counter[Domain]
    existing_anti_affinity: Counter[Domain]
    first_of_group: bool
    hard: tuple[_Spread, ...]
    soft: tuple[_Spread, ...]
    preferred: Counter[Domain]  # weighted: preferred affinity minus preferred anti-affinity

    def refusal(self, node: NodeInfo) -> str | None:
        labels = node.labels
        # In the order of Kubernetes' plugins: PodTopologySpread, then InterPodAffinity.
        for spread in self.hard:
            key = spread.constraint.topology_key
            if key not in labels:
                return SPREAD_NO_LABEL
            if spread.skew(labels[key], int(_selects(spread.constraint.selector, self.request.labels))) > spread.constraint.max_skew:
                return SPREAD_REFUSED
        required = self.request.pod_affinity.required
        if any(t.topology_key not in labels for t in required):
            return AFFINITY_REFUSED
        if not all(self.affinity[(t.topology_key, labels[t.topology_key])] for t in required) and not self.first_of_group:
            return AFFINITY_REFUSED
        for term in self.request.pod_anti_affinity.required:
            if term.topology_key in labels and self.anti_affinity[(term.topology_key, labels[term.topology_key])]:
                return ANTI_AFFINITY_REFUSED
        if any(self.existing_anti_affinity[item] for item in labels.items()):
            return EXISTING_ANTI_AFFINITY_REFUSED
        return None

    def score(self, node: NodeInfo) -> tuple[int, int, int]:
        """(soft constraints whose key the node lacks, matching pods in its domains, -preferred weight)."""
        missing = sum(1 for s in self.soft if s.constraint.topology_key not in node.labels)
        crowded = sum(s.counts[node.labels[s.constraint.topology_key]] for s in self.soft if s.constraint.topology_key in node.labels)
        weight = sum(n for (key, value), n in self.preferred.items() if node.labels.get(key) == value)
        return missing, crowded, -weight


def inter_pod(request: PodRequest, nodes: Sequence[NodeInfo], pods: Sequence[PlacedPod]) -> InterPod:
    by_name = {node.name: node for node in nodes}
    on_nodes = [(pod, by_name[pod.node].labels) for pod in pods if pod.node in by_name]
    ns = request.namespace
    required = request.pod_affinity.required
    affinity: Counter[Domain] = Counter()
    anti: Counter[Domain] = Counter()
    existing: Counter[Domain] = Counter()
    preferred: Counter[Domain] = Counter()
    for pod, labels in on_nodes:
        if required and all(term_matches(t, ns, pod.namespace, pod.labels) for t in required):
            affinity.update((t.topology_key, labels[t.topology_key]) for t in required if t.topology_key in labels)
        for term in request.pod_anti_affinity.required:
            if term.topology_key in labels and term_matches(term, ns, pod.namespace, pod.labels):
                anti[(term.topology_key, labels[term.topology_key])] += 1
        for term in pod.pod_anti_affinity.required:
            if term.topology_key in labels and term_matches(term, pod.namespace, ns, request.labels):
                existing[(term.topology_key, labels[term.topology_key])] += 1
        # Both sides' preferences weigh, and an existing pod's required affinity for the new
        # one counts 1 (Kubernetes' hardPodAffinityWeight).
        for term, weight in _weighed(request, pod):
            if term.topology_key in labels:
                preferred[(term.topology_key, labels[term.topology_key])] += weight
    first = not affinity and all(term_matches(t, ns, ns, request.labels) for t in required)
    hard = tuple(c for c in request.spread if c.when_unsatisfiable == "DoNotSchedule")
    soft = tuple(c for c in request.spread if c.when_unsatisfiable == "ScheduleAnyway")
    return InterPod(
        request, affinity, anti, existing, first,
        tuple(_spread(c, hard, request, nodes, on_nodes) for c in hard),
        tuple(_spread(c, soft, request, nodes, on_nodes) for c in soft),
        preferred,
    )  # fmt: skip


def _weighed(request: PodRequest, pod: PlacedPod) -> list[tuple[PodAffinityTerm, int]]:
    """The terms, of either pod, that select the other, with their signed weights."""
    ns = request.namespace
    found = [(t, 1) for t in pod.pod_affinity.required if term_matches(t, pod.namespace, ns, request.labels)]
    for sign, mine, theirs in ((1, request.pod_affinity, pod.pod_affinity), (-1, request.pod_anti_affinity, pod.pod_anti_affinity)):
        found += [(w.term, sign * w.weight) for w in mine.preferred if term_matches(w.term, ns, pod.namespace, pod.labels)]
        found += [(w.term, sign * w.weight) for w in theirs.preferred if term_matches(w.term, pod.namespace, ns, request.labels)]
    return found


def _spread(
    constraint: TopologySpreadConstraint, group: Sequence[TopologySpreadConstraint], request: PodRequest,
    nodes: Sequence[NodeInfo], on_nodes: Sequence[tuple[PlacedPod, Mapping[str, str]]],
) -> _Spread:
    """Eligible nodes carry every key of the constraints of its kind and pass its node policies."""
    def eligible(node: NodeInfo) -> bool:
        if any(c.topology_key not in node.labels for c in group):
            return False
        if constraint.node_affinity_policy == "Honor" and not (
            all(node.labels.get(k) == v for k, v in request.node_selector.items()) and affinity_matches(request.affinity, node.labels)
        ):
            return False
        return constraint.node_taints_policy == "Ignore" or not untolerated(node.taints, request.tolerations, ("NoSchedule", "NoExecute"))

    key = constraint.topology_key
    chosen = {node.name for node in nodes if eligible(node)}
    counts: Counter[str] = Counter({node.labels[key]: 0 for node in nodes if node.name in chosen})
    for pod, labels in on_nodes:
        if pod.node in chosen and pod.namespace == request.namespace and _selects(constraint.selector, pod.labels):
            counts[labels[key]] += 1
    fewest = min(counts.values(), default=0)
    if constraint.min_domains is not None and len(counts) < constraint.min_domains:
        fewest = 0
    return _Spread(constraint, counts, fewest)
