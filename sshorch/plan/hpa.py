"""HorizontalPodAutoscalers: CPU from the gather, decisions from plan/autoscale.py. Pure.

podman's stats give each container's CPU time so far; the rate is the
difference between two runs over the time between them, so the first run
after a pod starts only takes a reading. Memory (readings, recommendations,
scale events) is kept in state between runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sshorch.labels import CONTAINER_LABEL
from sshorch.observe.cluster import Observed
from sshorch.plan.autoscale import Recommendation, ScaleEvent, cpu_target_percent, decide_scale, usage_ratio
from sshorch.plan.model import PlanEvent
from sshorch.plan.naming import workload_key
from sshorch.spec.workloadkinds import kind_of
from sshorch.spec.model import Desired, HorizontalPodAutoscaler


@dataclass(frozen=True)
class AutoscaleMemory:
    """What the autoscaler keeps in state between runs: CPU readings, recommendations and scale events."""

    readings: dict[str, tuple[float, float]] = field(default_factory=dict)  # container -> (cpu seconds, time)
    recommendations: dict[str, tuple[Recommendation, ...]] = field(default_factory=dict)  # hpa key -> ...
    events: dict[str, tuple[ScaleEvent, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "readings": {k: list(v) for k, v in self.readings.items()},
            "recommendations": {k: [[r.time, r.replicas] for r in v] for k, v in self.recommendations.items()},
            "events": {k: [[e.time, e.change] for e in v] for k, v in self.events.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AutoscaleMemory:
        return cls(
            {k: (float(a), float(b)) for k, (a, b) in data.get("readings", {}).items()},
            {k: tuple(Recommendation(float(t), int(r)) for t, r in v) for k, v in data.get("recommendations", {}).items()},
            {k: tuple(ScaleEvent(float(t), int(c)) for t, c in v) for k, v in data.get("events", {}).items()},
        )


def cpu_rates(observed: Observed, memory: AutoscaleMemory, now: float) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Millicores per container since the last reading, and the new readings."""
    readings = dict(memory.readings)
    rates: dict[str, float] = {}
    for node in observed.nodes:
        for name, seconds in (node.cpu_seconds or {}).items():
            before = memory.readings.get(name)
            if before is not None and now > before[1] and seconds >= before[0]:
                rates[name] = (seconds - before[0]) * 1000 / (now - before[1])
            readings[name] = (seconds, now)
    seen = {name for node in observed.nodes for name in (node.cpu_seconds or {})}
    if seen:  # forget containers that are gone (a node without stats keeps its readings)
        readings = {k: v for k, v in readings.items() if k in seen}
    return rates, readings


def autoscale(desired: Desired, observed: Observed, memory: AutoscaleMemory, now: float) -> tuple[dict[str, int], list[PlanEvent], AutoscaleMemory]:
    """New replica counts by Deployment key, events, and the memory to keep."""
    rates, readings = cpu_rates(observed, memory, now)
    changes: dict[str, int] = {}
    events: list[PlanEvent] = []
    recommendations, scale_events = dict(memory.recommendations), dict(memory.events)
    for hpa in (o for o in desired.objects if isinstance(o, HorizontalPodAutoscaler)):
        key = workload_key("HorizontalPodAutoscaler", hpa.meta.namespace, hpa.meta.name)
        target = desired.get("Deployment", hpa.target_name, hpa.meta.namespace)
        kind = kind_of(target)
        percent = cpu_target_percent(hpa)
        if target is None or kind is None or kind.replicas is None or percent is None:
            continue
        replicas = kind.replicas(target)
        requests = {c.name: c.resources.cpu_request_millis for c in kind.template_of(target).spec.containers}
        usages, wanted = [], []
        for pod in observed.pods():
            if pod.kind != kind.prefix or pod.owner != hpa.target_name or pod.namespace != hpa.meta.namespace or not pod.running:
                continue
            for container in pod.containers:
                name = container.labels.get(CONTAINER_LABEL, "")
                if name in requests and container.name in rates:
                    usages.append(rates[container.name])
                    wanted.append(requests[name])
        ratio = usage_ratio(usages, wanted, percent) if usages else None
        decision = decide_scale(hpa, replicas, ratio, recommendations.get(key, ()), scale_events.get(key, ()), now)
        recommendations[key], scale_events[key] = decision.recommendations, decision.events
        if decision.replicas != replicas:
            changes[kind.key(target.meta.namespace, target.meta.name)] = decision.replicas
            events.append(PlanEvent(key, "SuccessfulRescale", decision.reason))
    return changes, events, AutoscaleMemory(readings, recommendations, scale_events)
