"""sshorch cordon | uncordon | drain"""

from __future__ import annotations

import sys
import time

import click

from sshorch.cli.context import run_context
from sshorch.cli.options import ClusterOptions, cluster_options, load, open_session
from sshorch.cli.live import RunDisplay
from sshorch.cli.output import say
from sshorch.cli.deploy import summary
from sshorch.cli.rollout import timeout_option
from sshorch.run.apply import command_line, converge_to, open_state, recorded_desired, run_lock
from sshorch.run.memory import EVACUATING
from sshorch.errors import SshorchError
from sshorch.inventory import Inventory
from sshorch.spec.workloadkinds import workloads


def _check_nodes(inventory: Inventory, names: tuple[str, ...]) -> None:
    known = {h.name for h in inventory.hosts}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SshorchError(f"not in the inventory: {', '.join(unknown)} (nodes: {', '.join(sorted(known))})")


@click.command()
@cluster_options
@click.argument("names", nargs=-1, required=True, metavar="NODE...")
def cordon(cluster: ClusterOptions, names: tuple[str, ...]) -> None:
    """Take no new pods on NODE; the pods there stay (see `drain`)."""
    inventory = load(cluster)
    _check_nodes(inventory, names)
    with open_state(inventory, cluster.state_path) as store:
        for name in names:
            store.set_cordoned(name, True)
    for name in names:
        click.echo(f"node/{name} cordoned")


@click.command()
@cluster_options
@click.argument("names", nargs=-1, required=True, metavar="NODE...")
def uncordon(cluster: ClusterOptions, names: tuple[str, ...]) -> None:
    """Let NODE take pods again (ends a drain too); pods are not moved back."""
    inventory = load(cluster)
    _check_nodes(inventory, names)
    with open_state(inventory, cluster.state_path) as store:
        with store.transaction():
            for name in names:
                store.set_cordoned(name, False)
            store.save(EVACUATING, store.load(EVACUATING) - set(names))
    for name in names:
        click.echo(f"node/{name} uncordoned")


@click.command()
@cluster_options
@timeout_option
@click.argument("names", nargs=-1, required=True, metavar="NODE...")
def drain(cluster: ClusterOptions, names: tuple[str, ...], timeout: float) -> None:
    """Cordon NODE and move its pods to other nodes without losing availability.

    One pod of a Deployment at a time leaves (out of every node's service
    rules first, then stopped with its grace period), and only while the
    Deployment's other pods are available; its replacement starts on another
    node. DaemonSet pods stay, as with `kubectl drain --ignore-daemonsets`. An
    interrupted drain goes on with the next `converge`; `uncordon` ends it.

    \b
    Examples:
      sshorch drain -i inventory.yml node2
      sshorch uncordon -i inventory.yml node2
    """
    started = time.monotonic()
    inventory = load(cluster)
    _check_nodes(inventory, names)
    with open_state(inventory, cluster.state_path) as store, run_lock(store, command_line(), time.time()):
        desired = recorded_desired(store)
        if desired is None:
            raise SshorchError("nothing applied yet: run 'sshorch apply -f FILES' first")
        with store.transaction():
            for name in names:
                store.set_cordoned(name, True)
            store.save(EVACUATING, store.load(EVACUATING) | set(names))
        with open_session(inventory, cluster) as session, RunDisplay() as display:
            ctx = run_context(inventory, session, cluster, display, store)
            outcome = converge_to(ctx, store, desired, timeout)
    lines, ok = summary(outcome, started)
    staying = {(o.meta.kind.lower(), o.meta.name) for o in workloads(desired.objects, lambda kind: kind.stays_on_drain)}
    observed = outcome.observed
    left = sorted(p.name for p in (observed.pods() if observed else ()) if p.node in names and (p.kind, p.owner) not in staying)
    if left:
        ok = False
        lines.append(f"still on {', '.join(names)}: {', '.join(left)}")
    for line in lines:
        say(line, err=not ok)
    if ok:
        for name in names:
            click.echo(f"node/{name} drained")
    else:
        sys.exit(1)
