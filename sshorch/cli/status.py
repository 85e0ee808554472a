"""sshorch status"""

from __future__ import annotations

import time
from typing import Any

import click

from sshorch.cli.context import run_context
from sshorch.cli.options import ClusterOptions, cluster_options, load, open_session, output_option
from sshorch.cli.output import human_bytes, print_json, print_table
from sshorch.run.passes import cluster_nodes, gather, observed_hashes, plan_pass
from sshorch.run.apply import RESTARTS_PREFIX, expand_cron, open_state, recorded_desired, service_config
from sshorch.plan.overview import build_status


def print_jobs(jobs: list[dict[str, Any]]) -> None:
    def duration(job: dict[str, Any]) -> str:
        if job["started"] is None:
            return "-"
        seconds = (job["finished"] or time.time()) - job["started"]
        return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"

    print_table(
        ["JOB", "COMPLETIONS", "FAILED", "ACTIVE", "STATUS", "DURATION", "REASON"],
        [[f"{j['namespace']}/{j['name']}", f"{j['succeeded']}/{j['completions']}", j["failed"], j["active"], j["status"],
          duration(j), j["reason"]] for j in jobs],
    )


def _gather_status(cluster: ClusterOptions) -> dict[str, Any]:
    inventory = load(cluster)
    with open_state(inventory, cluster.state_path) as store, open_session(inventory, cluster) as session:
        recorded = recorded_desired(store)
        desired = expand_cron(store, recorded) if recorded else None
        ctx = run_context(inventory, session, cluster, store=store, read_only=True)
        observed = gather(ctx)
        desired = observed_hashes(desired, observed, ctx.memory.jobs) if desired else None
        plan = plan_pass(ctx, desired, observed) if desired else None
        nodes = cluster_nodes(ctx, observed)
        restarts = {k.removeprefix(RESTARTS_PREFIX): v for k, v in store.counters(RESTARTS_PREFIX).items()}
    return build_status(
        desired, observed, plan, nodes, ctx.memory.allocations, restarts, ctx.memory.jobs,
        service_config(inventory).load_balancer_addresses, ctx.wall_clock(),
    )


def _external(service: dict[str, Any]) -> str:
    # As kubectl get svc: <pending> for a LoadBalancer answering nowhere yet.
    if service["type"] != "LoadBalancer":
        return "<none>"
    return ",".join(service["externalAddresses"]) or "<pending>"


@click.command()
@cluster_options
@output_option
def jobs(cluster: ClusterOptions, output: str) -> None:
    """Show each Job: succeeded/completions, failures, active pods, status.

    A Job's progress is recorded by the runs that watch it (`apply`,
    `converge`, cron or --watch); finished pods stay, with their logs
    (`sshorch logs POD`), until ttlSecondsAfterFinished.
    """
    data = _gather_status(cluster)
    if output == "json":
        print_json(data["jobs"])
    elif data["jobs"]:
        print_jobs(data["jobs"])
    else:
        click.echo("no jobs")


@click.command()
@cluster_options
@output_option
def status(cluster: ClusterOptions, output: str) -> None:
    """Show workloads (desired/ready), pods (node, phase, ports) and nodes.

    Reads the desired state recorded by the last `apply`; gathers each node in
    one command. Pending pods show why no node fits them.

    \b
    Examples:
      sshorch status -i inventory.yml
      sshorch status -i inventory.yml -o json
    """
    data = _gather_status(cluster)
    if output == "json":
        print_json(data)
        return
    if data["workloads"]:
        print_table(
            ["WORKLOAD", "DESIRED", "READY", "UP-TO-DATE", "REVISION"],
            [[f"{w['kind'].lower()}/{w['name']}", w["desired"], w["ready"], w["up_to_date"], w["revision"]] for w in data["workloads"]],
        )
        click.echo()
    if data["jobs"]:
        print_jobs(data["jobs"])
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
            ["SERVICE", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORTS", "ENDPOINTS"],
            [
                [f"{x['namespace']}/{x['name']}", x["type"], x["clusterIP"] or "-", _external(x),
                 ",".join(f"{p['port']}" + (f":{p['nodePort']}" if p["nodePort"] else "") + f"/{p['protocol']}" for p in x["ports"]),
                 ",".join(x["endpoints"]) or "<none>"]
                for x in data["services"]
            ],
        )
        click.echo()
    for waiting in data["waiting"]:
        click.echo(f"waiting: {waiting['workload']} for {', '.join(waiting['for'])}")
    print_table(
        ["NODE", "ADDRESS", "STATUS", "CPUS", "MEMORY", "TAINTS", "REASON"],
        [[n["name"], n["address"], n["status"] + (",SchedulingDisabled" if n["cordoned"] else ""), n["cpus"] or "-",
          human_bytes(n["memory_bytes"]), ",".join(n["taints"]) or "<none>", n["reason"] or ""] for n in data["nodes"]],
    )
