"""volumeMounts[].mountPropagation: Kubernetes' modes, and which mounts they reach here.

Kubernetes maps None, HostToContainer and Bidirectional to Linux's private, rslave and
rshared propagation of the mount. Here the node directories a pod mounts (hostPath and
emptyDir) get that propagation; the files sshorch writes (configMap, secret, downwardAPI)
and named volumes have no mounts beneath them to propagate, so the field is accepted there
and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from .fields import Fields
from .model import VolumeMount
from .security import ContainerSecurity

Propagation = Literal["None", "HostToContainer", "Bidirectional"]
PROPAGATIONS: tuple[Propagation, ...] = ("None", "HostToContainer", "Bidirectional")
# Linux's names, as podman and docker take them in a bind mount's options. None is the
# runtimes' default (rprivate), so it adds no option.
LINUX_PROPAGATION: dict[str, Literal["", "rslave", "rshared"]] = {"None": "", "HostToContainer": "rslave", "Bidirectional": "rshared"}


def parse_mount_propagation(fields: Fields) -> Propagation:
    return fields.get_choice("mountPropagation", PROPAGATIONS, "None")


def check_mount_propagation(container: Fields, mounts: Sequence[VolumeMount], security: ContainerSecurity) -> None:
    """Bidirectional propagates a container's mounts to the node: Kubernetes allows it only
    in a privileged container, and so does sshorch."""
    for i, mount in enumerate(mounts):
        if mount.mount_propagation == "Bidirectional" and not security.privileged:
            container.report.add(
                f"{container.at('volumeMounts')}[{i}].mountPropagation",
                "Bidirectional is allowed only in a privileged container (securityContext.privileged: true); "
                "use HostToContainer to see the node's mounts",
            )
