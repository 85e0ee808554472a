"""The controllers of one pass: what each Deployment, Job and DaemonSet needs next, as intents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from sshorch.labels import CONTAINER_LABEL
from sshorch.observe.owned import ObservedPod
from sshorch.plan.inputs import ClusterNode, ReconcileInput, pod_available, pod_ready
from sshorch.plan.initpods import pod_init_step, runtime_names
from sshorch.plan.initsteps import InitStep
from sshorch.plan.intents import DrainPod, RemovePod, StartContainers, StartPod
from sshorch.plan.jobs import COMPLETE, JobPod, JobRecord, job_step
from sshorch.plan.model import Blocked, PlanEvent
from sshorch.plan.naming import PodIdentity, pod_template, workload_key
from sshorch.plan.placement import Wanted, pod_request
from sshorch.spec.workloadkinds import PodWorkload, workload_kind
from sshorch.plan.rolling import PodView, resolve_int_or_percent, rollout_step
from sshorch.plan.services import selects
from sshorch.plan.schedule import affinity_matches
from sshorch.spec.privilege import needs_privilege
from sshorch.plan.taintevict import eviction_reason, pod_tolerations
from sshorch.spec.model import DaemonSet, Deployment, Desired, Job, PodTemplate, Service
from sshorch.taints import DAEMON_TOLERATIONS, untolerated

STOPPED_STATUSES = {"Exited", "Stopped", "Created"}


@dataclass
class Work:
    """What one reconcile pass accumulates before it becomes a Decision."""

    creates: list[Wanted] = field(default_factory=list)
    first: list[RemovePod | StartPod | StartContainers] = field(default_factory=list)  # before this pass's creates
    removals: list[RemovePod] = field(default_factory=list)  # after the creates and the rules
    blocked: list[Blocked] = field(default_factory=list)
    ready: set[str] = field(default_factory=set)
    kept: list[ObservedPod] = field(default_factory=list)
    drain: list[DrainPod] = field(default_factory=list)
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    events: list[PlanEvent] = field(default_factory=list)
    retry_at: list[float] = field(default_factory=list)

    def draining(self, pod: str) -> bool:
        return any(d.target == pod for d in self.drain)

    @property
    def removed(self) -> set[str]:
        return {r.target for r in (*self.first, *self.removals) if isinstance(r, RemovePod)}

    def remove(self, removal: RemovePod) -> None:
        (self.first if removal.before_creates else self.removals).append(removal)


def is_ready(workload: PodWorkload, pods_by_workload: Mapping[str, list[ObservedPod]], inp: ReconcileInput, reachable: set[str]) -> bool:
    """Every wanted pod of the current revision runs: each replica slot, or each daemon node."""
    key = workload_key(workload.meta.kind, workload.meta.namespace, workload.meta.name)
    revision = inp.revision(workload)
    kind = workload_kind(workload)
    if kind.update == "PerRevision":
        record = inp.jobs.get(key)
        return record is not None and record.revision == revision and record.outcome == COMPLETE
    current = [p for p in pods_by_workload.get(key, []) if p.revision == revision and p.running]
    if kind.slot == "replica":
        deployment = cast(Deployment, workload)
        views = _views(deployment, pods_by_workload.get(key, []), revision, inp)
        return rollout_step(deployment.replicas, deployment.strategy, views).complete
    running_on = {p.node for p in current}
    daemon_set = cast(DaemonSet, workload)
    wanted = [
        n.target.name for n in daemon_nodes(daemon_set, inp.nodes, reachable, inp.now)
        if takes_new_daemon(n, daemon_set) or any(p.node == n.target.name for p in pods_by_workload.get(key, []))
    ]
    return all(name in running_on for name in wanted)


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


def reconcile_workload(
    workload: PodWorkload, key: str, pods: list[ObservedPod], inp: ReconcileInput, reachable: set[str], work: Work,
) -> None:
    """The controller of the workload's kind, chosen by what its pods' slots are (spec/workloadkinds.py)."""
    slot = workload_kind(workload).slot
    if slot == "replica":
        reconcile_deployment(cast(Deployment, workload), key, pods, inp, work)
    elif slot == "attempt":
        reconcile_job(cast(Job, workload), key, pods, inp, reachable, work)
    else:
        reconcile_daemonset(cast(DaemonSet, workload), key, pods, inp, reachable, work)


def reconcile_deployment(workload: Deployment, key: str, pods: list[ObservedPod], inp: ReconcileInput, work: Work) -> None:
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
            retire(pod, "duplicate replica", key, inp, work)
    # A pod that lost a container goes before the creates of this pass, and its
    # slot is made again in the same pass.
    # (A pod assumed on a node that does not answer has no containers seen: it is not broken.)
    broken = [p for p in pods if p.revision == revision and not p.assumed and _missing_containers(p, workload.template)]
    for pod in broken:
        missing = ", ".join(_missing_containers(pod, workload.template))
        work.remove(remove_pod(pod, inp, f"container {missing} was deleted: the pod is made again", key, before_creates=True))
    pods = [p for p in pods if p not in broken]
    decision = rollout_step(workload.replicas, workload.strategy, _views(workload, pods, revision, inp))
    removing, draining = set(decision.remove), set(decision.drain)
    for pod in pods:
        if pod.name in removing:
            work.remove(remove_pod(pod, inp, "out of service since the last pass", key))
        elif pod.name in draining:
            why = f"replaced by revision {revision}" if pod.revision != revision else f"scaled to {workload.replicas}"
            retire(pod, why, key, inp, work)
        else:
            work.kept.append(pod)
            if pod.revision == revision:
                _repair(pod, workload.template, inp, key, work)
    for slot in decision.create:
        identity = _identity(inp.cluster, workload, revision, slot)
        request = pod_request(identity.name, key, workload.template)
        work.creates.append(Wanted(identity, workload.template, request))
    if not (decision.create or decision.drain or decision.remove):
        _evacuate_one(workload, key, pods, inp, work)


def _evacuate_one(workload: Deployment, key: str, pods: list[ObservedPod], inp: ReconcileInput, work: Work) -> None:
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
        retire(pod, f"node {pod.node} is being drained", key, inp, work)


def job_pod_phase(pod: ObservedPod, restart_policy: str, init_failed: bool = False) -> JobPod:
    """Succeeded when every container exited 0; failed when one exited otherwise and
    will not be restarted (restartPolicy Never), or an init container did (`init_failed`);
    else still active."""
    if init_failed:
        return JobPod(pod.name, "failed", pod.restarts)
    containers = pod.containers
    exited = [c for c in containers if c.state in ("exited", "stopped")]
    if containers and len(exited) == len(containers) and all(c.exit_code == 0 for c in exited):
        return JobPod(pod.name, "succeeded", pod.restarts)
    if restart_policy == "Never" and any(c.exit_code != 0 for c in exited):
        return JobPod(pod.name, "failed", pod.restarts)
    return JobPod(pod.name, "active", pod.restarts if restart_policy == "OnFailure" else 0)


def reconcile_job(job: Job, key: str, pods: list[ObservedPod], inp: ReconcileInput, reachable: set[str], work: Work) -> None:
    """One step of the Job (see plan/jobs.py); pods of an earlier template go."""
    revision = inp.revision(job)
    current = []
    for pod in pods:
        if pod.revision != revision:
            retire(pod, f"job {key} has a new template", key, inp, work)
        else:
            current.append(pod)
    inits = {p.name: _follow_init(p, job.template, inp, key, work) for p in current if p.node in reachable}
    init_failed = {name for name, init in inits.items() if init is not None and init.failed}
    current = [p for p in current if p.name not in work.removed]
    views = [job_pod_phase(p, job.template.spec.restart_policy, p.name in init_failed) for p in current if p.node in reachable]
    step = job_step(job, inp.jobs.get(key), revision, views, inp.now)
    work.jobs[key] = step.record
    work.events += [PlanEvent(key, reason, message) for reason, message in step.events]
    if step.retry_at is not None:
        work.retry_at.append(step.retry_at)
    leaving = set(step.remove)
    for pod in current:
        if pod.name in leaving:
            work.remove(remove_pod(pod, inp, step.record.reason or "job finished", key))
        else:
            work.kept.append(pod)
    for slot in step.create:
        identity = _identity(inp.cluster, job, revision, slot)
        work.creates.append(Wanted(identity, job.template, pod_request(identity.name, key, job.template)))


def daemon_nodes(workload: DaemonSet, nodes: Sequence[ClusterNode], reachable: set[str], now: float = 0.0) -> list[ClusterNode]:
    """Nodes a DaemonSet runs on: reachable, Ready, selected, allowing privilege if its
    pods need it, and without a NoExecute taint that evicts its pods (tolerationSeconds
    count from the taint's time here). A node that takes no new pod (see
    takes_new_daemon) keeps its daemon pod but gets no new one."""
    spec = workload.template.spec
    privileged = needs_privilege(spec)
    tolerations = pod_tolerations("DaemonSet", workload.template)
    return [
        n for n in nodes
        if n.target.name in reachable and n.info.ready
        and all(n.info.labels.get(k) == v for k, v in spec.node_selector.items())
        and affinity_matches(spec.required_node_affinity, n.info.labels)
        and (n.target.allow_privileged or not privileged)
        and eviction_reason(n.info.taints, tolerations, None, now) is None
    ]


def takes_new_daemon(node: ClusterNode, workload: DaemonSet) -> bool:
    """A node gets a new daemon pod unless it takes no pods at all or has a NoSchedule taint
    the pod does not tolerate. Daemon pods tolerate cordon (the unschedulable taint), as in Kubernetes."""
    tolerations = pod_tolerations("DaemonSet", workload.template)
    return not node.info.cordoned and not untolerated(node.info.taints, tolerations, ("NoSchedule",))


def reconcile_daemonset(workload: DaemonSet, key: str, pods: list[ObservedPod], inp: ReconcileInput, reachable: set[str], work: Work) -> None:
    """One pod per eligible node. A new revision replaces old pods node by node,
    old first (it may hold a host port), at most maxUnavailable nodes at a time."""
    revision = inp.revision(workload)
    eligible = daemon_nodes(workload, inp.nodes, reachable, inp.now)
    eligible_names = {n.target.name for n in eligible}
    for pod in pods:
        if pod.node not in eligible_names:
            retire(pod, "node no longer selected", key, inp, work)
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
                retire(pod, "duplicate daemon pod", key, inp, work)
            if current[0].running:
                for pod in old:
                    retire(pod, f"replaced by revision {revision}", key, inp, work)
            else:
                work.kept.extend(old)
            continue
        if not old and not takes_new_daemon(node, workload):
            continue
        if old:
            if starting >= budget:
                work.kept.extend(old)
                continue
            starting += 1
            # Removed before the new pod is created on the same node (it may
            # hold the host port); one still serving traffic is drained first.
            for pod in old:
                retire(pod, f"replaced by revision {revision}", key, inp, work, before_creates=True)
            if any(work.draining(pod.name) for pod in old):
                continue
        identity = _identity(inp.cluster, workload, revision, name)
        request = pod_request(identity.name, key, workload.template, pinned=name, added_tolerations=DAEMON_TOLERATIONS)
        work.creates.append(Wanted(identity, workload.template, request))


def _identity(cluster: str, workload: PodWorkload, revision: str, slot: str) -> PodIdentity:
    return PodIdentity(cluster, workload.meta.kind.lower(), workload.meta.namespace, workload.meta.name, revision, slot)


def _missing_containers(pod: ObservedPod, template: PodTemplate) -> list[str]:
    present = {c.labels.get(CONTAINER_LABEL, "") for c in pod.containers}
    return sorted(c.name for c in template.spec.containers if c.name not in present)


def _repair(pod: ObservedPod, template: PodTemplate, inp: ReconcileInput, key: str, work: Work) -> None:
    """A pod that lost a container (deleted by hand) goes, to be made again next pass;
    a stopped one is started."""
    if pod.assumed:
        return
    step = _follow_init(pod, template, inp, key, work)
    if step is not None:
        if not (step.missing or step.start or step.status) and pod.status in STOPPED_STATUSES:
            # Initialised once, then stopped (its node restarted): the app containers start again.
            stopped = tuple(c.name for c in pod.containers if c.state != "running")
            work.first.append(StartContainers(pod.node, pod.name, stopped, f"pod is {pod.status.lower()}", key))
        return
    missing = _missing_containers(pod, template)
    if missing:
        work.remove(remove_pod(pod, inp, f"container {', '.join(missing)} was deleted: the pod is made again", key, before_creates=True))
    elif pod.status in STOPPED_STATUSES:
        containers = tuple(c.name for c in pod.containers)
        work.first.append(StartPod(pod.node, pod.name, containers, f"pod is {pod.status.lower()}", key))


def _follow_init(pod: ObservedPod, template: PodTemplate, inp: ReconcileInput, key: str, work: Work) -> InitStep | None:
    """The next step of a pod with init containers (None for one without): its containers
    started in turn, the back-off of a failed one awaited, a pod that lost one made again."""
    step = pod_init_step(pod, template, inp.now)
    if step is None:
        return None
    if step.missing:
        why = f"container {', '.join(step.missing)} was deleted: the pod is made again"
        work.remove(remove_pod(pod, inp, why, key, before_creates=True))
        return step
    if step.start:
        what = f"{step.status}: " if step.status else ""
        work.first.append(StartContainers(pod.node, pod.name, runtime_names(pod, step.start), f"{what}starts {', '.join(step.start)}", key))
    if step.retry_at is not None:
        work.retry_at.append(step.retry_at)
    return step


def _grace(inp: ReconcileInput, pod: ObservedPod) -> int:
    template = pod_template(pod, inp.desired)
    return template.spec.termination_grace_period_seconds if template is not None else 30


def serves_traffic(pod: ObservedPod, desired: Desired) -> bool:
    """A running pod some Service selects: it leaves the rules before it stops."""
    return pod.running and any(
        isinstance(o, Service) and o.meta.namespace == pod.namespace and selects(o, pod.labels)
        for o in desired.objects
    )


def retire(pod: ObservedPod, reason: str, key: str, inp: ReconcileInput, work: Work, before_creates: bool = False) -> None:
    """Remove a pod; one that serves traffic first leaves every node's rules (this
    pass) and is stopped on the next pass, once no rule sends it new connections."""
    if pod.name in inp.draining or not serves_traffic(pod, inp.desired):
        work.remove(remove_pod(pod, inp, reason, key, before_creates))
    else:
        work.drain.append(DrainPod(pod.node, pod.name, reason))
        work.kept.append(pod)


def remove_pod(pod: ObservedPod, inp: ReconcileInput, reason: str, key: str, before_creates: bool = False) -> RemovePod:
    containers = tuple(c.name for c in (*pod.init_containers, *pod.containers))
    return RemovePod(pod.node, pod.name, containers, reason, _grace(inp, pod), key, before_creates)
