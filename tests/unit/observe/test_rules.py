"""The rules fact: RULES_COMMAND's real output, parsed, and what reconcile makes of it.

The fixtures rules-*.txt are what `sh -c "$(rules_command(CLUSTER))"` printed inside a
throwaway network namespace (iptables v1.8.9, nf_tables backend) with a
private /run, at each step of this life cycle:

  rules-fresh.txt          nothing of ours yet
  rules-written.txt        the sync-rules action of a plan for node n1 run as
                           a node runs it (restore, jumps, sha + fingerprint files)
  rules-written-save.txt   SAVE_COMMAND's output at that point
  rules-flushed.txt        after a hand-made `iptables -t nat -F <web's service chain>`
  rules-repaired.txt       after the sync-rules action the next plan made of that
  rules-pushed.txt         after docker-like rules were inserted above our jumps
  rules-restore.txt        the restore text the first action uploaded
and, in a second namespace, of a node that an sshorch from before cluster scoping wrote:
  rules-legacy.txt         its rules (tests/unit/proxy/golden/legacy-restore.txt), jumps and state files
  rules-migrated.txt       after the sync-rules action the plan made of that

Recapture them as root with `.venv/bin/python -m tests.unit.observe.test_rules`.
Nothing is sent on any network: the namespace only has a loopback device, left down.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.plan.nodescript import render_step
from sshorch.plan.graph import build_graph, dependencies
from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.observe.facts import parse_gather_output, render_gather_script
from sshorch.forwarding import Forwarding
from sshorch.observe.rules import RulesState, parse_rules_state, rules_fact
from sshorch.plan.model import Action, Plan
from sshorch.plan.podbuild import NodeTarget
from sshorch.plan.reconcile import ClusterNode, ReconcileInput, reconcile
from sshorch.plan.services import Allocations, ServiceConfig
from sshorch.proxy.jumps import LEGACY_JUMPS
from sshorch.proxy.chains import cluster_chains
from sshorch.proxy.model import ServicePort
from sshorch.proxy.testing.restore import BUILTIN_CHAINS, parse_restore
from sshorch.proxy.state import fingerprint_command, rules_command, state_files
from sshorch.runtime import PortBinding
from tests.unit.proxy.saved import SAVE_COMMAND
from tests.unit.proxy.saved import gathered as gathered_from_save
from tests.unit.plan.helpers import CLUSTER, cluster_nodes, deployment, desired, node_observation, observed_pod

FIXTURES = Path(__file__).parent / "fixtures"
LEGACY = Path(__file__).parents[1] / "proxy" / "golden" / "legacy-restore.txt"
CHAINS = cluster_chains(CLUSTER)
RULES_COMMAND = rules_command(CLUSTER)
RULES_FACT = rules_fact(CLUSTER)
RULES_FILE = state_files(CLUSTER).rules
FINGERPRINT_COMMAND = fingerprint_command(CLUSTER)
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
HEX64 = re.compile(r"^[0-9a-f]{64}$")
NAMESPACE = "sshorch-rulestest"


def fixture(name: str) -> str:
    return (FIXTURES / f"rules-{name}.txt").read_text()


# --- the cluster the fixtures were captured for (sandbox addresses only) -------------------

ADDRESSES = {"n1": "198.18.0.2", "n2": "198.18.0.3", "n3": "198.18.0.4"}
CONTROLLER = "198.18.0.1"
CONFIG = ServiceConfig(cidr="198.19.0.0/16")
ALLOCATIONS = Allocations({"default/web": "198.19.0.10", "default/db": "198.19.0.20"}, {"default/web:80": 30080})
DESIRED = desired(
    deployment("web", replicas=3, ports=[8080]),
    {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]},
    },
    {  # selects nothing: its VIP rejects
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
        "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]},
    },
)


def _nodes() -> tuple[ClusterNode, ...]:
    return tuple(replace(n, target=NodeTarget(n.target.name, ADDRESSES[n.target.name], "podman")) for n in cluster_nodes())


def _web_pod(slot: int, node: str, ip: str = "") -> ObservedPod:
    pod = observed_pod(DESIRED, "web", slot, node, ports=[PortBinding(ADDRESSES[node], 20000 + slot, 8080)])
    return replace(pod, labels={**pod.labels, "app": "web"}, ip=ip)


def plan_for(n1_rules: RulesState | None) -> Plan:
    """The pass the fixtures were captured from; n1's rules state as given, the others unread."""
    pods = {"n1": [_web_pod(0, "n1", "10.88.0.5")], "n2": [_web_pod(1, "n2")], "n3": [_web_pod(2, "n3")]}
    observed = []
    for name in ("n1", "n2", "n3"):
        node = node_observation(name, pods[name])
        observed.append(replace(node, address=ADDRESSES[name], rules=n1_rules if name == "n1" else None))
    return reconcile(ReconcileInput(
        cluster=CLUSTER,
        desired=DESIRED,
        nodes=_nodes(),
        observed=Observed(tuple(observed)),
        dependencies=dependencies(build_graph(DESIRED)),
        services=CONFIG,
        allocations=ALLOCATIONS,
        controller_addresses=(CONTROLLER,),
    ))


