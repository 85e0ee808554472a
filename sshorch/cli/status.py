"""sshorch status"""

from __future__ import annotations

from typing import Any

import click

from sshorch.cli.context import cluster_options, load, open_session, run_context
from sshorch.cli.options import output_option
from sshorch.cli.output import human_bytes, print_json, print_table, progress
from sshorch.converge import cluster_nodes, gather, plan_pass
from sshorch.deploy import RESTARTS_PREFIX, open_state, recorded_desired
from sshorch.status import build_status


@click.command()
@cluster_options
@output_option
def status(output: str, **kw: Any) -> None:
    """Show workloads (desired/ready), pods (node, phase, ports) and nodes.

    Reads the desired state recorded by the last `apply`; gathers each node in
    one command. Pending pods show why no node fits them.

    \b
    Examples:
      sshorch status -i inventory.yml
      sshorch status -i inventory.yml -o json
    """
    inventory = load(kw)
    with open_state(inventory, kw["state_path"]) as store, open_session(inventory, kw) as session:
        desired = recorded_desired(store)
        ctx = run_context(inventory, session, kw, progress, store, read_only=True)
        observed = gather(ctx)
        plan = plan_pass(ctx, desired, observed) if desired else None
        nodes = cluster_nodes(ctx, observed)
        restarts = {k.removeprefix(RESTARTS_PREFIX): v for k, v in store.counters(RESTARTS_PREFIX).items()}
    data = build_status(desired, observed, plan, nodes, ctx.allocations, restarts)
    if output == "json":
        print_json(data)
        return
    if data["workloads"]:
        print_table(
            ["WORKLOAD", "DESIRED", "READY", "UP-TO-DATE", "REVISION"],
            [[f"{w['kind'].lower()}/{w['name']}", w["desired"], w["ready"], w["up_to_date"], w["revision"]] for w in data["workloads"]],
        )
        click.echo()
    if data["pods"]:
        print_table(
            ["POD", "NODE", "PHASE", "RESTARTS", "PORTS", "REASON"],
            [
                [p["name"], p["node"] or "-", p["phase"], p["restarts"],
                 ",".join(f"{p['ip']}:{x['hostPort']}->{x['containerPort']}" for x in p["ports"]) or "-", p["reason"]]
                for p in data["pods"]
            ],
        )
        click.echo()
    if data["services"]:
        print_table(
            ["SERVICE", "TYPE", "CLUSTER-IP", "PORTS", "ENDPOINTS"],
            [
                [f"{x['namespace']}/{x['name']}", x["type"], x["clusterIP"] or "-",
                 ",".join(f"{p['port']}" + (f":{p['nodePort']}" if p["nodePort"] else "") + f"/{p['protocol']}" for p in x["ports"]),
                 ",".join(x["endpoints"]) or "<none>"]
                for x in data["services"]
            ],
        )
        click.echo()
    for waiting in data["waiting"]:
        click.echo(f"waiting: {waiting['workload']} for {', '.join(waiting['for'])}")
    print_table(
        ["NODE", "ADDRESS", "STATUS", "CPUS", "MEMORY", "REASON"],
        [[n["name"], n["address"], n["status"], n["cpus"] or "-", human_bytes(n["memory_bytes"]), n["reason"] or ""] for n in data["nodes"]],
    )
