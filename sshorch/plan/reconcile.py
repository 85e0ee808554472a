"""reconcile(desired, observed, ...) -> Plan. Pure: no connection, clock or randomness.

decide() makes the pass's Decision (plan/intents.py); reconcile() compiles it into
node actions (plan/compile.py). One pass decides the next step toward the desired state; running passes until
the plan is empty converges. A new revision's pods are created beside the old
ones, and the old ones go once every new one runs. A workload whose
dependencies are not ready waits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sshorch.errors import SshorchError
from sshorch.observe.owned import ObservedPod
from sshorch.plan.compile import Target, compile_plan
from sshorch.plan.controllers import Work, is_ready, reconcile_workload, remove_pod, retire
from sshorch.spec.workloadkinds import kind_of_key, workloads
from sshorch.plan.inputs import ClusterNode, ReconcileInput
from sshorch.plan.intents import Decision, Intent, RemovePod, SyncRules
from sshorch.plan.model import Blocked, Plan
from sshorch.plan.naming import workload_key
from sshorch.plan.placement import place
from sshorch.plan.taintevict import taint_evictions
from sshorch.plan.revision import with_plain_hashes
from sshorch.plan.services import Allocations, all_endpoints, allocate, build_node_rules
from sshorch.plan.upkeep import file_repairs, stray_and_file_cleanup
from sshorch.ipfamily import IPV4
from sshorch.proxy.sync import RulesDue, rules_due
from sshorch.runtime import PortBinding

# Names callers (converge, plan/nodes, status) take from here.
__all__ = ["ClusterNode", "ReconcileInput", "decide", "reconcile", "with_plain_hashes"]


def reconcile(inp: ReconcileInput) -> Plan:
    """The pass's decision, compiled into node actions."""
    return compile_plan(decide(inp), Target(inp.cluster, {n.target.name: n.target.runtime for n in inp.nodes}))


def decide(inp: ReconcileInput) -> Decision:
    reachable = {n.name for n in inp.observed.nodes if n.reachable and n.owned is not None}
    unreachable = tuple(sorted(n.target.name for n in inp.nodes if n.target.name not in reachable))
    pods_by_workload: dict[str, list[ObservedPod]] = defaultdict(list)
    work = Work()
    evictions = taint_evictions(inp, reachable)
    if evictions.next_due is not None:
        work.retry_at.append(evictions.next_due)
    for node in inp.observed.nodes:
        if node.name in reachable and node.owned is not None:
            for pod in node.owned.pods:
                if node.name in inp.returning:
                    key = workload_key(pod.kind, pod.namespace, pod.owner)
                    work.remove(remove_pod(pod, inp, "stale: its node was evicted, it runs elsewhere", key))
                elif pod.name in evictions.reasons:
                    # Its controller no longer counts it: its slot is made again elsewhere.
                    key = workload_key(pod.kind, pod.namespace, pod.owner)
                    retire(pod, evictions.reasons[pod.name], key, inp, work)
                else:
                    pods_by_workload[workload_key(pod.kind, pod.namespace, pod.owner)].append(pod)
    for pod in inp.assumed:
        pods_by_workload[workload_key(pod.kind, pod.namespace, pod.owner)].append(pod)

    running = workloads(inp.desired.objects)
    ready_before = {
        workload_key(w.meta.kind, w.meta.namespace, w.meta.name)
        for w in running
        if is_ready(w, pods_by_workload, inp, reachable)
    }
    desired_keys = set()
    for workload in running:
        key = workload_key(workload.meta.kind, workload.meta.namespace, workload.meta.name)
        desired_keys.add(key)
        waiting = tuple(d for d in inp.dependencies.get(key, ()) if _is_workload_key(d) and d not in ready_before)
        pods = pods_by_workload.get(key, [])
        if waiting and not pods:
            work.blocked.append(Blocked(key, waiting))
            continue
        reconcile_workload(workload, key, pods, inp, reachable, work)
        if key in ready_before:
            work.ready.add(key)

    for key, pods in sorted(pods_by_workload.items()):
        if key not in desired_keys:
            for pod in pods:
                retire(pod, f"{key} is no longer desired", key, inp, work)

    allocations = allocate(inp.desired, inp.allocations, inp.services)
    leaving = inp.draining | {d.target for d in work.drain}
    creates, pending, preempted = place(work.creates, work.kept, inp, reachable, allocations, leaving)
    _preempt(preempted, inp, work)
    removed = {r.target for r in work.first + work.removals if isinstance(r, RemovePod)} | {d.target for d in work.drain}
    remaining = [p for p in inp.observed.pods() if p.node in reachable and p.name not in removed]
    created_ports: dict[str, list[PortBinding]] = defaultdict(list)
    for create in creates:
        created_ports[create.node].extend(create.pod.run.ports)
    rules = [SyncRules(due) for due in _rules_due(inp, reachable, allocations, remaining, created_ports)]
    # Rules change before pods go, so no endpoint points at a pod being removed.
    intents: list[Intent] = [*work.first, *file_repairs(inp, reachable, work.kept), *creates, *rules, *work.removals]
    intents += stray_and_file_cleanup(inp, reachable, work.kept, creates)
    return Decision(
        # Nothing can be done on a node that does not answer (its assumed pods included).
        intents=tuple(i for i in intents if i.node in reachable),
        draining=tuple(work.drain),
        pending=tuple(pending),
        blocked=tuple(work.blocked),
        unreachable=unreachable,
        ready=frozenset(work.ready),
        allocations=allocations,
        jobs=work.jobs,
        events=tuple(work.events),
        retry_at=min(work.retry_at, default=None),
    )


