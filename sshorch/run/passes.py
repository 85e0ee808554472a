"""Passes toward the desired state: gather, reconcile, execute, until settled.

Each pass is one gather exec and at most one action exec per node. A pass
that only waits (pods starting) sleeps briefly; the loop ends when nothing is
left to do, when what is left cannot progress (Pending pods, and what waits on
them), or at the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sshorch.run.execute import execute
from sshorch.plan.nodescript import Report
from sshorch.plan.graph import desired_dependencies
from sshorch.run.probing import Health, HealthView, check_health, restart_actions
from sshorch.plan.nodehealth import DEFAULT_EVICTION_TIMEOUT, NodeMemory, NodeVerdicts, judge_nodes
from sshorch.run.images import LocalImages
from sshorch.inventory import Host
from sshorch.observe.cluster import GatherScope, Observed, gather_scripts
from sshorch.run.gather import gather_cluster
from sshorch.observe.listing import KeptListing
from sshorch.plan.jobs import JobRecord
from sshorch.probes.prober import MAX_SCRIPT_SECONDS
from sshorch.plan.model import Plan, PlanEvent
from sshorch.plan.naming import workload_key
from sshorch.plan.clusternodes import build_cluster_node
from sshorch.plan.reconcile import ClusterNode, ReconcileInput, reconcile, with_plain_hashes
from sshorch.plan.services import Allocations, ServiceConfig
from sshorch.spec.workloadkinds import workloads
from sshorch.plan.rolloutwatch import RolloutWatch
from sshorch.run.progress import Notice, PassActed, Progress, quiet, workload_progress
from sshorch.plan.schedule import Strategy
from sshorch.spec.model import Desired
from sshorch.plan.overview import workload_statuses
from sshorch.transport import Session, SshTarget
from sshorch.transport.hosttargets import local_address_for, target_for

WAIT_INTERVAL = 0.5
MAX_FAILED_PASSES = 3


@dataclass
class RunContext:
    """What a run works with: its hosts and session, what it remembers, and where it records what changes."""

    hosts: tuple[Host, ...]
    session: Session
    cluster: str
    strategy: Strategy = "spread"
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    progress: Progress = quiet
    cordoned: frozenset[str] = frozenset()
    evacuating: frozenset[str] = frozenset()  # nodes being drained (cordoned as well)
    services: ServiceConfig = ServiceConfig()
    allocations: Allocations = Allocations({}, {})
    # Called with new allocations before anything uses them (state records them).
    record_allocations: Callable[[Allocations], None] = lambda _: None
    # Pods out of the service rules since the last pass, to be stopped now.
    draining: frozenset[str] = frozenset()
    record_draining: Callable[[frozenset[str]], None] = lambda _: None
    # A failed rollout: returns the desired state to go on with (rolled back), or None to pause it.
    on_rollout_failed: Callable[[str, str], Desired | None] = lambda _workload, _reason: None
    wall_clock: Callable[[], float] = time.time
    health: Health = field(default_factory=Health)
    record_health: Callable[[Health], None] = lambda _: None
    # Checked between passes: a stop request (SIGTERM in --watch) ends the run there.
    stopping: Callable[[], bool] = lambda: False
    eviction_timeout: float = DEFAULT_EVICTION_TIMEOUT
    allowed_host_paths: tuple[str, ...] = ()  # the inventory's sshorch_allowed_host_paths
    nodes_memory: NodeMemory = field(default_factory=NodeMemory)
    record_nodes: Callable[[NodeMemory], None] = lambda _: None
    jobs: Mapping[str, JobRecord] = field(default_factory=dict)
    scope: GatherScope = GatherScope()  # what the gathers read beyond the basics
    listings: Mapping[str, KeptListing] = field(default_factory=dict)  # by node, from earlier gathers
    record_listings: Callable[[Mapping[str, KeptListing]], None] = lambda _: None
    # Called with the Jobs' records and events of a pass (state keeps them, progress shows the events).
    record_jobs: Callable[[Mapping[str, JobRecord], Sequence[PlanEvent]], None] = lambda _jobs, _events: None

    def controller_addresses(self) -> tuple[str, ...]:
        found = {local_address_for(h.address) for h in self.hosts}
        return tuple(sorted(a for a in found if a))



@dataclass
class Outcome:
    """How a run's passes ended: their reports, the last plan and observation, and what failed or stuck."""

    passes: int = 0
    reports: list[Report] = field(default_factory=list)
    last_plan: Plan = field(default_factory=Plan)
    observed: Observed | None = None
    settled: bool = False
    timed_out: bool = False
    stuck: frozenset[str] = frozenset()
    rolled_back: dict[str, str] = field(default_factory=dict)
    paused: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(n.results for r in self.reports for n in r.nodes)

    @property
    def failures(self) -> list[str]:
        return [line for r in self.reports for line in r.failures()]


