"""Passes toward the desired state: gather, reconcile, execute, until settled.

Each pass is one gather exec and at most one action exec per node. A pass
that only waits (pods starting) sleeps briefly; the loop ends when nothing is
left to do, when what is left cannot progress (Pending pods, and what waits on
them), or at the deadline.
"""

from __future__ import annotations

import functools

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sshorch.run.execute import execute
from sshorch.plan.nodescript import Report
from sshorch.plan.graph import desired_dependencies
from sshorch.run.memory import PassMemory, save_memory
from sshorch.run.probing import Health, HealthView, check_health, restart_actions
from sshorch.plan.nodehealth import DEFAULT_EVICTION_TIMEOUT, NodeVerdicts, judge_nodes
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
from sshorch.plan.services import ServiceConfig
from sshorch.spec.workloadkinds import workloads
from sshorch.plan.rolloutwatch import RolloutWatch
from sshorch.run.progress import Notice, PassActed, Progress, quiet, workload_progress
from sshorch.plan.schedule import Strategy
from sshorch.spec.model import Desired
from sshorch.plan.overview import workload_statuses
from sshorch.state import StateStore
from sshorch.transport import Session, SshTarget
from sshorch.transport.hosttargets import local_address_for, target_for
from sshorch.taints import UNSCHEDULABLE, Taint, merge_taints

WAIT_INTERVAL = 0.5
MAX_FAILED_PASSES = 3


@dataclass(frozen=True)
class RunContext:
    """What a run works with: its hosts and session, the settings it runs by, what earlier
    runs left it, and the store each pass's memory goes to."""

    hosts: tuple[Host, ...]
    session: Session
    cluster: str
    strategy: Strategy = "spread"
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    progress: Progress = quiet
    cordoned: frozenset[str] = frozenset()
    evacuating: frozenset[str] = frozenset()  # nodes being drained (cordoned as well)
    taints: Mapping[str, tuple[Taint, ...]] = field(default_factory=dict)  # by node: the inventory's and `taint`'s
    services: ServiceConfig = ServiceConfig()
    eviction_timeout: float = DEFAULT_EVICTION_TIMEOUT
    allowed_host_paths: tuple[str, ...] = ()  # the inventory's sshorch_allowed_host_paths
    scope: GatherScope = GatherScope()  # what the gathers read beyond the basics
    # A failed rollout: returns the desired state to go on with (rolled back), or None to pause it.
    on_rollout_failed: Callable[[str, str], Desired | None] = lambda _workload, _reason: None
    # Checked between passes: a stop request (SIGTERM in --watch) ends the run there.
    stopping: Callable[[], bool] = lambda: False
    # This machine's addresses toward the nodes (controller_addresses): the rules let them in.
    controller_addresses: tuple[str, ...] = ()
    memory: PassMemory = PassMemory()  # what earlier runs left: the first pass starts from it
    store: StateStore | None = None  # where each pass's memory is saved; None records nothing (plan, status)

    @functools.cached_property
    def runtimes(self) -> dict[str, str]:
        """Each host's runtime, by node name."""
        return {h.name: h.runtime for h in self.hosts}


def controller_addresses(hosts: Sequence[Host]) -> tuple[str, ...]:
    """This machine's source address toward each host, as its routing table picks it."""
    found = {local_address_for(h.address) for h in hosts}
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
    memory: PassMemory = PassMemory()  # what the last pass left

    @property
    def changed(self) -> bool:
        return any(n.results for r in self.reports for n in r.nodes)

    @property
    def failures(self) -> list[str]:
        return [line for r in self.reports for line in r.failures()]


def _gather_targets(ctx: RunContext) -> list[tuple[SshTarget, str]]:
    return [(target_for(h), h.runtime) for h in ctx.hosts]


def gather(ctx: RunContext, gathered: Mapping[str, str] | None = None, kept: Mapping[str, KeptListing] | None = None) -> Observed:
    """Every node in one exec each, reading what ctx.scope asks for. `gathered`: nodes'
    output of the scripts of follow_up_gathers, run after their actions (not asked
    again). `kept`: container listings of earlier gathers (default: the run's memory)."""
    kept = ctx.memory.listings if kept is None else kept
    return gather_cluster(ctx.session, _gather_targets(ctx), ctx.cluster, ctx.scope, kept, ctx.wall_clock(), gathered)


def kept_listings(ctx: RunContext, kept: Mapping[str, KeptListing], observed: Observed) -> Mapping[str, KeptListing]:
    """The listings the next gather reuses: each node read now says its own; others keep theirs."""
    read = {h.name for h in ctx.hosts}
    listings = {name: listing for name, listing in kept.items() if name not in read}
    listings.update((n.name, n.listing) for n in observed.nodes if n.listing is not None)
    return listings


def follow_up_gathers(ctx: RunContext, nodes: Collection[str], kept: Mapping[str, KeptListing]) -> dict[str, str]:
    """Gather scripts for these nodes to run right after their actions, in the same
    exec: the next pass then needs no exec of its own on them."""
    targets = [t for t in _gather_targets(ctx) if t[0].name in nodes]
    return gather_scripts(targets, ctx.cluster, ctx.scope, kept, ctx.wall_clock())


def cluster_nodes(ctx: RunContext, observed: Observed, returning: frozenset[str] = frozenset()) -> tuple[ClusterNode, ...]:
    reports = {n.name: n.report for n in observed.nodes}
    # A node back from an eviction takes no new pod until its stale ones are gone; nor does
    # one being drained (its daemon pods stay, none come). Cordon is the unschedulable taint.
    blocked = ctx.evacuating | returning
    unschedulable = (Taint(UNSCHEDULABLE, "NoSchedule"),)
    return tuple(
        build_cluster_node(
            h, reports.get(h.name), h.name in blocked, ctx.allowed_host_paths,
            merge_taints(ctx.taints.get(h.name, ()), unschedulable if h.name in ctx.cordoned | ctx.evacuating else ()),
        )
        for h in ctx.hosts
    )


