"""Gathers: one exec per node, all nodes in parallel, each node's output turned into
data by observe (a node that fails is data too, never raised)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sshorch.run.nodelock import GATHER_WAIT_SECONDS, NODE_LOCK, gave_up, shared
from sshorch.observe.cluster import GatherScope, Observed, build_node_observation, complete_gather, gather_scripts
from sshorch.observe.facts import Fact, ParsedFacts, node_facts, parse_gather_output, render_gather_script
from sshorch.observe.listing import KeptListing
from sshorch.observe.nodereport import GATHER_TIMEOUT, NodeReport, build_node_report
from sshorch.transport import Connection, NodeOutcome, Session, SshTarget


def gather_cluster(
    session: Session, targets: Sequence[tuple[SshTarget, str]], cluster: str, scope: GatherScope = GatherScope(),
    kept: Mapping[str, KeptListing] | None = None, now: float = 0.0, gathered: Mapping[str, str] | None = None,
) -> Observed:
    """targets: (ssh target, its runtime). One exec per node, all nodes in parallel;
    a node that fails is returned as data, never raised. `kept`: container listings
    of earlier gathers by node (each observation says what to keep next).
    `gathered`: output of nodes' gather scripts already run (after their actions,
    in the same exec); a node whose output is complete there is not asked again."""
    kept = kept or {}
    runtimes = {target.name: runtime for target, runtime in targets}
    ready = {
        name: output for name, output in (gathered or {}).items()
        if name in runtimes and complete_gather(runtimes[name], cluster, scope, output)
    }
    scripts = gather_scripts([t for t in targets if t[0].name not in ready], cluster, scope, kept, now)

    def gather(conn: Connection) -> str | None:
        """The output, or None while another run's actions hold the node."""
        result = conn.run(shared(scripts[conn.target.name]), timeout=GATHER_TIMEOUT)
        return None if gave_up(result) else result.text

    asked = session.map(gather, [target for target, _ in targets if target.name in scripts])
    outcomes = {o.target.name: _busy_as_failed(o) for o in asked}
    outcomes.update((target.name, NodeOutcome(target, value=ready[target.name])) for target, _ in targets if target.name in ready)
    return Observed(tuple(
        build_node_observation(target, runtime, cluster, outcomes[target.name], scope, kept.get(target.name), now)
        for target, runtime in targets
    ))


def _busy_as_failed(outcome: NodeOutcome[str | None]) -> NodeOutcome[str]:
    if outcome.ok and outcome.value is None:
        wait = f"another run's actions held {NODE_LOCK} for {GATHER_WAIT_SECONDS} s"
        return NodeOutcome(outcome.target, error=f"{outcome.target.name}: not read: {wait}")
    return NodeOutcome(outcome.target, outcome.value, outcome.error, outcome.unreachable)


def gather_nodes(session: Session, targets: list[tuple[SshTarget, str]]) -> list[NodeReport]:
    """targets: (ssh target, its runtime). One exec per node, all nodes in parallel."""
    facts_by_node: dict[str, tuple[Fact, ...]] = {t.name: node_facts(runtime) for t, runtime in targets}

    def gather(conn: Connection) -> ParsedFacts:
        facts = facts_by_node[conn.target.name]
        result = conn.run_script(render_gather_script(facts), timeout=GATHER_TIMEOUT)
        return parse_gather_output(facts, result.text)

    outcomes = session.map(gather, [t for t, _ in targets])
    return [build_node_report(t, runtime, o) for (t, runtime), o in zip(targets, outcomes)]