def _preempt(preempted: Mapping[str, str], inp: ReconcileInput, work: Work) -> None:
    """Kept pods preempted for a pod of higher priority leave, as a drain does: their
    controllers make them again, placed where room is left."""
    victims = {p.name: p for p in work.kept if p.name in preempted}
    work.kept[:] = [p for p in work.kept if p.name not in victims]
    for name, pod in sorted(victims.items()):
        retire(pod, preempted[name], workload_key(pod.kind, pod.namespace, pod.owner), inp, work)


def _is_workload_key(key: str) -> bool:
    """A key of a kind that runs pods of its own (what readiness is about; a CronJob's is not)."""
    kind = kind_of_key(key)
    return kind is not None and kind.runs_pods


def _rules_due(
    inp: ReconcileInput, reachable: set[str], allocations: Allocations, pods: Sequence[ObservedPod],
    created_ports: Mapping[str, Sequence[PortBinding]],
) -> list[RulesDue]:
    """A node whose service rules differ from what it should hold, or were changed by
    hand since they were written, gets them all rewritten (rendered by proxy.sync).

    pods: those that stay (endpoints); created_ports: host ports of the pods this
    plan creates, by node, guarded with those of every pod observed there."""
    has_services = bool(inp.desired.of_kind("Service"))
    addresses = {n.target.name: n.target.address for n in inp.nodes if _is_ip(n.target.address)}
    if has_services:
        _check_ipv4(inp, reachable, addresses)
    allowed = tuple(sorted(set(addresses.values()) | set(inp.controller_addresses)))
    found = all_endpoints(inp.desired, pods, addresses, inp.ready) if has_services else {}
    found_due = []
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
        due = rules_due(node.name, wanted, state)
        if due is not None:
            found_due.append(due)
    return found_due


def _check_ipv4(inp: ReconcileInput, reachable: set[str], addresses: Mapping[str, str]) -> None:
    """Service rules and endpoints are IPv4: a node with no IPv4 address is named, not a KeyError."""
    label = IPV4.label
    for node in inp.nodes:
        if node.target.name in reachable and node.target.name not in addresses:
            raise SshorchError(
                f"node {node.target.name}: Services need an {label} address for the node, and it has none"
                f" (its address {node.target.address!r} is not {label} and it reported no global {label} address);"
                f" set ansible_host to the node's {label} address"
            )


def _is_ip(address: str) -> bool:
    return IPV4.is_address(address)
