"""What `sshorch status` shows: workloads, pods and nodes, from one gather. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sshorch.plan.graph import object_key
from sshorch.ipfamily import IPV4
from sshorch.observe.cluster import Observed
from sshorch.observe.nodereport import READY
from sshorch.observe.owned import ObservedPod
from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import Plan
from sshorch.plan.initpods import pod_init_step
from sshorch.plan.initsteps import InitStep
from sshorch.plan.naming import pod_template, workload_key
from sshorch.plan.controllers import daemon_nodes, takes_new_daemon
from sshorch.plan.inputs import ClusterNode
from sshorch.plan.revision import workload_revision
from sshorch.plan.services import Allocations, endpoints, node_port_key, service_key
from sshorch.spec.workloadkinds import PodWorkload, workload_kind, workloads
from sshorch.spec.model import DaemonSet, Desired, Service


@dataclass(frozen=True)
class WorkloadStatus:
    """One Deployment or DaemonSet in `sshorch status`: pods wanted, running, and of the current revision."""

    kind: str
    namespace: str
    name: str
    desired: int
    ready: int
    up_to_date: int
    revision: str
    old: int = 0  # pods of earlier revisions still there
    available: int = 0  # ready pods of the current revision

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name, "desired": self.desired,
                "ready": self.ready, "up_to_date": self.up_to_date, "revision": self.revision}


def pod_phase(pod: ObservedPod, initialising: str = "") -> str:
    """`initialising`: the pod's status while its init containers run (plan/initsteps.py)."""
    if initialising:
        return initialising
    if pod.running:
        return "Running"
    if pod.failed_containers:
        return "Failed"
    if pod.status in ("Created", "Exited", "Stopped"):
        return pod.status
    return "Starting"


def pod_json(pod: ObservedPod, address: str, extra_restarts: int = 0, init: InitStep | None = None) -> dict[str, Any]:
    """`init`: where its init containers stand (their restarts count, as kubectl counts them)."""
    initialising = init.status if init is not None else ""
    extra_restarts += init.restarts if init is not None else 0
    return {
        "name": pod.name,
        "owner": workload_key(pod.kind, pod.namespace, pod.owner),
        "node": pod.node,
        "phase": pod_phase(pod, initialising),
        "ready": pod.running,
        "ip": address,
        "ports": [{"containerPort": b.container_port, "hostPort": b.host_port, "protocol": b.protocol.upper()} for b in pod.ports],
        "revision": pod.revision,
        "restarts": pod.restarts + extra_restarts,
        # As the kubelet gives a container's last termination reason.
        "reason": "OOMKilled" if any(c.oom_killed for c in pod.containers) else "",
        "oom_kills": sum(c.oom_kills for c in (*pod.containers, *pod.init_containers)),
    }


def daemon_desired(workload: PodWorkload, nodes: Sequence[ClusterNode], observed: Observed) -> int:
    """The nodes the DaemonSet runs on: selected and Ready; one that takes no new pod only if it has the pod."""
    reachable = {n.name for n in observed.nodes if n.reachable}
    key = object_key(workload)
    holding = {p.node for p in observed.pods() if workload_key(p.kind, p.namespace, p.owner) == key}
    # daemon_nodes reads only the pod template, whatever its annotation says.
    daemon_set = cast(DaemonSet, workload)
    return sum(1 for n in daemon_nodes(daemon_set, nodes, reachable) if takes_new_daemon(n, daemon_set) or n.target.name in holding)


def workload_statuses(
    desired: Desired, observed: Observed, nodes: Sequence[ClusterNode], ready: frozenset[str] | None = None
) -> list[WorkloadStatus]:
    """`ready`: pods that pass their readiness probes (None: a running pod counts as ready)."""
    pods = observed.pods()
    result = []
    for obj in workloads(desired.objects, lambda kind: kind.status == "workloads"):
        key = object_key(obj)
        revision = workload_revision(obj, desired)
        mine = [p for p in pods if workload_key(p.kind, p.namespace, p.owner) == key]
        current = [p for p in mine if p.revision == revision]
        count = workload_kind(obj).desired_count(obj)
        wanted = count if count is not None else daemon_desired(obj, nodes, observed)
        is_ready = (lambda p: p.running) if ready is None else (lambda p: p.name in ready)
        result.append(
            WorkloadStatus(obj.meta.kind, obj.meta.namespace, obj.meta.name, wanted,
                           sum(1 for p in mine if is_ready(p)), len(current), revision, len(mine) - len(current),
                           sum(1 for p in current if is_ready(p)))
        )
    return result


def _init_step(pod: ObservedPod, desired: Desired | None, now: float) -> InitStep | None:
    template = pod_template(pod, desired) if desired is not None else None
    return pod_init_step(pod, template, now) if template is not None else None


