"""sshorch plan | apply"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from sshorch.cli.context import manifest_options, run_context, set_choice, set_options
from sshorch.cli.options import ClusterOptions, cluster_options, load, open_session
from sshorch.cli.live import RunDisplay
from sshorch.cli.output import print_json, say, warn
from sshorch.run.passes import Outcome, gather, observed_hashes, plan_pass
from sshorch.run.setapply import applysets_of, load_set_apply, set_json, set_lines
from sshorch.run.apply import (
    check_allocations,
    command_line,
    config_changes,
    converge_to,
    expand_cron,
    gather_scope,
    open_state,
    record_apply,
    recorded_desired,
    run_lock,
    service_config,
)
from sshorch.errors import SshorchError
from sshorch.spec.ephemeral import ephemeral_limit_notes
from sshorch.secrets.kept import ensure_key, secret_hash_key, secret_sources
from sshorch.plan.model import ActionKind, Plan
from sshorch.spec.model import Desired
from sshorch.run.progress import Notice, display_workload, fold_actions, join_targets

EXIT_CHANGES = 2


def render_plan(plan: Plan) -> list[str]:
    """Per node, its actions with those of one kind and reason folded into a line; nodes
    with the same lines share one heading (`node2, node3:`)."""
    by_lines: dict[tuple[str, ...], list[str]] = {}
    for node in plan.nodes():
        by_lines.setdefault(tuple(fold_actions(plan.for_node(node))), []).append(node)
    lines = []
    for folded, nodes in by_lines.items():
        lines.append(f"{join_targets(nodes)}:")
        lines += [f"  {line}" for line in folded]
    lines += [f"pending {p.pod}: {p.reason}" for p in plan.pending]
    lines += [f"waiting {display_workload(b.workload)}: for {', '.join(map(display_workload, b.waiting_for))}" for b in plan.blocked]
    lines += [f"drain {pod}: {why} (leaves the service rules; stopped next pass)" for pod, why in plan.draining]
    lines += [f"unreachable {n}" for n in plan.unreachable]
    return lines


def info_lines(desired: Desired) -> list[str]:
    """What the manifests' kinds and fields with no effect here mean: a line per family."""
    return [f"info: {notice.message}" for notice in desired.notices] + [
        f"info: {note}" for note in ephemeral_limit_notes(desired)
    ]


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "actions": [
            {"node": a.node, "kind": a.kind, "target": a.target, "reason": a.reason, "workload": a.workload,
             "files": [{"path": f.path, "secret": f.secret} for f in a.files]}
            for a in plan.actions
        ],
        "pending": [{"workload": p.workload, "pod": p.pod, "reason": p.reason} for p in plan.pending],
        "waiting": [{"workload": b.workload, "for": list(b.waiting_for)} for b in plan.blocked],
        "unreachable": list(plan.unreachable),
    }


@click.command()
@cluster_options
@manifest_options
@set_options
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan(
    cluster: ClusterOptions, output: str, paths: tuple[Path, ...], set_values: tuple[str, ...], values_files: tuple[Path, ...],
    applyset: str | None, prune: bool,
) -> None:
    """Show what `apply` would change on each node, and change nothing.

    Exit status: 0 nothing to change, 2 changes pending, 1 error. Only the next
    step is shown: pods waiting for a dependency appear as "waiting".

    \b
    Examples:
      sshorch plan -i inventory.yml -f examples/shop/
      sshorch plan -i inventory.yml -f templates/web-service.yaml.j2 --values templates/values/staging.yaml
    """
    inventory = load(cluster)
    choice = set_choice(paths, applyset, prune)
    with open_state(inventory, cluster.state_path) as store, open_session(inventory, cluster) as session:
        desired, change = load_set_apply(inventory, store, paths, set_values, values_files,
                                         secret_sources(store, cluster.vault_password_file), warn, secret_hash_key(store), choice)
        check_allocations(desired, store, service_config(inventory))
        ctx = run_context(inventory, session, cluster, store=store, read_only=True)
        changes = config_changes(recorded_desired(store), desired)
        observed = gather(ctx)
        current = plan_pass(ctx, observed_hashes(expand_cron(store, desired), observed, ctx.memory.jobs), observed)
    if output == "json":
        print_json({**plan_json(current), "config_changes": changes, "info": [n.message for n in desired.notices],
                    "applyset": set_json(change, choice.name)})
    else:
        lines = set_lines(change, choice) + info_lines(desired) + changes
        for line in lines + (render_plan(current) or ["no changes on nodes" if changes else "no changes"]):
            say(line)
    if not current.empty or changes or change.pruned:
        sys.exit(EXIT_CHANGES)


def done_counts(outcome: Outcome) -> str:
    """What the run did, by kind: `6 pods created, 15 rules syncs`."""
    counts = Counter(r.action.kind for report in outcome.reports for n in report.nodes for r in n.results if r.ok)
    return ", ".join(f"{counts[kind]} {DONE_NOUNS[kind]}" for kind in ActionKind if counts[kind])


