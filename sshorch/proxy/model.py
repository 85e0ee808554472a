"""What a node's service rules are rendered from: concrete values, validated on construction.

Names and addresses end up inside iptables-restore text, so anything that could
break out of a quoted comment or an address field is refused here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sshorch.ipfamily import IPV4, IpFamily

Protocol = Literal["tcp", "udp"]
ExternalPolicy = Literal["Cluster", "Local"]

# DNS-1123 labels (namespaces, services) and IANA service names (ports): the
# only characters that may reach a quoted iptables comment.
# \Z, not $: "$" also matches before a trailing newline, which would end a restore line.
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


def _check_address(family: IpFamily, where: str, value: str) -> None:
    if not family.is_address(value):
        raise ValueError(f"{where}: {value!r} is not an {family.label} address")


def _check_port(where: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"{where}: {value!r} must be an integer 1-65535")


@dataclass(frozen=True)
class Endpoint:
    """A ready pod. local: on this node, so address:port is the pod IP and container port."""

    address: str
    port: int
    local: bool
    family: IpFamily = IPV4

    def __post_init__(self) -> None:
        _check_address(self.family, "endpoint address", self.address)
        _check_port(f"endpoint {self.address} port", self.port)


@dataclass(frozen=True)
class ServicePort:
    """One port of a service as the rules serve it: cluster IP and port, node port, endpoints."""

    namespace: str
    service: str
    port_name: str  # "" for a service's single unnamed port
    protocol: Protocol
    cluster_ip: str
    port: int
    node_port: int | None
    endpoints: tuple[Endpoint, ...]
    family: IpFamily = IPV4
    # A LoadBalancer's: the addresses of this node on which `port` answers as the VIP does.
    load_balancer_addresses: tuple[str, ...] = ()
    # Who may reach `port` on those addresses (networks); empty: anyone.
    source_ranges: tuple[str, ...] = ()
    # For the node port and the load balancer addresses. Local: only endpoints on this
    # node, and the client's address kept (not masqueraded); none here: dropped.
    external_policy: ExternalPolicy = "Cluster"

    def __post_init__(self) -> None:
        for field, value in (("namespace", self.namespace), ("service", self.service)):
            if not LABEL.match(value):
                raise ValueError(f"service port {value!r}: {field} must be a DNS-1123 label")
        if self.port_name and not LABEL.match(self.port_name):
            raise ValueError(f"{self.display_name}: port name must be lowercase letters, digits and '-'")
        if self.protocol not in ("tcp", "udp"):
            raise ValueError(f"{self.display_name}: protocol {self.protocol!r} must be tcp or udp")
        _check_address(self.family, f"{self.display_name}: cluster IP", self.cluster_ip)
        for endpoint in self.endpoints:
            if endpoint.family != self.family:
                raise ValueError(f"{self.display_name}: endpoint {endpoint.address} is not {self.family.label}")
        _check_port(f"{self.display_name}: port", self.port)
        if self.node_port is not None:
            _check_port(f"{self.display_name}: node port", self.node_port)
        for address in self.load_balancer_addresses:
            _check_address(self.family, f"{self.display_name}: load balancer address", address)
        for source in self.source_ranges:
            try:
                self.family.network(source)
            except ValueError:
                raise ValueError(f"{self.display_name}: source range {source!r} is not an {self.family.label} network") from None
        if self.external_policy not in ("Cluster", "Local"):
            raise ValueError(f"{self.display_name}: external policy {self.external_policy!r} must be Cluster or Local")

    @property
    def local_endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(endpoint for endpoint in self.endpoints if endpoint.local)

    @property
    def display_name(self) -> str:
        """namespace/service[:port], as kube-proxy names a service port."""
        name = f"{self.namespace}/{self.service}"
        return f"{name}:{self.port_name}" if self.port_name else name


@dataclass(frozen=True)
class NodeRules:
    """Everything one node's service rules are rendered from."""

    cluster: str  # whose rules: chain names, jump comments and state files are scoped by it
    node_address: str
    allowed_sources: tuple[str, ...]  # addresses (or networks) allowed to reach pod host ports
    host_ports: tuple[int, int]  # inclusive range of pod host ports on this node
    services: tuple[ServicePort, ...]
    # Every (protocol, host port) a pod of the cluster publishes on this node: those
    # outside host_ports (a manifest's hostPort) are guarded like the range.
    published_ports: tuple[tuple[Protocol, int], ...] = ()
    # Addresses (or networks) pods may not open connections to, besides the node's own,
    # unless our or the runtime's DNAT sent them there: the cluster's nodes and controller.
    protected_addresses: tuple[str, ...] = ()
    family: IpFamily = IPV4  # every address above and in services is of it; so are the rules

    def __post_init__(self) -> None:
        if not LABEL.match(self.cluster):
            raise ValueError(f"cluster {self.cluster!r}: must be a DNS-1123 label")
        family = self.family
        _check_address(family, "node address", self.node_address)
        for what, networks in (("allowed source", self.allowed_sources), ("protected address", self.protected_addresses)):
            for source in networks:
                try:
                    family.network(source)
                except ValueError:
                    raise ValueError(f"{what} {source!r}: not an {family.label} address or network") from None
        for service in self.services:
            if service.family != family:
                raise ValueError(f"{service.display_name}: is not {family.label}, as the node's rules are")
        low, high = self.host_ports
        _check_port("host port range start", low)
        _check_port("host port range end", high)
        if low > high:
            raise ValueError(f"host port range {low}-{high}: start is above end")
        for protocol, port in self.published_ports:
            if protocol not in ("tcp", "udp"):
                raise ValueError(f"published host port {port}: protocol {protocol!r} must be tcp or udp")
            _check_port("published host port", port)
