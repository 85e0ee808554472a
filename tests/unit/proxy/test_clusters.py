"""Clusters apart on a shared node, and the migration from unscoped rules, walked packet by packet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.proxy import (
    LEGACY_JUMPS,
    Endpoint,
    JumpRule,
    build_rules_write,
    cluster_chains,
    jump_rules,
    render_restore,
    state_files,
)
from sshorch.proxy.testing.restore import BUILTIN_CHAINS, parse_restore
from sshorch.proxy.testing.walk import Landing, Packet, walk_packet
from tests.unit.proxy.samples import (
    CART, CLUSTER, CONTROLLER, DB, DNS, LOCAL_POD, NODE, OTHER_CLUSTER, OTHER_NODE, SERVICES, WEB, node_rules,
)

# What sshorch before cluster scoping rendered for node_rules(*SERVICES): its render_restore,
# kept as it was (the same as golden/restore.txt then, without the stale chain).
LEGACY = (Path(__file__).parent / "golden" / "legacy-restore.txt").read_text()
NEW = render_restore(node_rules(*SERVICES))
OUTSIDER = "203.0.113.9"


def arriving(dst: str, dport: int, src: str = OUTSIDER, proto: str = "tcp", local: bool = False) -> Packet:
    return Packet(src, dst, proto, dport, dst_is_local=local, hook="PREROUTING")  # type: ignore[arg-type]


def host_port(src: str, port: int = 20005) -> Packet:
    return Packet(src, LOCAL_POD, "tcp", 8080, dst_is_local=False, hook="PREROUTING", orig_dst=NODE, orig_dport=port)


# Every kind of packet the unscoped rules handled: VIPs (tcp and udp), node ports, a service
# without endpoints, pod host ports from outside and inside the cluster, from a pod, from the
# node itself, and traffic that is not for a service.
PACKETS = [
    *(arriving(port.cluster_ip, port.port, proto=port.protocol) for port in SERVICES),
    arriving("198.19.0.10", 80, src=LOCAL_POD),
    arriving(NODE, 30080, local=True),
    arriving(NODE, 30081, local=True),
    arriving("198.19.0.20", 8080),
    host_port(OUTSIDER),
    host_port(CONTROLLER),
    host_port(OTHER_NODE),
    Packet(NODE, "198.19.0.10", "tcp", 80, dst_is_local=False, hook="OUTPUT"),
    Packet(NODE, "198.19.0.20", "tcp", 8080, dst_is_local=False, hook="OUTPUT"),
    arriving("198.19.0.10", 443),
    arriving(NODE, 22, src=CONTROLLER, local=True),
    arriving(OTHER_NODE, 30080),
]


def landings(text: str, jumps: list[JumpRule], packet: Packet) -> dict[tuple[str, str, bool], float]:
    return {(l.kind, l.target, l.masquerade): round(l.probability, 9) for l in walk_packet(text, packet, jumps)}


# --- the migration --------------------------------------------------------------------------------------

NEW_JUMPS = jump_rules(CLUSTER)
OLD_JUMPS = list(LEGACY_JUMPS)
# The node at each point of a migrating write (proxy.sync): restore, jumps, old chains removed.
STAGES = {
    "before": (LEGACY, OLD_JUMPS),
    "scoped chains restored": (LEGACY + NEW, OLD_JUMPS),
    # The jump step swaps the jumps in one restore; were it two commands, this would be between them.
    "both jumps present": (LEGACY + NEW, NEW_JUMPS + OLD_JUMPS),
    "old jumps removed": (LEGACY + NEW, NEW_JUMPS),
    "after": (NEW, NEW_JUMPS),
}


def test_the_legacy_fixture_is_unscoped_and_the_new_rules_are_not() -> None:
    legacy = {name for chains in parse_restore(LEGACY).values() for name in chains if name not in BUILTIN_CHAINS}
    assert "SSHORCH-SERVICES" in legacy and all(not cluster_chains(CLUSTER).owns(name) for name in legacy)
    assert "SSHORCH-SERVICES" not in NEW


@pytest.mark.parametrize("packet", PACKETS, ids=repr)
def test_every_packet_lands_the_same_before_during_and_after_a_migration(packet: Packet) -> None:
    expected = landings(*STAGES["before"], packet)
    assert sum(expected.values()) == pytest.approx(1)
    for stage, (text, jumps) in STAGES.items():
        assert landings(text, jumps, packet) == expected, stage


def test_the_migrating_write_restores_then_swaps_jumps_then_removes_the_old_chains() -> None:
    found = {
        "nat": {"SSHORCH-SERVICES", "SSHORCH-SVC-GG6TP4UGIVMDRQT7", "SSHORCH-CANARY"},
        "filter": {"SSHORCH-SERVICES", "SSHORCH-HOSTPORTS"},
    }
    write = build_rules_write(node_rules(*SERVICES), found)
    files = state_files(CLUSTER)
    scripts = [" ".join(step.argv) for step in write.steps]
    restore, jumps, removal, remove_files, record = (
        scripts.index(f"iptables-restore -w --noflush {files.rules}"),
        next(i for i, s in enumerate(scripts) if "-I PREROUTING 1" in s),
        scripts.index(f"iptables-restore -w --noflush {files.legacy}"),
        next(i for i, s in enumerate(scripts) if s.startswith("rm -f")),
        next(i for i, s in enumerate(scripts) if files.fingerprint in s),
    )
    assert restore < jumps < removal < remove_files < record == len(scripts) - 1
    assert "-D PREROUTING -m comment --comment sshorch -j SSHORCH-SERVICES" in scripts[jumps]
    assert "/run/sshorch/iptables.rules" in scripts[remove_files] and files.legacy in scripts[remove_files]
    # The main restore does not touch the old chains: their jumps are still in place when it runs.
    main, legacy = (f.data().decode() for f in write.files)
    assert "SSHORCH-SERVICES" not in main.replace(cluster_chains(CLUSTER).services, "")
    assert legacy == (
        "*nat\n:SSHORCH-CANARY - [0:0]\n:SSHORCH-SERVICES - [0:0]\n:SSHORCH-SVC-GG6TP4UGIVMDRQT7 - [0:0]\n"
        "-X SSHORCH-CANARY\n-X SSHORCH-SERVICES\n-X SSHORCH-SVC-GG6TP4UGIVMDRQT7\nCOMMIT\n"
        "*filter\n:SSHORCH-HOSTPORTS - [0:0]\n:SSHORCH-SERVICES - [0:0]\n"
        "-X SSHORCH-HOSTPORTS\n-X SSHORCH-SERVICES\nCOMMIT\n"
    )


def test_a_write_without_old_chains_is_no_migration() -> None:
    found = {"nat": {cluster_chains(CLUSTER).services, cluster_chains(OTHER_CLUSTER).services}}
    write = build_rules_write(node_rules(*SERVICES), found)
    assert [f.path for f in write.files] == [state_files(CLUSTER).rules]
    assert not any("--comment sshorch -j" in " ".join(step.argv) for step in write.steps)


# --- two clusters on one node ------------------------------------------------------------------------

# The other cluster runs its own "shop/web" (same names, its own VIP and pods) and node port 30090.
GREEN_WEB = replace(WEB, cluster_ip="198.19.1.10", node_port=30090, endpoints=(Endpoint("198.18.0.3", 21001, False),))
GREEN_DB = replace(DB, cluster_ip="198.19.1.30")
BLUE_TEXT = render_restore(node_rules(*SERVICES))
GREEN_TEXT = render_restore(node_rules(GREEN_WEB, GREEN_DB, cluster=OTHER_CLUSTER))
GREEN_JUMPS = jump_rules(OTHER_CLUSTER)


def test_clusters_share_no_chain_and_neither_write_names_the_others() -> None:
    def declared(text: str) -> dict[str, set[str]]:
        return {table: {name for name in chains if name not in BUILTIN_CHAINS} for table, chains in parse_restore(text).items()}

    blue, green = declared(BLUE_TEXT), declared(GREEN_TEXT)
    assert blue["nat"] and green["nat"] and not (blue["nat"] | blue["filter"]) & (green["nat"] | green["filter"])
    # Each write, told of every chain on the node, deletes none of the other's.
    both = {table: blue[table] | green[table] for table in ("nat", "filter")}
    assert "\n-X " not in render_restore(node_rules(*SERVICES), both)
    assert "\n-X " not in render_restore(node_rules(GREEN_WEB, GREEN_DB, cluster=OTHER_CLUSTER), both)
    write = build_rules_write(node_rules(*SERVICES), both)
    named = " ".join(" ".join(step.argv) for step in write.steps) + "".join(f.data().decode() for f in write.files)
    assert cluster_chains(OTHER_CLUSTER).prefix not in named and OTHER_CLUSTER not in named


@pytest.mark.parametrize("order", ["blue on top", "green on top"])
@pytest.mark.parametrize(
    "packet",
    [*PACKETS, arriving("198.19.1.10", 80), arriving("198.19.1.30", 5432), arriving(NODE, 30090, local=True)],
    ids=repr,
)
def test_each_clusters_packets_land_as_with_its_rules_alone(order: str, packet: Packet) -> None:
    jumps = NEW_JUMPS + GREEN_JUMPS if order == "blue on top" else GREEN_JUMPS + NEW_JUMPS
    shared = landings(BLUE_TEXT + GREEN_TEXT, jumps, packet)
    blue, green = landings(BLUE_TEXT, NEW_JUMPS, packet), landings(GREEN_TEXT, GREEN_JUMPS, packet)
    untouched = {("ACCEPT", f"{packet.dst}:{packet.dport}", False): 1.0}
    if packet.dst.startswith("198.19.1.") or packet.dport == 30090:
        assert blue == untouched and shared == green
    elif green == untouched:
        assert shared == blue
    else:  # both clusters guard it (a host port), and agree
        assert shared == blue == green


def test_a_clusters_host_port_guard_keeps_to_its_own_sources() -> None:
    green = landings(GREEN_TEXT, GREEN_JUMPS, host_port(OTHER_NODE))
    assert green == {("DNAT", f"{LOCAL_POD}:8080", False): 1.0}
    assert landings(GREEN_TEXT, GREEN_JUMPS, host_port(OUTSIDER)) == {("REJECT", f"{LOCAL_POD}:8080", False): 1.0}


def test_landing_is_the_walkers() -> None:
    # The helper above keeps what the walker says; a quick check it says it.
    assert walk_packet(BLUE_TEXT, arriving("198.19.0.53", 53, proto="udp"), NEW_JUMPS) == (
        Landing("DNAT", "198.18.0.3:20053", 1.0, True),
    )
    assert DNS.cluster_ip == "198.19.0.53" and CART.endpoints == ()