DONE_NOUNS = {
    ActionKind.CREATE_POD: "pods created", ActionKind.REMOVE_POD: "pods removed", ActionKind.START_POD: "pods started",
    ActionKind.RESTART_CONTAINER: "containers restarted", ActionKind.REMOVE_CONTAINER: "stray containers removed",
    ActionKind.WRITE_FILES: "file rewrites", ActionKind.REMOVE_FILES: "file clean-ups", ActionKind.SYNC_RULES: "rules syncs",
}


def summary(outcome: Outcome, started: float) -> tuple[list[str], bool]:
    """What went wrong, a line each, then one line that sums the run up."""
    lines = []
    plan = outcome.last_plan
    ok = outcome.settled and not outcome.failures and not plan.pending and not outcome.rolled_back and not outcome.paused
    lines += [f"rollout of {w} failed: {why}; rolled back to the last good revision" for w, why in sorted(outcome.rolled_back.items())]
    lines += [f"rollout of {w} failed: {why}; paused (no earlier revision to go back to, or sshorch.io/auto-rollback is false)"
              for w, why in sorted(outcome.paused.items())]
    lines += [f"failed: {line}" for line in outcome.failures[-10:]]
    lines += [f"pending {p.pod}: {p.reason}" for p in plan.pending]
    lines += [f"waiting {display_workload(b.workload)}: for {', '.join(map(display_workload, b.waiting_for))}" for b in plan.blocked]
    if outcome.timed_out:
        lines.append(f"timed out; not ready: {', '.join(sorted(outcome.stuck))}")
    actions = sum(len(n.results) for r in outcome.reports for n in r.nodes)
    status = "applied" if ok else "NOT converged"
    done = done_counts(outcome)
    lines.append(f"{status}: {actions} actions{f' ({done})' if done else ''} in {outcome.passes} passes, {time.monotonic() - started:.1f}s")
    return lines, ok


@click.command()
@cluster_options
@manifest_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@click.option("--timeout", type=click.FloatRange(1, 86400), default=300, show_default=True,
              help="Seconds to wait for every pod to run.")
@set_options
def apply(
    cluster: ClusterOptions, paths: tuple[Path, ...], set_values: tuple[str, ...], values_files: tuple[Path, ...], yes: bool,
    timeout: float, applyset: str | None, prune: bool,
) -> None:
    """Create or update the objects in the files, and make the cluster match.

    As `kubectl apply`: the files' objects are recorded in their apply set
    (--applyset, else named after the paths), and every other recorded object is
    left as it is. --prune also removes the objects of that set that are no
    longer in the files. Manifests are validated, with everything recorded,
    before anything is touched.

    \b
    Examples:
      sshorch apply -i inventory.yml -f examples/shop/ --yes
      sshorch apply -i inventory.yml -f examples/shop/ --prune --yes
      sshorch apply -i inventory.yml -f web.yaml.j2 --set image.tag=v2 --applyset web
    """
    started = time.monotonic()
    inventory = load(cluster)
    with open_state(inventory, cluster.state_path) as store, run_lock(store, command_line(), time.time()):
        choice = set_choice(paths, applyset, prune)
        desired, change = load_set_apply(inventory, store, paths, set_values, values_files,
                                         secret_sources(store, cluster.vault_password_file), warn, secret_hash_key(store), choice)
        made = ensure_key(store)
        if made is not None:
            warn(f"made a new secret key at {made} (mode 0600); keep a copy: recorded secrets cannot be read without it")
        check_allocations(desired, store, service_config(inventory))
        with open_session(inventory, cluster) as session, RunDisplay(actions=False) as display:
            # The first gather serves the autoscalers too.
            ctx = replace(run_context(inventory, session, cluster, display, store), scope=gather_scope(desired))
            observed = gather(ctx)
            first = plan_pass(ctx, observed_hashes(expand_cron(store, desired), observed, ctx.memory.jobs), observed)
            changes = config_changes(recorded_desired(store), desired)
            lines = set_lines(change, choice) + info_lines(desired) + changes
            for line in lines + (render_plan(first) or ["no changes on nodes" if changes else "no changes"]):
                say(line)
            if (not first.empty or change.pruned) and not yes:
                if not sys.stdin.isatty():
                    raise SshorchError("apply needs --yes when not run from a terminal")
                click.confirm("apply these changes?", abort=True)
            changed = record_apply(store, desired, ",".join(map(str, paths)), time.time(), applysets_of(change))
            if changed:
                display(Notice("new revision: " + ", ".join(map(display_workload, changed))))
            outcome = converge_to(ctx, store, desired, timeout, first=observed)
    lines, ok = summary(outcome, started)
    for line in lines:
        say(line, err=not ok)
    if not ok:
        sys.exit(1)
