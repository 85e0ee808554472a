"""The rules fact: RULES_COMMAND's real output, parsed, and what reconcile makes of it.

The fixtures rules-*.txt are what `sh -c "$RULES_COMMAND"` printed inside a
throwaway network namespace (iptables v1.8.9, nf_tables backend) with a
private /run, at each step of this life cycle:

  rules-fresh.txt          nothing of ours yet
  rules-written.txt        the sync-rules action of a plan for node n1 run as
                           a node runs it (restore, jumps, sha + fingerprint files)
  rules-written-save.txt   SAVE_COMMAND's output at that point
  rules-flushed.txt        after a hand-made `iptables -t nat -F <web's service chain>`
  rules-repaired.txt       after the sync-rules action the next plan made of that
  rules-restore.txt        the restore text the first action uploaded

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

from sshorch.execute import render_step
from sshorch.graph import build_graph, dependencies
from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.observe.facts import parse_gather_output, render_gather_script
from sshorch.observe.rules import FINGERPRINT_COMMAND, RULES_COMMAND, RULES_FACT, RULES_FILE, RulesState, parse_rules_state
from sshorch.plan.model import Action, Plan
from sshorch.plan.pods import NodeTarget
from sshorch.plan.reconcile import ClusterNode, ReconcileInput, reconcile
from sshorch.plan.services import Allocations, ServiceConfig
from sshorch.proxy.names import CANARY, SERVICES, service_chain
from sshorch.proxy.model import ServicePort
from sshorch.proxy.restore import BUILTIN_CHAINS, parse_restore
from sshorch.proxy.state import SAVE_COMMAND, parse_saved
from sshorch.runtime import PortBinding
from tests.unit.plan.helpers import CLUSTER, cluster_nodes, deployment, desired, node_observation, observed_pod

FIXTURES = Path(__file__).parent / "fixtures"
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
    assert state == RulesState(rendered="", stored="", live=EMPTY_SHA, chains=frozenset())
    assert not state.intact
    assert state.chain_names("nat") == frozenset()


def test_after_a_write_the_node_reports_the_rendered_hash_and_an_intact_fingerprint() -> None:
    state = parse_rules_state(fixture("written"))
    restore = fixture("restore")
    assert state.rendered == hashlib.sha256(restore.encode()).hexdigest()
    assert HEX64.match(state.stored) and state.stored == state.live != EMPTY_SHA
    assert state.intact
    assert state.chains == declared_chains(restore)
    assert {SERVICES, CANARY} <= state.chain_names("nat") and {SERVICES, CANARY} <= state.chain_names("filter")


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
    written = [line for line in fixture("written-save").splitlines() if line.startswith(f"-A {service_chain(web)} ")]
    assert len(written) == 4 and written[0].endswith("-j SSHORCH-MARK-MASQ")  # the mark, then one per endpoint


# --- the fingerprint --------------------------------------------------------------------------------


def _with_counters(save: str) -> str:
    """The same rules with packet/byte counters as a busy node shows them (iptables-save and -c)."""
    counted = re.sub(r"\[0:0\]$", "[48213:2903817]", save, flags=re.MULTILINE)
    return re.sub(r"^-A ", "[17:1020] -A ", counted, flags=re.MULTILINE)


def test_the_controller_side_fingerprint_equals_the_nodes_and_ignores_counters() -> None:
    save = fixture("written-save")
    live = parse_rules_state(fixture("written")).live
    assert parse_saved(save).fingerprint == live
    counted = _with_counters(save)
    assert counted != save
    assert parse_saved(counted).fingerprint == live


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


# --- capture (root): the same life cycle on the real iptables ---------------------------------------

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
    """What a node does with a sync-rules action: the uploaded file, then the steps joined with &&."""
    (upload,) = action.files
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
            run(f"iptables -w -t nat -F {service_chain(web)}")
            out["flushed"] = run(RULES_COMMAND)
            repair = n1_action(plan_for(parse_rules_state(out["flushed"])))
            assert repair is not None
            _run_action(run, run_dir, repair)
            out["repaired"] = run(RULES_COMMAND)
            out["gathered"] = run(render_gather_script((RULES_FACT,)))
            return out
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def _can_capture() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("ip", "unshare", "iptables", "iptables-restore", "iptables-save"))


@pytest.fixture
def live() -> Iterator[dict[str, str]]:
    if not _can_capture():
        pytest.skip("needs root, iproute2, util-linux unshare and iptables")
    yield capture_life_cycle(f"{NAMESPACE}-{os.getpid()}")


def test_the_life_cycle_on_this_machines_iptables(live: dict[str, str]) -> None:
    fresh, written, flushed, repaired = (parse_rules_state(live[k]) for k in ("fresh", "written", "flushed", "repaired"))
    assert fresh == RulesState("", "", EMPTY_SHA, frozenset())
    assert written.intact and written.rendered == hashlib.sha256(live["restore"].encode()).hexdigest()
    assert written.chains == declared_chains(live["restore"])
    assert not flushed.intact and flushed.stored == written.stored
    assert repaired == written
    assert parse_saved(live["written-save"]).fingerprint == written.live
    # Through the gather's framing, as the controller reads it.
    gathered = parse_gather_output((RULES_FACT,), live["gathered"])
    assert gathered.errors == {} and gathered.values["rules"] == repaired


def test_the_fixtures_match_this_machines_iptables(live: dict[str, str]) -> None:
    """Same iptables as at capture time: the same bytes. Skipped elsewhere."""
    version = subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout
    if "v1.8.9 (nf_tables)" not in version:
        pytest.skip(f"fixtures were captured with iptables v1.8.9 (nf_tables), this is {version.strip()}")
    for name in ("fresh", "written", "flushed", "repaired", "restore"):
        assert live[name] == fixture(name), name
    assert parse_saved(live["written-save"]) == parse_saved(fixture("written-save"))


def main() -> None:
    if not _can_capture():
        raise SystemExit("run as root with iproute2, unshare and iptables")
    out = capture_life_cycle(NAMESPACE)
    for name in ("fresh", "written", "written-save", "flushed", "repaired", "restore"):
        path = FIXTURES / f"rules-{name}.txt"
        path.write_text(out[name])
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
