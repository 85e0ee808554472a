"""What a runtime needs to run a pod: concrete values, nothing left to decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PortBinding:
    """A container port published on the node: host address and port to container port."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: Literal["tcp", "udp"] = "tcp"


@dataclass(frozen=True)
class Mount:
    """bind: a node path; volume: a named volume; tmpfs: memory-backed emptyDir.
    `propagation`: a bind mount's (rslave, rshared); "" is the runtime's default, rprivate."""

    kind: Literal["bind", "volume", "tmpfs"]
    target: str
    source: str = ""
    read_only: bool = False
    propagation: Literal["", "rslave", "rshared"] = ""


@dataclass(frozen=True)
class ContainerSecurityRun:
    """A container's securityContext as runtime options; the defaults add none."""

    user: str | None = None  # UID or UID:GID
    groups: tuple[int, ...] = ()  # fsGroup and supplementalGroups
    read_only_root: bool = False
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opts: tuple[str, ...] = ()  # no-new-privileges, seccomp=, apparmor=, label=
    # (pod, container) when runAsNonRoot must be checked against the image's user on the node.
    non_root_check: tuple[str, str] | None = None


@dataclass(frozen=True)
class ContainerRun:
    """One container of a pod as the runtime runs it."""

    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    # Path inside the container of a shell file that exports the secret variables;
    # the container's command then runs under a shell that sources it first.
    secret_env: str = ""
    # Variables that take the pod's address, read on the node (runtime/podaddress.py).
    pod_address_env: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    working_dir: str | None = None
    cpu_limit_millis: int | None = None
    memory_limit_bytes: int | None = None
    labels: Labels = ()
    restart_policy: Literal["always", "on-failure", "no"] = "always"
    pull: Literal["always", "missing", "never"] = "missing"
    security: ContainerSecurityRun = ContainerSecurityRun()


@dataclass(frozen=True)
class PodRun:
    """A pod as the runtime creates it: name, hostname, labels, containers, published ports, /etc/hosts."""

    name: str
    hostname: str
    labels: Labels
    containers: tuple[ContainerRun, ...]
    ports: tuple[PortBinding, ...] = ()
    hosts: tuple[tuple[str, str], ...] = ()  # (name, ip) entries for /etc/hosts
    sysctls: tuple[tuple[str, str], ...] = ()  # namespaced ones only (spec/security.py)
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    # Created with the pod and the first one started; the plan starts each next one, then the
    # app containers (created, not started), on later passes (plan/initsteps.py).
    init_containers: tuple[ContainerRun, ...] = ()
    # The node directory of the pod's registry credentials (runtime/authpull.py), if it has any.
    registry_auth: str = ""
