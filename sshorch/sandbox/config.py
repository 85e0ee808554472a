"""Text of the files a sandbox writes: pure renderers, no I/O."""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from sshorch.sandbox.layout import POD_SUBNET, SERVICE_CIDR, NodeLayout, SandboxLayout

# Written inside each node; the node's own /run holds what sshd and podman need.
NODE_PATHS = ("/var/lib/sshorch", "/run/sshorch", "/run/sshd")
# The node directory's parts bound over the host's paths, inside the node only.
NODE_BINDS = (
    ("storage", "/var/lib/containers"),
    ("root", "/root"),
    ("tmp", "/tmp"),
    ("etc-containers", "/etc/containers"),
)


def render_sshd_config(node: NodeLayout) -> str:
    # Key-only root login on the node's address; no PAM, DNS or motd so a
    # session starts in milliseconds. The node's /tmp is its own directory,
    # so the host reads the pid file there.
    return "\n".join(
        [
            f"ListenAddress {node.address}:22",
            f"HostKey {node.host_key}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "PermitUserEnvironment no",
            "MaxStartups 200:30:400",
            "MaxSessions 100",
            "PidFile /tmp/sshd.pid",
            "Subsystem sftp internal-sftp",
            "",
        ]
    )


def render_containers_conf() -> str:
    # runc with cgroupfs is what works without systemd; a low hard file limit
    # makes podman's default ulimits fail, so none are forced.
    return "\n".join(
        [
            "[containers]",
            "default_ulimits = []",
            "",
            "[network]",
            f'default_subnet = "{POD_SUBNET}"',
            "",
            "[engine]",
            'runtime = "runc"',
            'cgroup_manager = "cgroupfs"',
            'events_logger = "file"',
            "",
        ]
    )


def render_node_setup(node: NodeLayout) -> str:
    """Shell run once in the node's new mount and UTS namespaces.

    The node directory is bound to a private place first, because /var (where
    the sandbox directory usually is) becomes an overlay inside the node. A
    mount point under /var is made inside that overlay first: on a machine
    where podman never ran, /var/lib/containers does not exist yet. A step
    that fails says which one it was.
    """
    d = "/run/.sshorch-node"
    steps = [
        f"hostname {shlex.quote(node.name)}",
        "mount -t tmpfs -o mode=755 tmpfs /run",
        f"mkdir -p {d}",
        f"mount --bind {shlex.quote(str(node.directory))} {d}",
        f"mount -t overlay overlay -o lowerdir=/var,upperdir={d}/var-upper,workdir={d}/var-work /var",
    ]
    for source, target in NODE_BINDS:
        if target.startswith("/var/"):
            steps.append(f"mkdir -p {target}")
        steps.append(f"mount --bind {d}/{source} {target}")
    steps += [
        f"umount {d}",
        f"rmdir {d}",
        "mkdir -p " + " ".join(NODE_PATHS),
        "chmod 700 /run/sshorch",
    ]
    return "".join(f"{step} || {{ echo {shlex.quote('failed: ' + step)} >&2; exit 1; }}\n" for step in steps)


def render_known_hosts(entries: list[tuple[str, str]]) -> str:
    """known_hosts lines from (address, 'ssh-ed25519 AAAA...') pairs."""
    return "".join(f"{address} {key}\n" for address, key in entries)


def build_inventory(layout: SandboxLayout) -> dict[str, Any]:
    """An Ansible YAML inventory that both sshorch and ansible-playbook can use."""
    return {
        "all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": str(layout.client_key),
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={layout.known_hosts} -o StrictHostKeyChecking=yes",
                "sshorch_cluster": layout.name,
                "sshorch_known_hosts": str(layout.known_hosts),
                "sshorch_service_cidr": str(SERVICE_CIDR),
                "sshorch_runtime": "podman",
            },
            "children": {
                "sandbox": {
                    "hosts": {node.name: {"ansible_host": node.address} for node in layout.nodes},
                }
            },
        }
    }


def render_inventory(layout: SandboxLayout) -> str:
    header = f"# Inventory of sandbox '{layout.name}', written by 'sshorch sandbox up'.\n"
    return header + yaml.safe_dump(build_inventory(layout), sort_keys=False)
