"""Hairpin mode on the pod bridges' ports, so that a pod reaches its own Service.

A Service's rules may send a pod's connection to that pod itself. Where
br_netfilter is loaded (docker loads it; the sandbox has it), the kernel makes
that choice at the bridge, and the packet has to leave by the port it came in
by: a bridge port allows that only in hairpin mode, which podman's and docker's
bridges leave off. Without it every such connection attempt is dropped (a
retried SYN may pick another endpoint: a pod's requests to a Service of three
replicas stalled for a second or more, and some gave up).

Run before each write of a node's rules: a pod becomes an endpoint only through
such a write (its own node's rules name its IP), and after a reboot the rules
are written again for the pods' new ports. Ports already in hairpin mode are left.
"""

from __future__ import annotations

# The bridges podman (netavark: podman0; CNI: cni-podman0) and docker put pods on.
POD_BRIDGES = ("podman[0-9]+", "cni-podman[0-9]+", "docker0")
# The same bridges as iptables names them in -i ("+" matches any suffix).
POD_BRIDGE_INTERFACES = ("podman+", "cni-podman+", "docker0")

_PORTS_OFF = (
    "s/^[0-9]+: ([^@:]+)[@:].* master (" + "|".join(POD_BRIDGES) + ") .*hairpin off.*/\\1/p"
)
HAIRPIN_COMMAND = (
    "command -v bridge >/dev/null 2>&1 || exit 0; "
    f"bridge -o -d link show | sed -n -E '{_PORTS_OFF}' | "
    'while read -r port; do bridge link set dev "$port" hairpin on || exit; done'
)


def hairpin_argv() -> list[str]:
    """argv that turns hairpin mode on for every pod bridge port that has it off."""
    return ["sh", "-c", HAIRPIN_COMMAND]
