"""ephemeral-storage here: requests are scheduled against the nodes' free disk; limits are
not enforced, which apply and plan say once (an info line), never silently."""

from __future__ import annotations

from sshorch.spec.model import Desired
from sshorch.spec.workloadkinds import workload_template

LIMIT_NOTE = (
    "resources.limits.ephemeral-storage is not enforced: podman and docker cap a container's writable layer"
    " (--storage-opt size=) only on overlay over XFS with project quotas; requests are counted against"
    " each node's free disk when pods are placed"
)


def ephemeral_limit_notes(desired: Desired) -> tuple[str, ...]:
    """One info line naming the workloads that set an ephemeral-storage limit, if any do."""
    names = sorted(
        f"{o.meta.kind}/{o.meta.name}" for o in desired.objects
        if (template := workload_template(o)) is not None
        and any(c.resources.ephemeral_storage_limit_bytes is not None for c in template.spec.containers)
    )
    return (f"{', '.join(names)}: {LIMIT_NOTE}",) if names else ()