def _gather_targets(ctx: RunContext) -> list[tuple[SshTarget, str]]:
    return [(target_for(h), h.runtime) for h in ctx.hosts]


def gather(ctx: RunContext, gathered: Mapping[str, str] | None = None) -> Observed:
    """Every node in one exec each, reading what ctx.scope asks for; the container
    listings to keep for the next gather are recorded. `gathered`: nodes' output of
    the scripts of follow_up_gathers, run after their actions (not asked again)."""
    targets = _gather_targets(ctx)
    observed = gather_cluster(ctx.session, targets, ctx.cluster, ctx.scope, ctx.listings, ctx.wall_clock(), gathered)
    read = {target.name for target, _ in targets}
    listings = {name: kept for name, kept in ctx.listings.items() if name not in read}
    listings.update((n.name, n.listing) for n in observed.nodes if n.listing is not None)
    if listings != ctx.listings:
        ctx.listings = listings
        ctx.record_listings(listings)
    return observed


def follow_up_gathers(ctx: RunContext, nodes: Collection[str]) -> dict[str, str]:
    """Gather scripts for these nodes to run right after their actions, in the same
    exec: the next pass then needs no exec of its own on them."""
    targets = [t for t in _gather_targets(ctx) if t[0].name in nodes]
    return gather_scripts(targets, ctx.cluster, ctx.scope, ctx.listings, ctx.wall_clock())


def cluster_nodes(ctx: RunContext, observed: Observed, returning: frozenset[str] = frozenset()) -> tuple[ClusterNode, ...]:
    reports = {n.name: n.report for n in observed.nodes}
    # A node back from an eviction takes no new pod until its stale ones are gone.
    blocked = ctx.cordoned | ctx.evacuating | returning
    return tuple(build_cluster_node(h, reports.get(h.name), h.name in blocked, ctx.allowed_host_paths) for h in ctx.hosts)


def plan_pass(
    ctx: RunContext,
    desired: Desired,
    observed: Observed,
    health: HealthView | None = None,
    verdicts: NodeVerdicts | None = None,
) -> Plan:
    returning = verdicts.returning if verdicts else frozenset()
    desired = observed_hashes(ctx, desired, observed, verdicts)
    nodes = cluster_nodes(ctx, observed, returning)
    plan = reconcile(
        ReconcileInput(
            cluster=ctx.cluster,
            desired=desired,
            nodes=nodes,
            observed=observed,
            dependencies=desired_dependencies(desired),
            strategy=ctx.strategy,
            services=ctx.services,
            allocations=ctx.allocations,
            controller_addresses=ctx.controller_addresses(),
            draining=ctx.draining,
            now=ctx.wall_clock(),
            ready=health.ready if health else None,
            ready_since=health.ready_since if health else {},
            probed=health.probed if health else frozenset(),
            assumed=verdicts.assumed if verdicts else (),
            returning=returning,
            evacuating=ctx.evacuating,
            jobs=ctx.jobs,
        )
    )
    if health is not None and health.restarts:
        runtimes = {h.name: h.runtime for h in ctx.hosts}
        plan = replace(plan, actions=restart_actions(health, runtimes, desired) + plan.actions)
    return plan


def observed_hashes(ctx: RunContext, desired: Desired, observed: Observed, verdicts: NodeVerdicts | None = None) -> Desired:
    """`desired` hashing each workload's Secrets as its pods were made (see with_plain_hashes)."""
    return with_plain_hashes(desired, [*observed.pods(), *(verdicts.assumed if verdicts else ())], ctx.jobs)


def probe(ctx: RunContext, desired: Desired, observed: Observed) -> HealthView:
    """Run the probes due on this pass (exec ones in one exec per node)."""
    hosts = {h.name: h for h in ctx.hosts}

    def exec_on_node(node: str, script: str) -> str:
        return ctx.session.connection(target_for(hosts[node])).run(["sh", "-c", script], timeout=MAX_SCRIPT_SECONDS).text

    view = check_health(ctx.health, desired, observed, ctx.wall_clock(), exec_on_node, {h.name: h.runtime for h in ctx.hosts})
    ctx.record_health(ctx.health)
    return view


def adopt_allocations(ctx: RunContext, plan: Plan) -> None:
    """Record new VIPs and node ports before pods that name them are created."""
    if plan.allocations is not None and plan.allocations != ctx.allocations:
        ctx.record_allocations(plan.allocations)
        ctx.allocations = plan.allocations


def workload_keys(desired: Desired) -> set[str]:
    """The workloads a run waits for: those that roll out."""
    return {workload_key(o.meta.kind, o.meta.namespace, o.meta.name) for o in workloads(desired.objects, lambda k: k.rolls_out)}


