"""The rendered text and the write's steps against the real iptables, in a throwaway network namespace.

Runs only as root with iptables, iproute2 and util-linux unshare present. No packet
is sent: the namespace has only its loopback device, and its scripts see a private
/run; both are deleted whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.plan.nodescript import render_step
from sshorch.observe.rules import RulesState, parse_rules_state
from sshorch.proxy import (
    LEGACY_JUMPS,
    NodeRules,
    build_rules_write,
    cluster_chains,
    render_restore,
    rules_command,
)
from sshorch.proxy.testing.walk import Packet, walk_packet
from tests.unit.proxy.saved import SAVE_COMMAND, has_canary
from tests.unit.proxy.samples import CART, CLUSTER, CONTROLLER, DB, DNS, LOCAL_POD, NODE, OTHER_CLUSTER, OTHER_NODE, SERVICES, WEB, node_rules

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0
    or not all(shutil.which(tool) for tool in ("ip", "unshare", "iptables", "iptables-restore", "iptables-save")),
    reason="needs root, iproute2, unshare and iptables",
)

BLUE = cluster_chains(CLUSTER)
GREEN = cluster_chains(OTHER_CLUSTER)
LEGACY = (Path(__file__).parent / "golden" / "legacy-restore.txt").read_text()


class Node:
    """A network namespace whose scripts see `run_dir` as a private /run, as a node's /run."""

    def __init__(self, name: str, run_dir: Path) -> None:
        self.name = name
        self.run_dir = run_dir

    def sh(self, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        wrapper = 'mount --bind "$1" /run && exec sh -c "$2"'
        argv = ["ip", "netns", "exec", self.name, "unshare", "--mount", "--propagation", "private",
                "sh", "-c", wrapper, "_", str(self.run_dir), script]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"{script[:120]!r} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def restore(self, text: str) -> None:
        (self.run_dir / "test.rules").write_text(text)
        self.sh("iptables-restore -w --noflush /run/test.rules")

    def save(self) -> str:
        return self.sh(SAVE_COMMAND).stdout

    def gather(self, cluster: str = CLUSTER) -> RulesState:
        return parse_rules_state(self.sh(rules_command(cluster)).stdout)

    def write(self, rules: NodeRules, found: RulesState | None = None) -> None:
        """What a node does with a sync-rules action: the uploaded files, then the steps joined with &&."""
        write = build_rules_write(rules, found.by_table() if found else None)
        for upload in write.files:
            target = self.run_dir / upload.path.removeprefix("/run/")
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            target.write_bytes(upload.data())
        self.sh(" && ".join(render_step(step) for step in write.steps))

    def sync(self, rules: NodeRules, cluster: str = CLUSTER) -> str:
        """Gather, write as reconcile would, read back."""
        self.write(rules, self.gather(rules.cluster))
        return self.save()


@pytest.fixture
def node() -> Iterator[Node]:
    name = f"sshorch-proxytest-{os.getpid()}"
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        pytest.skip(f"cannot create network namespace {name}: {created.stderr.strip()}")
    try:
        with tempfile.TemporaryDirectory(prefix="sshorch-proxytest-") as run_dir:
            yield Node(name, Path(run_dir))
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


FOREIGN = (
    "iptables -w -t nat -N FOREIGN && iptables -w -t nat -A FOREIGN -p tcp --dport 9 -j RETURN && "
    "iptables -w -t nat -A PREROUTING -j FOREIGN && iptables -w -t filter -A INPUT -p tcp --dport 9 -j ACCEPT"
)
FOREIGN_LINES = [
    ":FOREIGN - [0:0]",
    "-A PREROUTING -j FOREIGN",
    "-A FOREIGN -p tcp -m tcp --dport 9 -j RETURN",
    "-A INPUT -p tcp -m tcp --dport 9 -j ACCEPT",
]


def our_rules(text: str, prefix: str = BLUE.prefix) -> list[str]:
    """The cluster's -A lines in its chains, probabilities cut to what survives iptables' 32-bit fixed point."""
    rules = [line for line in text.splitlines() if line.startswith(f"-A {prefix}")]
    return sorted(re.sub(r"--probability (\S+)", lambda m: f"--probability {float(m[1]):.9f}", line) for line in rules)


def builtin_rules(text: str, table: str, chain: str) -> list[str]:
    section = text.split(f"*{table}\n", 1)[1].split("COMMIT", 1)[0]
    return [line for line in section.splitlines() if line.startswith(f"-A {chain} ")]


def test_real_iptables_restore_accepts_replaces_and_cleans_up(node: Node) -> None:
    node.sh(FOREIGN)
    first_text = render_restore(node_rules(*SERVICES))
    first = node.sync(node_rules(*SERVICES))
    state = node.gather()
    assert has_canary(state, CLUSTER) and not state.misplaced
    assert {BLUE.service(WEB), BLUE.service(DB), BLUE.service(DNS)} <= state.chain_names("nat")
    assert our_rules(first) == our_rules(first_text)
    assert state.intact and not state.misplaced and not state.legacy

    # A second write moves the jumps but adds none.
    again = node.sync(node_rules(*SERVICES))
    assert node.gather().live == state.live
    assert sum(1 for line in again.splitlines() if '--comment "sshorch:blue"' in line) == 10

    # WEB and DB go away: their chains are deleted, the rest of ours rewritten.
    second = node.sync(node_rules(DNS, CART))
    after = node.gather()
    gone = {BLUE.service(WEB), BLUE.service(DB)} | {BLUE.endpoint(DB, endpoint) for endpoint in DB.endpoints}
    assert not gone & {name for _, name in after.chains}
    assert BLUE.service(DNS) in after.chain_names("nat")
    assert has_canary(after, CLUSTER) and after.live != state.live
    assert our_rules(second) == our_rules(render_restore(node_rules(DNS, CART)))
    for line in FOREIGN_LINES:
        assert line in second.splitlines()
    # Our jumps sit above the foreign one in PREROUTING.
    assert builtin_rules(second, "nat", "PREROUTING")[-1] == "-A PREROUTING -j FOREIGN"


@pytest.mark.parametrize("endpoint_chains_up_to", [1000, 0], ids=["endpoint chains", "direct DNAT"])
def test_real_iptables_restore_refuses_nothing_in_a_large_render(node: Node, endpoint_chains_up_to: int) -> None:
    ports = [
        replace(DB, service=f"db{i}", cluster_ip=f"198.19.{i // 200}.{i % 200 + 1}", node_port=30000 + i)
        for i in range(300)
    ]
    text = render_restore(node_rules(*ports), endpoint_chains_up_to=endpoint_chains_up_to)
    node.restore(text)
    assert our_rules(node.save()) == our_rules(text)


def test_a_node_growing_past_the_endpoint_chain_limit_loses_its_endpoint_chains(node: Node) -> None:
    node.sync(node_rules(*SERVICES))
    small = node.gather()
    assert any(name.startswith(f"{BLUE.prefix}SEP-") for name in small.chain_names("nat"))
    large_text = render_restore(node_rules(*SERVICES), small.by_table(), endpoint_chains_up_to=0)
    node.restore(large_text)
    large = node.save()
    assert not any(name.startswith(f"{BLUE.prefix}SEP-") for _, name in node.gather().chains)
    assert our_rules(large) == our_rules(large_text)


# --- jumps pushed down by others ---------------------------------------------------------------------------


def test_jumps_pushed_down_by_a_foreign_rule_are_noticed_and_moved_back_to_the_top(node: Node) -> None:
    node.sync(node_rules(*SERVICES))
    written = node.gather()
    # What docker does when it starts: its chains' jumps at the top of FORWARD and PREROUTING.
    node.sh(
        "iptables -w -N DOCKER-USER && iptables -w -I FORWARD 1 -j DOCKER-USER && "
        "iptables -w -t nat -N DOCKER && iptables -w -t nat -I PREROUTING 1 -m addrtype --dst-type LOCAL -j DOCKER"
    )
    pushed = node.gather()
    assert pushed.misplaced == {("filter", "FORWARD"), ("nat", "PREROUTING")}
    assert pushed.intact and pushed.live == written.live  # the lines of ours are the same: only their place changed
    after = node.sync(node_rules(*SERVICES))
    assert node.gather().misplaced == frozenset() and node.gather().intact
    forward = builtin_rules(after, "filter", "FORWARD")
    assert forward[-1] == "-A FORWARD -j DOCKER-USER" and all("sshorch:blue" in line for line in forward[:-1])
    assert builtin_rules(after, "nat", "PREROUTING")[-1] == "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"


# --- two clusters on one node ---------------------------------------------------------------------------------

GREEN_RULES = node_rules(replace(WEB, cluster_ip="198.19.1.10", node_port=30090), cluster=OTHER_CLUSTER)


def test_two_clusters_on_one_node_keep_apart(node: Node) -> None:
    node.sh(FOREIGN)
    node.sync(node_rules(*SERVICES))
    blue = node.gather()
    node.sync(GREEN_RULES)
    green = node.gather(OTHER_CLUSTER)
    # Green's write (its jumps now above blue's) leaves blue's rules as blue wrote them.
    assert node.gather() == blue and blue.intact and not blue.misplaced
    assert green.intact and not green.misplaced and not green.chains & blue.chains
    # Blue changes its rules: green's stay as green wrote them, and neither sees the other as damage.
    before = node.save()
    node.sync(node_rules(DNS, CART))
    after = node.save()
    assert our_rules(after, GREEN.prefix) == our_rules(before, GREEN.prefix) != []
    assert node.gather(OTHER_CLUSTER) == green
    assert node.gather().intact and node.gather().rendered != blue.rendered
    assert [line for line in after.splitlines() if "sshorch:green" in line] == [
        line for line in before.splitlines() if "sshorch:green" in line
    ]
    for line in FOREIGN_LINES:
        assert line in after.splitlines()
    # State files side by side.
    assert sorted(p.name for p in (node.run_dir / "sshorch" / "rules").iterdir()) == [
        "blue.fingerprint", "blue.rules", "blue.sha", "green.fingerprint", "green.rules", "green.sha",
    ]


# --- migration from unscoped rules ----------------------------------------------------------------------------


def legacy_node(node: Node) -> None:
    """What sshorch before cluster scoping left on a node: its rules, its jumps, its state files."""
    node.sh(FOREIGN)
    node.restore(LEGACY)
    for table, chain, args in reversed(LEGACY_JUMPS):
        node.sh(f"iptables -w -t {table} -I {chain} 1 {' '.join(args)}")
    node.sh("mkdir -p /run/sshorch && for f in rules sha fingerprint; do echo old > /run/sshorch/iptables.$f; done")


PACKETS = [
    Packet("203.0.113.9", "198.19.0.10", "tcp", 80, dst_is_local=False, hook="PREROUTING"),
    Packet("203.0.113.9", "198.19.0.53", "udp", 53, dst_is_local=False, hook="PREROUTING"),
    Packet("203.0.113.9", "198.19.0.30", "tcp", 5432, dst_is_local=False, hook="PREROUTING"),
    Packet("203.0.113.9", NODE, "tcp", 30080, dst_is_local=True, hook="PREROUTING"),
    Packet("203.0.113.9", "198.19.0.20", "tcp", 8080, dst_is_local=False, hook="PREROUTING"),
    Packet(NODE, "198.19.0.10", "tcp", 80, dst_is_local=False, hook="OUTPUT"),
    Packet("203.0.113.9", "198.19.0.10", "tcp", 443, dst_is_local=False, hook="PREROUTING"),
    *(Packet(src, LOCAL_POD, "tcp", 8080, dst_is_local=False, hook="PREROUTING", orig_dst=NODE, orig_dport=20005)
      for src in ("203.0.113.9", CONTROLLER, OTHER_NODE)),
]


def landings(saved: str, packet: Packet) -> dict[tuple[str, str, bool], float]:
    """Where the packet lands under the node's rules as iptables-save printed them (jumps included)."""
    return {(l.kind, l.target, l.masquerade): round(l.probability, 6) for l in walk_packet(saved, packet, [])}


def test_a_node_with_unscoped_rules_migrates_in_one_write_and_every_packet_lands_the_same_throughout(node: Node) -> None:
    legacy_node(node)
    before = node.save()
    state = node.gather()
    assert state.legacy and not state.intact and {c for _, c in state.chains} >= {"SSHORCH-SERVICES", "SSHORCH-CANARY"}
    expected = {packet: landings(before, packet) for packet in PACKETS}
    assert {kind for packet in PACKETS for kind, _, _ in expected[packet]} == {"DNAT", "REJECT", "ACCEPT"}

    # The write's steps one by one, the node's rules walked after each.
    write = build_rules_write(node_rules(*SERVICES), state.by_table())
    for upload in write.files:
        target = node.run_dir / upload.path.removeprefix("/run/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(upload.data())
    for step in write.steps:
        node.sh(render_step(step))
        now = node.save()
        for packet in PACKETS:
            assert landings(now, packet) == expected[packet], (step.argv[:3], packet)

    after = node.save()
    assert not any(re.search(r"SSHORCH-(SERVICES|SVC-|SEP-|HOSTPORTS|CANARY)", line) for line in after.splitlines())
    assert "--comment sshorch " not in after and ' --comment "sshorch:blue"' in after
    for line in FOREIGN_LINES:
        assert line in after.splitlines()
    migrated = node.gather()
    assert migrated.intact and not migrated.legacy and not migrated.misplaced
    assert not node.sh("ls /run/sshorch/iptables.* 2>/dev/null", check=False).stdout
    assert sorted(p.name for p in (node.run_dir / "sshorch" / "rules").iterdir()) == ["blue.fingerprint", "blue.rules", "blue.sha"]
