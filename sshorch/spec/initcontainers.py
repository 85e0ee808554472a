"""A pod spec's initContainers: parsed as its containers are, checked against the pod.

Init containers run in order, each to completion, before the app containers start; one
with restartPolicy: Always is a sidecar, started in its turn and kept running. The plan
starts them, one a pass (plan/initsteps.py).
"""

from __future__ import annotations

from .containers import parse_container
from .fields import Fields, describe
from .model import Container, Volume

def parse_init_containers(fields: Fields, containers: tuple[Container, ...], volumes: tuple[Volume, ...]) -> tuple[Container, ...]:
    """``fields["initContainers"]``, with names unique among all the pod's containers (as in
    Kubernetes) and mounts of the pod's volumes."""
    report = fields.report
    init = tuple(parse_container(report, p, item, init=True) for p, item in fields.items("initContainers"))
    seen = {c.name for c in containers if c.name}
    volume_names = sorted({v.name for v in volumes if v.name})
    for i, container in enumerate(init):
        path = f"{fields.at('initContainers')}[{i}]"
        if container.name and container.name in seen:
            report.add(f"{path}.name", f"must be unique among the pod's containers and initContainers, got {describe(container.name)} twice")
        seen.add(container.name)
        for m, mount in enumerate(container.volume_mounts):
            if mount.name and mount.name not in volume_names:
                known = f"one of the pod's volumes ({', '.join(volume_names)})" if volume_names else "a volume of the pod (it has none)"
                report.add(f"{path}.volumeMounts[{m}].name", f"must name {known}, got {describe(mount.name)}")
    return init

