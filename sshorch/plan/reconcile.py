"""reconcile(desired, observed, ...) -> Plan. Pure: no connection, clock or randomness.

One pass decides the next step toward the desired state; running passes until
the plan is empty converges. A new revision's pods are created beside the old
ones, and the old ones go once every new one runs. A workload whose
dependencies are not ready waits.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from sshorch.errors import SshorchError
from sshorch.observe.cluster import Observed
from sshorch.labels import CLUSTER_LABEL, CONTAINER_LABEL, FILES_LABEL, NAMESPACE_LABEL, POD_LABEL, VOLUME_LABEL
from sshorch.nodefiles import LEGACY_CONFIG_ROOTS, LEGACY_POD_ROOTS, RUN_DIR, is_file_dir, is_pod_dir, owned_by, pod_roots
from sshorch.observe.owned import ObservedPod
from sshorch.observe.rules import RulesState
from sshorch.plan.jobs import COMPLETE, JobPod, JobRecord, job_step
from sshorch.plan.model import Action, ActionKind, Blocked, PendingPod, Plan, PlanEvent, Step
from sshorch.plan.naming import KIND_NAMES, PodIdentity, pod_template, workload_key
from sshorch.plan.pods import BuiltPod, NodeTarget, PodBuildError, PortKey, build_pod
from sshorch.plan.revision import Workload, with_plain_hashes, workload_revision
from sshorch.plan.rollout import PodView, resolve_int_or_percent, rollout_step
from sshorch.plan.services import (
    Allocations,
    ServiceConfig,
    all_endpoints,
    allocate,
    build_node_rules,
    discovery,
    selects,
)
from sshorch.proxy.model import NodeRules
from sshorch.proxy.sync import build_rules_write, rendered_sha
from sshorch.runtime import PortBinding
from sshorch.runtime.registry import UnknownRuntimeError, runtime_for
from sshorch.schedule import NodeInfo, PlacedPod, PodRequest, Strategy, affinity_matches, schedule
from sshorch.spec.model import (
    DaemonSet,
    NamedVolume,
    Deployment,
    Desired,
    Job,
    PodTemplate,
    Service,
)

__all__ = ["ClusterNode", "ReconcileInput", "Workload", "reconcile", "with_plain_hashes"]  # for converge and nodes

SETTLE_SECONDS = 2.0
STOPPED_STATUSES = {"Exited", "Stopped", "Created"}


@dataclass(frozen=True)
class ClusterNode:
    """A node of the cluster: how pods are built for it and how the scheduler sees it."""

    target: NodeTarget
    info: NodeInfo


@dataclass(frozen=True)
class ReconcileInput:
    """Everything one reconcile pass reads: desired and observed state, nodes, and what earlier passes kept."""

    cluster: str
    desired: Desired
    nodes: tuple[ClusterNode, ...]
    observed: Observed
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    strategy: Strategy = "spread"
    services: ServiceConfig = ServiceConfig()
    allocations: Allocations = Allocations({}, {})
    # Who may reach pod host ports besides the nodes: the controller's addresses.
    controller_addresses: tuple[str, ...] = ()
    # Pods taken out of the service rules by an earlier pass: now they may be stopped.
    draining: frozenset[str] = frozenset()
    # Wall-clock time of the pass (0: unknown, every ready pod counts as available).
    now: float = 0.0
    # Pods passing readiness probes (None: not probed, running means ready) and since when.
    ready: frozenset[str] | None = None
    ready_since: Mapping[str, float] = field(default_factory=dict)
    probed: frozenset[str] = frozenset()  # pods whose readiness a probe decides
    # Pods last seen on nodes that do not answer now, until their eviction timeout.
    assumed: tuple[ObservedPod, ...] = ()
    # Nodes back after an eviction: their pods run elsewhere now and go first.
    returning: frozenset[str] = frozenset()
    # Nodes being drained (cordoned too): their Deployment pods move elsewhere, one at a time.
    evacuating: frozenset[str] = frozenset()
    # Each Job's progress so far (kept in state between runs).
    jobs: Mapping[str, JobRecord] = field(default_factory=dict)

    @cached_property
    def _revisions(self) -> dict[tuple[str, str, str], str]:
        """Every workload's current revision, hashed once per pass (a pass asks for them per pod)."""
        return {
            (o.meta.kind, o.meta.namespace, o.meta.name): workload_revision(o, self.desired)
            for o in self.desired.objects if isinstance(o, (Deployment, DaemonSet, Job))
        }

    def revision(self, workload: Workload) -> str:
        return self._revisions[(workload.meta.kind, workload.meta.namespace, workload.meta.name)]

    @property
    def host_ports(self) -> tuple[int, int]:
        return self.services.host_ports



