"""LoadBalancer Services in planning: node ports allocated as NodePort's, and each node's
rules serving the port on the load balancer addresses that are its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from sshorch.plan.services import (
    AllocationError,
    Allocations,
    ServiceConfig,
    all_endpoints,
    allocate,
    build_node_rules,
    load_balancer_addresses,
    parse_load_balancer_addresses,
)
from sshorch.proxy.model import NodeRules

from .helpers import CLUSTER, Doc, deployment, desired
from .test_services import ADDRESSES, NONE, pod, service, three_web_pods


def load_balancer(name: str = "web", port: int = 80, node_port: int | None = None, **spec: Any) -> Doc:
    entry: Doc = {"port": port, "targetPort": 8080}
    if node_port is not None:
        entry["nodePort"] = node_port
    doc = service(name, [entry], type="LoadBalancer")
    doc["spec"].update(spec)
    return doc


def rules_of(node: str, doc: Doc, config: ServiceConfig = ServiceConfig(), addresses: Mapping[str, str] = ADDRESSES) -> NodeRules:
    d = desired(deployment("web", replicas=3, ports=(8080,)), doc)
    allocations = allocate(d, NONE, config)
    return build_node_rules(CLUSTER, node, d, allocations, all_endpoints(d, three_web_pods(d), addresses), addresses, (), config)


@pytest.mark.parametrize(("doc", "keys"), [
    (load_balancer(), {"default/web:80"}),
    (load_balancer(allocateLoadBalancerNodePorts=False), set()),
    (load_balancer(node_port=30555, allocateLoadBalancerNodePorts=False), {"default/web:80"}),
    (service("web"), set()),
], ids=["default", "allocate-false", "allocate-false-but-given", "cluster-ip"])
def test_load_balancers_get_node_ports_as_node_port_services_do(doc: Doc, keys: set[str]) -> None:
    got = allocate(desired(doc), NONE, ServiceConfig())
    assert set(got.node_ports) == keys and set(got.vips) == {"default/web"}
    assert all(30000 <= port <= 32767 for port in got.node_ports.values())


def test_a_given_node_port_of_a_load_balancer_is_kept() -> None:
    assert allocate(desired(load_balancer(node_port=30555)), NONE, ServiceConfig()).node_ports == {"default/web:80": 30555}


def test_a_type_change_from_node_port_to_load_balancer_keeps_the_node_port() -> None:
    held = Allocations({"default/web": "10.96.0.10"}, {"default/web:80": 31234})
    assert allocate(desired(load_balancer()), held, ServiceConfig()).node_ports == {"default/web:80": 31234}


def test_two_load_balancers_on_one_port_are_an_error_naming_both() -> None:
    with pytest.raises(AllocationError) as raised:
        allocate(desired(load_balancer("a"), load_balancer("b")), NONE, ServiceConfig())
    assert str(raised.value) == (
        "Service default/b: port 80/TCP is already used on the load balancer addresses by Service default/a;"
        " give one of them another port"
    )
    allocate(desired(load_balancer("a"), load_balancer("b", port=81)), NONE, ServiceConfig())  # different ports: fine


def test_a_load_balancer_port_on_a_node_port_is_an_error() -> None:
    d = desired(load_balancer("a", port=30080), service("b", [{"port": 80, "nodePort": 30080}], type="NodePort"))
    with pytest.raises(AllocationError) as raised:
        allocate(d, NONE, ServiceConfig())
    assert str(raised.value) == (
        "Service default/a: port 30080/TCP is the node port of Service default/b, which answers on the same"
        " addresses; give one of them another port"
    )
    udp = service("b", [{"port": 80, "nodePort": 30080, "protocol": "UDP"}], type="NodePort")
    allocate(desired(load_balancer("a", port=30080), udp), NONE, ServiceConfig())  # another protocol: fine


def test_a_load_balancer_port_in_the_host_port_range_is_an_error() -> None:
    with pytest.raises(AllocationError) as raised:
        allocate(desired(load_balancer(port=20080)), NONE, ServiceConfig())
    assert str(raised.value) == (
        "Service default/web: port 20080/TCP is in the host port range 20000-29999 (sshorch_hostport_range);"
        " give it another port"
    )
    allocate(desired(load_balancer(port=20080)), NONE, ServiceConfig(host_ports=(21000, 21999)))


@pytest.mark.parametrize(("configured", "node_address", "served"), [
    (None, "10.0.0.1", ("10.0.0.1",)),
    (("10.0.0.1", "10.0.0.3"), "10.0.0.1", ("10.0.0.1",)),
    (("10.0.0.1", "10.0.0.3"), "10.0.0.2", ()),
    ((), "10.0.0.1", ()),
])
def test_a_node_serves_the_load_balancer_addresses_that_are_its_own(
    configured: tuple[str, ...] | None, node_address: str, served: tuple[str, ...]
) -> None:
    assert load_balancer_addresses(ServiceConfig(load_balancer_addresses=configured), node_address) == served


def test_node_rules_carry_the_addresses_policy_and_source_ranges() -> None:
    doc = load_balancer(externalTrafficPolicy="Local", loadBalancerSourceRanges=["192.0.2.0/24"])
    config = ServiceConfig(load_balancer_addresses=("10.0.0.1", "10.0.0.2"))
    (port,) = rules_of("n1", doc, config).services
    assert (port.load_balancer_addresses, port.external_policy, port.source_ranges) == (("10.0.0.1",), "Local", ("192.0.2.0/24",))
    assert port.node_port is not None and [e.address for e in port.local_endpoints] == ["10.88.0.5"]
    (on_n3,) = rules_of("n3", doc, config).services
    assert on_n3.load_balancer_addresses == ()


def test_other_types_have_no_load_balancer_addresses() -> None:
    (port,) = rules_of("n1", service("web")).services
    assert (port.load_balancer_addresses, port.external_policy, port.source_ranges) == ((), "Cluster", ())


def test_pods_of_other_nodes_are_not_local() -> None:
    d = desired(deployment("web", replicas=1, ports=(8080,)), load_balancer(externalTrafficPolicy="Local"))
    pods = [pod(d, "web", 0, "n2", bindings=[(20002, 8080)], ip="10.88.0.9")]
    rules = build_node_rules(CLUSTER, "n1", d, allocate(d, NONE, ServiceConfig()), all_endpoints(d, pods, ADDRESSES),
                             ADDRESSES, (), ServiceConfig())  # fmt: skip
    (port,) = rules.services
    assert port.local_endpoints == () and len(port.endpoints) == 1


@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    (["192.0.2.10", "192.0.2.11", "192.0.2.10"], ("192.0.2.10", "192.0.2.11")),
    ("192.0.2.10, 192.0.2.11", ("192.0.2.10", "192.0.2.11")),
    ([], ()),
])
def test_the_inventory_variable_is_a_list_of_addresses(value: object, expected: tuple[str, ...] | None) -> None:
    assert parse_load_balancer_addresses(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    (["192.0.2.10", "lb.example.com"], "sshorch_load_balancer_addresses: 'lb.example.com' is not an IPv4 address"),
    ({"a": 1}, "sshorch_load_balancer_addresses: must be a list of IPv4 addresses, got {'a': 1}"),
    ([1], "sshorch_load_balancer_addresses: must be a list of IPv4 addresses, got [1]"),
])
def test_a_bad_inventory_variable_is_an_error(value: object, message: str) -> None:
    with pytest.raises(AllocationError) as raised:
        parse_load_balancer_addresses(value)
    assert str(raised.value) == message
