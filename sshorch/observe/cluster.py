"""A whole cluster's gather: each node's facts and what sshorch owns there, in ONE exec per node.

The scripts and `build_node_observation`, which turns one node's raw gather
output (or its failure) into data, are pure; running them is run.gather's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sshorch.observe.facts import Fact, ParsedFacts, node_facts, parse_gather_output, render_gather_script, split_sections
from sshorch.observe.nodereport import NOT_READY, READY, NodeReport, build_node_report
from sshorch.observe.listing import KeptListing, offered, resolve
from sshorch.observe.oomkills import OOM_KILLS, OomKills, oom_kills_fact, with_oom_kills
from sshorch.observe.rules import RULES, RulesState, rules_fact
from sshorch.observe.stats import CPU_FACT
from sshorch.observe.owned import (
    CHECKSUMS, VOLUMES, ListedContainers, ObservedPod, Owned, checksums_fact, parse_podman_containers, require_facts,
)
from sshorch.runtime.base import Runtime
from sshorch.runtime.registry import runtime_for
from sshorch.transport.model import NodeOutcome, SshTarget


@dataclass(frozen=True)
class NodeObservation:
    """One node as gathered. `owned` is None unless everything sshorch owns there was read:
    callers must never act on a half-read node."""

    name: str
    address: str
    reachable: bool
    error: str
    report: NodeReport
    owned: Owned | None
    rules: RulesState | None = None  # None: not read (the node then gets a full rewrite)
    checksums: Mapping[str, str] | None = None  # delivered config/secret files: path -> sha256
    cpu_seconds: Mapping[str, float] | None = None  # running containers' CPU time so far (when asked for)
    listing: KeptListing | None = None  # the container listing to keep for the next gather


@dataclass(frozen=True)
class Observed:
    """The whole cluster as one gather read it, node by node."""

    nodes: tuple[NodeObservation, ...]

    def pods(self) -> tuple[ObservedPod, ...]:
        return tuple(pod for node in self.nodes if node.owned is not None for pod in node.owned.pods)

    def node(self, name: str) -> NodeObservation | None:
        return next((node for node in self.nodes if node.name == name), None)


@dataclass(frozen=True)
class GatherScope:
    """What a gather reads beyond what every pass needs: each costs a runtime call on every node."""

    cpu: bool = False  # CPU time of running containers, for autoscaling
    volumes: bool = False  # named volumes, for placing pods that mount one


CONTAINERS = "containers"


def owned_facts(runtime: Runtime, cluster: str, volumes: bool = True, known: str = "") -> tuple[Fact, ...]:
    """The facts that read what `cluster` owns on a node running `runtime`; named volumes
    only when asked (they matter only to pods that mount one). On podman, `known` is the
    state fingerprint of a listing the controller kept."""
    facts = runtime.owned_facts(cluster, known)
    return facts if volumes else tuple(f for f in facts if f.name != VOLUMES)


def owned_fact_names(runtime: Runtime, volumes: bool = True) -> tuple[str, ...]:
    return tuple(fact.name for fact in owned_facts(runtime, "", volumes))


def parse_owned(runtime: Runtime, node: str, values: Mapping[str, Any]) -> Owned:
    """Join the owned facts' values (ParsedFacts.values) into what `node` holds for the cluster."""
    require_facts(values, owned_fact_names(runtime, volumes=False))
    pods, stray = runtime.join_owned(node, values)
    return Owned(pods, stray, tuple(values.get(VOLUMES, ())), frozenset(values["files"]), {})


def gather_facts(runtime: str, cluster: str, scope: GatherScope = GatherScope(), known: str = "") -> tuple[Fact, ...]:
    """Everything read from a node in its one gather exec (`known`: see owned_facts)."""
    facts = node_facts(runtime, version=False) + owned_facts(runtime_for(runtime), cluster, scope.volumes, known)
    facts += (rules_fact(cluster), checksums_fact(cluster), oom_kills_fact())
    return facts + (runtime_for(runtime).cpu_fact(cluster),) if scope.cpu else facts