def pod_request(name: str, owner: str, template: PodTemplate, pinned: str | None = None) -> PodRequest:
    containers = template.spec.containers
    ports = frozenset(
        (p.protocol, p.host_port) for c in containers for p in c.ports if p.host_port is not None
    )
    return PodRequest(
        name=name,
        owner=owner,
        cpu_millis=sum(c.resources.cpu_request_millis for c in containers),
        memory_bytes=sum(c.resources.memory_request_bytes for c in containers),
        host_ports=ports,
        node_selector=dict(template.spec.node_selector),
        affinity=template.spec.required_node_affinity,
        pinned_node=pinned,
    )


@dataclass
class _Pass:
    """What one reconcile pass accumulates before it becomes a Plan."""

    creates: list[tuple[PodIdentity, PodTemplate, PodRequest, str | None]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    removals: list[Action] = field(default_factory=list)
    pending: list[PendingPod] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    ready: set[str] = field(default_factory=set)
    kept: list[ObservedPod] = field(default_factory=list)
    drain: dict[str, str] = field(default_factory=dict)  # pod -> why it leaves
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    events: list[PlanEvent] = field(default_factory=list)
    retry_at: list[float] = field(default_factory=list)
    created_ports: dict[str, list[PortBinding]] = field(default_factory=lambda: defaultdict(list))  # node -> ports of new pods


def reconcile(inp: ReconcileInput) -> Plan:
    reachable = {n.name for n in inp.observed.nodes if n.reachable and n.owned is not None}
    unreachable = tuple(sorted(n.target.name for n in inp.nodes if n.target.name not in reachable))
    pods_by_workload: dict[str, list[ObservedPod]] = defaultdict(list)
    work = _Pass()
    for node in inp.observed.nodes:
        if node.name in reachable and node.owned is not None:
            for pod in node.owned.pods:
                if node.name in inp.returning:
                    key = workload_key(pod.kind, pod.namespace, pod.owner)
                    work.removals.append(_remove_pod(pod, inp, "stale: its node was evicted, it runs elsewhere", key))
                else:
                    pods_by_workload[workload_key(pod.kind, pod.namespace, pod.owner)].append(pod)
    for pod in inp.assumed:
        pods_by_workload[workload_key(pod.kind, pod.namespace, pod.owner)].append(pod)

    workloads = [o for o in inp.desired.objects if isinstance(o, (Deployment, DaemonSet, Job))]
    ready_before = {
        workload_key(w.meta.kind, w.meta.namespace, w.meta.name)
        for w in workloads
        if _is_ready(w, pods_by_workload, inp, reachable)
    }
    desired_keys = set()
    for workload in workloads:
        key = workload_key(workload.meta.kind, workload.meta.namespace, workload.meta.name)
        desired_keys.add(key)
        waiting = tuple(d for d in inp.dependencies.get(key, ()) if _is_workload_key(d) and d not in ready_before)
        pods = pods_by_workload.get(key, [])
        if waiting and not pods:
            work.blocked.append(Blocked(key, waiting))
            continue
        if isinstance(workload, Deployment):
            _reconcile_deployment(workload, key, pods, inp, work)
        elif isinstance(workload, Job):
            _reconcile_job(workload, key, pods, inp, reachable, work)
        else:
            _reconcile_daemonset(workload, key, pods, inp, reachable, work)
        if key in ready_before:
            work.ready.add(key)

    for key, pods in sorted(pods_by_workload.items()):
        if key not in desired_keys:
            for pod in pods:
                _retire(pod, f"{key} is no longer desired", key, inp, work)

    allocations = allocate(inp.desired, inp.allocations, inp.services)
    placed_creates = _place(work, inp, reachable, allocations)
    removed = {a.target for a in work.actions + work.removals if a.kind == ActionKind.REMOVE_POD} | set(work.drain)
    remaining = [p for p in inp.observed.pods() if p.node in reachable and p.name not in removed]
    rules = _rules_actions(inp, reachable, allocations, remaining, work.created_ports)
    # Rules change before pods go, so no endpoint points at a pod being removed.
    actions = work.actions + _file_repairs(inp, reachable, work) + placed_creates + rules + work.removals
    actions += _stray_and_file_cleanup(inp, reachable, work, placed_creates)
    # Nothing can be done on a node that does not answer (its assumed pods included).
    actions = [a for a in actions if a.node in reachable]
    return Plan(
        actions=tuple(actions),
        pending=tuple(work.pending),
        blocked=tuple(work.blocked),
        unreachable=unreachable,
        ready=frozenset(work.ready),
        allocations=allocations,
        draining=tuple(sorted(work.drain.items())),
        jobs=work.jobs,
        events=tuple(work.events),
        retry_at=min(work.retry_at, default=None),
    )


def _is_workload_key(key: str) -> bool:
    return key.split("/", 1)[0] in ("deployment", "daemonset", "job")


def _is_ready(workload: Workload, pods_by_workload: Mapping[str, list[ObservedPod]], inp: ReconcileInput, reachable: set[str]) -> bool:
    """Every wanted pod of the current revision runs: each replica slot, or each daemon node."""
    key = workload_key(workload.meta.kind, workload.meta.namespace, workload.meta.name)
    revision = inp.revision(workload)
    if isinstance(workload, Job):
        record = inp.jobs.get(key)
        return record is not None and record.revision == revision and record.outcome == COMPLETE
    current = [p for p in pods_by_workload.get(key, []) if p.revision == revision and p.running]
    if isinstance(workload, Deployment):
        views = _views(workload, pods_by_workload.get(key, []), revision, inp)
        return rollout_step(workload.replicas, workload.strategy, views).complete
    running_on = {p.node for p in current}
    wanted = [
        n.target.name for n in daemon_nodes(workload, inp.nodes, reachable)
        if not n.info.cordoned or any(p.node == n.target.name for p in pods_by_workload.get(key, []))
    ]
    return all(name in running_on for name in wanted)


def pod_ready(pod: ObservedPod, inp: ReconcileInput) -> bool:
    """Running, and passing its readiness probes when the caller probed them."""
    return pod.running and (inp.ready is None or pod.name in inp.ready)


def _started(pod: ObservedPod) -> float | None:
    times = [c.started_at for c in pod.containers if c.started_at is not None]
    return max(times) if times else None


def pod_available(pod: ObservedPod, inp: ReconcileInput, min_ready_seconds: int, settle: bool = True) -> bool:
    """Ready for minReadySeconds. With `settle` (pods about to replace or cover
    for others), a pod without readiness probes must also have run
    SETTLE_SECONDS since its last (re)start, so a crash on start is not taken
    for health; with nothing to replace, a running pod is available at once."""
    if not pod_ready(pod, inp):
        return False
    if not inp.now:
        return True
    probed = pod.name in inp.probed
    since = (inp.ready_since.get(pod.name) if probed else None) or _started(pod)
    if since is None:
        return True
    wait = 0.0 if probed or not settle else SETTLE_SECONDS
    return inp.now - since >= max(float(min_ready_seconds), wait)


def _views(workload: Deployment, pods: Sequence[ObservedPod], revision: str, inp: ReconcileInput) -> list[PodView]:
    # New pods settle only while old ones wait on their availability.
    rolling = any(p.revision != revision for p in pods)
    return [
        PodView(
            name=p.name,
            slot=p.slot,
            new=p.revision == revision,
            running=p.running,
            ready=pod_ready(p, inp),
            available=pod_available(p, inp, workload.min_ready_seconds, settle=rolling),
            draining=p.name in inp.draining,
        )
        for p in pods
    ]


def _reconcile_deployment(workload: Deployment, key: str, pods: list[ObservedPod], inp: ReconcileInput, work: _Pass) -> None:
    """One step of the Deployment's strategy: create, drain, remove (see plan/rollout.py)."""
    revision = inp.revision(workload)
    # The same pod on two nodes (a node came back): keep the running one.
    by_name: dict[str, list[ObservedPod]] = defaultdict(list)
    for pod in pods:
        by_name[pod.name].append(pod)
    pods = []
    for same in by_name.values():
        keep, *extra = sorted(same, key=lambda p: (not p.running, p.node))
        pods.append(keep)
        for pod in extra:
            _retire(pod, "duplicate replica", key, inp, work)
    # A pod that lost a container goes before the creates of this pass, and its
    # slot is made again in the same pass.
    # (A pod assumed on a node that does not answer has no containers seen: it is not broken.)
    broken = [p for p in pods if p.revision == revision and not p.assumed and _missing_containers(p, workload.template)]
    for pod in broken:
        missing = ", ".join(_missing_containers(pod, workload.template))
        work.actions.append(_remove_pod(pod, inp, f"container {missing} was deleted: the pod is made again", key))
    pods = [p for p in pods if p not in broken]
    decision = rollout_step(workload.replicas, workload.strategy, _views(workload, pods, revision, inp))
    removing, draining = set(decision.remove), set(decision.drain)
    for pod in pods:
        if pod.name in removing:
            work.removals.append(_remove_pod(pod, inp, "out of service since the last pass", key))
        elif pod.name in draining:
            why = f"replaced by revision {revision}" if pod.revision != revision else f"scaled to {workload.replicas}"
            _retire(pod, why, key, inp, work)
        else:
            work.kept.append(pod)
            if pod.revision == revision:
                _repair(pod, workload.template, inp, key, work)
    for slot in decision.create:
        identity = _identity(inp.cluster, workload, revision, slot)
        request = pod_request(identity.name, key, workload.template)
        work.creates.append((identity, workload.template, request, None))
    if not (decision.create or decision.drain or decision.remove):
        _evacuate_one(workload, key, pods, inp, work)


def _evacuate_one(workload: Deployment, key: str, pods: list[ObservedPod], inp: ReconcileInput, work: _Pass) -> None:
    """Drain, as Kubernetes evicts with a budget of one: a pod on a node being
    drained leaves (rules first, then stopped) only while every other pod of its
    Deployment is available; its slot is then recreated on another node."""
    leaving = sorted((p for p in pods if p.node in inp.evacuating and p.name not in inp.draining), key=lambda p: p.name)
    if not leaving:
        return
    staying = [p for p in pods if p.node not in inp.evacuating]
    if all(pod_available(p, inp, workload.min_ready_seconds) for p in staying):
        pod = leaving[0]
        work.kept.remove(pod)
        _retire(pod, f"node {pod.node} is being drained", key, inp, work)


def job_pod_phase(pod: ObservedPod, restart_policy: str) -> JobPod:
    """Succeeded when every container exited 0; failed when one exited otherwise and
    will not be restarted (restartPolicy Never); else still active."""
    containers = pod.containers
    exited = [c for c in containers if c.state in ("exited", "stopped")]
    if containers and len(exited) == len(containers) and all(c.exit_code == 0 for c in exited):
        return JobPod(pod.name, "succeeded", pod.restarts)
    if restart_policy == "Never" and any(c.exit_code != 0 for c in exited):
        return JobPod(pod.name, "failed", pod.restarts)
    return JobPod(pod.name, "active", pod.restarts if restart_policy == "OnFailure" else 0)


def _reconcile_job(job: Job, key: str, pods: list[ObservedPod], inp: ReconcileInput, reachable: set[str], work: _Pass) -> None:
    """One step of the Job (see plan/jobs.py); pods of an earlier template go."""
    revision = inp.revision(job)
    current = []
    for pod in pods:
        if pod.revision != revision:
            _retire(pod, f"job {key} has a new template", key, inp, work)
        else:
            current.append(pod)
    views = [job_pod_phase(p, job.template.spec.restart_policy) for p in current if p.node in reachable]
    step = job_step(job, inp.jobs.get(key), revision, views, inp.now)
    work.jobs[key] = step.record
    work.events += [PlanEvent(key, reason, message) for reason, message in step.events]
    if step.retry_at is not None:
        work.retry_at.append(step.retry_at)
    leaving = set(step.remove)
    for pod in current:
        if pod.name in leaving:
            work.removals.append(_remove_pod(pod, inp, step.record.reason or "job finished", key))
        else:
            work.kept.append(pod)
    for slot in step.create:
        identity = _identity(inp.cluster, job, revision, slot)
        work.creates.append((identity, job.template, pod_request(identity.name, key, job.template), None))


def daemon_nodes(workload: DaemonSet, nodes: Sequence[ClusterNode], reachable: set[str]) -> list[ClusterNode]:
    """Nodes a DaemonSet runs on: reachable, Ready and selected. A cordoned node
    keeps its daemon pod but gets no new one."""
    spec = workload.template.spec
    return [
        n for n in nodes
        if n.target.name in reachable and n.info.ready
        and all(n.info.labels.get(k) == v for k, v in spec.node_selector.items())
        and affinity_matches(spec.required_node_affinity, n.info.labels)
    ]


def _reconcile_daemonset(workload: DaemonSet, key: str, pods: list[ObservedPod], inp: ReconcileInput, reachable: set[str], work: _Pass) -> None:
    """One pod per eligible node. A new revision replaces old pods node by node,
    old first (it may hold a host port), at most maxUnavailable nodes at a time."""
    revision = inp.revision(workload)
    eligible = daemon_nodes(workload, inp.nodes, reachable)
    eligible_names = {n.target.name for n in eligible}
    for pod in pods:
        if pod.node not in eligible_names:
            _retire(pod, "node no longer selected", key, inp, work)
    budget = max(1, resolve_int_or_percent(workload.max_unavailable, len(eligible), round_up=True))
    starting = sum(
        1 for n in eligible
        if any(p.node == n.target.name and p.revision == revision and not p.running for p in pods)
    )
    for node in eligible:
        name = node.target.name
        current = [p for p in pods if p.node == name and p.revision == revision]
        old = [p for p in pods if p.node == name and p.revision != revision]
        if current:
            work.kept.append(current[0])
            _repair(current[0], workload.template, inp, key, work)
            for pod in current[1:]:
                _retire(pod, "duplicate daemon pod", key, inp, work)
            if current[0].running:
                for pod in old:
                    _retire(pod, f"replaced by revision {revision}", key, inp, work)
            else:
                work.kept.extend(old)
            continue
        if node.info.cordoned and not old:
            continue
        if old:
            if starting >= budget:
                work.kept.extend(old)
                continue
            starting += 1
            # Removed before the new pod is created on the same node (it may
            # hold the host port); one still serving traffic is drained first.
            for pod in old:
                _retire(pod, f"replaced by revision {revision}", key, inp, work, before_creates=True)
            if any(pod.name in work.drain for pod in old):
                continue
        identity = _identity(inp.cluster, workload, revision, name)
        request = pod_request(identity.name, key, workload.template, pinned=name)
        work.creates.append((identity, workload.template, request, name))


def _identity(cluster: str, workload: Workload, revision: str, slot: str) -> PodIdentity:
    return PodIdentity(cluster, workload.meta.kind.lower(), workload.meta.namespace, workload.meta.name, revision, slot)


def _missing_containers(pod: ObservedPod, template: PodTemplate) -> list[str]:
    present = {c.labels.get(CONTAINER_LABEL, "") for c in pod.containers}
    return sorted(c.name for c in template.spec.containers if c.name not in present)


def _repair(pod: ObservedPod, template: PodTemplate, inp: ReconcileInput, key: str, work: _Pass) -> None:
    """A pod that lost a container (deleted by hand) goes, to be made again next pass;
    a stopped one is started."""
    if pod.assumed:
        return
    missing = _missing_containers(pod, template)
    if missing:
        work.actions.append(_remove_pod(pod, inp, f"container {', '.join(missing)} was deleted: the pod is made again", key))
    elif pod.status in STOPPED_STATUSES:
        runtime = runtime_for(_node_runtime(inp, pod.node))
        steps = tuple(Step(tuple(a)) for a in runtime.start_pod(pod.name, [c.name for c in pod.containers]))
        work.actions.append(Action(ActionKind.START_POD, pod.node, pod.name, f"pod is {pod.status.lower()}", steps, workload=key))


def _node_runtime(inp: ReconcileInput, node: str) -> str:
    for n in inp.nodes:
        if n.target.name == node:
            return n.target.runtime
    raise UnknownRuntimeError(f"{node}: its container runtime is not known")


def _grace(inp: ReconcileInput, pod: ObservedPod) -> int:
    template = pod_template(pod, inp.desired)
    return template.spec.termination_grace_period_seconds if template is not None else 30


def serves_traffic(pod: ObservedPod, desired: Desired) -> bool:
    """A running pod some Service selects: it leaves the rules before it stops."""
    return pod.running and any(
        isinstance(o, Service) and o.meta.namespace == pod.namespace and selects(o, pod.labels)
        for o in desired.objects
    )


def _retire(pod: ObservedPod, reason: str, key: str, inp: ReconcileInput, work: _Pass, before_creates: bool = False) -> None:
    """Remove a pod; one that serves traffic first leaves every node's rules (this
    pass) and is stopped on the next pass, once no rule sends it new connections."""
    if pod.name in inp.draining or not serves_traffic(pod, inp.desired):
        (work.actions if before_creates else work.removals).append(_remove_pod(pod, inp, reason, key))
    else:
        work.drain[pod.name] = reason
        work.kept.append(pod)


def _remove_pod(pod: ObservedPod, inp: ReconcileInput, reason: str, key: str) -> Action:
    runtime = runtime_for(_node_runtime(inp, pod.node))
    steps = [Step(tuple(a)) for a in runtime.remove_pod(pod.name, [c.name for c in pod.containers], _grace(inp, pod))]
    # Its emptyDirs, where the pod was made (under its cluster's roots, or the legacy ones).
    dirs = (*pod_roots(inp.cluster), *LEGACY_POD_ROOTS)
    steps.append(Step(("rm", "-rf", "--", *(f"{root}/{pod.name}" for root in dirs))))
    return Action(ActionKind.REMOVE_POD, pod.node, pod.name, reason, tuple(steps), workload=key)


def _place(work: _Pass, inp: ReconcileInput, reachable: set[str], allocations: Allocations) -> list[Action]:
    """Schedule every new pod at once, then build each into a create action."""
    nodes = [n.info for n in inp.nodes if n.target.name in reachable]
    placed = [_placed(p, inp) for p in work.kept]
    claim_nodes = _volume_nodes(inp, reachable)
    placements = []
    for identity, template, request, _ in work.creates:
        claims = _claims(identity.namespace, template)
        pinned = request.pinned_node or next((claim_nodes[c] for c in sorted(claims) if c in claim_nodes), None)
        (placement,) = schedule([replace(request, pinned_node=pinned)], nodes, placed, inp.strategy)
        placements.append(placement)
        if placement.node is not None:
            placed.append(PlacedPod(placement.node, request.owner, request.cpu_millis, request.memory_bytes, request.host_ports))
            # Later pods using the same named volume follow it to this node.
            claim_nodes.update({claim: placement.node for claim in claims if claim not in claim_nodes})
    used_ports = _used_host_ports(inp, reachable)
    # Explicit hostPorts of this pass's pods are taken before any port is chosen automatically.
    for (_, template, _, _), placement in zip(work.creates, placements):
        if placement.node is not None:
            used_ports[placement.node].update(
                p.host_port for c in template.spec.containers for p in c.ports if p.host_port is not None
            )
    volumes = _claim_volumes(inp, reachable)
    targets = {n.target.name: replace(n.target, volumes=volumes.get(n.target.name, {})) for n in inp.nodes}
    actions = []
    for (identity, template, _, _), placement in zip(work.creates, placements):
        if placement.node is None:
            work.pending.append(PendingPod(identity.workload, identity.name, placement.reason))
            continue
        try:
            ports = _allocate_ports(template, used_ports[placement.node], inp.host_ports)
            hosts, env = discovery(identity.namespace, inp.desired, allocations)
            built = build_pod(identity, template, inp.desired, targets[placement.node], ports, hosts, env)
        except PodBuildError as error:
            work.pending.append(PendingPod(identity.workload, identity.name, str(error)))
            continue
        work.created_ports[built.node].extend(built.run.ports)
        actions.append(_create_action(built, inp, reachable))
    return actions


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
    for container in template.spec.containers:
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


def _create_action(built: BuiltPod, inp: ReconcileInput, reachable: set[str]) -> Action:
    present = _file_dirs(inp, built.node)
    files = tuple(f for f in built.files if not any(f.path.startswith(d + "/") for d in present))
    runtime = runtime_for(_node_runtime(inp, built.node))
    steps = built.prepare + tuple(Step(tuple(a)) for a in runtime.create_pod(built.run))
    reason = f"new pod of {built.identity.workload} (revision {built.identity.revision})"
    # Only a pod with this pod's identity is undone: never one of that name that another
    # namespace or cluster made.
    mine = tuple(runtime.has_labelled(((CLUSTER_LABEL, inp.cluster), (NAMESPACE_LABEL, built.identity.namespace),
                                       (POD_LABEL, built.identity.name))))
    undo = tuple(
        Step(tuple(a), ignore_errors=True, when=mine)
        for a in runtime.remove_pod(built.run.name, [c.name for c in built.run.containers], 0)
    )
    images = tuple(sorted({c.image for c in built.run.containers}))
    return Action(
        ActionKind.CREATE_POD, built.node, built.identity.name, reason, steps, files, built.identity.workload, built.file_dirs,
        undo, images,
    )


def _file_dirs(inp: ReconcileInput, node: str) -> frozenset[str]:
    for n in inp.observed.nodes:
        if n.name == node and n.owned is not None:
            return n.owned.file_dirs
    return frozenset()


def _rules_actions(
    inp: ReconcileInput, reachable: set[str], allocations: Allocations, pods: Sequence[ObservedPod],
    created_ports: Mapping[str, Sequence[PortBinding]],
) -> list[Action]:
    """A node whose service rules differ from what it should hold, or were changed by
    hand since they were written, gets them all rewritten (the write: proxy.sync).

    pods: those that stay (endpoints); created_ports: host ports of the pods this
    plan creates, by node, guarded with those of every pod observed there."""
    has_services = bool(inp.desired.of_kind("Service"))
    addresses = {n.target.name: n.target.address for n in inp.nodes if _is_ip(n.target.address)}
    if has_services:
        _check_ipv4(inp, reachable, addresses)
    allowed = tuple(sorted(set(addresses.values()) | set(inp.controller_addresses)))
    found = all_endpoints(inp.desired, pods, addresses, inp.ready) if has_services else {}
    actions = []
    for node in inp.observed.nodes:
        if node.name not in reachable:
            continue
        state = node.rules
        present = state.chains if state is not None else frozenset()
        if not has_services and not present:
            continue
        published = [b for pod in (node.owned.pods if node.owned else ()) for b in pod.ports]
        published += created_ports.get(node.name, ())
        wanted = build_node_rules(
            inp.cluster, node.name, inp.desired, allocations, found, addresses, allowed, inp.services, published
        )
        sha = rendered_sha(wanted)
        why = _rules_out_of_date(state, sha)
        if why is None:
            continue
        write = build_rules_write(wanted, state.by_table() if state is not None else None, sha)
        actions.append(Action(ActionKind.SYNC_RULES, node.name, _served(wanted), why, write.steps, write.files))
    return actions


def _rules_out_of_date(state: RulesState | None, sha: str) -> str | None:
    """Why a node's rules need a write, or None when they are as rendered, intact and first."""
    if state is None:
        return "service rules changed"
    if state.stored and not state.intact:
        return "rules changed by hand"
    if state.legacy:
        return "unscoped rules of an earlier sshorch"
    if state.rendered != sha or not state.intact:
        return "service rules changed"
    if state.misplaced:
        return "other rules above ours"
    return None


def _served(rules: NodeRules) -> str:
    count = len({(port.namespace, port.service) for port in rules.services})
    return f"{count} service" + ("" if count == 1 else "s")


def _file_repairs(inp: ReconcileInput, reachable: set[str], work: _Pass) -> list[Action]:
    """Config and secret files of running pods that were changed or removed by hand: written again."""
    targets = {n.target.name: n.target for n in inp.nodes}
    sums = {n.name: n.checksums for n in inp.observed.nodes if n.checksums is not None}
    actions = []
    for pod in work.kept:
        template = pod_template(pod, inp.desired)
        workload = inp.desired.get(KIND_NAMES.get(pod.kind, pod.kind), pod.owner, pod.namespace)
        if template is None or pod.node not in sums or pod.node not in reachable or workload is None:
            continue
        if not isinstance(workload, (Deployment, DaemonSet, Job)) or pod.revision != inp.revision(workload):
            continue
        files = pod.labels.get(FILES_LABEL, "")
        legacy = bool(files) and not files.startswith("clusters/")
        identity = PodIdentity(inp.cluster, pod.kind, pod.namespace, pod.owner, pod.revision, pod.slot, pod.name, legacy)
        built = build_pod(identity, template, inp.desired, targets[pod.node], defaultdict(int))
        stale = tuple(
            f for f in built.files if sums[pod.node].get(f.path) != hashlib.sha256(f.data()).hexdigest()
        )
        if stale:
            actions.append(Action(ActionKind.WRITE_FILES, pod.node, pod.name, f"{len(stale)} config/secret files changed or missing",
                                  files=stale, workload=identity.workload))
    return actions


def _check_ipv4(inp: ReconcileInput, reachable: set[str], addresses: Mapping[str, str]) -> None:
    """Service rules and endpoints are IPv4: a node with no IPv4 address is named, not a KeyError."""
    for node in inp.nodes:
        if node.target.name in reachable and node.target.name not in addresses:
            raise SshorchError(
                f"node {node.target.name}: Services need an IPv4 address for the node, and it has none"
                f" (its address {node.target.address!r} is not IPv4 and it reported no global IPv4 address);"
                " set ansible_host to the node's IPv4 address"
            )


def _is_ip(address: str) -> bool:
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return True


def _stray_and_file_cleanup(inp: ReconcileInput, reachable: set[str], work: _Pass, creates: Sequence[Action]) -> list[Action]:
    """Containers with our labels outside our pods, and config/secret dirs no pod needs.

    Only the cluster's own directories are cleaned, and those of the legacy layout that
    held config and secret files; emptyDir data of the legacy layout stays, for the
    cluster that owns it to remove with its pod."""
    actions = []
    needed: dict[str, set[str]] = defaultdict(set)
    for pod in work.kept:
        needed[pod.node].update(f"{RUN_DIR}/{d}" for d in pod.labels.get(FILES_LABEL, "").split(",") if d)
    for action in creates:
        needed[action.node].update(action.uses)
    for node in inp.observed.nodes:
        if node.name not in reachable or node.owned is None:
            continue
        runtime = runtime_for(_node_runtime(inp, node.name))
        for container in node.owned.stray_containers:
            steps = tuple(Step(tuple(a)) for a in runtime.remove_container(container.name))
            actions.append(Action(ActionKind.REMOVE_CONTAINER, node.name, container.name, "labelled ours but in no pod of ours", steps))
        pod_names = {p.name for p in node.owned.pods}
        stale = sorted(
            d for d in node.owned.file_dirs
            if is_file_dir(d) and d not in needed[node.name] and (owned_by(d, inp.cluster) or d.startswith(LEGACY_CONFIG_ROOTS))
            or is_pod_dir(d) and owned_by(d, inp.cluster) and d.rsplit("/", 1)[1] not in pod_names
        )
        if stale:
            actions.append(Action(ActionKind.REMOVE_FILES, node.name, f"{len(stale)} dirs", "no pod uses them", (Step(("rm", "-rf", "--", *stale)),)))
    return actions
