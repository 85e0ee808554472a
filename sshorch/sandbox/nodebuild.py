"""Build and remove one sandbox node: namespaces, link, files, sshd, images."""

from __future__ import annotations

import shutil
from pathlib import Path

from sshorch.sandbox import host
from sshorch.sandbox.config import render_containers_conf, render_node_setup, render_sshd_config
from sshorch.sandbox.keys import write_key_pair
from sshorch.sandbox.layout import SERVICE_CIDR, NodeLayout, SandboxLayout

NODE_DIRS = ("ns", "root/.ssh", "storage", "tmp", "var-upper", "var-work")
SSHD_START_TIMEOUT = 10.0
REAP_TIMEOUT = 10.0


def write_node_files(node: NodeLayout, authorized_key: str) -> str:
    """Create the node's directories and files; return its host public key."""
    for sub in NODE_DIRS:
        (node.directory / sub).mkdir(parents=True, exist_ok=True)
    (node.directory / "root").chmod(0o700)
    (node.directory / "root" / ".ssh").chmod(0o700)
    (node.directory / "tmp").chmod(0o1777)
    authorized = node.directory / "root" / ".ssh" / "authorized_keys"
    authorized.write_text(authorized_key + "\n")
    authorized.chmod(0o600)
    etc = node.directory / "etc-containers"
    if not etc.exists():
        shutil.copytree("/etc/containers", etc, symlinks=True)
    (etc / "containers.conf").write_text(render_containers_conf())
    node.sshd_config.write_text(render_sshd_config(node))
    return write_key_pair(node.host_key, node.name)


def create_network(layout: SandboxLayout, node: NodeLayout) -> None:
    host.run(["ip", "netns", "add", node.netns])
    host.run(["ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", node.netns])
    host.run(["ip", "link", "set", node.veth, "master", layout.bridge, "up"])
    inside = ["ip", "-n", node.netns]
    host.run([*inside, "addr", "add", f"{node.address}/{layout.block.prefixlen}", "dev", "eth0"])
    host.run([*inside, "link", "set", "eth0", "up"])
    host.run([*inside, "link", "set", "lo", "up"])
    # Service VIPs need a route for local processes to reach the DNAT rules;
    # there is no default route to carry them.
    host.run([*inside, "route", "add", str(SERVICE_CIDR), "dev", "eth0"])


def create_namespaces(node: NodeLayout) -> None:
    """Persistent mount and UTS namespaces, bound to files in the node directory."""
    ns_dir = node.directory / "ns"
    host.run(["mount", "--bind", str(ns_dir), str(ns_dir)])
    host.run(["mount", "--make-private", str(ns_dir)])
    node.mount_ns.touch()
    node.uts_ns.touch()
    host.run(
        [
            "nsenter", f"--net=/run/netns/{node.netns}",
            "unshare", f"--mount={node.mount_ns}", f"--uts={node.uts_ns}", "--propagation", "private",
            "sh", "-c", render_node_setup(node),
        ],
        what=f"{node.name}: its mounts",
    )


def sshd_pid(node: NodeLayout) -> int | None:
    try:
        return int((node.directory / "tmp" / "sshd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def start_sshd(node: NodeLayout) -> None:
    # sshd daemonizes itself; its pid file lands in the node's /tmp.
    host.run([*host.enter(node), str(host.SSHD), "-f", str(node.sshd_config), "-E", "/tmp/sshd.log"])
    host.wait_for_port(node.address, 22, SSHD_START_TIMEOUT)


def load_images(node: NodeLayout, archive: bytes) -> None:
    host.run([*host.enter(node), "podman", "load", "-q"], stdin=archive, timeout=300)


def build_node(layout: SandboxLayout, node: NodeLayout, authorized_key: str) -> str:
    """Everything for one node up to a running sshd; return its host public key."""
    host_key = write_node_files(node, authorized_key)
    create_network(layout, node)
    create_namespaces(node)
    start_sshd(node)
    return host_key


def remove_node(node: NodeLayout) -> None:
    """Tear a node down completely; every step tolerates it being half built.

    Containers run in processes outside the node's network namespace, so they
    are removed from inside the node before its namespaces go.
    """
    mount_ns = host.namespace_inode(node.mount_ns) if host.is_mounted(node.mount_ns) else None
    net_ns = host.namespace_inode(Path("/run/netns", node.netns)) if host.netns_exists(node.netns) else None
    # Known before any dies: a dead process is a zombie until its parent reaps it,
    # and a zombie no longer shows which namespaces it was in.
    started = host.start_times(host.processes_in(mount_ns, net_ns))
    pods: list[str] = []
    if mount_ns is not None and net_ns is not None:
        enter = host.enter(node)
        pods = host.run([*enter, "podman", "pod", "ps", "-q", "--no-trunc"], check=False).split()
        host.run([*enter, "podman", "rm", "-af", "-t", "0"], check=False, timeout=120)
        host.run([*enter, "podman", "pod", "rm", "-af", "-t", "0"], check=False, timeout=120)
    left = host.processes_in(mount_ns, net_ns)
    started.update(host.start_times(left))
    host.kill_all(left)
    # Done means gone: a script that looks right after `down` finds none of them.
    host.wait_gone(started, REAP_TIMEOUT)
    host.remove_pod_cgroups(pods)
    for path in (node.mount_ns, node.uts_ns, node.directory / "ns"):
        if host.is_mounted(path):
            host.run(["umount", str(path)], check=False)
    if host.netns_exists(node.netns):
        host.run(["ip", "netns", "del", node.netns], check=False)
    if host.link_exists(node.veth):
        host.run(["ip", "link", "del", node.veth], check=False)
