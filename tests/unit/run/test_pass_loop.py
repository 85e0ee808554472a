"""The pass loop on captured node outputs: table tests of what run_passes decides.

Each row replays the fixtures of a real two-node sandbox (fixtures/capture.py) through
the real gather, parse, reconcile, compile and execute code; only the transport is
replayed (ReplaySession), and time is the capture's (ReplayClock), so nothing sleeps and no socket is
opened. The scenarios were captured one after the other, each run starting from the
memory the one before left, as a state file carries it from run to run, so a row
replays the scenarios before its own first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import socket

import pytest

from sshorch.inventory import load_inventory
from sshorch.run.apply import allowed_host_paths, cluster_name, eviction_timeout, service_config
from sshorch.run.memory import load_memory
from sshorch.run.probing import Health
from sshorch.run.passes import Outcome, RunContext, run_passes
from sshorch.spec import load_documents, parse_documents
from sshorch.spec.edits import with_replicas
from sshorch.spec.model import Desired, Source
from sshorch.state import StateStore, open_store
from sshorch.transport import SshTarget
from tests.unit.state.counting import CountingStore
from tests.unit.run.replay import FIXTURES, Exchange, ReplayClock, ReplayMismatch, ReplaySession, decided, load_capture

SCENARIOS = ("cold", "noop", "recovery")  # in the order they were captured
TIMEOUT = 180.0


def manifest(replicas: int = 2) -> Desired:
    """The fixtures' manifest, with the Deployment's replicas set."""
    documents = [d for _, d in load_documents([FIXTURES / "manifest.yaml"])]
    documents = with_replicas(documents, "Deployment", "default", "web", replicas)
    return parse_documents([(Source("manifest.yaml", i), d) for i, d in enumerate(documents)])


def replay_context(session: ReplaySession, clock: ReplayClock, controller_addresses: tuple[str, ...]) -> RunContext:
    """The run context as the CLI's run_context builds it for the sandbox's inventory,
    with no state store, on the replayed session and the replay's clock."""
    inventory = load_inventory(FIXTURES / "inventory.yml")
    return RunContext(
        hosts=inventory.select(None),
        session=session.as_session(),
        cluster=cluster_name(inventory),
        services=service_config(inventory),
        eviction_timeout=eviction_timeout(inventory),
        allowed_host_paths=allowed_host_paths(inventory),
        clock=clock.monotonic,
        sleep=clock.sleep,
        wall_clock=clock.wall,
        controller_addresses=controller_addresses,  # as the capture's nodes saw them (in their rules)
    )


@dataclass
class Replayed:
    """A scenario replayed: the run's outcome, the session that answered it, the sleeps it took."""

    outcome: Outcome
    session: ReplaySession
    sleeps: list[float] = field(default_factory=list)


