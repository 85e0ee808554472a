"""Packet forwarding on a node: how it is read, and how it is turned on.

A node DNATs a NodePort or a VIP to an endpoint that may run on another node, and
then forwards the packet there: without forwarding, a NodePort answers only on
nodes with a local endpoint. A fresh network namespace, or a server that runs no
container network yet, starts with it off; podman turns it on with its first
network, so a node that never ran a pod has it off. The rules write turns it on,
as kube-proxy expects it on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sshorch.ipfamily import IpFamily


@dataclass(frozen=True)
class Forwarding:
    """A node's packet forwarding for one IP family: on or off, and whether it can be
    turned on (its sysctl file is writable). NodePorts and VIPs whose endpoint runs on
    another node need it on: the node forwards what it DNATs there."""

    on: bool
    settable: bool


def forwarding_command(family: IpFamily) -> str:
    """Prints `forwarding 1 rw` (or 0, ro): read by the shell, no process."""
    path = family.forwarding
    return f'v=; read -r v 2>/dev/null <{path}; if [ -w {path} ]; then w=rw; else w=ro; fi; echo "forwarding ${{v:-?}} $w"'


def parse_forwarding(output: str) -> Forwarding | None:
    """forwarding_command's line (or its value after `forwarding`); None when not read."""
    words = output.split()
    if words[:1] == ["forwarding"]:
        words = words[1:]
    if len(words) != 2 or words[0] not in ("0", "1") or words[1] not in ("rw", "ro"):
        return None
    return Forwarding(words[0] == "1", words[1] == "rw")


def turn_on_command(family: IpFamily) -> str:
    """Turns forwarding on where it can be; where it cannot (a read-only /proc/sys),
    nothing fails: `sshorch nodes` tells. A write that does not take fails the step,
    so a pass does not rewrite the rules again and again for it."""
    path = family.forwarding
    stays = f"packet forwarding stays off ({family.forwarding_name} = $v after writing 1)"
    return f'[ ! -w {path} ] || {{ echo 1 > {path}; read -r v <{path}; [ "$v" = 1 ] || {{ echo "{stays}" >&2; exit 1; }}; }}'

