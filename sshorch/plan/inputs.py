"""What one reconcile pass reads, and what it asks of a pod: ready, available."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.plan.jobs import JobRecord
from sshorch.plan.podbuild import NodeTarget
from sshorch.plan.revision import workload_revision
from sshorch.spec.workloadkinds import PodWorkload, workloads
from sshorch.plan.services import Allocations, ServiceConfig
from sshorch.plan.schedule import NodeInfo, Strategy
from sshorch.spec.model import Desired


SETTLE_SECONDS = 2.0


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
            for o in workloads(self.desired.objects)
        }

    def revision(self, workload: PodWorkload) -> str:
        return self._revisions[(workload.meta.kind, workload.meta.namespace, workload.meta.name)]

    @property
    def host_ports(self) -> tuple[int, int]:
        return self.services.host_ports


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
