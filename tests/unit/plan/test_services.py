"""Services: VIP and node-port allocation, endpoints, discovery, per-node rules and the sync-rules action."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.observe.rules import RulesState
from sshorch.plan.model import Action, Plan, Step
from sshorch.plan.reconcile import ClusterNode
from sshorch.plan.services import (
    all_endpoints,
    DEFAULT_HOST_PORTS,
    DEFAULT_NODE_PORTS,
    AllocationError,
    Allocations,
    ServiceConfig,
    allocate,
    build_node_rules,
    discovery,
    endpoints,
    parse_range,
)
from sshorch.forwarding import turn_on_command
from sshorch.ipfamily import IPV4
from sshorch.proxy.sync import _forget_gone, _save_targets
from sshorch.proxy.hairpin import hairpin_argv
from sshorch.proxy.jumps import jump_step_argv
from sshorch.proxy.model import Endpoint, NodeRules, ServicePort
from sshorch.proxy.chains import cluster_chains
from sshorch.proxy.render import render_restore
from sshorch.proxy.state import fingerprint_command, state_files
from sshorch.runtime import PortBinding
from sshorch.spec.problems import ManifestError
from sshorch.spec.model import Desired

from .helpers import (
    CLUSTER,
    Doc,
    address_of,
    cluster_nodes,
    container,
    deployment,
    desired,
    moves,
    observe,
    observed_pod,
    run,
)

NONE = Allocations({}, {})
Proto = Literal["tcp", "udp"]
CONTROLLER = "10.0.0.250"
ADDRESSES = {"n1": "10.0.0.1", "n2": "10.0.0.2", "n3": "10.0.0.3"}


# --- builders -----------------------------------------------------------------


def service(
    name: str = "web",
    ports: Sequence[Doc] = ({"port": 80, "targetPort": 8080},),
    *,
    type: str = "ClusterIP",
    cluster_ip: str | None = None,
    selector: Mapping[str, str] | None = None,
    namespace: str | None = None,
) -> Doc:
    metadata: Doc = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    spec: Doc = {"selector": dict(selector or {"app": name}), "ports": [dict(p) for p in ports], "type": type}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def node_port_service(name: str = "web", node_port: int | None = None, port: int = 80, **fields: Any) -> Doc:
    entry: Doc = {"port": port, "targetPort": 8080}
    if node_port is not None:
        entry["nodePort"] = node_port
    return service(name, [entry], type="NodePort", **fields)


def services(*docs: Doc) -> Desired:
    return desired(*docs)


def pod(
    d: Desired,
    name: str,
    slot: int | str,
    node: str,
    *,
    bindings: Sequence[tuple[int, int] | tuple[int, int, Proto]] = ((20000, 8080),),
    ip: str = "",
    labels: Mapping[str, str] | None = None,
    **fields: Any,
) -> ObservedPod:
    """An observed pod of workload `name` carrying its template's labels (app=name, as real pods do),
    with (host port, container port[, protocol]) bindings on its node's address."""
    observed = observed_pod(
        d, name, slot, node,
        ports=[PortBinding(address_of(node), b[0], b[1], b[2] if len(b) == 3 else "tcp") for b in bindings],
        **fields,
    )
    return replace(observed, labels={**observed.labels, **(labels if labels is not None else {"app": name})}, ip=ip)


# --- allocate(): VIPs ---------------------------------------------------------


def test_a_new_service_gets_a_host_address_of_the_cidr() -> None:
    config = ServiceConfig(cidr="10.96.0.0/29")
    network = ipaddress.IPv4Network(config.cidr)
    for i in range(200):
        vip = ipaddress.IPv4Address(allocate(services(service(f"s{i}")), NONE, config).vips[f"default/s{i}"])
        assert vip in network
        assert vip not in (network.network_address, network.broadcast_address)


def test_the_default_cidr_is_10_96_0_0_16() -> None:
    vip = allocate(services(service()), NONE, ServiceConfig()).vips["default/web"]
    assert ipaddress.IPv4Address(vip) in ipaddress.IPv4Network("10.96.0.0/16")


def test_the_same_name_gets_the_same_vip_from_an_empty_state() -> None:
    # It starts at a hash of the name: a lost state file hands out the same address again.
    alone = allocate(services(service("web")), NONE, ServiceConfig()).vips["default/web"]
    with_others = allocate(services(service("api"), service("web"), service("zz")), NONE, ServiceConfig())
    assert with_others.vips["default/web"] == alone
    assert allocate(services(service("web", namespace="prod")), NONE, ServiceConfig()).vips["prod/web"] != alone


def test_a_vip_already_held_is_kept() -> None:
    current = Allocations({"default/web": "10.96.7.7"}, {})
    assert allocate(services(service("web")), current, ServiceConfig()).vips == {"default/web": "10.96.7.7"}


def test_a_taken_hash_start_moves_on_to_the_next_free_address() -> None:
    config = ServiceConfig(cidr="10.96.0.0/29")
    first = allocate(services(service("web")), NONE, config).vips["default/web"]
    got = allocate(services(service("other"), service("web")), Allocations({"default/other": first}, {}), config)
    assert got.vips["default/other"] == first
    assert got.vips["default/web"] == str(ipaddress.IPv4Address(first) + 1)  # the next address (no wrap from .3)


def test_the_manifest_cluster_ip_is_used() -> None:
    got = allocate(services(service("web", cluster_ip="10.96.1.2")), NONE, ServiceConfig())
    assert got.vips == {"default/web": "10.96.1.2"}


def test_the_manifest_cluster_ip_replaces_a_held_one() -> None:
    current = Allocations({"default/web": "10.96.7.7"}, {})
    got = allocate(services(service("web", cluster_ip="10.96.1.2")), current, ServiceConfig())
    assert got.vips == {"default/web": "10.96.1.2"}


def test_a_cluster_ip_held_by_another_service_is_an_error_naming_both() -> None:
    current = Allocations({"default/api": "10.96.1.2"}, {})
    with pytest.raises(AllocationError) as raised:
        allocate(services(service("api"), service("web", cluster_ip="10.96.1.2")), current, ServiceConfig())
    assert "default/web" in str(raised.value) and "default/api" in str(raised.value)
    assert "10.96.1.2" in str(raised.value)


def test_two_manifests_with_one_cluster_ip_are_refused_before_allocation() -> None:
    with pytest.raises(ManifestError, match=r"Service/web: spec.clusterIP: must be unique.*default/api"):
        services(service("api", cluster_ip="10.96.1.2"), service("web", cluster_ip="10.96.1.2"))


def test_a_cluster_ip_outside_the_cidr_is_an_error() -> None:
    with pytest.raises(AllocationError, match=r"default/web.*10\.97\.0\.1.*outside.*10\.96\.0\.0/16"):
        allocate(services(service("web", cluster_ip="10.97.0.1")), NONE, ServiceConfig())


