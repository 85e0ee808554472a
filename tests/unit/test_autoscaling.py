"""HPAs over runs: CPU rates from two readings, decisions, and memory."""

from __future__ import annotations

from dataclasses import replace

from sshorch.plan.hpa import AutoscaleMemory, autoscale, cpu_rates
from sshorch.observe.cluster import Observed
from sshorch.spec import parse_documents
from sshorch.spec.model import Desired, Source
from tests.unit.plan.helpers import observe, observed_pod

HPA = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "burn"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "burn"}, "minReplicas": 1, "maxReplicas": 3,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
             "behavior": {"scaleDown": {"stabilizationWindowSeconds": 10}}},
}
DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "burn"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "burn"}}, "template": {"metadata": {"labels": {"app": "burn"}}, "spec": {
        "containers": [{"name": "main", "image": "busybox:1", "resources": {"requests": {"cpu": "100m"}}}]}}},
}
DESIRED = parse_documents([(Source("a.yaml", 0), DEPLOYMENT), (Source("a.yaml", 1), HPA)])


def with_cpu(desired: Desired, seconds: float) -> Observed:
    pod = observed_pod(desired, "burn", 0, "n1")
    observed = observe(pod)
    (n1, *rest) = observed.nodes
    return Observed((replace(n1, cpu_seconds={pod.containers[0].name: seconds}), *rest))


def test_the_first_reading_gives_no_rate_the_second_does() -> None:
    first = with_cpu(DESIRED, 10.0)
    rates, readings = cpu_rates(first, AutoscaleMemory(), 100.0)
    assert rates == {}
    rates, _ = cpu_rates(with_cpu(DESIRED, 12.0), AutoscaleMemory(readings), 110.0)
    assert list(rates.values()) == [200.0]  # 2 CPU seconds in 10 s


def test_a_restarted_container_gives_no_rate() -> None:
    _, readings = cpu_rates(with_cpu(DESIRED, 10.0), AutoscaleMemory(), 100.0)
    assert cpu_rates(with_cpu(DESIRED, 1.0), AutoscaleMemory(readings), 110.0)[0] == {}


def test_busy_pods_scale_up_on_the_second_run_and_down_after_the_window() -> None:
    changes, events, memory = autoscale(DESIRED, with_cpu(DESIRED, 10.0), AutoscaleMemory(), 100.0)
    assert changes == {} and events == []
    changes, events, memory = autoscale(DESIRED, with_cpu(DESIRED, 12.0), memory, 110.0)
    assert changes == {"deployment/default/burn": 3}
    assert events[0].reason == "SuccessfulRescale" and "200% of 50% target" in events[0].message
    scaled = parse_documents([(Source("a.yaml", 0), {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": 3}}), (Source("a.yaml", 1), HPA)])
    # Idle now: held by the 10 s scale-down window, then down to the minimum.
    changes, _, memory = autoscale(scaled, with_cpu(scaled, 12.0), memory, 115.0)
    assert changes == {}
    changes, events, memory = autoscale(scaled, with_cpu(scaled, 12.0), memory, 130.0)
    assert changes == {"deployment/default/burn": 1}


def test_memory_round_trips_through_json() -> None:
    _, _, memory = autoscale(DESIRED, with_cpu(DESIRED, 10.0), AutoscaleMemory(), 100.0)
    _, _, memory = autoscale(DESIRED, with_cpu(DESIRED, 12.0), memory, 110.0)
    assert AutoscaleMemory.from_json(memory.to_json()) == memory
