"""A small cluster's service rules as seen from node 198.18.0.2, shared by the proxy tests.

CLUSTER is the cluster they belong to; OTHER_CLUSTER shares the node in the tests of clusters apart."""

from __future__ import annotations

from sshorch.proxy import Endpoint, NodeRules, ServicePort

CLUSTER = "blue"
OTHER_CLUSTER = "green"
NODE = "198.18.0.2"
OTHER_NODE = "198.18.0.3"
THIRD_NODE = "198.18.0.4"
CONTROLLER = "198.18.0.1"
LOCAL_POD = "10.88.0.5"

WEB = ServicePort(
    namespace="shop",
    service="web",
    port_name="http",
    protocol="tcp",
    cluster_ip="198.19.0.10",
    port=80,
    node_port=30080,
    endpoints=(
        Endpoint(THIRD_NODE, 20001, local=False),
        Endpoint(LOCAL_POD, 8080, local=True),
        Endpoint(OTHER_NODE, 20001, local=False),
    ),
)
DNS = ServicePort(
    namespace="kube",
    service="dns",
    port_name="",
    protocol="udp",
    cluster_ip="198.19.0.53",
    port=53,
    node_port=None,
    endpoints=(Endpoint(OTHER_NODE, 20053, local=False),),
)
CART = ServicePort(
    namespace="shop",
    service="cart",
    port_name="api",
    protocol="tcp",
    cluster_ip="198.19.0.20",
    port=8080,
    node_port=30081,
    endpoints=(),
)
DB = ServicePort(
    namespace="shop",
    service="db",
    port_name="pg",
    protocol="tcp",
    cluster_ip="198.19.0.30",
    port=5432,
    node_port=None,
    endpoints=tuple(Endpoint(f"198.18.0.{i}", 20100 + i, local=False) for i in range(3, 8)),
)

SERVICES = (WEB, DNS, CART, DB)


# Host ports pods publish on NODE: one from the range, and a manifest's hostPort outside it.
PUBLISHED = (("tcp", 20005), ("tcp", 8443))
CLUSTER_ADDRESSES = (CONTROLLER, NODE, OTHER_NODE, THIRD_NODE)


def node_rules(*services: ServicePort, cluster: str = CLUSTER) -> NodeRules:
    return NodeRules(
        cluster=cluster,
        node_address=NODE,
        allowed_sources=CLUSTER_ADDRESSES,
        host_ports=(20000, 29999),
        services=services,
        published_ports=PUBLISHED,
        protected_addresses=CLUSTER_ADDRESSES,
    )
