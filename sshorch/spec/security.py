"""A pod's and its containers' security settings (securityContext, hostNetwork, hostPID,
hostIPC) as typed values, and how a container's settings override its pod's.

Parsed by spec/securitycontext.py; plan/podbuild.py turns them into runtime options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Where a `Localhost` seccomp profile lives on a node, as the kubelet's default root
# (--root-dir /var/lib/kubelet, profiles under seccomp/): a manifest names a path below it.
SECCOMP_ROOT = "/var/lib/kubelet/seccomp"

# The sysctls Kubernetes counts as namespaced (safe per pod): whole names, and prefixes.
NAMESPACED_SYSCTLS = ("kernel.sem",)
NAMESPACED_SYSCTL_PREFIXES = ("net.", "kernel.shm", "kernel.msg", "fs.mqueue.")


def is_namespaced_sysctl(name: str) -> bool:
    return name in NAMESPACED_SYSCTLS or name.startswith(NAMESPACED_SYSCTL_PREFIXES)


@dataclass(frozen=True)
class Profile:
    """A seccompProfile or appArmorProfile: RuntimeDefault, Unconfined, or Localhost with
    its profile (a path under SECCOMP_ROOT for seccomp, a loaded profile's name for AppArmor)."""

    type: Literal["RuntimeDefault", "Unconfined", "Localhost"]
    localhost_profile: str | None = None


@dataclass(frozen=True)
class SeLinuxOptions:
    """seLinuxOptions: the SELinux label's parts given (the runtime ignores them without SELinux)."""

    user: str | None = None
    role: str | None = None
    type: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class ProcessSecurity:
    """What a pod's securityContext and a container's share; a container's set values win."""

    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    seccomp_profile: Profile | None = None
    app_armor_profile: Profile | None = None
    se_linux_options: SeLinuxOptions | None = None

    def over(self, pod: ProcessSecurity) -> ProcessSecurity:
        """These settings, with the pod's where these leave a field unset (Kubernetes' rule)."""
        return ProcessSecurity(
            run_as_user=self.run_as_user if self.run_as_user is not None else pod.run_as_user,
            run_as_group=self.run_as_group if self.run_as_group is not None else pod.run_as_group,
            run_as_non_root=self.run_as_non_root if self.run_as_non_root is not None else pod.run_as_non_root,
            seccomp_profile=self.seccomp_profile or pod.seccomp_profile,
            app_armor_profile=self.app_armor_profile or pod.app_armor_profile,
            se_linux_options=self.se_linux_options or pod.se_linux_options,
        )


@dataclass(frozen=True)
class PodSecurity:
    """The pod's securityContext, and the pod spec's hostNetwork, hostPID and hostIPC."""

    process: ProcessSecurity = ProcessSecurity()
    fs_group: int | None = None
    fs_group_change_policy: Literal["Always", "OnRootMismatch"] | None = None
    supplemental_groups: tuple[int, ...] = ()
    sysctls: tuple[tuple[str, str], ...] = ()
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False

    @property
    def groups(self) -> tuple[int, ...]:
        """The groups every container's processes get besides their primary one."""
        extra = (self.fs_group,) if self.fs_group is not None else ()
        return tuple(dict.fromkeys((*extra, *self.supplemental_groups)))


@dataclass(frozen=True)
class ContainerSecurity:
    """A container's securityContext."""

    process: ProcessSecurity = ProcessSecurity()
    privileged: bool = False
    read_only_root_filesystem: bool = False
    allow_privilege_escalation: bool | None = None
    capabilities_add: tuple[str, ...] = ()
    capabilities_drop: tuple[str, ...] = ()
