"""sshorch rollout status|history|undo, scale, converge"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import replace
from typing import Any

import click

from sshorch.cli.context import run_context
from sshorch.cli.deploy import summary
from sshorch.cli.options import ClusterOptions, cluster_options, load, open_session, output_option
from sshorch.cli.live import RunDisplay
from sshorch.cli.output import print_json, print_table, say
from sshorch.run.passes import gather, observed_hashes, plan_pass
from sshorch.durations import parse_duration
from sshorch.run.apply import (
    LockHeld,
    command_line,
    converge_to,
    open_state,
    SCALE_SOURCE,
    record_documents,
    recorded_desired,
    recorded_documents,
    rollback,
    run_lock,
)
from sshorch.spec.edits import find_document, parse_workload_ref, with_replicas
from sshorch.errors import SshorchError
from sshorch.plan.naming import workload_key
from sshorch.plan.revision import workload_revision
from sshorch.spec.model import Desired

EXIT_CHANGES = 2
timeout_option = click.option("--timeout", type=click.FloatRange(1, 86400), default=300, show_default=True,
                              help="Seconds to wait for every pod to run.")


def _key(ref: str) -> str:
    kind, namespace, name = parse_workload_ref(ref)
    return workload_key(kind, namespace, name)


def _converge(cluster: ClusterOptions, desired_change: Any, timeout: float) -> None:
    """Change the recorded desired state with `desired_change(store) -> Desired`, then converge."""
    started = time.monotonic()
    inventory = load(cluster)
    with open_state(inventory, cluster.state_path) as store, run_lock(store, command_line(), time.time()):
        desired: Desired = desired_change(store)
        with open_session(inventory, cluster) as session, RunDisplay() as display:
            ctx = run_context(inventory, session, cluster, display, store)
            outcome = converge_to(ctx, store, desired, timeout)
    lines, ok = summary(outcome, started)
    for line in lines:
        say(line, err=not ok)
    if not ok:
        sys.exit(1)


@click.command()
@cluster_options
@click.argument("assignment", metavar="WORKLOAD=N")
@timeout_option
def scale(cluster: ClusterOptions, assignment: str, timeout: float) -> None:
    """Set a Deployment's replicas (no new revision) and converge.

    \b
    Examples:
      sshorch scale -i inventory.yml web=5
      sshorch scale -i inventory.yml prod/deployment/api=0
    """
    ref, sep, count = assignment.partition("=")
    if not sep or not count.strip().isdigit():
        raise SshorchError(f"{assignment!r}: write WORKLOAD=N, e.g. web=5")
    kind, namespace, name = parse_workload_ref(ref)

    def change(store: Any) -> Desired:
        documents = with_replicas(recorded_documents(store), kind, namespace, name, int(count))
        return record_documents(store, documents, f"{SCALE_SOURCE}{ref}={count}", time.time())

    _converge(cluster, change, timeout)


@click.group()
def rollout() -> None:
    """Revisions of a workload: status, history, undo.

    Every change of a pod template (or of a ConfigMap or Secret it uses) is a
    new revision; the last revisionHistoryLimit (10) are kept. A rollout that
    misses progressDeadlineSeconds, crash-loops or cannot start its image goes
    back to the last good revision by itself.
    """


@rollout.command()
@cluster_options
@click.argument("workload")
@output_option
def history(cluster: ClusterOptions, workload: str, output: str) -> None:
    """List a workload's revisions: number, status, why it changed or failed."""
    key = _key(workload)
    inventory = load(cluster)
    with open_state(inventory, cluster.state_path) as store:
        revisions = store.revisions(key)
    if not revisions:
        raise SshorchError(f"{key}: no revisions recorded")
    rows: list[dict[str, Any]] = [
        {"revision": r.number, "status": r.status, "created": r.created_at, "cause": r.cause, "reason": r.reason,
         "hash": r.template_hash}
        for r in revisions
    ]
    if output == "json":
        print_json(rows)
        return
    print_table(
        ["REVISION", "STATUS", "CREATED", "CAUSE", "REASON"],
        [[r["revision"], r["status"], time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["created"])), r["cause"], r["reason"]] for r in rows],
    )


@rollout.command()
@cluster_options
@click.argument("workload")
@output_option
def status(cluster: ClusterOptions, workload: str, output: str) -> None:
    """Where a workload's rollout stands: new and old pods per node. Exit 0 when complete, 2 while in progress."""
    key = _key(workload)
    kind, namespace, name = parse_workload_ref(workload)
    inventory = load(cluster)
    with open_state(inventory, cluster.state_path) as store, open_session(inventory, cluster) as session:
        desired = recorded_desired(store)
        if desired is None or desired.get(kind, name, namespace) is None:
            raise SshorchError(f"{key} is not in the recorded desired state")
        current = store.current_revision(key)
        ctx = run_context(inventory, session, cluster, store=store, read_only=True)
        observed = gather(ctx)
        desired = observed_hashes(desired, observed, ctx.memory.jobs)
        obj = desired.get(kind, name, namespace)
        revision = workload_revision(obj, desired)  # type: ignore[arg-type]
        plan = plan_pass(ctx, desired, observed)
    pods = [p for p in observed.pods() if workload_key(p.kind, p.namespace, p.owner) == key]
    data: dict[str, Any] = {
        "workload": key,
        "revision": current.number if current else None,
        "hash": revision,
        "status": current.status if current else None,
        "complete": key in plan.ready and not any(p.revision != revision for p in pods),
        "pods": [{"name": p.name, "node": p.node, "new": p.revision == revision, "running": p.running} for p in pods],
    }
    if output == "json":
        print_json(data)
    else:
        click.echo(f"{key}: revision {data['revision']} ({revision}), {data['status']}")
        print_table(["POD", "NODE", "REVISION", "RUNNING"], [[p["name"], p["node"], "new" if p["new"] else "old", p["running"]] for p in data["pods"]])
    if not data["complete"]:
        sys.exit(EXIT_CHANGES)


