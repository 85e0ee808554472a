"""Placement: every new pod of a pass scheduled at once, given host ports, and built for its node."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sshorch.inventory.model import FrozenMap
from sshorch.labels import NAMESPACE_LABEL, VOLUME_LABEL
from sshorch.observe.owned import ObservedPod
from sshorch.plan.inputs import ReconcileInput
from sshorch.plan.intents import CreatePod
from sshorch.plan.model import FileUpload, PendingPod
from sshorch.plan.naming import PodIdentity, pod_template, split_workload_key, workload_key
from sshorch.plan.podbuild import BuiltPod, PodBuildError, PortKey, build_pod
from sshorch.plan.preemption import preemption
from sshorch.plan.services import Allocations, discovery
from sshorch.plan.schedule import PlacedPod, Placement, PodRequest, by_priority, placed_as, schedule
from sshorch.spec.model import (
    Container, LabelSelector, LabelSelectorRequirement, NamedVolume, PodAffinityRules, PodAffinityTerm, PodSpec, PodTemplate,
    TopologySpreadConstraint,
)  # fmt: skip
from sshorch.spec.privilege import needs_privilege
from sshorch.taints import Toleration

@dataclass(frozen=True)
class Wanted:
    """A pod a controller wants created, before it has a node."""

    identity: PodIdentity
    template: PodTemplate
    request: PodRequest


def pod_request(
    name: str, owner: str, template: PodTemplate, pinned: str | None = None, added_tolerations: tuple[Toleration, ...] = (),
) -> PodRequest:
    """`owner`: the workload key (kind/namespace/name); `added_tolerations`: those its
    controller adds (a DaemonSet's, as in Kubernetes)."""
    containers = template.spec.containers
    ports = frozenset(
        (p.protocol, p.host_port) for c in containers for p in c.ports if p.host_port is not None
    )
    return PodRequest(
        name=name,
        owner=owner,
        cpu_millis=_effective(template.spec, lambda c: c.resources.cpu_request_millis),
        memory_bytes=_effective(template.spec, lambda c: c.resources.memory_request_bytes),
        host_ports=ports,
        node_selector=dict(template.spec.node_selector),
        affinity=template.spec.required_node_affinity,
        pinned_node=pinned,
        privileged=needs_privilege(template.spec),
        tolerations=template.spec.tolerations + added_tolerations,
        ephemeral_bytes=_effective(template.spec, lambda c: c.resources.ephemeral_storage_request_bytes),
        namespace=split_workload_key(owner)[1],
        labels=dict(template.labels),
        pod_affinity=_rules_with_label_keys(template.spec.pod_affinity, template.labels),
        pod_anti_affinity=_rules_with_label_keys(template.spec.pod_anti_affinity, template.labels),
        spread=tuple(_with_label_keys(c, template.labels) for c in template.spec.topology_spread),
        priority=template.spec.priority,
        preempts=template.spec.preemption_policy == "PreemptLowerPriority",
    )


def _effective(spec: PodSpec, request: Callable[[Container], int]) -> int:
    """A pod's request of one resource as Kubernetes computes it: the app containers' and
    sidecars' sum, or more while an init container runs (its own request plus the sidecars
    started before it)."""
    sidecars = 0
    peak = 0
    for container in spec.init_containers:
        if container.sidecar:
            sidecars += request(container)
        else:
            peak = max(peak, sidecars + request(container))
    return max(peak, sidecars + sum(request(c) for c in spec.containers))


def _with_label_keys(constraint: TopologySpreadConstraint, labels: FrozenMap[str, str]) -> TopologySpreadConstraint:
    """matchLabelKeys: the pod's own values for those keys join the selector (keys the pod has
    not are left out), as Kubernetes does."""
    own = {key: labels[key] for key in constraint.match_label_keys if key in labels}
    if not own or constraint.selector is None:
        return constraint
    selector = constraint.selector
    merged = LabelSelector(FrozenMap({**selector.match_labels, **own}), selector.match_expressions)
    return replace(constraint, selector=merged)


def _rules_with_label_keys(rules: PodAffinityRules, labels: FrozenMap[str, str]) -> PodAffinityRules:
    """Each term's matchLabelKeys join its selector as `key In (the pod's value)`,
    mismatchLabelKeys as `key NotIn (it)`; keys the pod has not are left out, as in Kubernetes."""

    def merged(term: PodAffinityTerm) -> PodAffinityTerm:
        added = tuple(LabelSelectorRequirement(k, "In", (labels[k],)) for k in term.match_label_keys if k in labels)
        added += tuple(LabelSelectorRequirement(k, "NotIn", (labels[k],)) for k in term.mismatch_label_keys if k in labels)
        if not added or term.selector is None:
            return term
        return replace(term, selector=replace(term.selector, match_expressions=term.selector.match_expressions + added))

    return PodAffinityRules(
        tuple(merged(t) for t in rules.required),
        tuple(replace(w, term=merged(w.term)) for w in rules.preferred),
    )


def place(
    wanted: Sequence[Wanted], kept: Sequence[ObservedPod], inp: ReconcileInput, reachable: set[str], allocations: Allocations,
    leaving: Collection[str] = (),
) -> tuple[list[CreatePod], list[PendingPod], dict[str, str]]:
    """Schedule every new pod at once, beside the pods that stay, then build each for its node.
    The third value: the kept pods preempted to make room (name -> why); `leaving`: pods
    already on their way out (drained or preempted by an earlier pass)."""
    ordered, preempted = _schedule_all(wanted, kept, inp, reachable, leaving)
    used_ports = _used_host_ports(inp, reachable)
    # Explicit hostPorts of this pass's pods are taken before any port is chosen automatically.
    for want, placement in zip(wanted, ordered):
        if placement.node is not None:
            used_ports[placement.node].update(
                p.host_port for c in want.template.spec.containers for p in c.ports if p.host_port is not None
            )
    volumes = _claim_volumes(inp, reachable)
    targets = {n.target.name: replace(n.target, volumes=volumes.get(n.target.name, {})) for n in inp.nodes}
    creates, pending = [], []
    for want, placement in zip(wanted, ordered):
        identity, template = want.identity, want.template
        if placement.node is None:
            pending.append(PendingPod(identity.workload, identity.name, placement.reason))
            continue
        try:
            ports = _allocate_ports(template, used_ports[placement.node], inp.host_ports)
            hosts, env = discovery(identity.namespace, inp.desired, allocations)
            if not template.spec.enable_service_links:
                env = ()  # host entries stay: they are this cluster's DNS
            built = build_pod(identity, template, inp.desired, targets[placement.node], ports, hosts, env)
        except PodBuildError as error:
            pending.append(PendingPod(identity.workload, identity.name, str(error)))
            continue
        creates.append(_create(built, inp))
    return creates, pending, preempted


def _schedule_all(
    wanted: Sequence[Wanted], kept: Sequence[ObservedPod], inp: ReconcileInput, reachable: set[str], leaving: Collection[str],
) -> tuple[list[Placement], dict[str, str]]:
    """Each wanted pod's placement, in their order. They are scheduled highest priority first,
    so that the important pods get the room when it is short; one that fits nowhere may
    preempt pods of lower priority (plan/preemption.py), whose names and why they go come second."""
    nodes = [n.info for n in inp.nodes if n.target.name in reachable]
    placed = [_placed(p, inp) for p in kept]
    claim_nodes = _volume_nodes(inp, reachable)
    placements: dict[int, Placement] = {}
    preempted: dict[str, str] = {}
    nominated: list[PlacedPod] = []  # preempting pods, on the node they are to have
    for index in by_priority([want.request for want in wanted]):
        want = wanted[index]
        claims = _claims(want.identity.namespace, want.template)
        pinned = want.request.pinned_node or next((claim_nodes[c] for c in sorted(claims) if c in claim_nodes), None)
        request = replace(want.request, pinned_node=pinned)
        (placement,) = schedule([request], nodes, placed, inp.strategy, inp.now)
        if placement.node is not None:
            placed.append(placed_as(request, placement.node))
            # Later pods using the same named volume follow it to this node.
            claim_nodes.update({claim: placement.node for claim in claims if claim not in claim_nodes})
        elif request.preempts:
            # The room of pods preempted earlier in the pass is kept for the pod that preempted them.
            room = [p for p in placed if p.name not in preempted] + nominated
            chosen = preemption(request, nodes, room, leaving, inp.now)
            if chosen is not None:
                why = f"preempted by {request.name} (priority {request.priority}), as Kubernetes does when room is short"
                preempted.update({victim.name: why for victim in chosen.victims})
                nominated.append(placed_as(request, chosen.node))
                placement = replace(placement, reason=f"{placement.reason}; {chosen.says()}")
        placements[index] = placement
    return [placements[i] for i in range(len(wanted))], preempted


def _claims(namespace: str, template: PodTemplate) -> set[tuple[str, str]]:
    return {(namespace, v.source.claim_name) for v in template.spec.volumes if isinstance(v.source, NamedVolume)}


def _claim_volumes(inp: ReconcileInput, reachable: set[str]) -> dict[str, dict[tuple[str, str], str]]:
    """Per node, (namespace, claim) -> the runtime volume that holds it, known by its labels
    (a volume made before volume names were scoped has the claim's bare name)."""
    found: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for node in inp.observed.nodes:
        if node.name in reachable and node.owned is not None:
            for volume in node.owned.volumes:
                claim = volume.labels.get(VOLUME_LABEL, "")
                if claim:
                    found[node.name].setdefault((volume.labels.get(NAMESPACE_LABEL, "default"), claim), volume.name)
    return found


def _volume_nodes(inp: ReconcileInput, reachable: set[str]) -> dict[tuple[str, str], str]:
    """(namespace, claim) -> the node holding its volume: a pod using it stays there."""
    found: dict[tuple[str, str], str] = {}
    for node, claims in sorted(_claim_volumes(inp, reachable).items()):
        for claim in claims:
            found.setdefault(claim, node)
    return found


def _placed(pod: ObservedPod, inp: ReconcileInput) -> PlacedPod:
    template = pod_template(pod, inp.desired)
    request = pod_request(pod.name, workload_key(pod.kind, pod.namespace, pod.owner), template) if template else None
    ports = frozenset((b.protocol.upper(), b.host_port) for b in pod.ports)
    return PlacedPod(
        node=pod.node,
        owner=workload_key(pod.kind, pod.namespace, pod.owner),
        cpu_millis=request.cpu_millis if request else 0,
        memory_bytes=request.memory_bytes if request else 0,
        host_ports=ports,
        namespace=pod.namespace,
        labels=pod.labels,
        pod_affinity=template.spec.pod_affinity if template else PodAffinityRules(),
        pod_anti_affinity=template.spec.pod_anti_affinity if template else PodAffinityRules(),
        name=pod.name,
        priority=template.spec.priority if template else 0,
    )


def _used_host_ports(inp: ReconcileInput, reachable: set[str]) -> dict[str, set[int]]:
    used: dict[str, set[int]] = {name: set() for name in reachable}
    for node in inp.observed.nodes:
        if node.name in reachable and node.owned is not None:
            for pod in node.owned.pods:
                used[node.name].update(b.host_port for b in pod.ports)
    return used


def _allocate_ports(template: PodTemplate, used: set[int], port_range: tuple[int, int]) -> dict[PortKey, int]:
    """The manifest's hostPort, else the lowest free port of the range on that node."""
    ports: dict[PortKey, int] = {}
    for container in (*template.spec.init_containers, *template.spec.containers):
        for port in container.ports:
            if port.host_port is not None:
                chosen = port.host_port
            else:
                candidate = port_range[0]
                while candidate in used:
                    candidate += 1
                if candidate > port_range[1]:
                    raise PodBuildError(f"no free host port left in {port_range[0]}-{port_range[1]} on this node")
                chosen = candidate
            used.add(chosen)
            ports[(container.name, port.container_port, port.protocol)] = chosen
    return ports


def _create(built: BuiltPod, inp: ReconcileInput) -> CreatePod:
    """Files under a directory the node already holds are not sent again, unless the node's
    copy differs: a directory named by its pod (registry credentials) keeps its name when
    the content changes."""
    present, sums = _file_dirs(inp, built.node)

    def held(upload: FileUpload) -> bool:
        if not any(upload.path.startswith(d + "/") for d in present):
            return False
        return sums is None or sums.get(upload.path) == hashlib.sha256(upload.data()).hexdigest()

    return CreatePod(built, tuple(f for f in built.files if not held(f)))


def _file_dirs(inp: ReconcileInput, node: str) -> tuple[frozenset[str], Mapping[str, str] | None]:
    """The node's config and secret directories, and its files' checksums where known."""
    for n in inp.observed.nodes:
        if n.name == node and n.owned is not None:
            return n.owned.file_dirs, n.checksums
    return frozenset(), None
