"""A Service's outside-traffic fields: externalTrafficPolicy and the LoadBalancer ones.

LoadBalancer here is k3s ServiceLB's model: no cloud load balancer, the service's
port answers on the inventory's load balancer addresses (the nodes' own, by
default), so there is nothing to choose per Service: loadBalancerIP and
loadBalancerClass are refused with what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sshorch.ipfamily import IPV4

from .fields import Fields, describe
from .notices import Notice

# The fields of a Service's spec this module reads.
LOAD_BALANCER_FIELDS = (
    "externalTrafficPolicy",
    "loadBalancerSourceRanges",
    "allocateLoadBalancerNodePorts",
    "loadBalancerIP",
    "loadBalancerClass",
)
LOAD_BALANCER = Notice(
    "load-balancer",
    "Service type LoadBalancer: no cloud load balancer; its ports answer on the inventory's"
    " sshorch_load_balancer_addresses (by default each Ready node's own address), as k3s ServiceLB's do;"
    " `sshorch status` shows them",
)
_POLICIES: tuple[Literal["Cluster", "Local"], ...] = ("Cluster", "Local")


@dataclass(frozen=True)
class ExternalTraffic:
    """What a Service's spec says about traffic from outside the cluster."""

    policy: Literal["Cluster", "Local"] = "Cluster"
    source_ranges: tuple[str, ...] = ()
    allocate_node_ports: bool = True


def _policy(spec: Fields, service_type: str) -> Literal["Cluster", "Local"]:
    if spec.has("externalTrafficPolicy") and service_type not in ("NodePort", "LoadBalancer"):
        spec.fail("externalTrafficPolicy", f"may only be set when type is NodePort or LoadBalancer, got type {service_type}")
        return "Cluster"
    return spec.get_choice("externalTrafficPolicy", _POLICIES, "Cluster")


def _network(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return IPV4.network(value.strip()).with_prefixlen
    except ValueError:
        return None


def _source_ranges(spec: Fields, service_type: str) -> tuple[str, ...]:
    if spec.raw("loadBalancerSourceRanges") and service_type != "LoadBalancer":
        spec.fail("loadBalancerSourceRanges", f"may only be set when type is LoadBalancer, got type {service_type}")
        return ()
    ranges = []
    for path, value in spec.items("loadBalancerSourceRanges"):
        network = _network(value)
        if network is None:
            spec.report.add(path, f"must be an {IPV4.label} network like 192.0.2.0/24 (no host bits set), got {describe(value)}")
        else:
            ranges.append(network)
    return tuple(dict.fromkeys(ranges))


def parse_external_traffic(spec: Fields, service_type: str) -> ExternalTraffic:
    """The fields of LOAD_BALANCER_FIELDS; errors at their paths."""
    if service_type == "LoadBalancer":
        spec.report.note(LOAD_BALANCER)
    if spec.optional_str("loadBalancerIP"):
        spec.fail(
            "loadBalancerIP",
            "is deprecated in Kubernetes and its meaning is up to each implementation; here a LoadBalancer"
            " Service answers on the inventory's sshorch_load_balancer_addresses: remove loadBalancerIP"
            " and list the address there",
        )
    if spec.has("loadBalancerClass"):
        spec.fail(
            "loadBalancerClass",
            "is not supported: sshorch is the only load balancer (the inventory's sshorch_load_balancer_addresses);"
            " remove it",
        )
    allocate = True
    if spec.has("allocateLoadBalancerNodePorts"):
        if service_type != "LoadBalancer":
            spec.fail("allocateLoadBalancerNodePorts", f"may only be set when type is LoadBalancer, got type {service_type}")
        else:
            allocate = spec.get_bool("allocateLoadBalancerNodePorts", True)
    return ExternalTraffic(_policy(spec, service_type), _source_ranges(spec, service_type), allocate)
