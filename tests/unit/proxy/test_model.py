import re

import pytest

from sshorch.proxy import Endpoint, NodeRules, ServicePort
from tests.unit.proxy.samples import CLUSTER, NODE


def port(**changes: object) -> ServicePort:
    values: dict[str, object] = {
        "namespace": "shop",
        "service": "web",
        "port_name": "http",
        "protocol": "tcp",
        "cluster_ip": "198.19.0.10",
        "port": 80,
        "node_port": None,
        "endpoints": (),
    }
    values.update(changes)
    return ServicePort(**values)  # type: ignore[arg-type]


def test_display_name_is_kube_proxy_style() -> None:
    assert port().display_name == "shop/web:http"
    assert port(port_name="").display_name == "shop/web"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"namespace": "Shop"}, "namespace must be a DNS-1123 label"),
        ({"service": "web svc"}, "service must be a DNS-1123 label"),
        ({"service": "web\n"}, "service must be a DNS-1123 label"),
        ({"port_name": 'http" -j ACCEPT'}, "shop/web:http\" -j ACCEPT: port name"),
        ({"protocol": "sctp"}, "protocol 'sctp' must be tcp or udp"),
        ({"cluster_ip": "198.19.0.300"}, "cluster IP: '198.19.0.300' is not an IPv4 address"),
        ({"port": 0}, "shop/web:http: port: 0 must be an integer 1-65535"),
        ({"node_port": 70000}, "node port: 70000 must be an integer 1-65535"),
    ],
)
def test_service_port_refuses_what_could_break_the_rules(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        port(**changes)


def test_endpoint_and_node_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="endpoint address: '10.88.0' is not an IPv4 address"):
        Endpoint("10.88.0", 80, local=True)
    with pytest.raises(ValueError, match="endpoint 10.88.0.5 port: True"):
        Endpoint("10.88.0.5", True, local=True)
    with pytest.raises(ValueError, match="host port range 30000-20000: start is above end"):
        NodeRules(CLUSTER, NODE, (), (30000, 20000), ())
    with pytest.raises(ValueError, match="allowed source 'controller'"):
        NodeRules(CLUSTER, NODE, ("controller",), (20000, 29999), ())
    assert NodeRules(CLUSTER, NODE, ("198.18.0.0/24",), (20000, 20000), ()).host_ports == (20000, 20000)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cluster": "Blue"}, "cluster 'Blue': must be a DNS-1123 label"),
        ({"cluster": 'x" -j ACCEPT'}, "must be a DNS-1123 label"),
        ({"cluster": "a" * 64}, "must be a DNS-1123 label"),
        ({"published_ports": (("sctp", 80),)}, "published host port 80: protocol 'sctp'"),
        ({"published_ports": (("tcp", 0),)}, "published host port: 0 must be an integer 1-65535"),
        ({"protected_addresses": ("198.18.0.1 -j ACCEPT",)}, "protected address '198.18.0.1 -j ACCEPT'"),
    ],
)
def test_node_rules_refuse_what_could_break_the_rules(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "cluster": CLUSTER, "node_address": NODE, "allowed_sources": (), "host_ports": (20000, 29999), "services": (),
    }
    values.update(changes)
    with pytest.raises(ValueError, match=re.escape(message)):
        NodeRules(**values)  # type: ignore[arg-type]