def test_a_full_cidr_is_an_error() -> None:
    config = ServiceConfig(cidr="10.96.0.0/30")  # two host addresses
    with pytest.raises(AllocationError, match="no free address left in 10.96.0.0/30"):
        allocate(services(service("a"), service("b"), service("c")), NONE, config)


def test_a_manifest_cluster_ip_is_reserved_before_automatic_ones() -> None:
    config = ServiceConfig(cidr="10.96.0.0/29")
    taken_by_a = allocate(services(service("a")), NONE, config).vips["default/a"]
    got = allocate(services(service("a"), service("b", cluster_ip=taken_by_a)), NONE, config)
    assert got.vips["default/b"] == taken_by_a
    assert got.vips["default/a"] != taken_by_a


def test_a_cidr_with_no_host_addresses_is_an_allocation_error() -> None:
    with pytest.raises(AllocationError):
        allocate(services(service("web")), NONE, ServiceConfig(cidr="10.96.0.0/31"))


def test_a_removed_service_releases_its_vip_and_node_ports() -> None:
    current = Allocations(
        {"default/web": "10.96.0.5", "default/gone": "10.96.0.6"},
        {"default/web:80": 30080, "default/gone:80": 30081, "default/gone:443": 30082},
    )
    got = allocate(services(node_port_service("web")), current, ServiceConfig())
    assert got.vips == {"default/web": "10.96.0.5"}
    assert got.node_ports == {"default/web:80": 30080}


def test_a_released_vip_can_be_taken_by_a_new_service() -> None:
    config = ServiceConfig(cidr="10.96.0.0/30")  # .1 and .2
    current = Allocations({"default/gone": "10.96.0.1", "default/kept": "10.96.0.2"}, {})
    got = allocate(services(service("kept"), service("new")), current, config)
    assert got.vips == {"default/kept": "10.96.0.2", "default/new": "10.96.0.1"}


def test_many_services_never_share_a_vip() -> None:
    config = ServiceConfig(cidr="10.96.0.0/23")  # 510 host addresses, 500 services: many hash starts collide
    d = services(*(service(f"svc-{i}") for i in range(500)))
    vips = allocate(d, NONE, config).vips
    assert len(vips) == 500 and len(set(vips.values())) == 500
    network = ipaddress.IPv4Network(config.cidr)
    assert all(ipaddress.IPv4Address(v) in network for v in vips.values())


def test_services_added_one_run_at_a_time_never_share_a_vip() -> None:
    config = ServiceConfig(cidr="10.96.0.0/24")
    current = NONE
    docs: list[Doc] = []
    for i in range(250):
        docs.append(service(f"svc-{i}", namespace=f"ns{i % 3}"))
        before = dict(current.vips)
        current = allocate(services(*docs), current, config)
        assert all(current.vips[k] == v for k, v in before.items()), "a held VIP moved"
    assert len(set(current.vips.values())) == 250


_names = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_names, _names), min_size=1, max_size=40, unique=True))
def test_any_set_of_services_gets_distinct_vips_inside_the_cidr(keys: list[tuple[str, str]]) -> None:
    config = ServiceConfig(cidr="10.96.0.0/26")
    d = services(*(service(name, namespace=ns) for ns, name in keys))
    vips = allocate(d, NONE, config).vips
    assert set(vips) == {f"{ns}/{name}" for ns, name in keys}
    assert len(set(vips.values())) == len(keys)
    network = ipaddress.IPv4Network(config.cidr)
    for vip in map(ipaddress.IPv4Address, vips.values()):
        assert vip in network and vip not in (network.network_address, network.broadcast_address)


# --- allocate(): node ports -----------------------------------------------------


def test_a_cluster_ip_service_gets_no_node_port() -> None:
    assert allocate(services(service("web")), NONE, ServiceConfig()).node_ports == {}


def test_the_manifest_node_port_is_used() -> None:
    got = allocate(services(node_port_service("web", 30080)), NONE, ServiceConfig())
    assert got.node_ports == {"default/web:80": 30080}


def test_the_manifest_node_port_replaces_a_held_one() -> None:
    current = Allocations({}, {"default/web:80": 31000})
    got = allocate(services(node_port_service("web", 30080)), current, ServiceConfig())
    assert got.node_ports == {"default/web:80": 30080}


@pytest.mark.parametrize(
    ("node_port", "node_ports"),
    [(29999, DEFAULT_NODE_PORTS), (32768, DEFAULT_NODE_PORTS), (30000, (31000, 31999)), (80, DEFAULT_NODE_PORTS)],
)
def test_a_node_port_outside_the_range_is_an_error(node_port: int, node_ports: tuple[int, int]) -> None:
    config = ServiceConfig(node_ports=node_ports)
    with pytest.raises(AllocationError, match=rf"default/web: nodePort {node_port} is outside {node_ports[0]}-{node_ports[1]}"):
        allocate(services(node_port_service("web", node_port)), NONE, config)


def test_the_ends_of_the_range_are_inside_it() -> None:
    d = services(node_port_service("low", 30000), node_port_service("high", 32767))
    assert allocate(d, NONE, ServiceConfig()).node_ports == {"default/low:80": 30000, "default/high:80": 32767}


def test_a_node_port_held_by_another_service_is_an_error_naming_both() -> None:
    current = Allocations({}, {"default/api:80": 30080})
    d = services(node_port_service("api"), node_port_service("web", 30080))
    with pytest.raises(AllocationError) as raised:
        allocate(d, current, ServiceConfig())
    assert "default/web" in str(raised.value) and "default/api" in str(raised.value) and "30080" in str(raised.value)


def test_two_manifests_with_one_node_port_are_refused_before_allocation() -> None:
    with pytest.raises(ManifestError, match=r"Service/web: spec.ports\[0\].nodePort: must be unique.*default/api"):
        services(node_port_service("api", 30080), node_port_service("web", 30080))


def test_an_automatic_node_port_is_inside_the_range_and_stable() -> None:
    for low, high in (DEFAULT_NODE_PORTS, (31000, 31009)):
        config = ServiceConfig(node_ports=(low, high))
        first = allocate(services(node_port_service("web")), NONE, config).node_ports["default/web:80"]
        assert low <= first <= high
        assert allocate(services(node_port_service("web")), NONE, config).node_ports["default/web:80"] == first
        held = allocate(services(node_port_service("web")), Allocations({}, {"default/web:80": low}), config)
        assert held.node_ports["default/web:80"] == low


def test_automatic_node_ports_of_many_services_are_distinct() -> None:
    config = ServiceConfig(node_ports=(31000, 31099))
    d = services(*(node_port_service(f"svc-{i}") for i in range(100)))
    ports = allocate(d, NONE, config).node_ports
    assert len(ports) == 100 and sorted(ports.values()) == list(range(31000, 31100))
    with pytest.raises(AllocationError, match="no free node port left in 31000-31099"):
        allocate(services(*(node_port_service(f"svc-{i}") for i in range(101))), NONE, config)