def n1_action(plan: Plan) -> Action | None:
    found = [a for a in plan.actions if a.kind == "sync-rules" and a.node == "n1"]
    assert len(found) <= 1
    return found[0] if found else None


def declared_chains(restore: str) -> frozenset[tuple[str, str]]:
    return frozenset(
        (table, chain) for table, chains in parse_restore(restore).items() for chain in chains if chain not in BUILTIN_CHAINS
    )


# --- parsing the captured output ------------------------------------------------------------------


def test_a_fresh_node_has_nothing_of_ours() -> None:
    state = parse_rules_state(fixture("fresh"))
    assert state == RulesState(rendered="", stored="", live=EMPTY_SHA, chains=frozenset(),
                               forwarding=Forwarding(on=False, settable=True))
    assert not state.intact
    assert state.chain_names("nat") == frozenset()


def test_after_a_write_the_node_reports_the_rendered_hash_and_an_intact_fingerprint() -> None:
    state = parse_rules_state(fixture("written"))
    restore = fixture("restore")
    assert state.rendered == hashlib.sha256(restore.encode()).hexdigest()
    assert HEX64.match(state.stored) and state.stored == state.live != EMPTY_SHA
    assert state.intact
    assert state.chains == declared_chains(restore)
    for table in ("nat", "filter"):
        assert {CHAINS.services, CHAINS.canary} <= state.chain_names(table)
    assert not state.misplaced and not state.legacy


def test_a_hand_flushed_chain_changes_the_live_fingerprint_only() -> None:
    written, flushed = parse_rules_state(fixture("written")), parse_rules_state(fixture("flushed"))
    assert (flushed.rendered, flushed.stored, flushed.chains) == (written.rendered, written.stored, written.chains)
    assert flushed.live != written.live and HEX64.match(flushed.live)
    assert not flushed.intact


def test_the_repair_brings_back_exactly_what_was_written() -> None:
    assert parse_rules_state(fixture("repaired")) == parse_rules_state(fixture("written"))


def test_the_fact_wraps_the_command_and_parser() -> None:
    assert RULES_FACT.command == RULES_COMMAND and RULES_FACT.parse is parse_rules_state
    # One iptables-save per table and gather: the fingerprint and the chain list share it.
    assert RULES_COMMAND.count("iptables-save -t nat") == 1


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("", RulesState("", "", "", frozenset())),
        ("rendered\nstored\nlive\n", RulesState("", "", "", frozenset())),
        ("rendered abc\nstored def\nlive def\n", RulesState("abc", "def", "def", frozenset())),
        ("  rendered abc  \r\nstored def\r\nlive def\r\n", RulesState("abc", "def", "def", frozenset())),
        (
            "rendered a\nstored b\nlive b\n*nat\n:SSHORCH-SERVICES\n:FOREIGN\n*filter\n:SSHORCH-SERVICES\n:SSHORCH-HOSTPORTS\n",
            RulesState("a", "b", "b", frozenset({("nat", "SSHORCH-SERVICES"), ("filter", "SSHORCH-SERVICES"), ("filter", "SSHORCH-HOSTPORTS")})),
        ),
        (
            "rendered a\nstored b\nlive b\n*nat\nmisplaced PREROUTING\n*filter\nmisplaced FORWARD\nmisplaced INPUT\n",
            RulesState("a", "b", "b", frozenset(), frozenset({("nat", "PREROUTING"), ("filter", "FORWARD"), ("filter", "INPUT")})),
        ),
    ],
)
def test_parse_rules_state_tables(output: str, expected: RulesState) -> None:
    assert parse_rules_state(output) == expected


