"""What to write instead of a kind sshorch does not run: one short line each."""

from __future__ import annotations

from .fields import describe
from .kinds import API_VERSIONS

_NAMED_VOLUMES = "a pod's persistentVolumeClaim volume names a volume on its node, made when first used"

INSTEAD: dict[str, str] = {
    "Ingress": "no HTTP routing yet; publish the Service as NodePort",
    "StatefulSet": "not yet; a Deployment with a persistentVolumeClaim volume runs on one node",
    "PersistentVolumeClaim": f"not needed; {_NAMED_VOLUMES}",
    "PersistentVolume": f"not needed; {_NAMED_VOLUMES}",
    "StorageClass": f"not needed; {_NAMED_VOLUMES}",
    "Pod": "not run alone; write a Deployment with replicas: 1, or a Job",
    "ReplicaSet": "not run alone; write a Deployment",
    "ReplicationController": "not run; write a Deployment (its selector under matchLabels)",
    "Namespace": "not needed; give each object its metadata.namespace",
}


def unsupported_kind(kind: object) -> str:
    """The message for ``kind`` when sshorch does not run it."""
    if isinstance(kind, str) and kind in INSTEAD:
        return INSTEAD[kind]  # the object's label names the kind
    return f"must be a kind sshorch runs ({', '.join(API_VERSIONS)}), got {describe(kind)}"