def test_every_port_of_a_node_port_service_gets_one() -> None:
    d = services(service("web", [{"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443}], type="NodePort"))
    ports = allocate(d, NONE, ServiceConfig()).node_ports
    assert ports["default/web:80"] == 30080
    assert 30000 <= ports["default/web:443"] <= 32767 and ports["default/web:443"] != 30080


def test_a_type_change_to_cluster_ip_drops_the_node_ports() -> None:
    current = allocate(services(node_port_service("web", 30080)), NONE, ServiceConfig())
    got = allocate(services(service("web")), current, ServiceConfig())
    assert got.node_ports == {} and got.vips == current.vips
    # ... and the port is free for a service named after it in the same apply.
    assert allocate(services(service("web"), node_port_service("zed", 30080)), current, ServiceConfig()).node_ports == {
        "default/zed:80": 30080
    }


def test_a_node_port_freed_by_a_type_change_can_go_to_any_service_in_the_same_apply() -> None:
    current = allocate(services(node_port_service("web", 30080)), NONE, ServiceConfig())
    got = allocate(services(service("web"), node_port_service("api", 30080)), current, ServiceConfig())
    assert got.node_ports == {"default/api:80": 30080}


def test_changing_the_port_number_keeps_the_same_node_port_usable() -> None:
    current = allocate(services(node_port_service("web", 30080, port=80)), NONE, ServiceConfig())
    got = allocate(services(node_port_service("web", 30080, port=8080)), current, ServiceConfig())
    assert got.node_ports == {"default/web:8080": 30080}


def test_changing_the_port_number_releases_the_old_node_port() -> None:
    current = allocate(services(node_port_service("web", port=80)), NONE, ServiceConfig())
    got = allocate(services(node_port_service("web", port=8080)), current, ServiceConfig())
    assert list(got.node_ports) == ["default/web:8080"]


def test_tcp_and_udp_ports_with_one_number_keep_their_own_node_ports() -> None:
    d = services(service("dns", [
        {"name": "dns-tcp", "port": 53, "nodePort": 30053},
        {"name": "dns-udp", "port": 53, "protocol": "UDP", "nodePort": 30054},
    ], type="NodePort", selector={"app": "dns"}))
    allocations = allocate(d, NONE, ServiceConfig())
    rules = build_node_rules(CLUSTER, "n1", d, allocations, all_endpoints(d, [], ADDRESSES), ADDRESSES, (), ServiceConfig())
    assert {(p.protocol, p.node_port) for p in rules.services} == {("tcp", 30053), ("udp", 30054)}


def test_a_manifest_node_port_is_reserved_before_automatic_ones() -> None:
    config = ServiceConfig(node_ports=(31000, 31009))
    taken_by_a = allocate(services(node_port_service("a")), NONE, config).node_ports["default/a:80"]
    got = allocate(services(node_port_service("a"), node_port_service("b", taken_by_a)), NONE, config)
    assert got.node_ports["default/b:80"] == taken_by_a
    assert got.node_ports["default/a:80"] != taken_by_a


# --- endpoints() --------------------------------------------------------------


def web_and_service(*extra: Doc, target: int | str = 8080, ports: Sequence[int | Doc] = (8080,)) -> Desired:
    return desired(
        deployment("web", replicas=3, ports=ports),
        service("web", [{"port": 80, "targetPort": target}]),
        *extra,
    )


def hosts_of(found: Mapping[tuple[int, str], Sequence[Any]]) -> dict[Any, list[tuple[str, str, int, int]]]:
    """Keyed by port number for TCP ports, by (number, protocol) otherwise."""
    return {
        key[0] if key[1] == "TCP" else key: [(e.pod.name, e.node_address, e.host_port, e.container_port) for e in eps]
        for key, eps in found.items()
    }


def the_service(d: Desired, name: str = "web", namespace: str = "default") -> Any:
    found = d.get("Service", name, namespace)
    assert found is not None
    return found


def test_endpoints_are_the_running_pods_of_the_namespace_that_the_selector_matches() -> None:
    d = web_and_service(deployment("web", namespace="prod", ports=[8080]), deployment("api", ports=[8080]))
    running = pod(d, "web", 0, "n1")
    pods = [
        running,
        pod(d, "web", 1, "n2", status="Exited"),
        pod(d, "web", 2, "n3", status="Running", states=["running", "exited"], containers=("main", "side")),
        pod(d, "web", 0, "n2", namespace="prod"),
        pod(d, "api", 0, "n3"),
        pod(d, "web", 1, "n3", labels={"app": "other"}),
    ]
    found = endpoints(the_service(d), pods, d, ADDRESSES)
    assert hosts_of(found) == {80: [(running.name, "10.0.0.1", 20000, 8080)]}


def test_a_service_without_any_pod_has_an_empty_list_per_port() -> None:
    d = desired(service("web", [{"name": "a", "port": 80}, {"name": "b", "port": 81}]))
    assert endpoints(the_service(d), [], d, ADDRESSES) == {(80, "TCP"): [], (81, "TCP"): []}


def test_every_matching_running_pod_is_an_endpoint() -> None:
    d = web_and_service()
    pods = [pod(d, "web", i, f"n{i + 1}", bindings=[(20000 + i, 8080)]) for i in range(3)]
    assert hosts_of(endpoints(the_service(d), pods, d, ADDRESSES)) == {
        80: [(p.name, address_of(p.node), 20000 + i, 8080) for i, p in enumerate(pods)]
    }


def test_a_numeric_target_port_picks_the_binding_of_that_container_port() -> None:
    d = web_and_service(target=9090, ports=[8080, 9090])
    p = pod(d, "web", 0, "n1", bindings=[(20000, 8080), (20001, 9090)])
    assert hosts_of(endpoints(the_service(d), [p], d, ADDRESSES)) == {80: [(p.name, "10.0.0.1", 20001, 9090)]}


def test_a_target_port_defaults_to_the_port() -> None:
    d = desired(deployment("web", ports=[80]), service("web", [{"port": 80}]))
    p = pod(d, "web", 0, "n1", bindings=[(20005, 80)])
    assert hosts_of(endpoints(the_service(d), [p], d, ADDRESSES)) == {80: [(p.name, "10.0.0.1", 20005, 80)]}


def test_a_named_target_port_is_resolved_through_the_owners_template() -> None:
    d = web_and_service(target="http", ports=[{"containerPort": 9000, "name": "admin"}, {"containerPort": 8081, "name": "http"}])
    p = pod(d, "web", 0, "n2", bindings=[(20000, 9000), (20001, 8081)])
    assert hosts_of(endpoints(the_service(d), [p], d, ADDRESSES)) == {80: [(p.name, "10.0.0.2", 20001, 8081)]}


def test_a_named_target_port_in_another_container_of_the_pod_is_found() -> None:
    d = desired(
        deployment("web", containers=[container("app", ports=[8080]), container("side", ports=[{"containerPort": 9100, "name": "metrics"}])]),
        service("web", [{"port": 9100, "targetPort": "metrics"}]),
    )
    p = pod(d, "web", 0, "n1", bindings=[(20000, 8080), (20001, 9100)], containers=("app", "side"))
    assert hosts_of(endpoints(the_service(d), [p], d, ADDRESSES)) == {9100: [(p.name, "10.0.0.1", 20001, 9100)]}


def test_a_named_target_port_must_have_the_service_ports_protocol() -> None:
    udp_only = desired(
        deployment("dns", ports=[{"containerPort": 5353, "name": "dns", "protocol": "UDP"}]),
        service("dns", [{"port": 53, "protocol": "UDP", "targetPort": "dns"}]),
    )
    q = pod(udp_only, "dns", 0, "n1", bindings=[(20000, 5353, "udp")])
    assert hosts_of(endpoints(the_service(udp_only, "dns"), [q], udp_only, ADDRESSES)) == {(53, "UDP"): [(q.name, "10.0.0.1", 20000, 5353)]}
    tcp_wants_udp = desired(
        deployment("dns", ports=[{"containerPort": 5353, "name": "dns", "protocol": "UDP"}]),
        service("dns", [{"port": 53, "targetPort": "dns"}]),
    )
    r = pod(tcp_wants_udp, "dns", 0, "n1", bindings=[(20000, 5353, "udp")])
    assert hosts_of(endpoints(the_service(tcp_wants_udp, "dns"), [r], tcp_wants_udp, ADDRESSES)) == {53: []}


def test_a_numeric_target_port_must_be_published_with_the_service_ports_protocol() -> None:
    d = desired(
        deployment("dns", ports=[{"containerPort": 5353, "protocol": "UDP"}]),
        service("dns", [{"port": 53, "targetPort": 5353}]),
    )
    p = pod(d, "dns", 0, "n1", bindings=[(20000, 5353, "udp")])
    assert hosts_of(endpoints(the_service(d, "dns"), [p], d, ADDRESSES)) == {53: []}


def test_tcp_and_udp_ports_with_one_number_keep_their_own_endpoints() -> None:
    d = desired(
        deployment("dns", ports=[{"containerPort": 5353, "name": "dns", "protocol": "UDP"}, {"containerPort": 5354, "name": "dns-tcp"}]),
        service("dns", [
            {"name": "udp", "port": 53, "protocol": "UDP", "targetPort": "dns"},
            {"name": "tcp", "port": 53, "targetPort": "dns-tcp"},
        ]),
    )
    p = pod(d, "dns", 0, "n1", bindings=[(20000, 5353, "udp"), (20001, 5354, "tcp")])
    rules = build_node_rules(CLUSTER, "n2", d, Allocations({"default/dns": "10.96.0.53"}, {}), all_endpoints(d, [p], ADDRESSES), ADDRESSES, (), ServiceConfig())
    assert {(s.protocol, s.endpoints) for s in rules.services} == {
        ("udp", (Endpoint("10.0.0.1", 20000, False),)),
        ("tcp", (Endpoint("10.0.0.1", 20001, False),)),
    }


def test_an_unknown_port_name_gives_no_endpoint() -> None:
    d = web_and_service(target="nope", ports=[{"containerPort": 8080, "name": "http"}])
    assert hosts_of(endpoints(the_service(d), [pod(d, "web", 0, "n1")], d, ADDRESSES)) == {80: []}


def test_a_named_target_port_of_a_pod_whose_owner_is_gone_gives_no_endpoint() -> None:
    with_owner = web_and_service(target="http", ports=[{"containerPort": 8080, "name": "http"}])
    p = pod(with_owner, "web", 0, "n1")
    without_owner = desired(service("web", [{"port": 80, "targetPort": "http"}]))
    assert hosts_of(endpoints(the_service(without_owner), [p], without_owner, ADDRESSES)) == {80: []}


def test_a_pod_that_does_not_publish_the_target_port_is_not_an_endpoint() -> None:
    d = web_and_service(target=9090, ports=[8080, 9090])
    only_8080 = pod(d, "web", 0, "n1", bindings=[(20000, 8080)])
    nothing = pod(d, "web", 1, "n2", bindings=[])
    udp = pod(d, "web", 2, "n3", bindings=[(20000, 9090, "udp")])
    assert hosts_of(endpoints(the_service(d), [only_8080, nothing, udp], d, ADDRESSES)) == {80: []}


def test_a_pod_on_a_node_without_an_address_is_skipped() -> None:
    d = web_and_service()
    on_n1, on_n9 = pod(d, "web", 0, "n1"), pod(d, "web", 1, "n9")
    assert hosts_of(endpoints(the_service(d), [on_n1, on_n9], d, ADDRESSES)) == {80: [(on_n1.name, "10.0.0.1", 20000, 8080)]}


def test_a_service_with_an_empty_selector_selects_nothing() -> None:
    d = desired(deployment("web", ports=[8080]), service("web", [{"port": 80, "targetPort": 8080}], selector={}))
    svc = the_service(d)
    svc = replace(svc, selector={})
    assert hosts_of(endpoints(svc, [pod(d, "web", 0, "n1")], d, ADDRESSES)) == {80: []}


# --- build_node_rules() -----------------------------------------------------------


def three_web_pods(d: Desired) -> list[ObservedPod]:
    return [
        pod(d, "web", 0, "n3", bindings=[(20007, 8080)], ip="10.88.0.7"),
        pod(d, "web", 1, "n1", bindings=[(20001, 8080)], ip="10.88.0.5"),
        pod(d, "web", 2, "n2", bindings=[(20002, 8080)], ip=""),
    ]


def test_node_rules_use_pod_ip_for_local_endpoints_and_node_address_for_remote_ones() -> None:
    d = web_and_service()
    allocations = Allocations({"default/web": "10.96.0.10"}, {})
    pods = three_web_pods(d)
    got = build_node_rules(CLUSTER, "n1", d, allocations, all_endpoints(d, pods, ADDRESSES), ADDRESSES, ("10.0.0.2", "10.0.0.1", CONTROLLER), ServiceConfig())
    assert got == NodeRules(
        cluster=CLUSTER,
        node_address="10.0.0.1",
        allowed_sources=("10.0.0.1", "10.0.0.2", CONTROLLER),
        protected_addresses=("10.0.0.1", "10.0.0.2", CONTROLLER),
        host_ports=DEFAULT_HOST_PORTS,
        services=(
            ServicePort(
                namespace="default",
                service="web",
                port_name="80",
                protocol="tcp",
                cluster_ip="10.96.0.10",
                port=80,
                node_port=None,
                endpoints=(
                    Endpoint("10.0.0.2", 20002, False),
                    Endpoint("10.0.0.3", 20007, False),
                    Endpoint("10.88.0.5", 8080, True),
                ),
            ),
        ),
    )


def test_from_another_node_the_same_pod_is_remote() -> None:
    d = web_and_service()
    allocations = Allocations({"default/web": "10.96.0.10"}, {})
    got = build_node_rules(CLUSTER, "n3", d, allocations, all_endpoints(d, three_web_pods(d), ADDRESSES), ADDRESSES, (), ServiceConfig())
    assert got.node_address == "10.0.0.3"
    assert got.services[0].endpoints == (
        Endpoint("10.0.0.1", 20001, False),
        Endpoint("10.0.0.2", 20002, False),
        Endpoint("10.88.0.7", 8080, True),
    )


def test_a_local_pod_without_a_known_ip_is_reached_through_its_host_port() -> None:
    d = web_and_service()
    allocations = Allocations({"default/web": "10.96.0.10"}, {})
    got = build_node_rules(CLUSTER, "n2", d, allocations, all_endpoints(d, three_web_pods(d), ADDRESSES), ADDRESSES, (), ServiceConfig())
    assert Endpoint("10.0.0.2", 20002, False) in got.services[0].endpoints


def test_service_ports_are_sorted_and_carry_names_vips_and_node_ports() -> None:
    d = desired(
        service("zeta", [{"port": 80}]),
        service("alpha", [{"name": "https", "port": 443}, {"name": "http", "port": 80}], type="NodePort"),
        service("mid", [{"port": 53, "protocol": "UDP"}], namespace="infra"),
    )
    allocations = Allocations(
        {"default/zeta": "10.96.0.3", "default/alpha": "10.96.0.1", "infra/mid": "10.96.0.2"},
        {"default/alpha:443": 30443, "default/alpha:80": 30080},
    )
    got = build_node_rules(CLUSTER, "n1", d, allocations, all_endpoints(d, [], ADDRESSES), ADDRESSES, (), ServiceConfig())
    assert [(p.namespace, p.service, p.port_name, p.protocol, p.port, p.cluster_ip, p.node_port, p.endpoints) for p in got.services] == [
        ("default", "alpha", "https", "tcp", 443, "10.96.0.1", 30443, ()),
        ("default", "alpha", "http", "tcp", 80, "10.96.0.1", 30080, ()),
        ("default", "zeta", "80", "tcp", 80, "10.96.0.3", None, ()),
        ("infra", "mid", "53", "udp", 53, "10.96.0.2", None, ()),
    ]


def test_allowed_sources_are_deduplicated_and_sorted_and_host_ports_come_from_the_config() -> None:
    got = build_node_rules(
        CLUSTER, "n2", desired(), NONE, all_endpoints(desired(), [], ADDRESSES), ADDRESSES, ("10.0.0.3", "10.0.0.1", "10.0.0.3", "10.0.0.1"), ServiceConfig(host_ports=(40000, 40999))
    )
    allowed = ("10.0.0.1", "10.0.0.3")
    assert got == NodeRules(CLUSTER, "10.0.0.2", allowed, (40000, 40999), (), (), allowed)


def test_node_rules_are_the_same_whatever_order_the_pods_come_in() -> None:
    d = web_and_service()
    allocations = Allocations({"default/web": "10.96.0.10"}, {})
    pods = three_web_pods(d)
    one = build_node_rules(CLUSTER, "n1", d, allocations, all_endpoints(d, pods, ADDRESSES), ADDRESSES, (), ServiceConfig())
    other = build_node_rules(CLUSTER, "n1", d, allocations, all_endpoints(d, list(reversed(pods)), ADDRESSES), ADDRESSES, (), ServiceConfig())
    assert one == other


# --- discovery() ------------------------------------------------------------------


def test_discovery_gives_host_entries_and_env_for_the_pods_namespace_only() -> None:
    d = desired(
        service("my-db", [{"name": "pg-main", "port": 5432}, {"name": "metrics", "port": 9187}]),
        service("web", [{"port": 80}]),
        service("other", [{"port": 81}], namespace="prod"),
    )
    allocations = Allocations({"default/my-db": "10.96.0.5", "default/web": "10.96.0.6", "prod/other": "10.96.0.7"}, {})
    hosts, env = discovery("default", d, allocations)
    assert hosts == (
        ("my-db", "10.96.0.5"),
        ("my-db.default", "10.96.0.5"),
        ("my-db.default.svc.cluster.local", "10.96.0.5"),
        ("web", "10.96.0.6"),
        ("web.default", "10.96.0.6"),
        ("web.default.svc.cluster.local", "10.96.0.6"),
    )
    assert env == (
        ("MY_DB_SERVICE_HOST", "10.96.0.5"),
        ("MY_DB_SERVICE_PORT", "5432"),
        ("MY_DB_SERVICE_PORT_PG_MAIN", "5432"),
        ("MY_DB_SERVICE_PORT_METRICS", "9187"),
        ("WEB_SERVICE_HOST", "10.96.0.6"),
        ("WEB_SERVICE_PORT", "80"),
    )
    assert discovery("prod", d, allocations) == (
        (("other", "10.96.0.7"), ("other.prod", "10.96.0.7"), ("other.prod.svc.cluster.local", "10.96.0.7")),
        (("OTHER_SERVICE_HOST", "10.96.0.7"), ("OTHER_SERVICE_PORT", "81")),
    )
    assert discovery("empty", d, allocations) == ((), ())


def test_discovery_skips_a_service_without_a_vip_yet() -> None:
    d = desired(service("web", [{"port": 80}]))
    assert discovery("default", d, NONE) == ((), ())


# --- parse_range() ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (30000, 32767)),
        ("30000-32767", (30000, 32767)),
        ("31000-31000", (31000, 31000)),
        ("31000", (31000, 31000)),
        (31000, (31000, 31000)),
        ("1-65535", (1, 65535)),
        (" 20000 - 20999 ", (20000, 20999)),
    ],
)
def test_parse_range_accepts(value: object, expected: tuple[int, int]) -> None:
    assert parse_range(value, DEFAULT_NODE_PORTS, "sshorch_nodeport_range") == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "is not a port range like"),
        ("abc", "is not a port range like"),
        ("30000-", "is not a port range like"),
        ("-32767", "is not a port range like"),
        ("30000:32767", "is not a port range like"),
        ("1-2-3", "is not a port range like"),
        ("30000.5-32767", "is not a port range like"),
        ("32767-30000", "within 1-65535"),
        ("0-100", "within 1-65535"),
        ("30000-65536", "within 1-65535"),
        (0, "within 1-65535"),
    ],
)
def test_parse_range_refuses(value: object, why: str) -> None:
    with pytest.raises(AllocationError) as raised:
        parse_range(value, DEFAULT_NODE_PORTS, "sshorch_nodeport_range")
    assert str(raised.value).startswith(f"sshorch_nodeport_range: {str(value)!r}")
    assert why in str(raised.value)


