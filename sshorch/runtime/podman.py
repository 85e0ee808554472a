"""podman commands for pods: argv lists, quoted only by the transport."""

from __future__ import annotations

from collections.abc import Sequence

from sshorch.runtime.model import ContainerRun, Mount, PodRun
from sshorch.runtime.secretenv import create_command

Argv = list[str]


def _labels(labels: Sequence[tuple[str, str]]) -> Argv:
    return [arg for key, value in labels for arg in ("--label", f"{key}={value}")]


def _mount(mount: Mount) -> Argv:
    if mount.kind == "tmpfs":
        return ["--mount", f"type=tmpfs,destination={mount.target}"]
    options = "ro" if mount.read_only else "rw"
    return ["--volume", f"{mount.source}:{mount.target}:{options}"]


def _cpus(millis: int) -> str:
    return f"{millis / 1000:g}"


def container_options(container: ContainerRun) -> Argv:
    """Options shared by podman and docker `create`, up to the image."""
    argv = ["--name", container.name, *_labels(container.labels), "--restart", container.restart_policy]
    for key, value in container.env:
        argv += ["--env", f"{key}={value}"]
    for mount in container.mounts:
        argv += _mount(mount)
    if container.working_dir:
        argv += ["--workdir", container.working_dir]
    if container.cpu_limit_millis:
        argv += ["--cpus", _cpus(container.cpu_limit_millis)]
    if container.memory_limit_bytes:
        argv += ["--memory", str(container.memory_limit_bytes)]
    return argv


class RuntimeCli:
    """Commands podman and docker spell the same way."""

    name = "podman"

    def remove_container(self, name: str) -> list[Argv]:
        return [[self.name, "rm", "-f", name]]

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

    def has_labelled(self, labels: Sequence[tuple[str, str]]) -> Argv:
        """Succeeds when a container (a pod's included) carries all these labels."""
        return ["sh", "-c", '"$@" | grep -q .', "sh", self.name, "ps", "-a", "-q", *_filters(labels)]

    def ensure_volume(self, name: str, labels: Sequence[tuple[str, str]]) -> tuple[Argv, Argv]:
        """(check, create): create the named volume unless one of that name carries these
        labels. One of that name without them is never adopted: the create then fails."""
        check = ["sh", "-c", '"$@" | grep -qxF -- "$0"', name, self.name, "volume", "ls", "-q", *_filters(labels)]
        return check, [self.name, "volume", "create", *_labels(labels), name]


def _filters(labels: Sequence[tuple[str, str]]) -> Argv:
    return [arg for key, value in labels for arg in ("--filter", f"label={key}={value}")]


class Podman(RuntimeCli):
    name = "podman"

    def create_pod(self, pod: PodRun) -> list[Argv]:
        argv = ["podman", "pod", "create", "--name", pod.name, "--hostname", pod.hostname, *_labels(pod.labels)]
        for port in pod.ports:
            argv += ["--publish", f"{port.host_ip}:{port.host_port}:{port.container_port}/{port.protocol}"]
        for host, ip in pod.hosts:
            argv += ["--add-host", f"{host}:{ip}"]
        commands = [argv]
        # `run -d` creates and starts each container (and the pod's infra with the first):
        # a runtime call per pod fewer than create, create, `pod start`.
        for container in pod.containers:
            run = ["podman", "run", "-d", "--pod", pod.name, *container_options(container)]
            commands.append(create_command("podman", run, container))
        return commands

    def start_pod(self, name: str, containers: Sequence[str] = ()) -> list[Argv]:
        return [["podman", "pod", "start", name]]

    def remove_pod(self, name: str, containers: Sequence[str] = (), grace_seconds: int = 30) -> list[Argv]:
        return [
            ["podman", "pod", "stop", "--ignore", "-t", str(grace_seconds), name],
            ["podman", "pod", "rm", "--ignore", "-f", name],
        ]

    def remove_container(self, name: str) -> list[Argv]:
        return [["podman", "rm", "--ignore", "-f", "-t", "0", name]]