@pytest.mark.parametrize(
    ("stored", "live", "intact"),
    [("", "", False), ("", EMPTY_SHA, False), ("a" * 64, "a" * 64, True), ("a" * 64, "b" * 64, False)],
)
def test_intact_needs_a_stored_fingerprint_equal_to_the_live_one(stored: str, live: str, intact: bool) -> None:
    assert RulesState("x", stored, live, frozenset()).intact is intact


# --- what reconcile makes of it -------------------------------------------------------------------


def test_the_restore_fixture_is_what_reconcile_renders_for_a_fresh_node() -> None:
    action = n1_action(plan_for(parse_rules_state(fixture("fresh"))))
    assert action is not None and action.reason == "service rules changed"
    assert action.files[0].path == RULES_FILE
    assert action.files[0].data().decode() == fixture("restore"), (
        "render_restore changed since the fixtures were captured: recapture them (see the module docstring)"
    )


def test_a_node_as_written_needs_no_action() -> None:
    assert n1_action(plan_for(parse_rules_state(fixture("written")))) is None
    assert n1_action(plan_for(parse_rules_state(fixture("repaired")))) is None


def test_a_node_with_a_flushed_chain_gets_everything_rewritten_as_changed_by_hand() -> None:
    action = n1_action(plan_for(parse_rules_state(fixture("flushed"))))
    assert action is not None and action.reason == "rules changed by hand"
    assert action.files[0].data().decode() == fixture("restore")  # all chains still rendered: none deleted


def test_the_flush_in_the_fixture_is_of_webs_service_chain() -> None:
    web = ServicePort("default", "web", "80", "tcp", "198.19.0.10", 80, 30080, ())
    written = [line for line in fixture("written-save").splitlines() if line.startswith(f"-A {CHAINS.service(web)} ")]
    assert len(written) == 4 and written[0].endswith(f"-j {CHAINS.mark_masq}")  # the mark, then one per endpoint


# --- the fingerprint --------------------------------------------------------------------------------


def _fake_iptables_save(directory: Path, save: str) -> dict[str, str]:
    """An environment whose `iptables-save -t TABLE` prints that table's part of SAVE_COMMAND output `save`."""
    lines = save.splitlines(keepends=True)
    split = next(i for i, line in enumerate(lines) if line.startswith("*filter"))
    if split > 0 and lines[split - 1].startswith("# Generated"):
        split -= 1
    (directory / "nat.txt").write_text("".join(lines[:split]))
    (directory / "filter.txt").write_text("".join(lines[split:]))
    script = directory / "iptables-save"
    script.write_text(f'#!/bin/sh\n[ "$1" = -t ] || exit 2\nexec cat "{directory}/$2.txt"\n')
    script.chmod(0o755)
    return {"PATH": f"{directory}:/usr/bin:/bin", "LC_ALL": "C"}


@pytest.mark.skipif(not all(shutil.which(t) for t in ("sh", "grep", "sed", "sha256sum", "cut")), reason="needs sh and coreutils")
def test_the_node_side_fingerprint_command_ignores_chain_counters(tmp_path: Path) -> None:
    save = fixture("written-save")
    live = parse_rules_state(fixture("written")).live
    env = _fake_iptables_save(tmp_path, save)
    plain = subprocess.run(["sh", "-c", FINGERPRINT_COMMAND], capture_output=True, text=True, env=env, check=True)
    assert plain.stdout.strip() == live
    counted = re.sub(r"\[0:0\]$", "[48213:2903817]", save, flags=re.MULTILINE)
    env = _fake_iptables_save(tmp_path, counted)
    busy = subprocess.run(["sh", "-c", FINGERPRINT_COMMAND], capture_output=True, text=True, env=env, check=True)
    assert busy.stdout.strip() == live
    dropped = "\n".join(line for line in save.splitlines() if "MASQUERADE" not in line) + "\n"
    env = _fake_iptables_save(tmp_path, dropped)
    changed = subprocess.run(["sh", "-c", FINGERPRINT_COMMAND], capture_output=True, text=True, env=env, check=True)
    assert changed.stdout.strip() != live