def _only(parsed: ParsedFacts, names: set[str]) -> ParsedFacts:
    return ParsedFacts(
        {k: v for k, v in parsed.values.items() if k in names},
        {k: v for k, v in parsed.errors.items() if k in names},
    )


def build_owned(runtime: str, node: str, parsed: ParsedFacts) -> tuple[Owned | None, str]:
    """Owned, or None and why: any owned fact that failed makes the whole of it unknown."""
    names = owned_fact_names(runtime_for(runtime), volumes=True)
    failed = [f"{name}: {parsed.errors[name]}" for name in names if name in parsed.errors]
    if failed:
        return None, "cannot read what sshorch owns here: " + "; ".join(failed)
    try:
        return parse_owned(runtime_for(runtime), node, parsed.values), ""
    except Exception as error:  # the node's answers do not fit together: this node's error, not the pass's
        return None, f"cannot read what sshorch owns here: {error or type(error).__name__}"


def build_node_observation(
    target: SshTarget, runtime: str, cluster: str, outcome: NodeOutcome[str], scope: GatherScope = GatherScope(),
    kept: KeptListing | None = None, now: float = 0.0,
) -> NodeObservation:
    """Pure: one node's gather output (outcome.value) or its failure -> NodeObservation.
    `kept`: the container listing kept from an earlier gather, for a node that says unchanged."""
    if not outcome.ok or outcome.value is None:
        failed: NodeOutcome[ParsedFacts] = NodeOutcome(target, error=outcome.error, unreachable=outcome.unreachable)
        report = build_node_report(target, runtime, failed)
        return NodeObservation(target.name, target.address, False, report.reason, report, None)
    parsed, keep = _with_kept_listing(parse_gather_output(gather_facts(runtime, cluster, scope), outcome.value), kept, now)
    node_names = {fact.name for fact in node_facts(runtime)}
    report = build_node_report(target, runtime, NodeOutcome(target, value=_only(parsed, node_names)))
    owned, error = build_owned(runtime, target.name, parsed)
    kills = parsed.values.get(OOM_KILLS)
    if owned is not None and isinstance(kills, OomKills):
        owned = with_oom_kills(owned, kills)
    if owned is None and report.status == READY:  # what runs there is not known (a hung runtime)
        report = replace(report, status=NOT_READY, reason=error)
    rules = parsed.values.get(RULES)
    checksums = parsed.values.get(CHECKSUMS)
    cpu = parsed.values.get(CPU_FACT) if scope.cpu else None
    return NodeObservation(target.name, target.address, True, error, report, owned, rules, checksums, cpu, keep)


def _with_kept_listing(parsed: ParsedFacts, kept: KeptListing | None, now: float) -> tuple[ParsedFacts, KeptListing | None]:
    """An "unchanged" container listing replaced by the kept copy; and the copy to keep now."""
    listed = parsed.values.get(CONTAINERS)
    if not isinstance(listed, ListedContainers):
        return parsed, None
    values, errors = dict(parsed.values), dict(parsed.errors)
    try:
        body, keep = resolve(listed.listing, kept, now)
        if listed.records is None:
            values[CONTAINERS] = ListedContainers(listed.listing, parse_podman_containers(body))
    except ValueError as error:
        del values[CONTAINERS]
        errors[CONTAINERS] = str(error)
        return ParsedFacts(values, errors), None
    return ParsedFacts(values, errors), keep


def gather_scripts(
    targets: Sequence[tuple[SshTarget, str]], cluster: str, scope: GatherScope = GatherScope(),
    kept: Mapping[str, KeptListing] | None = None, now: float = 0.0,
) -> dict[str, str]:
    """Each node's gather script, by node name (see run.gather.gather_cluster)."""
    kept = kept or {}
    return {
        target.name: render_gather_script(gather_facts(runtime, cluster, scope, offered(kept.get(target.name), now)))
        for target, runtime in targets
    }


def complete_gather(runtime: str, cluster: str, scope: GatherScope, output: str) -> bool:
    """Whether `output` holds every section of a gather (an exec cut short does not)."""
    sections = split_sections(output)
    return all(fact.name in sections for fact in gather_facts(runtime, cluster, scope))
