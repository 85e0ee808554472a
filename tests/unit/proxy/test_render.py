import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.proxy import (
    Endpoint,
    cluster_chains,
    jump_rules,
    render_jump_script,
    render_probability,
    render_restore,
)
from sshorch.proxy.jumps import LEGACY_JUMPS
from tests.unit.proxy.samples import CART, CLUSTER, DB, DNS, LOCAL_POD, OTHER_CLUSTER, SERVICES, WEB, node_rules

GOLDEN = Path(__file__).parent / "golden" / "restore.txt"
C = cluster_chains(CLUSTER)
service_chain = C.service
endpoint_chain = C.endpoint


def sections(text: str) -> dict[str, list[str]]:
    """table -> its lines between *table and COMMIT."""
    tables: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:], [])
        elif line != "COMMIT":
            current.append(line)
    return tables


def rules_of(lines: list[str], chain: str) -> list[str]:
    return [line.removeprefix(f"-A {chain} ") for line in lines if line.startswith(f"-A {chain} ")]


def test_restore_text_matches_golden_file() -> None:
    # SSHORCH_UPDATE_GOLDEN=1 rewrites the file; review the diff before keeping it.
    text = render_restore(node_rules(*SERVICES), [f"{C.prefix}SVC-STALESTALE", "FOREIGN"])
    if os.environ.get("SSHORCH_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_render_is_deterministic_whatever_the_input_order() -> None:
    shuffled = [replace(port, endpoints=tuple(random.sample(port.endpoints, len(port.endpoints)))) for port in SERVICES]
    random.shuffle(shuffled)
    assert render_restore(node_rules(*shuffled)) == render_restore(node_rules(*SERVICES))


def test_both_tables_are_present_and_committed() -> None:
    text = render_restore(node_rules())
    assert [line for line in text.splitlines() if line.startswith("*") or line == "COMMIT"] == [
        "*nat",
        "COMMIT",
        "*filter",
        "COMMIT",
    ]
    nat, filter_ = sections(text)["nat"], sections(text)["filter"]
    for chain in ("SERVICES", "NODEPORTS", "MARK-MASQ", "POSTROUTING", "CANARY"):
        assert f":{C.prefix}{chain} - [0:0]" in nat
    for chain in ("SERVICES", "FORWARD", "HOSTPORTS", "NODE-ACCESS", "FROM-PODS", "CANARY"):
        assert f":{C.prefix}{chain} - [0:0]" in filter_
    assert rules_of(nat, C.canary) == [] and rules_of(filter_, C.canary) == []
    assert all(line.startswith((f":{C.prefix}", f"-A {C.prefix}")) for table in (nat, filter_) for line in table)


def test_service_port_jumps_from_vip_to_its_chain() -> None:
    nat = sections(render_restore(node_rules(*SERVICES)))["nat"]
    assert rules_of(nat, C.services) == [
        f'-d 198.19.0.53/32 -p udp -m comment --comment "kube/dns cluster IP" -m udp --dport 53 -j {service_chain(DNS)}',
        f'-d 198.19.0.30/32 -p tcp -m comment --comment "shop/db:pg cluster IP" -m tcp --dport 5432 -j {service_chain(DB)}',
        f'-d 198.19.0.10/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j {service_chain(WEB)}',
        '-m comment --comment "sshorch node ports" -m addrtype --dst-type LOCAL -j ' + C.nodeports,
    ]


def test_endpoint_i_of_n_is_picked_with_probability_one_over_n_minus_i() -> None:
    assert [render_probability(i, 5) for i in range(4)] == ["0.2000000000", "0.2500000000", "0.3333333333", "0.5000000000"]
    assert render_probability(0, 7) == "0.1428571429"
    nat = sections(render_restore(node_rules(DB)))["nat"]
    mark, *picks = rules_of(nat, service_chain(DB))
    assert mark == f"-j {C.mark_masq}"
    assert len(picks) == 5
    for index, (rule, endpoint) in enumerate(zip(picks, DB.endpoints)):
        statistic = f"-m statistic --mode random --probability {render_probability(index, 5)} " if index < 4 else ""
        assert rule == f"{statistic}-j {endpoint_chain(DB, endpoint)}"


def test_service_without_endpoints_rejects_in_filter_and_has_no_nat_chain() -> None:
    text = render_restore(node_rules(CART))
    tables = sections(text)
    assert service_chain(CART) not in text
    assert "198.19.0.20" not in "\n".join(tables["nat"])
    assert rules_of(tables["filter"], C.services) == [
        '-d 198.19.0.20/32 -p tcp -m comment --comment "shop/cart:api has no endpoints" -m tcp --dport 8080 '
        "-j REJECT --reject-with icmp-port-unreachable",
        '-p tcp -m comment --comment "shop/cart:api has no endpoints" -m addrtype --dst-type LOCAL '
        "-m tcp --dport 30081 -j REJECT --reject-with icmp-port-unreachable",
    ]


def test_node_port_jumps_to_the_same_service_chain() -> None:
    nat = sections(render_restore(node_rules(*SERVICES)))["nat"]
    assert rules_of(nat, C.nodeports) == [
        f'-p tcp -m comment --comment "shop/web:http node port" -m tcp --dport 30080 -j {service_chain(WEB)}'
    ]


def test_every_endpoint_is_masqueraded_local_ones_included() -> None:
    # A neighbour pod on the same bridge would otherwise answer its client directly:
    # the service chain marks every packet before it picks an endpoint.
    nat = sections(render_restore(node_rules(WEB)))["nat"]
    local = next(endpoint for endpoint in WEB.endpoints if endpoint.local)
    remote = next(endpoint for endpoint in WEB.endpoints if not endpoint.local)
    assert rules_of(nat, service_chain(WEB))[0] == f"-j {C.mark_masq}"
    assert rules_of(nat, endpoint_chain(WEB, local)) == [f"-p tcp -m tcp -j DNAT --to-destination {LOCAL_POD}:8080"]
    assert rules_of(nat, endpoint_chain(WEB, remote)) == [
        f"-p tcp -m tcp -j DNAT --to-destination {remote.address}:{remote.port}"
    ]


def test_masquerade_and_forward_chains() -> None:
    tables = sections(render_restore(node_rules()))
    assert rules_of(tables["nat"], C.mark_masq) == ["-j MARK --set-xmark 0x4000/0x4000"]
    assert rules_of(tables["nat"], C.postrouting) == [
        "-m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-j MARK --set-xmark 0x4000/0x0",
        "-j MASQUERADE",
    ]
    assert rules_of(tables["filter"], C.forward) == [
        '-m comment --comment "sshorch service traffic" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]


def test_host_ports_are_open_only_to_allowed_sources() -> None:
    filter_ = sections(render_restore(node_rules()))["filter"]
    guard = "-m conntrack --ctstate DNAT --ctorigdst 198.18.0.2 --ctorigdstport {} --ctdir ORIGINAL -j REJECT --reject-with icmp-port-unreachable"
    assert rules_of(filter_, C.hostports) == [
        "-s 198.18.0.1/32 -j RETURN",
        "-s 198.18.0.2/32 -j RETURN",
        "-s 198.18.0.3/32 -j RETURN",
        "-s 198.18.0.4/32 -j RETURN",
        "-p tcp " + guard.format("20000:29999"),
        "-p udp " + guard.format("20000:29999"),
        # A pod's hostPort outside the range (8443); 20005 is within it, so no rule of its own.
        "-p tcp " + guard.format("8443"),
    ]


def test_pods_may_not_open_connections_to_nodes_or_the_controller_unless_dnated() -> None:
    filter_ = sections(render_restore(node_rules(WEB, CART, DNS)))["filter"]
    reject = "-j REJECT --reject-with icmp-port-unreachable"
    assert rules_of(filter_, C.node_access) == [
        "-m conntrack --ctstate DNAT -j RETURN",
        f"-i podman+ -j {C.from_pods}",
        f"-i cni-podman+ -j {C.from_pods}",
        f"-i docker0 -j {C.from_pods}",
    ]
    assert rules_of(filter_, C.from_pods) == [
        # Node ports, with or without endpoints: another node's answers (or refuses) for its Service.
        '-p tcp -m comment --comment "shop/cart:api node port" -m tcp --dport 30081 -j RETURN',
        '-p tcp -m comment --comment "shop/web:http node port" -m tcp --dport 30080 -j RETURN',
        f"-m addrtype --dst-type LOCAL {reject}",
        f"-d 198.18.0.1/32 {reject}",
        f"-d 198.18.0.2/32 {reject}",
        f"-d 198.18.0.3/32 {reject}",
        f"-d 198.18.0.4/32 {reject}",
    ]


def test_stale_chains_of_ours_are_declared_then_deleted_in_both_tables() -> None:
    old = service_chain(replace(WEB, service="old"))
    other = cluster_chains(OTHER_CLUSTER)
    existing = [old, C.services, service_chain(WEB), "FOREIGN", "KUBE-SVC-ABC", "SSHORCH-BAD NAME",
                other.service(WEB), other.services, "SSHORCH-SERVICES", "SSHORCH-SVC-GG6TP4UGIVMDRQT7"]
    tables = sections(render_restore(node_rules(WEB), existing))
    for lines in tables.values():
        assert [line for line in lines if line.startswith("-X")] == [f"-X {old}"]
        assert f":{old} - [0:0]" in lines
        assert lines.index(f"-X {old}") > max(i for i, line in enumerate(lines) if line.startswith("-A"))
        assert not any("FOREIGN" in line or "KUBE-" in line or "BAD NAME" in line for line in lines)
        # Another cluster's chains and the unscoped ones of an earlier sshorch are not this write's.
        assert not any(other.prefix in line or "SSHORCH-SERVICES" in line or "SSHORCH-SVC-" in line for line in lines)
    # Bare names do not say where they were found: a chain rendered in either table is kept.
    assert f"-X {C.nodeports}" not in "\n".join(sections(render_restore(node_rules(), [C.nodeports]))["filter"])


def test_stale_chains_given_per_table_are_deleted_only_there() -> None:
    stale = f"{C.prefix}SEP-STALESTALE"
    existing = {"nat": [stale], "filter": [C.nodeports]}
    tables = sections(render_restore(node_rules(WEB), existing))
    assert [line for line in tables["nat"] if line.startswith("-X")] == [f"-X {stale}"]
    assert [line for line in tables["filter"] if line.startswith("-X")] == [f"-X {C.nodeports}"]


def test_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match="shop/web:http/tcp: listed twice"):
        render_restore(node_rules(WEB, replace(WEB, port=81)))
    doubled = replace(WEB, endpoints=(*WEB.endpoints, Endpoint(LOCAL_POD, 8080, local=True)))
    with pytest.raises(ValueError, match="shop/web:http: endpoint 10.88.0.5:8080 listed twice"):
        render_restore(node_rules(doubled))


def test_the_jump_script_moves_the_clusters_jumps_to_the_top_in_one_restore() -> None:
    script = render_jump_script(CLUSTER)
    assert script.startswith("{ echo '*nat'; ") and script.endswith("; } | iptables-restore -w --noflush")
    lines = script.removeprefix("{ ").removesuffix("; } | iptables-restore -w --noflush").split("; ")
    # Each present jump deleted, then all inserted at 1 in reverse, so they end in jump_rules() order.
    prerouting = "PREROUTING -m comment --comment sshorch:blue -j SSHORCH-CZDXN-SERVICES"
    assert (
        f"iptables -w -t nat -C {prerouting} >/dev/null 2>&1 && echo '-D {prerouting}'" in lines
        and "echo '-I PREROUTING 1 -m comment --comment sshorch:blue -j SSHORCH-CZDXN-SERVICES'" in lines
    )
    inserts = [line for line in lines if line.startswith("echo '-I FORWARD")]
    assert [line.split()[-1].rstrip("'") for line in inserts] == [C.forward, C.node_access, C.hostports, C.services]
    assert len([line for line in lines if " -C " in line]) == len(jump_rules(CLUSTER)) == 10
    assert lines.count("echo COMMIT") == 2 and lines.index("echo '*filter'") > lines.index("echo COMMIT")
    assert "sshorch:green" not in script and "--comment sshorch " not in script


def test_a_migrating_jump_script_also_deletes_the_old_jumps_after_inserting_the_new() -> None:
    lines = render_jump_script(CLUSTER, LEGACY_JUMPS).split("; ")
    old = "PREROUTING -m comment --comment sshorch -j SSHORCH-SERVICES"
    delete = f"iptables -w -t nat -C {old} >/dev/null 2>&1 && echo '-D {old}'"
    assert delete in lines
    assert lines.index(delete) > max(i for i, line in enumerate(lines) if line.startswith("echo '-I PREROUTING"))
    assert len([line for line in lines if "--comment sshorch -j" in line]) == len(LEGACY_JUMPS) == 8


def test_every_jump_target_is_rendered_in_its_table_and_jumps_carry_the_cluster() -> None:
    tables = sections(render_restore(node_rules()))
    for table, _, args in jump_rules(CLUSTER):
        assert f":{args[-1]} - [0:0]" in tables[table]
        assert ("--comment", "sshorch:blue") == args[args.index("--comment"):args.index("--comment") + 2]
    filter_jumps = [args for table, _, args in jump_rules(CLUSTER) if table == "filter" and args[-1] != C.forward]
    assert all(args[:4] == ("-m", "conntrack", "--ctstate", "NEW") for args in filter_jumps)