def external_addresses(service: Service, observed: Observed, configured: Sequence[str] | None = None) -> list[str]:
    """Where a LoadBalancer's ports answer: the load balancer addresses (by default every
    node's own) that are Ready nodes' addresses, as k3s ServiceLB reports its nodes'."""
    if service.type != "LoadBalancer":
        return []
    ready = [n.address for n in observed.nodes if n.report.status == READY and IPV4.is_address(n.address)]
    return ready if configured is None else [a for a in dict.fromkeys(configured) if a in ready]


def services_json(
    desired: Desired, observed: Observed, allocations: Allocations, load_balancer_addresses: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """load_balancer_addresses: the inventory's (None: every node's own)."""
    addresses = {n.name: n.address for n in observed.nodes}
    result = []
    for service in sorted((o for o in desired.objects if isinstance(o, Service)), key=service_key):
        by_port = endpoints(service, observed.pods(), desired, addresses)
        result.append({
            "namespace": service.meta.namespace,
            "name": service.meta.name,
            "type": service.type,
            "clusterIP": allocations.vips.get(service_key(service)),
            "externalAddresses": external_addresses(service, observed, load_balancer_addresses),
            "ports": [
                {"name": p.name, "protocol": p.protocol, "port": p.port, "targetPort": p.target_port,
                 "nodePort": allocations.node_ports.get(node_port_key(service, p.port, p.protocol))}
                for p in service.ports
            ],
            "endpoints": sorted({f"{e.node_address}:{e.host_port}" for eps in by_port.values() for e in eps}),
        })
    return result


def job_statuses(desired: Desired, jobs: Mapping[str, JobRecord], observed: Observed) -> list[dict[str, Any]]:
    """Each Job: succeeded/completions, failed, active pods, and its state."""
    result = []
    for job in workloads(desired.objects, lambda kind: kind.status == "jobs"):
        kind = workload_kind(job)
        key = kind.key(job.meta.namespace, job.meta.name)
        record = jobs.get(key)
        revision = workload_revision(job, desired)
        current = record if record is not None and record.revision == revision else None
        active = sum(
            1 for p in observed.pods()
            if p.kind == kind.prefix and p.owner == job.meta.name and p.namespace == job.meta.namespace
            and p.revision == revision and any(c.state == "running" for c in p.containers)
        )
        if current is None:
            state = "Pending"
        elif current.outcome:
            state = current.outcome
        elif current.failures and current.last_failure is not None and active == 0:
            state = "BackOff"
        else:
            state = "Running"
        result.append({
            "name": job.meta.name, "namespace": job.meta.namespace, "completions": kind.desired_count(job),
            "succeeded": len(current.succeeded) if current else 0, "failed": current.failures if current else 0,
            "active": active, "status": state, "reason": current.reason if current else "",
            "started": current.started if current else None, "finished": current.finished if current else None,
        })
    return result


def build_status(
    desired: Desired | None,
    observed: Observed,
    plan: Plan | None,
    nodes: Sequence[ClusterNode] = (),
    allocations: Allocations | None = None,
    restarts: Mapping[str, int] | None = None,
    jobs: Mapping[str, JobRecord] | None = None,
    load_balancer_addresses: Sequence[str] | None = None,
    now: float = 0.0,
) -> dict[str, Any]:
    """`now`: the clock, which tells a failed init container in back-off from one due to start again."""
    addresses = {n.name: n.address for n in observed.nodes}
    cordoned = {n.target.name for n in nodes if n.info.cordoned or n.info.unschedulable}
    taints = {n.target.name: [str(t) for t in n.info.taints] for n in nodes}
    extra = restarts or {}
    pods = [
        pod_json(p, addresses.get(p.node, ""), extra.get(p.name, 0), _init_step(p, desired, now))
        for p in sorted(observed.pods(), key=lambda p: (p.owner, p.name))
    ]
    if plan is not None:
        pods += [
            {"name": p.pod, "owner": p.workload, "node": None, "phase": "Pending", "ready": False, "ip": None,
             "ports": [], "revision": p.pod.rsplit("-", 2)[-2], "restarts": 0, "reason": p.reason}
            for p in plan.pending
        ]
    return {
        "workloads": [w.to_json() for w in workload_statuses(desired, observed, nodes)] if desired else [],
        "pods": pods,
        "services": (
            services_json(desired, observed, allocations or Allocations({}, {}), load_balancer_addresses) if desired else []
        ),
        "jobs": job_statuses(desired, jobs or {}, observed) if desired else [],
        "nodes": [{**n.report.to_json(), "cordoned": n.name in cordoned, "taints": taints.get(n.name, [])} for n in observed.nodes],
        "waiting": [{"workload": b.workload, "for": list(b.waiting_for)} for b in plan.blocked] if plan else [],
    }