def plan_pass(
    ctx: RunContext,
    desired: Desired,
    observed: Observed,
    health: HealthView | None = None,
    verdicts: NodeVerdicts | None = None,
    memory: PassMemory | None = None,
) -> Plan:
    """This pass's plan for `desired` as observed_hashes gives it; `memory` is what the pass
    starts from (default: what the run started from)."""
    memory = ctx.memory if memory is None else memory
    returning = verdicts.returning if verdicts else frozenset()
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
            allocations=memory.allocations,
            controller_addresses=ctx.controller_addresses,
            draining=memory.draining,
            now=ctx.wall_clock(),
            ready=health.ready if health else None,
            ready_since=health.ready_since if health else {},
            probed=health.probed if health else frozenset(),
            assumed=verdicts.assumed if verdicts else (),
            returning=returning,
            evacuating=ctx.evacuating,
            jobs=memory.jobs,
        )
    )
    if health is not None and health.restarts:
        plan = replace(plan, actions=restart_actions(health, ctx.runtimes, desired) + plan.actions)
    return plan


def observed_hashes(
    desired: Desired, observed: Observed, jobs: Mapping[str, JobRecord], verdicts: NodeVerdicts | None = None,
) -> Desired:
    """`desired` hashing each workload's Secrets as its pods were made (see with_plain_hashes)."""
    return with_plain_hashes(desired, [*observed.pods(), *(verdicts.assumed if verdicts else ())], jobs)


def probe(ctx: RunContext, health: Health, desired: Desired, observed: Observed) -> tuple[HealthView, Health]:
    """Run the probes due on this pass (exec ones in one exec per node); the verdicts and the next Health."""
    hosts = {h.name: h for h in ctx.hosts}

    def exec_on_node(node: str, script: str) -> str:
        return ctx.session.connection(target_for(hosts[node])).run(["sh", "-c", script], timeout=MAX_SCRIPT_SECONDS).text

    return check_health(health, desired, observed, ctx.wall_clock(), exec_on_node, ctx.runtimes)


def next_memory(memory: PassMemory, plan: Plan, acting: bool) -> PassMemory:
    """What the pass leaves: its allocations (recorded before pods that name them are
    created), its Jobs and, when it acts, the pods its actions take out of the rules."""
    return replace(
        memory,
        allocations=plan.allocations if plan.allocations is not None else memory.allocations,
        jobs=plan.jobs,
        draining=frozenset(pod for pod, _ in plan.draining) if acting else memory.draining,
    )


def remember(ctx: RunContext, saved: PassMemory, memory: PassMemory, events: Sequence[PlanEvent]) -> PassMemory:
    """Save the pass's memory and its events (once, in one transaction); what is saved now."""
    if ctx.store is None:
        return saved
    save_memory(ctx.store, saved, memory, events, ctx.progress, ctx.wall_clock())
    return memory


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
    """Passes until settled; `first` is an observation already made, used by the first pass.
    Each pass starts from the memory the last one left and saves its own once."""
    outcome = Outcome()
    deadline = ctx.clock() + timeout
    wanted = workload_keys(desired)
    targets = {h.name: target_for(h) for h in ctx.hosts}
    local_images = LocalImages()
    failed_passes = 0
    watch = RolloutWatch()
    saved = memory = ctx.memory
    ahead: Mapping[str, str] = {}  # gather output that came with the last pass's actions
    while True:
        observed, first, ahead = first or gather(ctx, ahead, memory.listings), None, {}
        health, next_health = probe(ctx, memory.health, desired, observed)
        verdicts = judge_nodes(memory.nodes, observed, ctx.wall_clock(), ctx.eviction_timeout)
        memory = replace(memory, listings=kept_listings(ctx, memory.listings, observed), health=next_health, nodes=verdicts.memory)
        desired = observed_hashes(desired, observed, memory.jobs, verdicts)
        for node in sorted(verdicts.evicted_now):
            ctx.progress(Notice(f"{node}: NotReady for {ctx.eviction_timeout:g}s: its pods are placed on other nodes", warning=True))
        plan = plan_pass(ctx, desired, observed, health, verdicts, memory)
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
            plan = plan_pass(ctx, desired, observed, health, verdicts, memory)
        # A pass that found work does it, however long its gather took.
        memory = next_memory(memory, plan, acting=not plan.empty)
        saved = remember(ctx, saved, memory, plan.events)
        outcome.observed, outcome.last_plan, outcome.memory = observed, plan, memory
        _show_rollouts(ctx, desired, observed, health, plan)
        stuck = stuck_workloads(plan) | set(outcome.paused)
        waiting = wanted - set(plan.ready) - stuck
        if plan.empty and not waiting:
            outcome.settled, outcome.stuck = True, frozenset(stuck)
            return outcome
        if plan.empty:
            if ctx.clock() > deadline or ctx.stopping():
                outcome.timed_out, outcome.stuck = True, frozenset(stuck | waiting)
                return outcome
            ctx.sleep(WAIT_INTERVAL)
            continue
        outcome.passes += 1
        tell = lambda text: ctx.progress(Notice(text))  # noqa: E731
        follow_ups = follow_up_gathers(ctx, plan.nodes(), memory.listings)
        report = execute(plan, ctx.session, targets, tell, ctx.runtimes, local_images, follow_ups)
        ctx.progress(PassActed(report))
        outcome.reports.append(report)
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
