from dataclasses import replace

import pytest

from sshorch.proxy import Endpoint, JumpRule, cluster_chains, jump_rules, render_restore
from sshorch.proxy.testing.walk import Landing, Packet, walk_packet
from sshorch.proxy.testing.match import parse_rule
from tests.unit.proxy.samples import CLUSTER, CONTROLLER, DB, LOCAL_POD, NODE, OTHER_NODE, SERVICES, node_rules

RULES = render_restore(node_rules(*SERVICES))
JUMPS = jump_rules(CLUSTER)
CLIENT = "198.18.0.9"  # a machine that is not a cluster node
OUTSIDER = "203.0.113.9"


def walk(text: str, packet: Packet, jumps: list[JumpRule] = JUMPS) -> tuple[Landing, ...]:
    return walk_packet(text, packet, jumps)


def arriving(dst: str, dport: int, src: str = CLIENT, proto: str = "tcp", local: bool = False) -> Packet:
    return Packet(src=src, dst=dst, proto=proto, dport=dport, dst_is_local=local, hook="PREROUTING")  # type: ignore[arg-type]


def shares(landings: tuple[Landing, ...]) -> dict[str, float]:
    return {landing.target: landing.probability for landing in landings}


def test_vip_spreads_evenly_over_endpoints_all_masqueraded() -> None:
    landings = walk(RULES, arriving("198.19.0.10", 80))
    assert sum(landing.probability for landing in landings) == pytest.approx(1, abs=1e-12)
    assert shares(landings) == pytest.approx(
        {f"{LOCAL_POD}:8080": 1 / 3, "198.18.0.3:20001": 1 / 3, "198.18.0.4:20001": 1 / 3}, abs=1e-9
    )
    assert all(landing.kind == "DNAT" for landing in landings)
    assert {landing.target: landing.masquerade for landing in landings} == {
        f"{LOCAL_POD}:8080": True,
        "198.18.0.3:20001": True,
        "198.18.0.4:20001": True,
    }


@pytest.mark.parametrize("count", range(1, 9))
def test_each_of_n_endpoints_gets_one_nth(count: int) -> None:
    port = replace(DB, endpoints=tuple(Endpoint(f"198.18.1.{i}", 20000 + i, local=False) for i in range(count)))
    landings = walk(render_restore(node_rules(port)), arriving(port.cluster_ip, port.port))
    assert len(landings) == count
    assert sum(landing.probability for landing in landings) == pytest.approx(1, abs=1e-12)
    for landing in landings:
        assert landing.probability == pytest.approx(1 / count, abs=1e-9)


DIRECT = render_restore(node_rules(*SERVICES), endpoint_chains_up_to=0)


@pytest.mark.parametrize("packet", [
    arriving("198.19.0.10", 80), arriving("198.19.0.10", 80, src=LOCAL_POD), arriving(NODE, 30080, src=OUTSIDER, local=True),
    *(arriving(port.cluster_ip, port.port, proto=port.protocol) for port in SERVICES),
], ids=repr)
def test_direct_dnat_lands_where_endpoint_chains_do(packet: Packet) -> None:
    sep = f"{cluster_chains(CLUSTER).prefix}SEP-"
    assert sep not in DIRECT and sep in RULES
    assert walk(DIRECT, packet) == walk(RULES, packet)


def test_pod_reaching_itself_through_the_service_is_masqueraded() -> None:
    landings = walk(RULES, arriving("198.19.0.10", 80, src=LOCAL_POD))
    assert next(landing for landing in landings if landing.target == f"{LOCAL_POD}:8080").masquerade


def test_node_port_reaches_the_same_endpoints() -> None:
    by_vip = walk(RULES, arriving("198.19.0.10", 80, src=OUTSIDER))
    by_node_port = walk(RULES, arriving(NODE, 30080, src=OUTSIDER, local=True))
    assert shares(by_node_port) == shares(by_vip)
    # A node port is only a node port on the node's own addresses.
    assert walk(RULES, arriving("198.18.0.77", 30080, src=OUTSIDER)) == (
        Landing("ACCEPT", "198.18.0.77:30080", 1.0, False),
    )


@pytest.mark.parametrize(
    "packet",
    [
        arriving("198.19.0.20", 8080),  # VIP, forwarded from a pod or a routed client
        arriving(NODE, 30081, src=OUTSIDER, local=True),  # node port
        Packet(NODE, "198.19.0.20", "tcp", 8080, dst_is_local=False, hook="OUTPUT"),  # from the node itself
    ],
)
def test_service_without_endpoints_is_refused(packet: Packet) -> None:
    landings = walk(RULES, packet)
    assert [(landing.kind, landing.probability) for landing in landings] == [("REJECT", 1.0)]