# --- our jumps pushed down, and a node of an earlier sshorch -------------------------------------------


def test_jumps_pushed_below_a_foreign_rule_are_noticed_and_moved_back() -> None:
    written, pushed = parse_rules_state(fixture("repaired")), parse_rules_state(fixture("pushed"))
    assert pushed.misplaced == {("filter", "FORWARD"), ("nat", "PREROUTING")}
    assert pushed.intact and (pushed.rendered, pushed.live) == (written.rendered, written.live)
    action = n1_action(plan_for(pushed))
    assert action is not None and action.reason == "other rules above ours"
    assert action.files[0].data().decode() == fixture("restore")


def test_a_node_of_an_earlier_sshorch_is_migrated_in_one_action() -> None:
    legacy = parse_rules_state(fixture("legacy"))
    assert legacy.legacy and legacy.rendered == legacy.stored == ""  # the old state files are elsewhere
    assert {chain for _, chain in legacy.chains} >= {"SSHORCH-SERVICES", "SSHORCH-HOSTPORTS", "SSHORCH-CANARY"}
    action = n1_action(plan_for(legacy))
    assert action is not None and action.reason == "unscoped rules of an earlier sshorch"
    assert [f.path for f in action.files] == [RULES_FILE, state_files(CLUSTER).legacy]
    assert action.files[0].data().decode() == fixture("restore")
    # Once migrated, the node holds what a fresh one would, and needs nothing more.
    migrated = parse_rules_state(fixture("migrated"))
    assert (migrated.rendered, migrated.live, migrated.chains) == (
        parse_rules_state(fixture("written")).rendered, parse_rules_state(fixture("written")).live,
        parse_rules_state(fixture("written")).chains,
    )
    assert n1_action(plan_for(migrated)) is None


# --- capture (root): the same life cycle on the real iptables ---------------------------------------

# What docker does when it starts: its jumps at the top of FORWARD and nat PREROUTING.
PUSH_DOWN = (
    "iptables -w -N DOCKER-USER && iptables -w -I FORWARD 1 -j DOCKER-USER && "
    "iptables -w -t nat -N DOCKER && iptables -w -t nat -I PREROUTING 1 -m addrtype --dst-type LOCAL -j DOCKER"
)

Runner = Callable[[str], str]


