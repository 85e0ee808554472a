"""Service type LoadBalancer and its fields: what is read, and one line per bad field."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.loadbalancer import LOAD_BALANCER
from sshorch.spec.model import Service

from .manifests import changed, parse, problems, service


def load_balancer(**spec: Any) -> dict[str, Any]:
    doc = changed(service(), "spec.type", "LoadBalancer")
    for key, value in spec.items():
        doc = changed(doc, f"spec.{key}", value)
    return doc


def parsed(doc: dict[str, Any]) -> Service:
    (found,) = [o for o in parse(doc).objects if isinstance(o, Service)]
    return found


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, ("Cluster", (), True, True)),
    ({"externalTrafficPolicy": "Local"}, ("Local", (), True, True)),
    ({"externalTrafficPolicy": "Cluster"}, ("Cluster", (), True, True)),
    ({"loadBalancerSourceRanges": ["192.0.2.0/24", " 198.51.100.7/32", "192.0.2.0/24"]},
     ("Cluster", ("192.0.2.0/24", "198.51.100.7/32"), True, True)),
    ({"loadBalancerSourceRanges": ["198.51.100.7"]}, ("Cluster", ("198.51.100.7/32",), True, True)),
    ({"loadBalancerSourceRanges": []}, ("Cluster", (), True, True)),
    ({"allocateLoadBalancerNodePorts": False}, ("Cluster", (), False, False)),
    ({"loadBalancerIP": ""}, ("Cluster", (), True, True)),
], ids=repr)
def test_load_balancer_fields_are_read(spec: dict[str, Any], expected: tuple[Any, ...]) -> None:
    svc = parsed(load_balancer(**spec))
    assert svc.type == "LoadBalancer"
    assert (svc.external_traffic_policy, svc.load_balancer_source_ranges, svc.allocate_load_balancer_node_ports,
            svc.allocates_node_ports) == expected  # fmt: skip


def test_status_of_a_load_balancer_is_ignored_like_any_status() -> None:
    doc = load_balancer()
    doc["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
    assert parsed(doc).type == "LoadBalancer"


def test_node_port_and_local_policy_on_a_node_port_service() -> None:
    doc = changed(changed(service(), "spec.type", "NodePort"), "spec.externalTrafficPolicy", "Local")
    svc = parsed(changed(doc, "spec.ports[0].nodePort", 30080))
    assert (svc.external_traffic_policy, svc.allocates_node_ports, svc.ports[0].node_port) == ("Local", True, 30080)
    assert parsed(load_balancer(**{"ports": [{"port": 80, "nodePort": 30081}]})).ports[0].node_port == 30081


@pytest.mark.parametrize(("doc", "expected"), [
    (load_balancer(externalTrafficPolicy="Nearest"),
     "spec.externalTrafficPolicy: must be Cluster or Local, got 'Nearest'"),
    (changed(service(), "spec.externalTrafficPolicy", "Local"),
     "spec.externalTrafficPolicy: may only be set when type is NodePort or LoadBalancer, got type ClusterIP"),
    (load_balancer(loadBalancerSourceRanges=["192.0.2.0/24", "192.0.2.1/24"]),
     "spec.loadBalancerSourceRanges[1]: must be an IPv4 network like 192.0.2.0/24 (no host bits set), got '192.0.2.1/24'"),
    (load_balancer(loadBalancerSourceRanges=["anywhere"]),
     "spec.loadBalancerSourceRanges[0]: must be an IPv4 network like 192.0.2.0/24 (no host bits set), got 'anywhere'"),
    (load_balancer(loadBalancerSourceRanges="192.0.2.0/24"),
     "spec.loadBalancerSourceRanges: must be a list, got '192.0.2.0/24'"),
    (changed(changed(service(), "spec.type", "NodePort"), "spec.loadBalancerSourceRanges", ["192.0.2.0/24"]),
     "spec.loadBalancerSourceRanges: may only be set when type is LoadBalancer, got type NodePort"),
    (load_balancer(allocateLoadBalancerNodePorts="no"),
     "spec.allocateLoadBalancerNodePorts: must be true or false, got 'no'"),
    (changed(service(), "spec.allocateLoadBalancerNodePorts", False),
     "spec.allocateLoadBalancerNodePorts: may only be set when type is LoadBalancer, got type ClusterIP"),
    (load_balancer(loadBalancerIP="192.0.2.10"),
     "spec.loadBalancerIP: is deprecated in Kubernetes and its meaning is up to each implementation; here a"
     " LoadBalancer Service answers on the inventory's sshorch_load_balancer_addresses: remove loadBalancerIP"
     " and list the address there"),
    (load_balancer(loadBalancerClass="example.com/lb"),
     "spec.loadBalancerClass: is not supported: sshorch is the only load balancer (the inventory's"
     " sshorch_load_balancer_addresses); remove it"),
    (load_balancer(healthCheckNodePort=30999),
     "spec.healthCheckNodePort: unsupported field; supported here: type, selector, ports, clusterIP,"
     " externalTrafficPolicy, loadBalancerSourceRanges, allocateLoadBalancerNodePorts, loadBalancerIP,"
     " loadBalancerClass"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_one_bad_load_balancer_field_gives_one_line(doc: dict[str, Any], expected: str) -> None:
    assert problems(doc) == [f"web.yaml: Service/web: {expected}"]


def test_load_balancers_are_announced_once() -> None:
    assert parse(load_balancer(), changed(changed(service("api"), "spec.type", "LoadBalancer"), "spec.ports[0].port", 81)).notices == (LOAD_BALANCER,)
    assert parse(service()).notices == ()