def test_udp_service() -> None:
    assert walk(RULES, arriving("198.19.0.53", 53, proto="udp")) == (
        Landing("DNAT", "198.18.0.3:20053", 1.0, True),
    )
    # Right VIP and port, wrong protocol: not ours.
    assert walk(RULES, arriving("198.19.0.53", 53, proto="tcp"))[0].kind == "ACCEPT"


def test_traffic_that_is_not_for_a_service_passes_untouched() -> None:
    assert walk(RULES, arriving("198.19.0.10", 443)) == (Landing("ACCEPT", "198.19.0.10:443", 1.0, False),)
    assert walk(RULES, arriving(NODE, 22, local=True)) == (Landing("ACCEPT", f"{NODE}:22", 1.0, False),)


def host_port_packet(src: str) -> Packet:
    # netavark already DNATed NODE:20005 to the pod before our filter rules see it.
    return Packet(src, LOCAL_POD, "tcp", 8080, dst_is_local=False, hook="PREROUTING", orig_dst=NODE, orig_dport=20005)


def test_pod_host_ports_are_refused_to_machines_outside_the_cluster() -> None:
    assert [landing.kind for landing in walk(RULES, host_port_packet(OUTSIDER))] == ["REJECT"]
    for allowed in (CONTROLLER, OTHER_NODE):
        assert walk(RULES, host_port_packet(allowed)) == (Landing("DNAT", f"{LOCAL_POD}:8080", 1.0, False),)


def test_pod_replies_through_a_host_port_are_not_refused() -> None:
    reply = Packet(LOCAL_POD, CONTROLLER, "tcp", 41000, dst_is_local=False, hook="PREROUTING",
                   ctstate=frozenset({"ESTABLISHED"}), reply=True, orig_dst=NODE, orig_dport=20005)
    assert [landing.kind for landing in walk(RULES, reply)] == ["ACCEPT"]
    # Even when the jump's NEW guard is bypassed, --ctdir ORIGINAL lets replies through.
    unguarded = [("filter", "FORWARD", ("-j", cluster_chains(CLUSTER).hostports))]
    assert [landing.kind for landing in walk(RULES, replace(reply, ctstate=frozenset({"NEW"})), unguarded)] == [
        "ACCEPT"
    ]


def test_established_connections_skip_nat() -> None:
    packet = replace(arriving("198.19.0.10", 80), ctstate=frozenset({"ESTABLISHED"}))
    assert walk(RULES, packet) == (Landing("ACCEPT", "198.19.0.10:80", 1.0, False),)


def test_without_jumps_nothing_of_ours_runs() -> None:
    assert walk(RULES, arriving("198.19.0.10", 80), jumps=[]) == (
        Landing("ACCEPT", "198.19.0.10:80", 1.0, False),
    )


def test_walker_refuses_what_it_does_not_model() -> None:
    with pytest.raises(ValueError, match="option -o is not supported"):
        parse_rule(("-o", "eth0", "-j", "ACCEPT"))
    with pytest.raises(ValueError, match="match module recent is not supported"):
        parse_rule(("-m", "recent", "-j", "ACCEPT"))
    with pytest.raises(ValueError, match="'!' is only supported before --mark"):
        parse_rule(("!", "-s", "10.0.0.1", "-j", "ACCEPT"))
    with pytest.raises(ValueError, match="no -j target"):
        parse_rule(("-p", "tcp"))
    services = cluster_chains(CLUSTER).services
    looping = f"*nat\n:{services} - [0:0]\n-A {services} -j {services}\nCOMMIT\n"
    with pytest.raises(ValueError, match="is there a loop"):
        walk(looping, arriving("198.19.0.10", 80))



# --- host ports outside the range, and what pods may reach ------------------------------------------


def test_a_host_port_outside_the_range_is_guarded_like_the_range() -> None:
    # A pod's manifest hostPort 8443 (samples.PUBLISHED), outside 20000-29999.
    explicit = replace(host_port_packet(OUTSIDER), orig_dport=8443)
    assert [landing.kind for landing in walk(RULES, explicit)] == ["REJECT"]
    for allowed in (CONTROLLER, OTHER_NODE):
        assert walk(RULES, replace(explicit, src=allowed)) == (Landing("DNAT", f"{LOCAL_POD}:8080", 1.0, False),)
    # A port no pod publishes on this node is not ours to guard.
    unpublished = replace(explicit, orig_dport=8444)
    assert walk(RULES, unpublished) == (Landing("DNAT", f"{LOCAL_POD}:8080", 1.0, False),)