def _namespace_runner(name: str, run_dir: Path) -> Runner:
    """Run a shell script inside network namespace `name` with `run_dir` as its private /run."""

    def run(script: str) -> str:
        wrapper = 'mount --bind "$1" /run && exec sh -c "$2"'
        result = subprocess.run(
            ["ip", "netns", "exec", name, "unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper, "_", str(run_dir), script],
            capture_output=True, text=True, timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"in {name}: {script[:80]!r} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    return run


def _run_action(run: Runner, run_dir: Path, action: Action) -> None:
    """What a node does with a sync-rules action: the uploaded files, then the steps joined with &&."""
    for upload in action.files:
        target = run_dir / upload.path.removeprefix("/run/")
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        target.write_bytes(upload.data())
        target.chmod(upload.mode)
    run(" && ".join(render_step(step) for step in action.steps))


def capture_life_cycle(namespace: str) -> dict[str, str]:
    """Create `namespace`, run the life cycle the fixtures show, delete it; returns name -> output."""
    created = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
    if created.returncode != 0:
        raise RuntimeError(f"cannot create network namespace {namespace}: {created.stderr.strip()}")
    try:
        with tempfile.TemporaryDirectory(prefix="sshorch-rulestest-") as tmp:
            run_dir = Path(tmp)
            run = _namespace_runner(namespace, run_dir)
            out = {"fresh": run(RULES_COMMAND)}
            first = n1_action(plan_for(parse_rules_state(out["fresh"])))
            assert first is not None
            out["restore"] = first.files[0].data().decode()
            _run_action(run, run_dir, first)
            out["written"] = run(RULES_COMMAND)
            out["written-save"] = run(SAVE_COMMAND)
            web = ServicePort("default", "web", "80", "tcp", "198.19.0.10", 80, 30080, ())
            run(f"iptables -w -t nat -F {CHAINS.service(web)}")
            out["flushed"] = run(RULES_COMMAND)
            repair = n1_action(plan_for(parse_rules_state(out["flushed"])))
            assert repair is not None
            _run_action(run, run_dir, repair)
            out["repaired"] = run(RULES_COMMAND)
            out["gathered"] = run(render_gather_script((RULES_FACT,)))
            run(PUSH_DOWN)
            out["pushed"] = run(RULES_COMMAND)
            return out
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def capture_legacy(namespace: str) -> dict[str, str]:
    """A node as an sshorch from before cluster scoping left it, gathered, then migrated and gathered again."""
    created = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
    if created.returncode != 0:
        raise RuntimeError(f"cannot create network namespace {namespace}: {created.stderr.strip()}")
    try:
        with tempfile.TemporaryDirectory(prefix="sshorch-rulestest-") as tmp:
            run_dir = Path(tmp)
            run = _namespace_runner(namespace, run_dir)
            (run_dir / "legacy.rules").write_text(LEGACY.read_text())
            jumps = " && ".join(f"iptables -w -t {t} -I {c} 1 {' '.join(a)}" for t, c, a in reversed(LEGACY_JUMPS))
            run(f"iptables-restore -w --noflush /run/legacy.rules && {jumps} && mkdir -p /run/sshorch && "
                "for f in rules sha fingerprint; do echo old > /run/sshorch/iptables.$f; done")
            out = {"legacy": run(RULES_COMMAND)}
            action = n1_action(plan_for(parse_rules_state(out["legacy"])))
            assert action is not None
            _run_action(run, run_dir, action)
            out["migrated"] = run(RULES_COMMAND)
            return out
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def _can_capture() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("ip", "unshare", "iptables", "iptables-restore", "iptables-save"))


@pytest.fixture
def live() -> Iterator[dict[str, str]]:
    if not _can_capture():
        pytest.skip("needs root, iproute2, util-linux unshare and iptables")
    out = capture_life_cycle(f"{NAMESPACE}-{os.getpid()}")
    yield {**out, **capture_legacy(f"{NAMESPACE}-legacy-{os.getpid()}")}


def test_the_life_cycle_on_this_machines_iptables(live: dict[str, str], tmp_path: Path) -> None:
    fresh, written, flushed, repaired = (parse_rules_state(live[k]) for k in ("fresh", "written", "flushed", "repaired"))
    # A new network namespace forwards nothing; the write turned forwarding on.
    assert fresh == RulesState("", "", EMPTY_SHA, frozenset(), forwarding=Forwarding(on=False, settable=True))
    assert written.forwarding == Forwarding(on=True, settable=True)
    assert written.intact and written.rendered == hashlib.sha256(live["restore"].encode()).hexdigest()
    assert written.chains == declared_chains(live["restore"])
    assert not flushed.intact and flushed.stored == written.stored
    assert repaired == written
    assert parse_rules_state(live["pushed"]).misplaced and not parse_rules_state(live["migrated"]).legacy
    assert gathered_from_save(tmp_path, live["written-save"], CLUSTER).live == written.live
    # Through the gather's framing, as the controller reads it.
    gathered = parse_gather_output((RULES_FACT,), live["gathered"])
    assert gathered.errors == {} and gathered.values["rules"] == repaired


def test_the_fixtures_match_this_machines_iptables(live: dict[str, str], tmp_path: Path) -> None:
    """Same iptables as at capture time: the same bytes. Skipped elsewhere."""
    version = subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout
    if "v1.8.9 (nf_tables)" not in version:
        pytest.skip(f"fixtures were captured with iptables v1.8.9 (nf_tables), this is {version.strip()}")
    for name in ("fresh", "written", "flushed", "repaired", "pushed", "restore", "legacy", "migrated"):
        assert live[name] == fixture(name), name
    assert gathered_from_save(tmp_path, live["written-save"], CLUSTER) == gathered_from_save(tmp_path, fixture("written-save"), CLUSTER)


def main() -> None:
    if not _can_capture():
        raise SystemExit("run as root with iproute2, unshare and iptables")
    out = {**capture_life_cycle(NAMESPACE), **capture_legacy(f"{NAMESPACE}-legacy")}
    for name in ("fresh", "written", "written-save", "flushed", "repaired", "pushed", "restore", "legacy", "migrated"):
        path = FIXTURES / f"rules-{name}.txt"
        path.write_text(out[name])
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
