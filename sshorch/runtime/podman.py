"""podman: pods are podman's own; one `container inspect` reads all the cluster owns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sshorch.observe.facts import Fact
from sshorch.observe.owned import ObservedContainer, ObservedPod, join_podman, podman_facts
from sshorch.observe.stats import podman_cpu_fact
from sshorch.runtime.base import Argv, Runtime, container_options, label_args
from sshorch.runtime.model import PodRun
from sshorch.runtime.secretenv import create_command


class Podman(Runtime):
    name = "podman"

    def create_pod(self, pod: PodRun) -> list[Argv]:
        argv = ["podman", "pod", "create", "--name", pod.name, "--hostname", pod.hostname, *label_args(pod.labels)]
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

    def owned_facts(self, cluster: str, known: str = "") -> tuple[Fact, ...]:
        return podman_facts(cluster, known)

    def join_owned(
        self, node: str, values: Mapping[str, Any]
    ) -> tuple[tuple[ObservedPod, ...], tuple[ObservedContainer, ...]]:
        return join_podman(node, values)

    def cpu_fact(self, cluster: str) -> Fact:
        return podman_cpu_fact(cluster)
