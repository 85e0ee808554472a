"""Chain names: our prefix, the cluster's tag, then a fixed name or a hash, so the same
service gets the same chain every run and two clusters sharing a node never write
each other's chains.

A cluster's chains are `SSHORCH-<tag>-<NAME>`: the tag is five base32 characters
of sha256(cluster name); service and endpoint chains end in ten characters of a
hash of what they serve (`SSHORCH-<tag>-SVC-<hash>`, `SSHORCH-<tag>-SEP-<hash>`),
within iptables' 28 characters; so do a service port's chains for outside traffic
under externalTrafficPolicy Local (`XLB-`) and for loadBalancerSourceRanges (`FW-`). Every line of a cluster's rules, and each of its
jumps from the built-in chains, contains `SSHORCH-<tag>-`: that is what the gather
fingerprints. sshorch before cluster scoping wrote unscoped chains (LEGACY_CHAIN);
a write migrates a node that still holds them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass

from sshorch.proxy.model import LABEL, Endpoint, ServicePort

PREFIX = "SSHORCH-"
MAX_CHAIN_LENGTH = 28  # iptables refuses longer chain names
TAG_LENGTH = 5  # 25 bits: clusters sharing a node are few

# A chain we may declare and delete: ours, and safe to write into restore text.
_OWNED = re.compile(r"^SSHORCH-[A-Za-z0-9_-]+$")
# Any cluster's scoped chain (the tag is base32, so no fixed legacy name looks like one).
_SCOPED = re.compile(r"^SSHORCH-[A-Z2-7]{%d}-" % TAG_LENGTH)

# What sshorch wrote before chains were scoped by cluster: fixed names, and
# SVC/SEP chains of 16 base32 characters.
LEGACY_CHAIN = re.compile(
    r"^SSHORCH-(SERVICES|NODEPORTS|MARK-MASQ|POSTROUTING|FORWARD|HOSTPORTS|CANARY|SVC-[A-Z2-7]{16}|SEP-[A-Z2-7]{16})$"
)
# The same for the gather's awk, without intervals (not every awk has them): looser,
# so what it prints is checked again with LEGACY_CHAIN.
LEGACY_CHAIN_ERE = "^SSHORCH-(SERVICES|NODEPORTS|MARK-MASQ|POSTROUTING|FORWARD|HOSTPORTS|CANARY|SVC-[A-Z2-7]+|SEP-[A-Z2-7]+)$"
LEGACY_SERVICES = "SSHORCH-SERVICES"
LEGACY_POSTROUTING = "SSHORCH-POSTROUTING"
LEGACY_HOSTPORTS = "SSHORCH-HOSTPORTS"
LEGACY_FORWARD = "SSHORCH-FORWARD"


def _digest(*parts: str) -> str:
    # Length-prefixed so ("a", "bc") and ("ab", "c") hash differently.
    data = "".join(f"{len(part)}:{part};" for part in parts).encode()
    return base64.b32encode(hashlib.sha256(data).digest()).decode()


def chain_name(prefix: str, *parts: str) -> str:
    """prefix + base32(sha256(parts)), cut to iptables' limit; the same parts give the same name."""
    if not prefix.startswith(PREFIX) or len(prefix) > MAX_CHAIN_LENGTH - 8:
        raise ValueError(f"chain prefix {prefix!r}: must start with {PREFIX} and leave room for a hash")
    return (prefix + _digest(*parts))[:MAX_CHAIN_LENGTH]


def cluster_tag(cluster: str) -> str:
    """The cluster's part of its chain names: stable, and the same on every node and controller."""
    return base64.b32encode(hashlib.sha256(cluster.encode()).digest()).decode()[:TAG_LENGTH]


def _port_parts(port: ServicePort) -> tuple[str, ...]:
    return (port.namespace, port.service, port.port_name, port.protocol)


@dataclass(frozen=True)
class ClusterChains:
    """One cluster's chain names on a node (see the module docstring)."""

    cluster: str
    prefix: str  # SSHORCH-<tag>-: in every line of the cluster's rules
    services: str  # nat: VIPs and node ports; filter: refusals for services without endpoints
    nodeports: str
    mark_masq: str
    postrouting: str
    forward: str  # filter: lets our service traffic through
    hostports: str  # filter: pod host ports only from the cluster's nodes and controller
    node_access: str  # filter: pods may not open connections to nodes or the controller...
    from_pods: str  # ...unless DNATed: what is refused to a connection from a pod bridge
    canary: str  # in both tables, empty: gone means someone flushed the tables

    def service(self, port: ServicePort) -> str:
        return chain_name(f"{self.prefix}SVC-", *_port_parts(port))

    def local_service(self, port: ServicePort) -> str:
        """Where outside traffic goes under externalTrafficPolicy Local: local endpoints only."""
        return chain_name(f"{self.prefix}XLB-", *_port_parts(port))

    def firewall(self, port: ServicePort) -> str:
        """Where the load balancer addresses' traffic is let through from loadBalancerSourceRanges."""
        return chain_name(f"{self.prefix}FW-", *_port_parts(port))

    def endpoint(self, port: ServicePort, endpoint: Endpoint) -> str:
        return chain_name(f"{self.prefix}SEP-", *_port_parts(port), f"{endpoint.address}:{endpoint.port}")

    def owns(self, name: str) -> bool:
        """A chain of this cluster's (and no other's, nor a legacy one)."""
        return name.startswith(self.prefix) and is_owned_chain(name)


def check_cluster(cluster: str) -> str:
    """`cluster`, once known to be a DNS-1123 label (as inventories require): safe in
    chain names, comments, file names and shell words."""
    if not LABEL.match(cluster):
        raise ValueError(f"cluster {cluster!r}: must be a DNS-1123 label (lowercase letters, digits and '-')")
    return cluster


@functools.lru_cache(maxsize=64)
def cluster_chains(cluster: str) -> ClusterChains:
    """The chain names of `cluster`."""
    check_cluster(cluster)
    prefix = f"{PREFIX}{cluster_tag(cluster)}-"
    names = {
        "services": "SERVICES", "nodeports": "NODEPORTS", "mark_masq": "MARK-MASQ", "postrouting": "POSTROUTING",
        "forward": "FORWARD", "hostports": "HOSTPORTS", "node_access": "NODE-ACCESS", "from_pods": "FROM-PODS",
        "canary": "CANARY",
    }
    return ClusterChains(cluster, prefix, **{field: prefix + name for field, name in names.items()})


def is_owned_chain(name: str) -> bool:
    """Any chain of sshorch's, whichever cluster (or none) it belongs to."""
    return len(name) <= MAX_CHAIN_LENGTH and bool(_OWNED.match(name))


def is_legacy_chain(name: str) -> bool:
    """A chain as sshorch named them before chains were scoped by cluster."""
    return bool(LEGACY_CHAIN.match(name))


def is_scoped_chain(name: str) -> bool:
    """Some cluster's chain (this one's or another's)."""
    return is_owned_chain(name) and bool(_SCOPED.match(name))
