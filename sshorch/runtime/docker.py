"""docker: docker has no pods. A small first container holds the pod's network namespace
(ports, hostname, hosts entries) and the pod's containers join it; the observer tells a
pod by its label on that first container."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sshorch.labels import INFRA_LABEL
from sshorch.observe.facts import Fact
from sshorch.observe.owned import ObservedContainer, ObservedPod, docker_facts, join_docker
from sshorch.observe.stats import docker_cpu_fact
from sshorch.runtime.authpull import registry_pulls
from sshorch.runtime.base import Argv, Runtime, container_options, host_namespace_options, label_args, needs_pod_address
from sshorch.runtime.model import PodRun
from sshorch.runtime.nonroot import checked_non_root
from sshorch.runtime.podaddress import with_pod_address
from sshorch.runtime.secretenv import create_command

PAUSE_IMAGE = "registry.k8s.io/pause:3.9"


class Docker(Runtime):
    name = "docker"

    def __init__(self, pause_image: str = PAUSE_IMAGE) -> None:
        self.pause_image = pause_image

    def create_pod(self, pod: PodRun) -> list[Argv]:
        pulls, pod = registry_pulls(self, pod)
        labels = (*pod.labels, (INFRA_LABEL, "true"))
        # With hostNetwork the node's network and hostname (docker refuses another): no publishing.
        hostname = [] if pod.host_network else ["--hostname", pod.hostname]
        infra = ["docker", "create", "--name", pod.name, *hostname, *label_args(labels), "--restart", "always"]
        if pod.host_network:
            infra += ["--network", "host"]
        else:
            for port in pod.ports:
                infra += ["--publish", f"{port.host_ip}:{port.host_port}:{port.container_port}/{port.protocol}"]
        # The containers share only the first one's network namespace: net.* sysctls go
        # there, the IPC ones to each container's own IPC namespace.
        network = [("--sysctl", f"{k}={v}") for k, v in pod.sysctls if k.startswith("net.")]
        ipc = [("--sysctl", f"{k}={v}") for k, v in pod.sysctls if not k.startswith("net.")]
        infra += [arg for pair in network for arg in pair]
        for host, ip in pod.hosts:
            infra += ["--add-host", f"{host}:{ip}"]
        commands = [*pulls, [*infra, self.pause_image]]
        if needs_pod_address(pod):  # the pod's network, and so its address
            commands.append(["docker", "start", pod.name])
        for container in (*pod.init_containers, *pod.containers):
            create = ["docker", "create", "--network", f"container:{pod.name}", *host_namespace_options(pod),
                      *(arg for pair in ipc for arg in pair), *container_options(container)]  # fmt: skip
            checked = checked_non_root("docker", create_command("docker", create, container), container)
            commands.append(with_pod_address("docker", pod.name, container.pod_address_env, checked))
        # With init containers only the first starts now; the plan starts the rest on later passes.
        first = (pod.init_containers[0],) if pod.init_containers else pod.containers
        commands.append(self.start_containers((pod.name, *(c.name for c in first))))
        return commands

    def pull_with_auth(self, image: str, auth_dir: str) -> Argv:
        return ["docker", "--config", auth_dir, "pull", "-q", image]  # reads auth_dir/config.json

    def start_pod(self, name: str, containers: Sequence[str] = ()) -> list[Argv]:
        return [["docker", "start", name, *containers]]

    def remove_pod(self, name: str, containers: Sequence[str] = (), grace_seconds: int = 30) -> list[Argv]:
        commands = []
        if containers:
            commands.append(["docker", "stop", "-t", str(grace_seconds), *containers])
        commands.append(["docker", "rm", "-f", *containers, name])
        return commands

    def owned_facts(self, cluster: str, known: str = "") -> tuple[Fact, ...]:
        return docker_facts(cluster)  # docker's listing has no state fingerprint: `known` is not used

    def join_owned(
        self, node: str, values: Mapping[str, Any]
    ) -> tuple[tuple[ObservedPod, ...], tuple[ObservedContainer, ...]]:
        return join_docker(node, values)

    def cpu_fact(self, cluster: str) -> Fact:
        return docker_cpu_fact()
