"""The scheduler's view of nodes: inventory plus gathered facts. Pure."""

from __future__ import annotations

import ipaddress

from sshorch.inventory import Host
from sshorch.observe.nodereport import READY, NodeReport
from sshorch.plan.podbuild import NodeTarget
from sshorch.plan.reconcile import ClusterNode
from sshorch.plan.schedule import NodeInfo
from sshorch.spec import parse_cpu_millis, parse_memory_bytes
from sshorch.taints import Taint

HOSTNAME_LABEL = "kubernetes.io/hostname"
OS_LABEL = "kubernetes.io/os"
ARCH_LABEL = "kubernetes.io/arch"
# `uname -m` as Go (and so Kubernetes' kubernetes.io/arch) names the architecture.
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "i686": "386", "i386": "386",
            "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}  # fmt: skip


def well_known_labels(host: Host, report: NodeReport | None) -> dict[str, str]:
    """The labels a kubelet puts on its node: hostname (the inventory name), os and, once
    gathered, arch. The inventory's sshorch_labels may add others, never change these."""
    labels = {HOSTNAME_LABEL: host.name, OS_LABEL: "linux"}
    arch = _GO_ARCH.get(report.arch, report.arch) if report is not None and report.arch else ""
    if arch:
        labels[ARCH_LABEL] = arch
    return labels


def publish_address(host: Host, report: NodeReport | None) -> str:
    """Pods publish on the node's IPv4 address: ansible_host when it is one, else the first
    gathered (global IPv4) address. An IPv6 ansible_host serves SSH only, until dual stack."""
    try:
        ipaddress.IPv4Address(host.address)
        return host.address
    except ValueError:
        if report is not None and report.addresses:
            return report.addresses[0]
        return host.address


def build_cluster_node(
    host: Host, report: NodeReport | None, cordoned: bool = False, allowed_host_paths: tuple[str, ...] = (),
    taints: tuple[Taint, ...] = (),
) -> ClusterNode:
    """`cordoned`: the node takes no new pod at all; `taints`: its taints (the inventory's,
    the `taint` command's and cordon's unschedulable one, merged by the caller)."""
    capacity = host.capacity
    cpu = parse_cpu_millis(capacity["cpu"]) if "cpu" in capacity else (report.cpus or 0) * 1000 if report else 0
    memory = parse_memory_bytes(capacity["memory"]) if "memory" in capacity else (report.memory_bytes or 0) if report else 0
    info = NodeInfo(
        name=host.name,
        cpu_millis=cpu,
        memory_bytes=memory,
        labels={**dict(host.labels), **well_known_labels(host, report)},
        ready=report is not None and report.status == READY,
        cordoned=cordoned,
        allows_privileged=host.allow_privileged,
        taints=taints,
        ephemeral_bytes=report.disk_free_bytes if report is not None else None,
    )
    target = NodeTarget(
        host.name, publish_address(host, report), host.runtime, allowed_host_paths, host.allow_privileged,
        capacity=(cpu, memory),
    )
    return ClusterNode(target, info)