def replay(scenarios: Sequence[str], desired: Desired | None = None, store: StateStore | None = None) -> list[Replayed]:
    """Replay the scenarios in order, each run on its capture's outputs with the memory
    the run before left; the last one with `desired` if given."""
    clock = ReplayClock()
    captures = [load_capture(name) for name in scenarios]
    sessions = [ReplaySession.of(capture, clock) for capture in captures]
    ctx = replace(replay_context(sessions[0], clock, captures[0].controller_addresses), store=store)
    done = []
    for index, (capture, session) in enumerate(zip(captures, sessions)):
        clock.start(capture)
        slept = len(clock.sleeps)
        wanted = desired if desired is not None and index == len(scenarios) - 1 else manifest()
        outcome = run_passes(replace(ctx, session=session.as_session()), wanted, TIMEOUT)
        done.append(Replayed(outcome, session, clock.sleeps[slept:]))
        ctx = replace(ctx, memory=outcome.memory)  # as the state store hands it to the next run
    return done


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No podman or docker on PATH, as in the capture: the run then streams no image and
    asks no node for image IDs, whatever this machine has. And no socket: a replay that
    reached for the network would fail here, not depend on it."""
    monkeypatch.setenv("PATH", str(tmp_path))

    def no_socket(*_: object, **__: object) -> None:
        raise AssertionError("a replayed run opened a socket")

    monkeypatch.setattr(socket, "socket", no_socket)


def kinds(outcome: Outcome) -> list[dict[str, list[str]]]:
    """Per acting pass, node -> the kinds of its actions."""
    return [{n.node: [str(r.action.kind) for r in n.results] for n in report.nodes} for report in outcome.reports]


@dataclass(frozen=True)
class Row:
    scenario: str
    passes: int
    actions: list[dict[str, list[str]]]  # per acting pass, node -> action kinds
    execs: dict[str, list[str]]  # per node, the commands' kinds in order


BOTH_SYNC = {"node1": ["sync-rules"], "node2": ["sync-rules"]}
ROWS = [
    # Pods made on both nodes with rules of no endpoint yet; the next pass sees them
    # running and puts them in the rules; the gather after that finds nothing to do.
    Row("cold", 2, [{"node1": ["create-pod", "sync-rules"], "node2": ["create-pod", "sync-rules"]}, BOTH_SYNC],
        {"node1": ["gather", "actions", "actions"], "node2": ["gather", "actions", "actions"]}),
    # Nothing to do: one gather per node, no action.
    Row("noop", 0, [], {"node1": ["gather"], "node2": ["gather"]}),
    # The pod whose containers were removed leaves the rules, is made again on its node
    # and comes back in the rules; the other node's pod is left alone.
    Row("recovery", 2, [{"node1": ["sync-rules"], "node2": ["remove-pod", "create-pod", "sync-rules"]}, BOTH_SYNC],
        {"node1": ["gather", "actions", "actions"], "node2": ["gather", "actions", "actions"]}),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.scenario)
def test_the_pass_loop_decides_on_captured_outputs_as_the_real_run_did(row: Row) -> None:
    run = replay(SCENARIOS[: SCENARIOS.index(row.scenario) + 1])[-1]
    outcome = run.outcome
    assert outcome.settled and not outcome.timed_out and not outcome.failures
    assert outcome.passes == row.passes
    assert kinds(outcome) == row.actions
    assert run.sleeps == []  # every pass found work or settled: none waited
    assert decided(outcome) == load_capture(row.scenario).decided
    # One exec per node per pass: the first pass's gather, then each acting pass's
    # actions, with the next pass's gather run in the same exec; every output recorded is used.
    assert run.session.kinds() == row.execs
    assert run.session.left() == {}
    for node, execs in row.execs.items():
        acted = sum(1 for report in outcome.reports for n in report.nodes if n.node == node)
        assert len(execs) == 1 + acted


def test_recovery_makes_again_only_the_pod_whose_containers_were_removed_on_its_node() -> None:
    cold, _, recovery = replay(SCENARIOS)
    pods = {(r.action.node, r.action.target) for n in cold.outcome.reports[0].nodes for r in n.results if r.action.kind == "create-pod"}
    remade = [(r.action.kind, r.action.node, r.action.target) for n in recovery.outcome.reports[0].nodes for r in n.results
              if r.action.kind != "sync-rules"]
    broken = next((node, pod) for node, pod in pods if node == "node2")
    assert [(kind, node, pod) for kind, node, pod in remade] == [("remove-pod", *broken), ("create-pod", *broken)]
    # What node2 was asked to do names the broken pod; node1 was only given its rules.
    actions = {node: [argv[-1] for argv in asked if "flock -o" in argv[2]] for node, asked in recovery.session.asked.items()}
    assert broken[1] in actions["node2"][0] and "podman pod create" in actions["node2"][0]
    assert "podman pod" not in actions["node1"][0] and "iptables-restore" in actions["node1"][0]
    assert recovery.outcome.observed is not None
    assert {(p.node, p.name) for p in recovery.outcome.observed.pods()} == pods
    assert all(p.running for p in recovery.outcome.observed.pods())


def test_a_run_saves_its_memory_once_per_pass_in_one_transaction() -> None:
    with open_store("memory://") as inner:
        store = CountingStore(inner)
        cold, noop = replay(["cold", "noop"], store=store)
        # Cold: three passes; the first two changed what they remember (the VIP, node
        # memory, listings, then the pods' listings again), the third nothing; the no-op
        # run's one pass changed nothing. One transaction each, no write outside one.
        assert [len(cold.session.kinds()["node1"]), len(noop.session.kinds()["node1"])] == [3, 1]
        assert store.transactions == 2
        assert store.outside == []
        # Probe records are kept; since when pods are ready is this run's own.
        kept = noop.outcome.memory
        assert load_memory(inner) == replace(kept, health=Health(kept.health.records))
        assert load_memory(inner).allocations.vips  # the Service's VIP was recorded


def test_three_replicas_do_not_replay_as_the_captured_two() -> None:
    # The first pass puts a third pod on a node whose recorded exec ran two actions:
    # its results are missing, the pass fails, and the next pass asks a gather where
    # the capture has the next actions.
    with pytest.raises(ReplayMismatch, match="node1: command 3: asked for gather, the capture has actions"):
        replay(["cold"], manifest(replicas=3))


def test_a_node_asked_more_than_was_captured_fails_the_test() -> None:
    # After the cold run, one replica more needs actions the no-op capture never ran.
    with pytest.raises(ReplayMismatch, match="the capture has no more outputs"):
        replay(["cold", "noop"], manifest(replicas=3))


def test_a_replay_serves_each_nodes_outputs_in_order_and_then_refuses() -> None:
    head = ("sh", "-c")
    session = ReplaySession({"n1": (Exchange(head, 1, 0, stdout="first"), Exchange(head, 1, 0, exit_status=2))})
    conn = session.as_session().connection(SshTarget("n1", "198.18.0.1"))
    assert conn.run_script("x").text == "first"
    assert conn.run(["sh", "-c", "y"]).exit_status == 2
    with pytest.raises(ReplayMismatch, match="n1: the capture has no more outputs"):
        conn.run_script("z")
    with pytest.raises(ReplayMismatch, match="n2: no such node"):
        session.as_session().connection(SshTarget("n2", "198.18.0.2")).run_script("x")

