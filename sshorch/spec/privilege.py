"""Privileged containers and the node's namespaces only where the inventory allows them
(`sshorch_allow_privileged: true` on a node or a group).

Any of privileged, hostNetwork, hostPID or hostIPC gives a pod the node: a manifest must
not take that from a node's owner who did not say so. Pods that need it are placed only
on nodes that allow it (the scheduler's filter); when no node of the inventory does, the
apply is refused here, naming the variable.
"""

from __future__ import annotations

from collections.abc import Iterator

from sshorch.spec.workloadkinds import kind_of

from .model import Desired, PodSpec
from .problems import Problem, ProblemList

VARIABLE = "sshorch_allow_privileged"


def privileged_fields(spec: PodSpec) -> Iterator[str]:
    """The paths (under the pod spec) of the settings that need the variable."""
    for key, used in (("hostNetwork", spec.security.host_network), ("hostPID", spec.security.host_pid),
                      ("hostIPC", spec.security.host_ipc)):  # fmt: skip
        if used:
            yield key
    for key, containers in (("containers", spec.containers), ("initContainers", spec.init_containers)):
        for c, container in enumerate(containers):
            if container.security.privileged:
                yield f"{key}[{c}].securityContext.privileged"


def needs_privilege(spec: PodSpec) -> bool:
    return any(True for _ in privileged_fields(spec))


def check_privilege(desired: Desired, allowed_anywhere: bool) -> None:
    """With no node allowing privilege, every pod template that needs it is refused, all at once."""
    if allowed_anywhere:
        return
    problems = ProblemList()
    for obj in desired.objects:
        kind = kind_of(obj)
        if kind is None:
            continue
        for field in privileged_fields(kind.template_of(obj).spec):
            problems.add(obj.meta.source, Problem(
                obj.meta.source.file, f"{obj.meta.kind}/{obj.meta.name}", f"{kind.template_field}.{field}",
                f"needs {VARIABLE}: true on a node or group of the inventory, and no node has it: "
                f"set it where such pods may run, or remove the setting",
            ))  # fmt: skip
    problems.raise_if_any()
