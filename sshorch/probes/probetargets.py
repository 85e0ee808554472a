"""Probe targets from what a node runs (ObservedPod) and what the pod should be (PodSpec); pure."""

from __future__ import annotations

from sshorch.labels import CONTAINER_LABEL
from sshorch.observe.owned import ObservedPod
from sshorch.probes.model import ProbeKind, ProbeTarget
from sshorch.spec.model import Container, PodSpec, Probe


def container_probes(container: Container) -> dict[ProbeKind, Probe]:
    probes: tuple[tuple[ProbeKind, Probe | None], ...] = (
        ("startup", container.startup_probe),
        ("liveness", container.liveness_probe),
        ("readiness", container.readiness_probe),
    )
    return {kind: probe for kind, probe in probes if probe is not None}


def pod_host_ports(pod: ObservedPod) -> dict[int, int]:
    """Published TCP ports of the pod: container port -> host port (the lowest, if published twice).
    Containers of a pod share its network, so any of them answers on any of these."""
    ports: dict[int, int] = {}
    for binding in sorted(pod.ports, key=lambda b: b.host_port):
        if binding.protocol == "tcp":
            ports.setdefault(binding.container_port, binding.host_port)
    return ports


def build_targets(pod: ObservedPod, spec: PodSpec, node_address: str) -> list[ProbeTarget]:
    """One target per container of `spec` that exists in `pod` (found by its sshorch.io/container
    label), with or without probes, so that readiness can be read for every container. Sidecars
    (init containers with restartPolicy Always) are probed as the app containers, as in Kubernetes."""
    observed = {c.labels.get(CONTAINER_LABEL, ""): c for c in (*pod.containers, *pod.init_containers)}
    host_ports = pod_host_ports(pod)
    targets = []
    for container in (*spec.containers, *(c for c in spec.init_containers if c.sidecar)):
        found = observed.get(container.name)
        if found is None:
            continue
        targets.append(ProbeTarget(
            pod=pod.name,
            container=container.name,
            container_name=found.name,
            node=pod.node,
            node_address=node_address,
            started_at=found.started_at,
            probes=container_probes(container),
            host_ports=host_ports,
            named_ports={p.name: p.container_port for p in container.ports if p.name},
            running=found.state == "running",
        ))
    return targets
