"""docker commands for pods. docker has no pods: a small first container holds
the pod's network namespace (ports, hostname, hosts entries) and the pod's
containers join it."""

from __future__ import annotations

from collections.abc import Sequence

from sshorch.labels import INFRA_LABEL
from sshorch.runtime.model import PodRun
from sshorch.runtime.podman import Argv, RuntimeCli, _labels, container_options
from sshorch.runtime.secretenv import create_command

PAUSE_IMAGE = "registry.k8s.io/pause:3.9"


class Docker(RuntimeCli):
    name = "docker"

    def __init__(self, pause_image: str = PAUSE_IMAGE) -> None:
        self.pause_image = pause_image

    def create_pod(self, pod: PodRun) -> list[Argv]:
        # The observer tells a docker pod by this label on its first container.
        labels = (*pod.labels, (INFRA_LABEL, "true"))
        infra = ["docker", "create", "--name", pod.name, "--hostname", pod.hostname, *_labels(labels),
                 "--restart", "always"]
        for port in pod.ports:
            infra += ["--publish", f"{port.host_ip}:{port.host_port}:{port.container_port}/{port.protocol}"]
        for host, ip in pod.hosts:
            infra += ["--add-host", f"{host}:{ip}"]
        commands = [[*infra, self.pause_image]]
        for container in pod.containers:
            create = ["docker", "create", "--network", f"container:{pod.name}", *container_options(container)]
            commands.append(create_command("docker", create, container))
        commands.append(["docker", "start", pod.name, *(c.name for c in pod.containers)])
        return commands

    def start_pod(self, name: str, containers: Sequence[str] = ()) -> list[Argv]:
        return [["docker", "start", name, *containers]]

    def remove_pod(self, name: str, containers: Sequence[str] = (), grace_seconds: int = 30) -> list[Argv]:
        commands = []
        if containers:
            commands.append(["docker", "stop", "-t", str(grace_seconds), *containers])
        commands.append(["docker", "rm", "-f", *containers, name])
        return commands