# --- reconcile: the sync-rules action -------------------------------------------------

VIP = "10.96.0.10"
WEB_ALLOCATIONS = Allocations({"default/web": VIP}, {})


def pass_with(
    d: Desired,
    observed: Observed,
    nodes: Sequence[ClusterNode] | None = None,
    *,
    allocations: Allocations = WEB_ALLOCATIONS,
    config: ServiceConfig = ServiceConfig(),
    controller: tuple[str, ...] = (CONTROLLER,),
    draining: Sequence[str] = (),
) -> Plan:
    return run(d, observed, nodes, services=config, allocations=allocations, controller_addresses=controller,
               draining=frozenset(draining))


def with_rules(observed: Observed, **states: RulesState) -> Observed:
    return Observed(tuple(replace(n, rules=states[n.name]) if n.name in states else n for n in observed.nodes))


def rules_actions(plan: Plan) -> dict[str, Action]:
    return {a.node: a for a in plan.actions if a.kind == "sync-rules"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


ALLOWED = ("10.0.0.1", "10.0.0.2", CONTROLLER, "10.0.0.3")  # sorted as text
ONE_WEB = web_and_service()  # replicas 3


def running_web(d: Desired = ONE_WEB) -> list[ObservedPod]:
    return [pod(d, "web", i, f"n{i + 1}", bindings=[(20000 + i, 8080)]) for i in range(3)]


CHAINS = cluster_chains(CLUSTER)
FILES = state_files(CLUSTER)
RULES_FILE = FILES.rules


def wanted_on(node: str, pods: Sequence[ObservedPod], d: Desired = ONE_WEB, allocations: Allocations = WEB_ALLOCATIONS) -> NodeRules:
    published = [b for p in pods if p.node == node for b in p.ports]
    return build_node_rules(
        CLUSTER, node, d, allocations, all_endpoints(d, pods, ADDRESSES), ADDRESSES, ALLOWED, ServiceConfig(), published
    )


def expected_steps(rendered_sha: str) -> tuple[Step, ...]:
    prefix = cluster_chains(CLUSTER).prefix
    return (
        Step(tuple(hairpin_argv()), ignore_errors=True),
        Step(("sh", "-c", _save_targets(IPV4), "sh", prefix, FILES.targets), ignore_errors=True),
        Step(("iptables-restore", "-w", "--noflush", RULES_FILE)),
        Step(tuple(jump_step_argv(CLUSTER))),
        Step(("sh", "-c", turn_on_command(IPV4))),
        Step(("sh", "-c", _forget_gone(IPV4), "sh", prefix, FILES.targets), ignore_errors=True),
        Step(("sh", "-c", f"echo {rendered_sha} > {FILES.sha} && {fingerprint_command(CLUSTER)} > {FILES.fingerprint}")),
    )


def test_a_node_without_rules_state_gets_the_whole_rule_set_written() -> None:
    pods = running_web()
    plan = pass_with(ONE_WEB, observe(*pods))
    assert moves(plan) == [("sync-rules", n, "1 service") for n in ("n1", "n2", "n3")]
    action = rules_actions(plan)["n1"]
    # Independent of build_node_rules: what n1 must hold.
    expected = NodeRules(
        CLUSTER, "10.0.0.1", ALLOWED, DEFAULT_HOST_PORTS,
        (ServicePort("default", "web", "80", "tcp", VIP, 80, None, (
            Endpoint("10.0.0.1", 20000, False),  # local, but the pod's IP is unknown: its host port
            Endpoint("10.0.0.2", 20001, False),
            Endpoint("10.0.0.3", 20002, False),
        )),),
        published_ports=(("tcp", 20000),),  # what the pod on n1 publishes
        protected_addresses=ALLOWED,
    )
    text = render_restore(expected)
    assert len(action.files) == 1
    upload = action.files[0]
    assert (upload.path, upload.data(), upload.mode) == (RULES_FILE, text.encode(), 0o600)
    assert action.steps == expected_steps(sha(text))
    assert action.reason == "service rules changed"
    assert "--to-destination 10.0.0.2:20001" in text and f"-d {VIP}/32" in text


def test_a_node_whose_rules_match_and_are_intact_gets_no_action() -> None:
    pods = running_web()
    states = {
        n: RulesState(sha(render_restore(wanted_on(n, pods))), "f" * 64, "f" * 64, frozenset({("nat", CHAINS.services)}))
        for n in ("n1", "n2")
    }
    plan = pass_with(ONE_WEB, with_rules(observe(*pods), **states))
    assert moves(plan) == [("sync-rules", "n3", "1 service")]


def test_a_node_whose_rules_were_changed_by_hand_gets_them_rewritten() -> None:
    pods = running_web()
    text = render_restore(wanted_on("n1", pods))
    changed = RulesState(sha(text), "a" * 64, "b" * 64, frozenset())
    plan = pass_with(ONE_WEB, with_rules(observe(*pods), n1=changed))
    action = rules_actions(plan)["n1"]
    assert action.reason == "rules changed by hand"
    assert action.files[0].data() == text.encode()
    assert action.steps == expected_steps(sha(text))


def test_rules_from_an_older_render_are_rewritten_as_changed() -> None:
    pods = running_web()
    stale = RulesState("0" * 64, "a" * 64, "a" * 64, frozenset())
    action = rules_actions(pass_with(ONE_WEB, with_rules(observe(*pods), n1=stale)))["n1"]
    assert action.reason == "service rules changed"


def test_a_pod_assumed_on_a_node_that_does_not_answer_is_no_endpoint() -> None:
    # It holds its slot until eviction, but no rule may send traffic to it while its node
    # is NotReady: the other nodes' rules hold the two pods that answer.
    from sshorch.plan.nodehealth import pod_from_json, pod_to_json

    pods = running_web()
    assumed = (pod_from_json("n3", pod_to_json(pods[2])),)
    plan = run(ONE_WEB, observe(*pods[:2], unreachable=["n3"]), services=ServiceConfig(),
               allocations=WEB_ALLOCATIONS, controller_addresses=(CONTROLLER,), assumed=assumed)
    actions = rules_actions(plan)
    assert sorted(actions) == ["n1", "n2"]
    for node, action in actions.items():
        text = action.files[0].data().decode()
        assert text == render_restore(wanted_on(node, pods[:2]))
        assert "--to-destination 10.0.0.3:" not in text


def test_a_rewrite_deletes_chains_of_ours_no_longer_rendered() -> None:
    pods = running_web()
    wanted = wanted_on("n2", pods)
    old_svc, old_sep = f"{CHAINS.prefix}SVC-OLDOLDOLDO", f"{CHAINS.prefix}SEP-OLDOLDOLDO"
    chains = frozenset({("nat", CHAINS.services), ("nat", old_svc), ("nat", old_sep), ("filter", CHAINS.hostports)})
    state = RulesState("0" * 64, "a" * 64, "a" * 64, chains)
    action = rules_actions(pass_with(ONE_WEB, with_rules(observe(*pods), n2=state)))["n2"]
    text = render_restore(wanted, {"nat": {CHAINS.services, old_svc, old_sep}, "filter": {CHAINS.hostports}})
    assert action.files[0].data() == text.encode()
    assert f"-X {old_svc}" in text and f"-X {old_sep}" in text
    # The recorded hash is of the rules alone, so the next pass sees a match.
    assert action.steps == expected_steps(sha(render_restore(wanted)))


def test_no_services_and_no_chains_of_ours_gives_no_action() -> None:
    d = desired(deployment("web", ports=[8080]))
    pods = [pod(d, "web", 0, "n1")]
    empty = RulesState("", "", "", frozenset())
    assert pass_with(d, observe(*pods), allocations=NONE).actions == ()
    assert pass_with(d, with_rules(observe(*pods), n1=empty, n2=empty, n3=empty), allocations=NONE).actions == ()


def test_chains_of_ours_left_without_services_are_removed() -> None:
    d = desired(deployment("web", ports=[8080]))
    pods = [pod(d, "web", 0, "n1")]
    leftover = RulesState("0" * 64, "a" * 64, "a" * 64, frozenset({("nat", CHAINS.services), ("nat", f"{CHAINS.prefix}SVC-OLDOLDOLDO")}))
    plan = pass_with(d, with_rules(observe(*pods), n2=leftover), allocations=NONE)
    assert moves(plan) == [("sync-rules", "n2", "0 services")]
    text = plan.actions[0].files[0].data().decode()
    assert f"-X {CHAINS.prefix}SVC-OLDOLDOLDO" in text and "-j DNAT" not in text


def test_an_unreachable_node_gets_no_action_and_its_pods_are_no_endpoints() -> None:
    pods = running_web()
    plan = pass_with(ONE_WEB, observe(*pods, unreachable=["n3"]))
    actions = rules_actions(plan)
    assert sorted(actions) == ["n1", "n2"]
    text = actions["n1"].files[0].data().decode()
    assert "10.0.0.3:20002" not in text and "10.0.0.2:20001" in text


def test_a_pod_that_serves_traffic_first_leaves_the_rules_and_is_removed_on_the_next_pass() -> None:
    d = web_and_service()  # 3 replicas
    extra = pod(d, "web", 3, "n1", bindings=[(20009, 8080)])  # slot 3: scaled away
    pods = [*running_web(d), extra]
    first = pass_with(d, observe(*pods))
    assert [a.kind for a in first.actions] == ["sync-rules"] * 3, moves(first)
    assert first.draining == ((extra.name, "scaled to 3"),)
    for action in rules_actions(first).values():
        text = action.files[0].data().decode()
        assert "20009" not in text and "10.0.0.2:20001" in text
    second = pass_with(d, observe(*pods), draining=[extra.name])
    assert ("remove-pod", "n1", extra.name) in moves(second)
    for action in rules_actions(second).values():
        assert "20009" not in action.files[0].data().decode()


def test_pods_removed_in_the_same_plan_are_not_endpoints() -> None:
    d = web_and_service()
    extra = pod(d, "web", 3, "n1", bindings=[(20009, 8080)])
    plan = pass_with(d, observe(*running_web(d), extra), draining=[extra.name])
    assert moves(plan) == [*(("sync-rules", n, "1 service") for n in ("n1", "n2", "n3")), ("remove-pod", "n1", extra.name)]
    assert all("20009" not in a.files[0].data().decode() for a in rules_actions(plan).values())


def test_sync_rules_come_after_create_pod_and_before_remove_pod() -> None:
    d = desired(deployment("web", replicas=1, ports=[8080]), deployment("api", ports=[8080]), service("web", [{"port": 80, "targetPort": 8080}]))
    leaving = pod(d, "web", 1, "n2", bindings=[(20001, 8080)])  # slot 1: scaled away, drained last pass
    plan = pass_with(d, observe(pod(d, "web", 0, "n1"), leaving), draining=[leaving.name])
    kinds = [a.kind for a in plan.actions]
    assert kinds == ["create-pod", "sync-rules", "sync-rules", "sync-rules", "remove-pod"], moves(plan)
    assert "10.0.0.2:20001" not in plan.actions[1].files[0].data().decode()


def test_a_new_revision_sync_comes_between_its_create_and_the_old_pods_removal() -> None:
    old = web_and_service()
    new = web_and_service(ports=[{"containerPort": 8080, "name": "http"}])  # template changed: new revision
    old_revision = observed_pod(old, "web", 0, "n1").revision
    # New-revision pods run in every slot; the old ones were drained on the last pass and go now.
    current = [pod(new, "web", i, f"n{i + 1}", bindings=[(20010 + i, 8080)]) for i in range(3)]
    stale = [pod(new, "web", i, f"n{i + 1}", revision=old_revision) for i in range(3)]
    plan = pass_with(new, observe(*current, *stale), draining=[p.name for p in stale])
    kinds = [a.kind for a in plan.actions]
    assert kinds == ["sync-rules"] * 3 + ["remove-pod"] * 3, moves(plan)
    text = plan.actions[0].files[0].data().decode()
    assert all(f":{20010 + i}" in text for i in range(3)) and ":20000" not in text


def test_a_node_port_service_opens_its_node_port_on_every_node() -> None:
    d = desired(deployment("web", replicas=3, ports=[8080]), node_port_service("web", 30080))
    plan = pass_with(d, observe(*running_web(d)), allocations=NONE)
    for node, action in rules_actions(plan).items():
        text = action.files[0].data().decode()
        assert "--dport 30080" in text, node
    assert plan.allocations is not None and plan.allocations.node_ports == {"default/web:80": 30080}


def test_new_allocations_are_in_the_plan_and_in_the_rules() -> None:
    plan = pass_with(ONE_WEB, observe(*running_web()), allocations=NONE)
    assert plan.allocations is not None
    vip = plan.allocations.vips["default/web"]
    assert all(f"-d {vip}/32" in a.files[0].data().decode() for a in rules_actions(plan).values())


def test_the_controller_is_allowed_to_reach_host_ports() -> None:
    plan = pass_with(ONE_WEB, observe(*running_web()), controller=("192.0.2.7",))
    text = rules_actions(plan)["n1"].files[0].data().decode()
    assert f"-A {CHAINS.hostports} -s 192.0.2.7/32 -j RETURN" in text


def test_a_pod_being_created_gets_the_services_in_its_discovery_env() -> None:
    d = web_and_service()
    plan = pass_with(d, observe(), allocations=WEB_ALLOCATIONS)
    create = next(a for a in plan.actions if a.kind == "create-pod")
    argv = [arg for step in create.steps for arg in step.argv]
    assert any("WEB_SERVICE_HOST=10.96.0.10" in arg for arg in argv), argv
    assert any("web.default.svc.cluster.local:10.96.0.10" in arg for arg in argv), argv


def test_an_unreachable_node_known_only_by_name_does_not_stop_the_others_rules() -> None:
    nodes = cluster_nodes()
    n3 = replace(nodes[2], target=replace(nodes[2].target, address="n3.example.com"))
    plan = pass_with(ONE_WEB, observe(*running_web()[:2], unreachable=["n3"]), (*nodes[:2], n3))
    assert sorted(rules_actions(plan)) == ["n1", "n2"]


def test_a_pass_matches_each_pod_against_each_service_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import sshorch.plan.services as services_module

    calls = []
    real = services_module.selects

    def counting(svc: Any, labels: Mapping[str, str]) -> bool:
        calls.append(1)
        return real(svc, labels)

    monkeypatch.setattr(services_module, "selects", counting)
    plan = pass_with(ONE_WEB, observe(*running_web()))
    assert len(rules_actions(plan)) == 3
    assert len(calls) <= 3  # 1 service x 3 pods


def test_a_pod_is_an_endpoint_only_through_a_rules_write_on_its_node_which_puts_ports_in_hairpin_mode() -> None:
    # A Service may send a pod's connection to the pod itself (see proxy/hairpin.py): the write
    # that first names a new pod's IP on its node turns hairpin mode on before the rules go in.
    pods = running_web()
    n1 = rules_actions(pass_with(ONE_WEB, observe(*pods)))["n1"]
    restore = n1.steps.index(Step(("iptables-restore", "-w", "--noflush", RULES_FILE)))
    assert n1.steps.index(Step(tuple(hairpin_argv()), ignore_errors=True)) < restore


# --- host ports guarded, jumps kept first, migration ------------------------------------------------------


def test_host_ports_outside_the_range_are_guarded_for_observed_pods_and_pods_this_plan_creates() -> None:
    # admin runs on n1 with hostPort 8443; this pass creates a metrics pod with hostPort 9100 on n2.
    d = web_and_service(
        deployment("admin", ports=[{"containerPort": 8443, "hostPort": 8443}], node_selector={"kubernetes.io/hostname": "n1"}),
        deployment("metrics", ports=[{"containerPort": 9100, "hostPort": 9100, "protocol": "UDP"}],
                   node_selector={"kubernetes.io/hostname": "n2"}),
    )
    admin = pod(d, "admin", 0, "n1", bindings=[(8443, 8443)])
    plan = pass_with(d, observe(*running_web(d), admin))
    assert ("create-pod", "n2") in {(kind, node) for kind, node, _ in moves(plan)}, moves(plan)
    guard = "-m conntrack --ctstate DNAT --ctorigdst {} --ctorigdstport {} --ctdir ORIGINAL -j REJECT"
    texts = {node: action.files[0].data().decode() for node, action in rules_actions(plan).items()}
    assert f"-p tcp {guard.format('10.0.0.1', 8443)}" in texts["n1"]
    assert f"-p udp {guard.format('10.0.0.2', 9100)}" in texts["n2"]
    assert "8443" not in texts["n2"] and "9100" not in texts["n1"] and "--ctorigdstport 20000 " not in texts["n1"]


def test_pods_are_kept_from_every_node_and_the_controller() -> None:
    text = rules_actions(pass_with(ONE_WEB, observe(*running_web())))["n2"].files[0].data().decode()
    for address in ALLOWED:
        assert f"-A {CHAINS.from_pods} -d {address}/32 -j REJECT --reject-with icmp-port-unreachable" in text


def test_a_node_whose_jumps_were_pushed_down_gets_a_write_that_moves_them_back() -> None:
    pods = running_web()
    text = render_restore(wanted_on("n1", pods))
    pushed = RulesState(sha(text), "f" * 64, "f" * 64, frozenset({("nat", CHAINS.services)}), frozenset({("filter", "FORWARD")}))
    action = rules_actions(pass_with(ONE_WEB, with_rules(observe(*pods), n1=pushed)))["n1"]
    assert action.reason == "other rules above ours"
    assert action.steps == expected_steps(sha(text))


def test_a_node_holding_unscoped_rules_is_migrated_in_one_action() -> None:
    pods = running_web()
    text = render_restore(wanted_on("n1", pods))
    # Even were our own state as written, the old rules have to go.
    old = RulesState(sha(text), "f" * 64, "f" * 64, frozenset({("nat", CHAINS.services), ("nat", "SSHORCH-SERVICES"),
                                                                ("filter", "SSHORCH-HOSTPORTS")}))
    action = rules_actions(pass_with(ONE_WEB, with_rules(observe(*pods), n1=old)))["n1"]
    assert action.reason == "unscoped rules of an earlier sshorch" and action.target == "1 service"
    assert [f.path for f in action.files] == [RULES_FILE, FILES.legacy]
    assert "-X SSHORCH-SERVICES" in action.files[1].data().decode()
    assert Step(("iptables-restore", "-w", "--noflush", FILES.legacy)) in action.steps


def test_only_unscoped_rules_and_no_services_still_get_them_removed() -> None:
    d = desired(deployment("web", ports=[8080]))
    old = RulesState("", "", "", frozenset({("nat", "SSHORCH-SERVICES"), ("filter", "SSHORCH-CANARY")}))
    plan = pass_with(d, with_rules(observe(pod(d, "web", 0, "n1")), n1=old), allocations=NONE)
    assert moves(plan) == [("sync-rules", "n1", "0 services")]
    assert plan.actions[0].reason == "unscoped rules of an earlier sshorch"


def test_enable_service_links_false_leaves_out_the_service_variables_but_not_the_host_entries() -> None:
    web = deployment("web", replicas=3, ports=[8080])
    web["spec"]["template"]["spec"]["enableServiceLinks"] = False
    d = desired(web, service("web", [{"port": 80, "targetPort": 8080}]))
    plan = pass_with(d, observe(), allocations=WEB_ALLOCATIONS)
    create = next(a for a in plan.actions if a.kind == "create-pod")
    argv = [arg for step in create.steps for arg in step.argv]
    assert not any("_SERVICE_" in arg for arg in argv), argv
    assert any("web.default.svc.cluster.local:10.96.0.10" in arg for arg in argv), argv


def test_a_containers_own_variable_wins_over_a_services() -> None:
    d = desired(
        deployment("web", ports=[8080], env=[{"name": "WEB_SERVICE_HOST", "value": "mine"}]),
        service("web", [{"port": 80, "targetPort": 8080}]),
    )
    plan = pass_with(d, observe(), allocations=WEB_ALLOCATIONS)
    create = next(a for a in plan.actions if a.kind == "create-pod")
    argv = [arg for step in create.steps for arg in step.argv]
    assert [arg for arg in argv if arg.startswith("WEB_SERVICE_HOST=")] == ["WEB_SERVICE_HOST=mine"], argv
