"""Pod names and the labels that mark what sshorch owns (DESIGN.md section 4)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sshorch.labels import (
    CLUSTER_LABEL, FILES_LABEL, KIND_LABEL, NAMESPACE_LABEL, OWNER_LABEL, POD_LABEL, REVISION_LABEL, SLOT_LABEL,
)
from sshorch.observe.owned import ObservedPod
from sshorch.spec.workloadkinds import workload_kinds, workload_template
from sshorch.spec.model import Desired, PodTemplate

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' suffix alphabet: no vowels, no look-alikes


@dataclass(frozen=True)
class PodIdentity:
    """What names a pod and labels it as sshorch's: cluster, owning workload, revision and slot.

    A pod that exists already is known by the name it has (`given_name`); one made
    before names and file directories were scoped by cluster keeps its directories
    under the legacy roots (`legacy_dirs`)."""

    cluster: str
    kind: str  # lowercase: deployment, daemonset
    namespace: str
    owner: str
    revision: str
    slot: str
    given_name: str = ""
    legacy_dirs: bool = False

    @property
    def workload(self) -> str:
        return workload_key(self.kind, self.namespace, self.owner)

    @property
    def name(self) -> str:
        return self.given_name or pod_name(self.cluster, self.namespace, self.owner, self.revision, self.slot)


KIND_NAMES = {kind.prefix: kind.name for kind in workload_kinds()}  # deployment -> Deployment


def pod_template(pod: ObservedPod, desired: Desired) -> PodTemplate | None:
    """The pod template of the workload that owns `pod`, as desired now (None if gone)."""
    obj = desired.get(KIND_NAMES.get(pod.kind, pod.kind), pod.owner, pod.namespace)
    return workload_template(obj) if obj is not None else None


def workload_key(kind: str, namespace: str, name: str) -> str:
    """deployment/default/web: how state and plans refer to a workload."""
    return f"{kind.lower()}/{namespace}/{name}"


def split_workload_key(key: str) -> tuple[str, str, str]:
    """deployment/default/web -> ("Deployment", "default", "web")."""
    kind, namespace, name = key.split("/", 2)
    return KIND_NAMES.get(kind, kind), namespace, name


def suffix(*parts: str, length: int = 5) -> str:
    """Deterministic, so a pass that is repeated names the same pod the same way."""
    number = int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:8], "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


def pod_name(cluster: str, namespace: str, owner: str, revision: str, slot: str) -> str:
    """Unique per cluster and namespace: a node's pod names are one space for every
    cluster on it, and the same workload may exist in several namespaces."""
    # A pod name is also its hostname: at most 63 characters.
    return f"{owner[:46]}-{revision}-{suffix(cluster, namespace, owner, revision, slot)}"


def pod_labels(identity: PodIdentity, files: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    labels = [
        (CLUSTER_LABEL, identity.cluster),
        (NAMESPACE_LABEL, identity.namespace),
        (KIND_LABEL, identity.kind),
        (OWNER_LABEL, identity.owner),
        (REVISION_LABEL, identity.revision),
        (POD_LABEL, identity.name),
        (SLOT_LABEL, identity.slot),
    ]
    if files:
        labels.append((FILES_LABEL, ",".join(files)))
    return tuple(labels)