@rollout.command()
@cluster_options
@click.argument("workload")
@click.option("--to-revision", type=click.IntRange(1), default=None, help="Revision number (see `rollout history`) [default: the previous good one].")
@timeout_option
def undo(cluster: ClusterOptions, workload: str, to_revision: int | None, timeout: float) -> None:
    """Go back to an earlier revision; it becomes the newest revision."""
    key = _key(workload)
    kind, namespace, name = parse_workload_ref(workload)

    def change(store: Any) -> Desired:
        find_document(recorded_documents(store), kind, namespace, name)
        return rollback(store, key, to_revision, "", time.time())

    _converge(cluster, change, timeout)


def _pass_json(outcome: Any, ok: bool, started: float, lines: list[str]) -> dict[str, Any]:
    return {
        "ok": ok,
        "changed": outcome.changed,
        "passes": outcome.passes,
        "seconds": round(time.monotonic() - started, 3),
        "actions": [
            {"node": r.action.node, "kind": r.action.kind, "target": r.action.target, "ok": r.ok, "reason": r.action.reason}
            for report in outcome.reports for n in report.nodes for r in n.results
        ],
        "unreachable": list(outcome.last_plan.unreachable),
        "messages": lines,
    }


def _converge_once(
    cluster: ClusterOptions, store: Any, session: Any, timeout: float, output: str, stop: threading.Event | None = None
) -> int:
    """One converge under the lock: 0 nothing changed, 2 changed, 1 failed, 3 lock held."""
    started = time.monotonic()
    inventory = load(cluster)
    try:
        with run_lock(store, command_line(), time.time()):
            desired = recorded_desired(store)
            if desired is None:
                raise SshorchError("nothing applied yet: run 'sshorch apply -f FILES' first")
            with RunDisplay() as display:
                ctx = run_context(inventory, session, cluster, display, store)
                if stop is not None:
                    ctx = replace(ctx, stopping=stop.is_set)
                outcome = converge_to(ctx, store, desired, timeout)
    except LockHeld as held:
        if output == "json":
            print_json({"ok": False, "locked": str(held)})
        else:
            say(f"skipped: {held}", err=True)
        return LockHeld.exit_code
    lines, ok = summary(outcome, started)
    if output == "json":
        print_json(_pass_json(outcome, ok, started, lines))
    else:
        for line in lines:
            say(line, err=not ok)
    return 0 if ok and not outcome.changed else 2 if ok else 1


@click.command()
@cluster_options
@timeout_option
@click.option("--watch", is_flag=True, help="Run passes in a loop until SIGINT/SIGTERM.")
@click.option("--interval", default="10s", show_default=True, help="With --watch: time between passes (10s, 1m, ...).")
@output_option
def converge(cluster: ClusterOptions, timeout: float, watch: bool, interval: str, output: str) -> None:
    """Make the cluster match the recorded desired state (no files needed).

    This is what cron runs. Exit status: 0 nothing to change, 2 changes made,
    1 something failed, 3 another run holds the lock (it says which).
    With --watch, passes repeat every --interval, and at once when a node's
    connection is lost (within sshorch_node_timeout of it going silent);
    SIGINT or SIGTERM finish the pass under way and stop; the lock is taken
    per pass, so `apply` can run in between.

    \b
    Examples:
      sshorch converge -i inventory.yml
      sshorch converge -i inventory.yml --watch --interval 5s -o json
    """
    inventory = load(cluster)
    period = parse_duration(interval)
    stop = threading.Event()
    wake = threading.Event()  # a stop request, or a node's connection lost: pass now
    def on_signal(*_: object) -> None:
        stop.set()
        wake.set()

    if watch:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
    with open_state(inventory, cluster.state_path) as store, open_session(inventory, cluster) as session:
        if watch:
            session.watch(lambda _node: wake.set())
        while True:
            started = time.monotonic()
            wake.clear()
            # In a loop, a pass that waits (pods starting, a node away) hands over to the next one.
            code = _converge_once(cluster, store, session, min(timeout, period) if watch else timeout, output, stop)
            if not watch:
                sys.exit(code)
            wake.wait(max(0.0, period - (time.monotonic() - started)))
            if stop.is_set():
                break
    click.echo("stopped", err=True)
