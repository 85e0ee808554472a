"""Probing pods during a run: which pods are ready, since when, and which
containers failed liveness. Records survive runs in the state file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.plan.model import Action, ActionKind, Step
from sshorch.plan.naming import pod_template, workload_key
from sshorch.probes import (
    ProbeKey,
    ProbeRecord,
    ProbeTarget,
    build_targets,
    container_ready,
    due_probes,
    liveness_verdicts,
    prune_records,
    record_results,
    reset_records,
    run_probes,
)
from sshorch.runtime.registry import node_runtime
from sshorch.spec.model import Desired


@dataclass(frozen=True)
class Health:
    """What a run knows about probes between passes."""

    records: Mapping[ProbeKey, ProbeRecord] = field(default_factory=dict)
    ready_since: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthView:
    """A pass's probe verdicts: ready and probed pods, since when each is ready, and containers to restart."""

    ready: frozenset[str]
    probed: frozenset[str]  # pods with a readiness or startup probe
    ready_since: Mapping[str, float]
    restarts: tuple[tuple[ObservedPod, str, str], ...]  # (pod, runtime container name, why)


def probe_targets(desired: Desired, observed: Observed) -> dict[str, list[ProbeTarget]]:
    """Per pod, its containers with their probes (a pod's workload's current template)."""
    addresses = {n.name: n.address for n in observed.nodes}
    targets = {}
    for pod in observed.pods():
        template = pod_template(pod, desired)
        if template is not None and pod.node in addresses:
            targets[pod.name] = build_targets(pod, template.spec, addresses[pod.node])
    return targets


def check_health(
    health: Health,
    desired: Desired,
    observed: Observed,
    now: float,
    exec_on_node: Callable[[str, str], str],
    runtimes: Mapping[str, str],
) -> tuple[HealthView, Health]:
    """Run the probes that are due, fold in their results, and read the verdicts;
    with the Health the next pass starts from."""
    targets = probe_targets(desired, observed)
    flat = [t for ts in targets.values() for t in ts]
    records = dict(health.records)
    due = due_probes(flat, records, now)
    if due:
        results = run_probes(due, exec_on_node, runtimes=dict(runtimes))
        records = record_results(records, due, results, now)
    records = prune_records(records, targets)
    pods = {p.name: p for p in observed.pods()}
    probed = frozenset(
        name for name, ts in targets.items() if any("readiness" in t.probes or "startup" in t.probes for t in ts)
    )
    ready = frozenset(
        name for name, pod in pods.items()
        if pod.running and all(container_ready(t, records) for t in targets.get(name, []))
    )
    ready_since = {name: health.ready_since.get(name, now) for name in ready}
    restarts = []
    for target, why in liveness_verdicts(flat, records):
        restarts.append((pods[target.pod], target.container_name, why))
        records = reset_records(records, target.pod, target.container)
    return HealthView(ready, probed, ready_since, tuple(restarts)), Health(records, ready_since)


def restart_actions(view: HealthView, runtimes: Mapping[str, str], desired: Desired) -> tuple[Action, ...]:
    actions = []
    for pod, container, why in view.restarts:
        template = pod_template(pod, desired)
        grace = template.spec.termination_grace_period_seconds if template else 30
        runtime = node_runtime(runtimes, pod.node).name
        step = Step((runtime, "restart", "-t", str(grace), container))
        key = workload_key(pod.kind, pod.namespace, pod.owner)
        actions.append(Action(ActionKind.RESTART_CONTAINER, pod.node, pod.name, f"{container}: {why}", (step,), workload=key))
    return tuple(actions)
