"""What every container runtime offers sshorch: its commands (argv lists, quoted only by
the transport) and the facts that read what the cluster owns on a node. podman and docker
each fill it in (runtime/podman.py, runtime/docker.py); runtime/registry.py finds one by name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sshorch.runtime.model import ContainerRun, ContainerSecurityRun, Mount, PodRun
from sshorch.runtime.podaddress import address_options

if TYPE_CHECKING:
    from sshorch.observe.facts import Fact
    from sshorch.observe.owned import ObservedContainer, ObservedPod

Argv = list[str]


def label_args(labels: Sequence[tuple[str, str]]) -> Argv:
    return [arg for key, value in labels for arg in ("--label", f"{key}={value}")]


def _filters(labels: Sequence[tuple[str, str]]) -> Argv:
    return [arg for key, value in labels for arg in ("--filter", f"label={key}={value}")]


def _mount(mount: Mount) -> Argv:
    if mount.kind == "tmpfs":
        return ["--mount", f"type=tmpfs,destination={mount.target}"]
    options = ("ro" if mount.read_only else "rw") + (f",{mount.propagation}" if mount.propagation else "")
    return ["--volume", f"{mount.source}:{mount.target}:{options}"]


def _cpus(millis: int) -> str:
    return f"{millis / 1000:g}"


def security_options(security: ContainerSecurityRun, read_only: Sequence[str] = ("--read-only",)) -> Argv:
    """A container's securityContext as options; `read_only`: how the runtime spells a
    read-only root filesystem and nothing else."""
    argv = ["--user", security.user] if security.user else []
    for group in security.groups:
        argv += ["--group-add", str(group)]
    if security.read_only_root:
        argv += read_only
    if security.privileged:
        argv.append("--privileged")
    # Dropped first, then added, as Kubernetes does: drop ALL, add NET_BIND_SERVICE keeps that one.
    for name in security.cap_drop:
        argv += ["--cap-drop", name]
    for name in security.cap_add:
        argv += ["--cap-add", name]
    for option in security.security_opts:
        argv += ["--security-opt", option]
    return argv


def needs_pod_address(pod: PodRun) -> bool:
    """Some container of the pod takes its address: the pod's network starts before they are made."""
    return any(c.pod_address_env for c in (*pod.init_containers, *pod.containers))


def host_namespace_options(pod: PodRun) -> Argv:
    """A pod container's own PID and IPC namespaces shared with the node (hostPID, hostIPC)."""
    return [*(["--pid", "host"] if pod.host_pid else []), *(["--ipc", "host"] if pod.host_ipc else [])]


def container_options(container: ContainerRun, read_only: Sequence[str] = ("--read-only",)) -> Argv:
    """Options shared by podman and docker `create`, up to the image."""
    argv = ["--name", container.name, *label_args(container.labels), "--restart", container.restart_policy]
    argv += security_options(container.security, read_only)
    for key, value in container.env:
        argv += ["--env", f"{key}={value}"]
    argv += address_options(container.pod_address_env)
    for mount in container.mounts:
        argv += _mount(mount)
    if container.working_dir:
        argv += ["--workdir", container.working_dir]
    if container.cpu_limit_millis:
        argv += ["--cpus", _cpus(container.cpu_limit_millis)]
    if container.memory_limit_bytes:
        argv += ["--memory", str(container.memory_limit_bytes)]
    return argv


class Runtime(ABC):
    """A node's container runtime. The commands both spell the same way are here; pods,
    and the facts of what a node holds, each runtime does its own way."""

    name: str  # the runtime's executable, as the inventory's sshorch_runtime names it

    # Pods.

    @abstractmethod
    def create_pod(self, pod: PodRun) -> list[Argv]: ...

    @abstractmethod
    def start_pod(self, name: str, containers: Sequence[str] = ()) -> list[Argv]: ...

    @abstractmethod
    def remove_pod(self, name: str, containers: Sequence[str] = (), grace_seconds: int = 30) -> list[Argv]: ...

    @abstractmethod
    def pull_with_auth(self, image: str, auth_dir: str) -> Argv:
        """Pulls the image with the credentials of `auth_dir`/config.json (runtime/authpull.py)."""

    # Facts: what the cluster owns on the node, and its containers' CPU time.

    @abstractmethod
    def owned_facts(self, cluster: str, known: str = "") -> tuple[Fact, ...]:
        """The facts that read what `cluster` owns on the node, named volumes included
        (`known`: the state fingerprint of a kept listing, where the runtime has one)."""

    @abstractmethod
    def join_owned(
        self, node: str, values: Mapping[str, Any]
    ) -> tuple[tuple[ObservedPod, ...], tuple[ObservedContainer, ...]]:
        """The owned facts' values joined into the node's pods and the containers of no pod."""

    @abstractmethod
    def cpu_fact(self, cluster: str) -> Fact:
        """Cumulative CPU seconds of each running container of `cluster`."""

    # Containers, images and volumes.

    def remove_container(self, name: str) -> list[Argv]:
        return [[self.name, "rm", "-f", name]]

    def start_containers(self, names: Sequence[str]) -> Argv:
        """Starts created or exited containers, one after the other, and returns: `start`
        does not wait for them (a pod's init containers, started one per pass)."""
        return [self.name, "start", *names]

    def logs(self, container: str, tail: int | None = None, follow: bool = False) -> Argv:
        argv = [self.name, "logs"]
        if tail is not None:
            argv += ["--tail", str(tail)]
        if follow:
            argv.append("--follow")
        return [*argv, container]

    def exec(self, container: str, command: Sequence[str], interactive: bool = False) -> Argv:
        return [self.name, "exec", *(["-i"] if interactive else []), container, *command]

    def load_image(self) -> Argv:
        """Reads an image archive from stdin."""
        return [self.name, "load", "-q"]

    def save_image(self, image: str) -> Argv:
        """Writes the image's archive to stdout."""
        return [self.name, "save", image]

    def image_id(self, image: str) -> Argv:
        """Prints the image's ID (docker prefixes it with sha256:)."""
        return [self.name, "image", "inspect", "--format", "{{.Id}}", image]

    def has_labelled(self, labels: Sequence[tuple[str, str]]) -> Argv:
        """Succeeds when a container (a pod's included) carries all these labels."""
        return ["sh", "-c", '"$@" | grep -q .', "sh", self.name, "ps", "-a", "-q", *_filters(labels)]

    def ensure_volume(self, name: str, labels: Sequence[tuple[str, str]]) -> tuple[Argv, Argv]:
        """(check, create): create the named volume unless one of that name carries these
        labels. One of that name without them is never adopted: the create then fails."""
        check = ["sh", "-c", '"$@" | grep -qxF -- "$0"', name, self.name, "volume", "ls", "-q", *_filters(labels)]
        return check, [self.name, "volume", "create", *label_args(labels), name]
