"""NoExecute: pods on a node with a NoExecute taint they do not tolerate leave it, and those
that tolerate it for tolerationSeconds leave once that has passed (Kubernetes' taint
manager), decided from the nodes' taints and the pass's time. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sshorch.observe.owned import ObservedPod
from sshorch.plan.inputs import ReconcileInput
from sshorch.plan.naming import pod_template
from sshorch.spec.model import PodTemplate
from sshorch.taints import DAEMON_TOLERATIONS, Taint, Toleration, eviction_time


@dataclass(frozen=True)
class TaintEvictions:
    """This pass's evictions: pod name -> why, and when the next tolerated one is due."""

    reasons: Mapping[str, str]
    next_due: float | None = None


def pod_tolerations(kind: str, template: PodTemplate) -> tuple[Toleration, ...]:
    """A pod's tolerations: its template's, and a DaemonSet pod's the ones Kubernetes adds."""
    return template.spec.tolerations + (DAEMON_TOLERATIONS if kind.lower() == "daemonset" else ())


def eviction_reason(taints: Sequence[Taint], tolerations: Sequence[Toleration], started: float | None, now: float) -> str | None:
    """Why a pod must leave a node with these taints now, or None. Without a time (now 0)
    only untolerated taints evict."""
    due = eviction_time(taints, tolerations, started)
    if due is None or (due and (not now or now < due)):
        return None
    shown = ", ".join(str(t) for t in taints if t.effect == "NoExecute")
    return f"evicted: node taint {shown}" + (" (tolerationSeconds passed)" if due else " not tolerated")


def _started(pod: ObservedPod) -> float | None:
    times = [c.started_at for c in pod.containers if c.started_at is not None]
    return min(times) if times else None


def taint_evictions(inp: ReconcileInput, reachable: set[str]) -> TaintEvictions:
    taints = {n.target.name: n.info.taints for n in inp.nodes if n.target.name in reachable}
    reasons: dict[str, str] = {}
    later: list[float] = []
    for pod in inp.observed.pods():
        node_taints = taints.get(pod.node, ())
        if not any(t.effect == "NoExecute" for t in node_taints):
            continue
        template = pod_template(pod, inp.desired)
        if template is None:
            continue  # no longer desired: it goes anyway
        tolerations = pod_tolerations(pod.kind, template)
        reason = eviction_reason(node_taints, tolerations, _started(pod), inp.now)
        if reason is not None:
            reasons[pod.name] = reason
        else:
            due = eviction_time(node_taints, tolerations, _started(pod))
            if due:
                later.append(due)
    return TaintEvictions(reasons, min(later, default=None))
