"""sshorch nodes"""

from __future__ import annotations

import click

from sshorch.cli.options import ClusterOptions, load, node_options, open_session, output_option
from sshorch.cli.output import human_bytes, print_json, print_table
from sshorch.run.gather import gather_nodes
from sshorch.transport.hosttargets import target_for


@click.command()
@node_options
@output_option
def nodes(cluster: ClusterOptions, output: str) -> None:
    """Show every node: Ready or NotReady (and why), runtime, CPUs, memory.

    One SSH connection and one command per node, all nodes in parallel.

    \b
    Examples:
      sshorch nodes -i inventories/example-yaml/hosts.yml
      sshorch nodes -i hosts.ini --limit web -o json
    """
    inventory = load(cluster)
    with open_session(inventory, cluster) as session:
        reports = gather_nodes(session, [(target_for(h), h.runtime) for h in inventory.select(cluster.limit)])
    if output == "json":
        print_json([r.to_json() for r in reports])
        return
    print_table(
        ["NAME", "ADDRESS", "STATUS", "RUNTIME", "CPUS", "MEMORY", "DISK FREE", "KERNEL", "REASON"],
        [
            [
                r.name,
                r.address,
                r.status,
                f"{r.runtime} {r.runtime_version}".strip() or "-",
                r.cpus if r.cpus is not None else "-",
                human_bytes(r.memory_bytes),
                human_bytes(r.disk_free_bytes),
                r.kernel or "-",
                "; ".join(filter(None, (r.reason, *r.warnings))),
            ]
            for r in reports
        ],
    )
