"""What apply says once about security settings whose meaning here differs from Kubernetes'
(README, "Security context"): one line per cause, naming the objects."""

from __future__ import annotations

from collections import defaultdict

from sshorch.spec.workloadkinds import kind_of

from .model import Desired, HostPathVolume, NamedVolume

FS_GROUP_VOLUMES = (
    "fsGroup: named volumes (persistentVolumeClaim) and hostPaths keep their owner here; "
    "only delivered ConfigMap/Secret files and emptyDirs get the group"
)
ON_ROOT_MISMATCH = "fsGroupChangePolicy: OnRootMismatch: sshorch gives delivered files and emptyDirs the group every time (Always)"


def security_notices(desired: Desired) -> tuple[str, ...]:
    """Each note once, with the objects it concerns (`kind/name`), in a stable order."""
    objects: dict[str, list[str]] = defaultdict(list)
    for obj in desired.objects:
        kind = kind_of(obj)
        if kind is None:
            continue
        spec = kind.template_of(obj).spec
        if spec.security.fs_group is None:
            continue
        if any(isinstance(v.source, (NamedVolume, HostPathVolume)) for v in spec.volumes):
            objects[FS_GROUP_VOLUMES].append(obj.meta.ref)
        if spec.security.fs_group_change_policy == "OnRootMismatch":
            objects[ON_ROOT_MISMATCH].append(obj.meta.ref)
    return tuple(f"{note} ({', '.join(refs)})" for note, refs in objects.items())
