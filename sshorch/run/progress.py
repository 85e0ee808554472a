"""What a run tells while it works, as values: the command line decides how to show them
(a table updated in place on a terminal, plain lines in a log)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sshorch.plan.nodescript import ActionResult, Report
from sshorch.plan.model import Action, ActionKind, Plan
from sshorch.plan.overview import WorkloadStatus

# How many targets a folded line names before it counts the rest.
NAMED_TARGETS = 3


@dataclass(frozen=True)
class Notice:
    """A line worth telling as it happens: a new revision, a rollback, a node evicted."""

    text: str
    warning: bool = False


@dataclass(frozen=True)
class WorkloadProgress:
    """A workload's pods on this pass, and what holds it back when it cannot start."""

    status: WorkloadStatus
    held: str = ""  # "waiting for deployment/db", a Pending reason

    @property
    def key(self) -> str:
        s = self.status
        return f"{s.kind.lower()}/{s.namespace}/{s.name}"

    @property
    def done(self) -> bool:
        s = self.status
        return not self.held and not s.old and s.available >= s.desired and s.up_to_date >= s.desired

    @property
    def nothing_yet(self) -> bool:
        """No pod of it exists, and none is Pending."""
        s = self.status
        return not s.up_to_date and not s.old and not self.held.startswith("pending")

    def line(self) -> str:
        """`deployment/web: 1/3 ready, 3/3 up-to-date, 2 old left`: ready counts pods of the new revision."""
        s = self.status
        text = f"{display_workload(self.key)}: {s.available}/{s.desired} ready, {s.up_to_date}/{s.desired} up-to-date"
        if s.old:
            text += f", {s.old} old left"
        return text + (f" ({self.held})" if self.held else "")


@dataclass(frozen=True)
class Rollouts:
    """Every workload's progress after a pass."""

    workloads: tuple[WorkloadProgress, ...]


@dataclass(frozen=True)
class PassActed:
    """What every node did on one pass, done or failed."""

    report: Report


RunEvent = Notice | Rollouts | PassActed
Progress = Callable[[RunEvent], None]


def quiet(_: RunEvent) -> None:
    pass


def workload_progress(statuses: Sequence[WorkloadStatus], plan: Plan) -> Rollouts:
    """Each workload's pods, with what holds it back on this plan: its dependencies, or Pending pods."""
    held = {b.workload: "waiting for " + ", ".join(map(display_workload, b.waiting_for)) for b in plan.blocked}
    for pending in plan.pending:
        held.setdefault(pending.workload, f"pending: {pending.reason}")
    return Rollouts(tuple(
        WorkloadProgress(s, held.get(f"{s.kind.lower()}/{s.namespace}/{s.name}", "")) for s in statuses
    ))


def display_workload(key: str) -> str:
    """deployment/default/web as `deployment/web`; other namespaces stay in the name."""
    kind, namespace, name = key.split("/", 2)
    return f"{kind}/{name}" if namespace == "default" else key


def fold_actions(actions: Sequence[Action]) -> list[str]:
    """A node's actions as lines, those of one kind and reason folded into one:
    `create-pod web-1, web-2: new pod of deployment/web`."""
    groups: dict[tuple[ActionKind, str], list[str]] = {}
    for action in actions:
        groups.setdefault((action.kind, action.reason), []).append(action.target)
    return [f"{kind} {join_targets(targets)}: {reason}" for (kind, reason), targets in groups.items()]


_DONE = {
    ActionKind.CREATE_POD: "created pod",
    ActionKind.REMOVE_POD: "removed pod",
    ActionKind.START_POD: "started pod",
    ActionKind.RESTART_CONTAINER: "restarted a container of",
    ActionKind.REMOVE_CONTAINER: "removed stray container",
    ActionKind.WRITE_FILES: "rewrote files of",
    ActionKind.REMOVE_FILES: "removed unused files:",
    ActionKind.SYNC_RULES: "rules synced:",
}


def fold_report(report: Report) -> list[str]:
    """A line for what each node did, its kinds folded (`node1: created pod web-1, rules
    synced: 3 services`), nodes that did the same in one line (`node2, node3: rules synced:
    3 services`); then a line per failed action or node."""
    by_text: dict[str, list[str]] = {}
    for node in report.nodes:
        done = _done(node.results)
        if done:
            by_text.setdefault(done, []).append(node.node)
    lines = [f"{join_targets(nodes)}: {text}" for text, nodes in by_text.items()]
    for node in report.nodes:
        lines += [f"{node.node}: FAILED: {node.error}"] if node.error else []
        lines += [f"{node.node}: {r.action.describe()} FAILED: {r.error_line()}" for r in node.results if not r.ok]
    return lines


def _done(results: Sequence[ActionResult]) -> str:
    done: dict[ActionKind, list[str]] = {}
    for result in (r for r in results if r.ok):
        kind, target = result.action.kind, result.action.target
        if kind.subject == "node":  # the node's rules or files: the target says how much
            done[kind] = [target]
        elif kind == ActionKind.RESTART_CONTAINER:  # why is news: a probe failed
            done.setdefault(kind, []).append(f"{target} ({result.action.reason})")
        else:
            done.setdefault(kind, []).append(target)
    return ", ".join(f"{_DONE[kind]} {join_targets(targets)}" for kind, targets in done.items())


def join_targets(targets: Sequence[str]) -> str:
    if len(targets) <= NAMED_TARGETS + 1:
        return ", ".join(targets)
    return ", ".join(targets[:NAMED_TARGETS]) + f" and {len(targets) - NAMED_TARGETS} more"
