"""LoadBalancer Services in a node's rules: the service port on the node's load balancer
addresses, externalTrafficPolicy Local and loadBalancerSourceRanges, checked where
packets land (sshorch.proxy.testing) and in the rendered lines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sshorch.proxy import Endpoint, ServicePort, cluster_chains, jump_rules, render_restore
from sshorch.proxy.testing.walk import Landing, Packet, walk_packet
from tests.unit.proxy.samples import CART, CLUSTER, LOCAL_POD, NODE, OTHER_NODE, THIRD_NODE, WEB, node_rules

CLIENT = "203.0.113.9"  # outside the cluster
OFFICE = "192.0.2.0/24"
REMOTE = {f"{THIRD_NODE}:20001", f"{OTHER_NODE}:20001"}
EVERY = {f"{LOCAL_POD}:8080", *REMOTE}
LB = replace(WEB, load_balancer_addresses=(NODE,))
LOCAL = replace(LB, external_policy="Local")
NO_LOCAL = replace(LOCAL, endpoints=tuple(e for e in WEB.endpoints if not e.local))
FENCED = replace(LB, source_ranges=(OFFICE,))


def walk(port: ServicePort, dst: str, dport: int, src: str = CLIENT, interface: str = "eth0") -> tuple[Landing, ...]:
    text = render_restore(node_rules(port))
    packet = Packet(src=src, dst=dst, proto="tcp", dport=dport, dst_is_local=dst == NODE, hook="PREROUTING",
                    in_interface=interface)  # fmt: skip
    landings = walk_packet(text, packet, jump_rules(CLUSTER))
    assert sum(landing.probability for landing in landings) == pytest.approx(1, abs=1e-12)
    return landings


def outcome(landings: tuple[Landing, ...]) -> set[tuple[str, str, bool]]:
    return {(landing.kind, landing.target, landing.masquerade) for landing in landings}


def test_the_port_on_the_load_balancer_address_lands_on_every_endpoint_as_the_vip_does() -> None:
    landings = walk(LB, NODE, 80)
    assert {landing.target: landing.probability for landing in landings} == pytest.approx({t: 1 / 3 for t in EVERY})
    assert {(landing.kind, landing.masquerade) for landing in landings} == {("DNAT", True)}
    assert outcome(walk(LB, NODE, 30080)) == {("DNAT", target, True) for target in EVERY}  # the node port too


def test_only_the_load_balancer_addresses_answer_on_the_port() -> None:
    # A Service that is not a LoadBalancer (or another address) leaves port 80 alone.
    assert outcome(walk(WEB, NODE, 80)) == {("ACCEPT", f"{NODE}:80", False)}
    assert outcome(walk(LB, OTHER_NODE, 80)) == {("ACCEPT", f"{OTHER_NODE}:80", False)}


@pytest.mark.parametrize("dport", [80, 30080])
def test_local_policy_keeps_outside_traffic_on_local_endpoints_with_the_client_address(dport: int) -> None:
    assert outcome(walk(LOCAL, NODE, dport)) == {("DNAT", f"{LOCAL_POD}:8080", False)}


def test_local_policy_sends_pods_to_every_endpoint_masqueraded() -> None:
    landings = walk(LOCAL, NODE, 80, src="10.88.0.9", interface="podman0")
    assert outcome(landings) == {("DNAT", target, True) for target in EVERY}


@pytest.mark.parametrize("dport", [80, 30080])
def test_local_policy_on_a_node_without_a_local_endpoint_drops_outside_traffic(dport: int) -> None:
    assert outcome(walk(NO_LOCAL, NODE, dport)) == {("DROP", f"{NODE}:{dport}", False)}


def test_local_policy_leaves_the_cluster_ip_to_every_endpoint() -> None:
    assert outcome(walk(NO_LOCAL, WEB.cluster_ip, 80)) == {("DNAT", target, True) for target in REMOTE}


def test_source_ranges_let_their_sources_in_and_drop_the_others() -> None:
    assert outcome(walk(FENCED, NODE, 80, src="192.0.2.7")) == {("DNAT", target, True) for target in EVERY}
    assert outcome(walk(FENCED, NODE, 80)) == {("DROP", f"{NODE}:80", False)}
    # As in kube-proxy, the ranges guard the load balancer addresses; the node port and VIP are not fenced.
    assert outcome(walk(FENCED, NODE, 30080)) == {("DNAT", target, True) for target in EVERY}


def test_source_ranges_with_local_policy() -> None:
    fenced_local = replace(LOCAL, source_ranges=(OFFICE,))
    assert outcome(walk(fenced_local, NODE, 80, src="192.0.2.7")) == {("DNAT", f"{LOCAL_POD}:8080", False)}
    assert outcome(walk(fenced_local, NODE, 80)) == {("DROP", f"{NODE}:80", False)}


def test_a_load_balancer_without_endpoints_refuses_on_its_addresses() -> None:
    empty = replace(CART, load_balancer_addresses=(NODE,))
    assert outcome(walk(empty, NODE, 8080)) == {("REJECT", f"{NODE}:8080", False)}
    assert outcome(walk(empty, NODE, 30081)) == {("REJECT", f"{NODE}:30081", False)}


def test_rendered_lines() -> None:
    chains = cluster_chains(CLUSTER)
    svc, xlb, fw = chains.service(LB), chains.local_service(LB), chains.firewall(LB)
    comment = '-m comment --comment "shop/web:http'
    lines = render_restore(node_rules(replace(LOCAL, source_ranges=(OFFICE,)))).splitlines()
    expected = [
        f"-A {chains.services} -d {NODE}/32 -p tcp {comment} load balancer\" -m tcp --dport 80 -j {fw}",
        f"-A {fw} -s {OFFICE} -j {xlb}",
        f"-A {xlb} -i podman+ -j {svc}",
        f"-A {xlb} -j {chains.endpoint(LB, Endpoint(LOCAL_POD, 8080, True))}",
        f"-A {chains.nodeports} -p tcp {comment} node port\" -m tcp --dport 30080 -j {xlb}",
        f"-A {chains.services} -d {NODE}/32 -p tcp {comment} load balancer, source not allowed\" -m tcp --dport 80 -j DROP",
        f"-A {chains.forward} -p tcp {comment} client address kept\" -m conntrack --ctstate DNAT --ctorigdst {NODE}"
        " --ctorigdstport 80 --ctdir ORIGINAL -j ACCEPT",
        f"-A {chains.forward} -p tcp {comment} client address kept\" -m conntrack --ctstate DNAT"
        " --ctorigdstport 30080 --ctdir ORIGINAL -j ACCEPT",
    ]
    assert [line for line in expected if line not in lines] == []
    assert not any(line.startswith(f"-A {xlb}") and "MARK" in line for line in lines)


def test_a_cluster_ip_service_renders_as_before() -> None:
    # No load balancer chains or lines appear for the other types.
    text = render_restore(node_rules(WEB))
    assert "XLB-" not in text and "FW-" not in text and "load balancer" not in text


@pytest.mark.parametrize(("change", "message"), [
    ({"load_balancer_addresses": ("node-a",)}, "shop/web:http: load balancer address: 'node-a' is not an IPv4 address"),
    ({"source_ranges": ("192.0.2.1/24",)}, "shop/web:http: source range '192.0.2.1/24' is not an IPv4 network"),
    ({"external_policy": "Nearest"}, "shop/web:http: external policy 'Nearest' must be Cluster or Local"),
])
def test_model_refuses_bad_load_balancer_values(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        replace(WEB, **change)  # type: ignore[arg-type]
    assert str(raised.value) == message
