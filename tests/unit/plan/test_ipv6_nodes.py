"""A node reached over IPv6: SSH works, and where Services still need IPv4 the plan says so."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sshorch.errors import SshorchError
from sshorch.inventory import FrozenMap, Host
from sshorch.observe.nodereport import READY, NodeReport
from sshorch.plan.clusternodes import publish_address

from .helpers import cluster_nodes, deployment, desired, observe, run


def _host(address: str) -> Host:
    return Host("n1", address, 22, "root", None, False, (), FrozenMap(), FrozenMap(), "podman", FrozenMap())


@pytest.mark.parametrize(
    ("address", "gathered", "published"),
    [
        ("10.0.0.1", ("192.0.2.7",), "10.0.0.1"),
        ("2001:db8::1", ("192.0.2.7",), "192.0.2.7"),  # IPv6 for SSH, the gathered IPv4 for pods
        ("node1.example", ("192.0.2.7",), "192.0.2.7"),
        ("2001:db8::1", (), "2001:db8::1"),
    ],
)
def test_pods_publish_on_an_ipv4_address(address: str, gathered: tuple[str, ...], published: str) -> None:
    report = NodeReport("n1", address, READY, addresses=gathered)
    assert publish_address(_host(address), report) == published


def test_a_node_without_ipv4_is_named_when_services_need_one() -> None:
    nodes = cluster_nodes("n1", "n2")
    nodes = (replace(nodes[0], target=replace(nodes[0].target, address="2001:db8::1")), nodes[1])
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    with pytest.raises(SshorchError, match=r"^node n1: Services need an IPv4 address for the node, and it has none \(its address '2001:db8::1'"):
        run(desired(deployment("web"), service), observe(nodes=("n1", "n2")), nodes)
    run(desired(deployment("web")), observe(nodes=("n1", "n2")), nodes)  # no Service: nothing needs IPv4
