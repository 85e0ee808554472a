"""sshorch logs | exec | events | graph"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from sshorch.cli.context import manifest_options, run_context
from sshorch.cli.options import ClusterOptions, cluster_options, load, open_session, output_option
from sshorch.cli.output import print_json, print_table
from sshorch.run.passes import gather
from sshorch.run.apply import open_state
from sshorch.errors import SshorchError
from sshorch.plan.graph import build_graph, render_dot, render_text
from sshorch.observe.cluster import Observed
from sshorch.labels import CONTAINER_LABEL
from sshorch.observe.owned import ObservedPod
from sshorch.runtime.registry import runtime_for
from sshorch.spec import load_desired
from sshorch.transport.hosttargets import target_for


def find_pods(observed: Observed, name: str) -> list[ObservedPod]:
    """A pod by name, or every pod of a workload (`web` or `deployment/web`)."""
    pods = observed.pods()
    exact = [p for p in pods if p.name == name]
    if exact:
        return exact
    kind, _, owner = name.rpartition("/")
    found = [p for p in pods if p.owner == owner and (not kind or p.kind == kind.lower())]
    if not found:
        raise SshorchError(f"no pod or workload {name!r} is running (see 'sshorch status')")
    return sorted(found, key=lambda p: p.name)


def container_name(pod: ObservedPod, container: str | None) -> str:
    """The runtime name of the pod's `container` (its name in the spec, an init container's
    too); by default its first app container."""
    names = {c.labels.get(CONTAINER_LABEL, c.name): c.name for c in (*pod.containers, *pod.init_containers)}
    if container is None:
        if not pod.containers:
            raise SshorchError(f"pod {pod.name} has no containers")
        return pod.containers[0].name
    if container not in names:
        raise SshorchError(f"pod {pod.name} has no container {container!r} (it has: {', '.join(sorted(names))})")
    return names[container]


@click.command()
@cluster_options
@click.argument("name")
@click.option("-c", "--container", default=None, help="Container of the pod [default: the first].")
@click.option("--tail", type=click.IntRange(0), default=None, help="Only the last N lines.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (one pod).")
def logs(cluster: ClusterOptions, name: str, container: str | None, tail: int | None, follow: bool) -> None:
    """Print the logs of a pod, or of every pod of a workload.

    \b
    Examples:
      sshorch logs -i inventory.yml web --tail 20
      sshorch logs -i inventory.yml web-5f2c9a1b3d-x7k2p -f
    """
    inventory = load(cluster)
    with open_session(inventory, cluster) as session:
        ctx = run_context(inventory, session, cluster)
        pods = find_pods(gather(ctx), name)
        if follow and len(pods) > 1:
            raise SshorchError(f"--follow needs one pod; {name} has {len(pods)}: {', '.join(p.name for p in pods)}")
        hosts = {h.name: h for h in ctx.hosts}
        for pod in pods:
            host = hosts[pod.node]
            argv = runtime_for(host.runtime).logs(container_name(pod, container), tail, follow)
            conn = session.connection(target_for(host))
            if len(pods) > 1:
                click.echo(f"==> {pod.name} on {pod.node} <==")
            conn.stream(argv, sys.stdout.buffer.write, sys.stderr.buffer.write)
            sys.stdout.flush()


@click.command(name="exec", context_settings={"ignore_unknown_options": True})
@cluster_options
@click.argument("pod")
@click.option("-c", "--container", default=None, help="Container of the pod [default: the first].")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(cluster: ClusterOptions, pod: str, container: str | None, command: tuple[str, ...]) -> None:
    """Run a command in a pod's container and exit with its status.

    \b
    Examples:
      sshorch exec -i inventory.yml web -- cat /etc/hosts
      sshorch exec -i inventory.yml web-5f2c9a1b3d-x7k2p -c web -- sh -c 'wget -qO- localhost:8080'
    """
    inventory = load(cluster)
    with open_session(inventory, cluster) as session:
        ctx = run_context(inventory, session, cluster)
        target_pod = find_pods(gather(ctx), pod)[0]
        host = {h.name: h for h in ctx.hosts}[target_pod.node]
        argv = runtime_for(host.runtime).exec(container_name(target_pod, container), list(command))
        status = session.connection(target_for(host)).stream(argv, sys.stdout.buffer.write, sys.stderr.buffer.write)
    sys.stdout.flush()
    sys.exit(status)


@click.command()
@cluster_options
@click.option("--since", type=click.FloatRange(0), default=None, help="Only events of the last N seconds.")
@click.option("--last", "last", type=click.IntRange(1), default=200, show_default=True, help="At most the newest N events.")
@output_option
def events(cluster: ClusterOptions, since: float | None, last: int, output: str) -> None:
    """What sshorch did and saw: pods created and removed, failures, Pending reasons."""
    inventory = load(cluster)
    with open_state(inventory, cluster.state_path) as store:
        found = store.events(since=time.time() - since if since else None, limit=last)
    if output == "json":
        print_json([{"time": e.time, "type": e.type, "reason": e.reason, "object": e.object, "node": e.node, "message": e.message} for e in found])
        return
    print_table(
        ["TIME", "TYPE", "REASON", "OBJECT", "NODE", "MESSAGE"],
        [[time.strftime("%H:%M:%S", time.localtime(e.time)), e.type, e.reason, e.object, e.node, e.message] for e in found],
    )


@click.command()
@manifest_options
@click.option("--format", "fmt", type=click.Choice(["text", "dot"]), default="text", show_default=True)
def graph(paths: tuple[Path, ...], set_values: tuple[str, ...], values_files: tuple[Path, ...], fmt: str) -> None:
    """Print the dependency graph of manifests: batches applied in order.

    \b
    Examples:
      sshorch graph -f examples/shop/
      sshorch graph -f examples/shop/ --format dot | dot -Tsvg > shop.svg
    """
    built = build_graph(load_desired(list(paths), set_values=set_values, values_files=values_files))
    click.echo(render_dot(built) if fmt == "dot" else render_text(built), nl=False)