BRIDGES = ("podman0", "podman3", "cni-podman0", "docker0")
POD = "10.88.0.7"  # a pod on NODE, arriving from its bridge


def from_pod(dst: str, dport: int, bridge: str = "podman0", local: bool = False, proto: str = "tcp") -> Packet:
    return Packet(POD, dst, proto, dport, dst_is_local=local, hook="PREROUTING", in_interface=bridge)  # type: ignore[arg-type]


@pytest.mark.parametrize("bridge", BRIDGES)
@pytest.mark.parametrize(
    ("dst", "dport", "local"),
    [
        (NODE, 22, True),  # this node's sshd
        ("10.88.0.1", 53, True),  # anything on this node, the bridge's own address included
        (OTHER_NODE, 22, False),  # another node of the cluster
        (CONTROLLER, 22, False),  # the controller
        (OTHER_NODE, 20001, False),  # another node's pod host port, not through a Service
    ],
)
def test_pods_cannot_open_connections_to_nodes_or_the_controller(bridge: str, dst: str, dport: int, local: bool) -> None:
    assert [(landing.kind, landing.target) for landing in walk(RULES, from_pod(dst, dport, bridge, local))] == [
        ("REJECT", f"{dst}:{dport}")
    ]


@pytest.mark.parametrize("bridge", BRIDGES)
def test_pods_still_reach_services_node_ports_and_the_world(bridge: str) -> None:
    # The VIP and this node's node port: DNATed by our rules.
    by_vip = walk(RULES, from_pod("198.19.0.10", 80, bridge))
    assert {landing.kind for landing in by_vip} == {"DNAT"} and len(by_vip) == 3
    assert shares(walk(RULES, from_pod(NODE, 30080, bridge, local=True))) == shares(by_vip)
    assert walk(RULES, from_pod("198.19.0.53", 53, bridge, proto="udp")) == (Landing("DNAT", "198.18.0.3:20053", 1.0, True),)
    # Another node's node port: that node DNATs it (or refuses it, having no endpoints).
    for port in (30080, 30081):
        assert walk(RULES, from_pod(OTHER_NODE, port, bridge)) == (Landing("ACCEPT", f"{OTHER_NODE}:{port}", 1.0, False),)
    # A Service without endpoints still refuses at once; the rest of the world is not ours to guard.
    assert [landing.kind for landing in walk(RULES, from_pod("198.19.0.20", 8080, bridge))] == ["REJECT"]
    assert walk(RULES, from_pod("93.184.216.34", 443, bridge)) == (Landing("ACCEPT", "93.184.216.34:443", 1.0, False),)


def test_the_runtimes_dnat_passes_the_node_access_rules() -> None:
    # A pod reaching a host port: the runtime DNATed NODE:20005 to a pod; ctstate DNAT exempts it
    # (walked through the node-access jumps alone: whether the host port admits the source is HOSTPORTS' say).
    node_access = cluster_chains(CLUSTER).node_access
    jumps = [jump for jump in JUMPS if jump[2][-1] == node_access]
    assert [chain for _, chain, _ in jumps] == ["INPUT", "FORWARD"]
    packet = replace(from_pod(LOCAL_POD, 8080), orig_dst=NODE, orig_dport=20005)
    assert walk(RULES, packet, jumps) == (Landing("DNAT", f"{LOCAL_POD}:8080", 1.0, False),)
    assert [landing.kind for landing in walk(RULES, replace(packet, orig_dst=None, orig_dport=None), jumps)] == ["ACCEPT"]
    assert [landing.kind for landing in walk(RULES, from_pod(NODE, 22, local=True), jumps)] == ["REJECT"]


def test_the_node_and_the_network_still_reach_node_addresses() -> None:
    for packet in (
        replace(arriving(NODE, 22, src=CONTROLLER, local=True), in_interface="eth0"),
        replace(arriving(OTHER_NODE, 22, src=CLIENT), in_interface="eth0"),
        Packet(NODE, OTHER_NODE, "tcp", 22, dst_is_local=False, hook="OUTPUT"),
        replace(arriving(NODE, 22, src=POD, local=True), in_interface="vethabc"),  # not a pod bridge
    ):
        assert [landing.kind for landing in walk(RULES, packet)] == ["ACCEPT"], packet
