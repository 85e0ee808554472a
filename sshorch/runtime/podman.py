"""podman: pods are podman's own; one `container inspect` reads all the cluster owns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sshorch.observe.facts import Fact
from sshorch.observe.owned import ObservedContainer, ObservedPod, join_podman, podman_facts
from sshorch.observe.stats import podman_cpu_fact
from sshorch.runtime.authpull import AUTH_FILE, registry_pulls
from sshorch.runtime.base import Argv, Runtime, container_options, host_namespace_options, label_args, needs_pod_address
from sshorch.runtime.model import ContainerRun, PodRun
from sshorch.runtime.nonroot import checked_non_root
from sshorch.runtime.podaddress import with_pod_address
from sshorch.runtime.secretenv import create_command

# readOnlyRootFilesystem, and no more: podman would otherwise mount tmpfs on /tmp, /var/tmp
# and /run, which Kubernetes does not.
_READ_ONLY = ("--read-only", "--read-only-tmpfs=false")


class Podman(Runtime):
    name = "podman"

    def create_pod(self, pod: PodRun) -> list[Argv]:
        pulls, pod = registry_pulls(self, pod)
        # With hostNetwork the pod is on the node's network: ports need no publishing.
        hostname = [] if pod.host_network else ["--hostname", pod.hostname]
        argv = ["podman", "pod", "create", "--name", pod.name, *hostname, *label_args(pod.labels)]
        if pod.host_network:
            argv += ["--network", "host"]
        else:
            for port in pod.ports:
                argv += ["--publish", f"{port.host_ip}:{port.host_port}:{port.container_port}/{port.protocol}"]
        if pod.host_ipc:  # the containers join the node's IPC namespace instead of the pod's
            argv += ["--share", "net,uts"]
        for name, value in pod.sysctls:  # the pod shares its IPC and network namespaces: all apply
            argv += ["--sysctl", f"{name}={value}"]
        for host, ip in pod.hosts:
            argv += ["--add-host", f"{host}:{ip}"]
        commands = [*pulls, argv]
        if needs_pod_address(pod):  # the infra alone: the pod's network, and so its address
            commands.append(["podman", "pod", "start", pod.name])
        if pod.init_containers:  # every container created, only the first init one started
            for container in (*pod.init_containers, *pod.containers):
                create = ["podman", "create", "--pod", pod.name, *host_namespace_options(pod), *container_options(container, _READ_ONLY)]
                commands.append(self._checked(pod.name, create, container))
            return [*commands, self.start_containers((pod.init_containers[0].name,))]
        # `run -d` creates and starts each container (and the pod's infra with the first):
        # a runtime call per pod fewer than create, create, `pod start`.
        for container in pod.containers:
            options = container_options(container, _READ_ONLY)
            run = ["podman", "run", "-d", "--pod", pod.name, *host_namespace_options(pod), *options]
            commands.append(self._checked(pod.name, run, container))
        return commands

    @staticmethod
    def _checked(pod: str, create: Argv, container: ContainerRun) -> Argv:
        return with_pod_address("podman", pod, container.pod_address_env, checked_non_root("podman", create_command("podman", create, container), container))

    def pull_with_auth(self, image: str, auth_dir: str) -> Argv:
        return ["podman", "pull", "-q", "--authfile", f"{auth_dir}/{AUTH_FILE}", image]

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
