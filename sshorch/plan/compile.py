"""Intents -> node actions: the runtime's commands, files and undo steps for each decided change.

The only place of the plan where runtime argv is made; the order of the
intents is the order of the actions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import assert_never

from sshorch.labels import CLUSTER_LABEL, NAMESPACE_LABEL, POD_LABEL
from sshorch.nodefiles import LEGACY_POD_ROOTS, pod_roots
from sshorch.plan.intents import (
    CreatePod,
    Decision,
    Intent,
    RemoveDirs,
    RemovePod,
    RemoveStray,
    StartContainers,
    StartPod,
    SyncRules,
    WriteFiles,
)
from sshorch.plan.model import Action, ActionKind, Plan, Step
from sshorch.proxy.sync import rules_write_action
from sshorch.runtime.base import Runtime
from sshorch.runtime.registry import node_runtime


@dataclass(frozen=True)
class Target:
    """What compiling needs of the cluster: its name (labels, directories) and each node's runtime."""

    cluster: str
    runtimes: Mapping[str, str] = field(default_factory=dict)  # node -> runtime name

    def runtime(self, node: str) -> Runtime:
        """Never guessed: a node whose runtime is not known is an error (UnknownRuntimeError)."""
        return node_runtime(self.runtimes, node)


def compile_plan(decision: Decision, target: Target) -> Plan:
    return Plan(
        actions=compile_intents(decision.intents, target),
        pending=decision.pending,
        blocked=decision.blocked,
        unreachable=decision.unreachable,
        ready=decision.ready,
        allocations=decision.allocations,
        draining=tuple(sorted({d.target: d.reason for d in decision.draining}.items())),
        jobs=decision.jobs,
        events=decision.events,
        retry_at=decision.retry_at,
    )


def compile_intents(intents: Sequence[Intent], target: Target) -> tuple[Action, ...]:
    return tuple(compile_intent(intent, target) for intent in intents)


def compile_intent(intent: Intent, target: Target) -> Action:
    if isinstance(intent, CreatePod):
        return _create(intent, target)
    if isinstance(intent, RemovePod):
        return _remove(intent, target)
    if isinstance(intent, StartPod):
        runtime = target.runtime(intent.node)
        steps = tuple(Step(tuple(a)) for a in runtime.start_pod(intent.target, list(intent.containers)))
        return Action(intent.kind, intent.node, intent.target, intent.reason, steps, workload=intent.workload)
    if isinstance(intent, StartContainers):
        start = Step(tuple(target.runtime(intent.node).start_containers(intent.containers)))
        return Action(intent.kind, intent.node, intent.target, intent.reason, (start,), workload=intent.workload)
    if isinstance(intent, WriteFiles):
        return Action(intent.kind, intent.node, intent.target, intent.reason, files=intent.files, workload=intent.workload)
    if isinstance(intent, SyncRules):
        return rules_write_action(intent.due)
    if isinstance(intent, RemoveStray):
        steps = tuple(Step(tuple(a)) for a in target.runtime(intent.node).remove_container(intent.target))
        return Action(intent.kind, intent.node, intent.target, intent.reason, steps)
    if isinstance(intent, RemoveDirs):
        return Action(intent.kind, intent.node, intent.target, intent.reason, (Step(("rm", "-rf", "--", *intent.dirs)),))
    assert_never(intent)


def _create(intent: CreatePod, target: Target) -> Action:
    built = intent.pod
    runtime = target.runtime(built.node)
    steps = built.prepare + tuple(Step(tuple(a)) for a in runtime.create_pod(built.run))
    # Only a pod with this pod's identity is undone: never one of that name that another
    # namespace or cluster made.
    mine = tuple(runtime.has_labelled(((CLUSTER_LABEL, target.cluster), (NAMESPACE_LABEL, built.identity.namespace),
                                       (POD_LABEL, built.identity.name))))
    every = (*built.run.init_containers, *built.run.containers)
    undo = tuple(
        Step(tuple(a), ignore_errors=True, when=mine)
        for a in runtime.remove_pod(built.run.name, [c.name for c in every], 0)
    )
    images = tuple(sorted({c.image for c in every}))
    return Action(
        ActionKind.CREATE_POD, built.node, built.identity.name, intent.reason, steps, intent.files, built.identity.workload,
        built.file_dirs, undo, images,
    )


def _remove(intent: RemovePod, target: Target) -> Action:
    runtime = target.runtime(intent.node)
    steps = [Step(tuple(a)) for a in runtime.remove_pod(intent.target, list(intent.containers), intent.grace)]
    # Its emptyDirs, where the pod was made (under its cluster's roots, or the legacy ones).
    dirs = (*pod_roots(target.cluster), *LEGACY_POD_ROOTS)
    steps.append(Step(("rm", "-rf", "--", *(f"{root}/{intent.target}" for root in dirs))))
    return Action(ActionKind.REMOVE_POD, intent.node, intent.target, intent.reason, tuple(steps), workload=intent.workload)