def stuck_workloads(plan: Plan) -> set[str]:
    """Workloads that cannot progress: Pending pods, and whatever waits on those."""
    stuck = {p.workload for p in plan.pending}
    changed = True
    while changed:
        changed = False
        for blocked in plan.blocked:
            if blocked.workload not in stuck and all(w in stuck for w in blocked.waiting_for):
                stuck.add(blocked.workload)
                changed = True
    return stuck


def _show_rollouts(ctx: RunContext, desired: Desired, observed: Observed, health: HealthView, plan: Plan) -> None:
    """Every workload's pods after this pass: desired, ready, up to date, old ones left."""
    statuses = workload_statuses(desired, observed, cluster_nodes(ctx, observed), health.ready)
    ctx.progress(workload_progress(statuses, plan))


def run_passes(ctx: RunContext, desired: Desired, timeout: float, first: Observed | None = None) -> Outcome:
    """Passes until settled; `first` is an observation already made, used by the first pass."""
    outcome = Outcome()
    deadline = ctx.clock() + timeout
    wanted = workload_keys(desired)
    targets = {h.name: target_for(h) for h in ctx.hosts}
    runtimes = {h.name: h.runtime for h in ctx.hosts}
    local_images = LocalImages()
    failed_passes = 0
    watch = RolloutWatch()
    ahead: Mapping[str, str] = {}  # gather output that came with the last pass's actions
    while True:
        observed, first, ahead = first or gather(ctx, ahead), None, {}
        health = probe(ctx, desired, observed)
        verdicts = judge_nodes(ctx.nodes_memory, observed, ctx.wall_clock(), ctx.eviction_timeout)
        ctx.nodes_memory = verdicts.memory
        ctx.record_nodes(ctx.nodes_memory)
        desired = observed_hashes(ctx, desired, observed, verdicts)
        for node in sorted(verdicts.evicted_now):
            ctx.progress(Notice(f"{node}: NotReady for {ctx.eviction_timeout:g}s: its pods are placed on other nodes", warning=True))
        plan = plan_pass(ctx, desired, observed, health, verdicts)
        failures, watch = watch.failures(
            desired, observed.pods(), health.ready, plan.ready, outcome.reports[-1:], ctx.wall_clock()
        )
        replaced = False
        for workload, reason in sorted(failures.items()):
            if workload in outcome.paused or workload in outcome.rolled_back:
                continue
            ctx.progress(Notice(f"{workload}: rollout failed: {reason}", warning=True))
            replacement = ctx.on_rollout_failed(workload, reason)
            if replacement is None:
                outcome.paused[workload] = reason
            else:
                outcome.rolled_back[workload] = reason
                desired, replaced = replacement, True
        if replaced:
            plan = plan_pass(ctx, desired, observed, health, verdicts)
        if plan.jobs != ctx.jobs or plan.events:
            ctx.jobs = plan.jobs
            ctx.record_jobs(plan.jobs, plan.events)
        outcome.observed, outcome.last_plan = observed, plan
        _show_rollouts(ctx, desired, observed, health, plan)
        stuck = stuck_workloads(plan) | set(outcome.paused)
        waiting = wanted - set(plan.ready) - stuck
        if plan.empty and not waiting:
            outcome.settled, outcome.stuck = True, frozenset(stuck)
            return outcome
        # A pass that found work does it, however long its gather took.
        if plan.empty:
            if ctx.clock() > deadline or ctx.stopping():
                outcome.timed_out, outcome.stuck = True, frozenset(stuck | waiting)
                return outcome
            ctx.sleep(WAIT_INTERVAL)
            continue
        outcome.passes += 1
        adopt_allocations(ctx, plan)
        tell = lambda text: ctx.progress(Notice(text))  # noqa: E731
        report = execute(plan, ctx.session, targets, tell, runtimes, local_images, follow_up_gathers(ctx, plan.nodes()))
        ctx.progress(PassActed(report))
        outcome.reports.append(report)
        ctx.draining = frozenset(pod for pod, _ in plan.draining)
        ctx.record_draining(ctx.draining)
        if ctx.clock() > deadline or ctx.stopping():
            outcome.timed_out, outcome.stuck = True, frozenset(stuck | waiting)
            return outcome
        if report.ok:
            failed_passes = 0
            # The next pass goes on at once: what the nodes read after their actions is current.
            ahead = {n.node: n.output for n in report.nodes}
            continue
        # The same failure again and again will not heal within this run.
        failed_passes += 1
        if failed_passes >= MAX_FAILED_PASSES:
            outcome.stuck = frozenset(waiting | stuck)
            return outcome
        ctx.sleep(WAIT_INTERVAL * 2)
