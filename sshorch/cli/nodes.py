"""sshorch nodes"""

from __future__ import annotations

from pathlib import Path

import click

from sshorch.cli.options import connection_options, inventory_option, load_cli_inventory, output_option
from sshorch.cli.output import human_bytes, print_json, print_table
from sshorch.run.gather import gather_nodes
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options, target_for


@click.command()
@inventory_option
@connection_options
@output_option
def nodes(
    inventory_path: Path,
    vault_password_file: Path | None,
    forks: int,
    connect_timeout: float,
    known_hosts: Path | None,
    accept_new_host_keys: bool,
    limit: str | None,
    output: str,
) -> None:
    """Show every node: Ready or NotReady (and why), runtime, CPUs, memory.

    One SSH connection and one command per node, all nodes in parallel.

    \b
    Examples:
      sshorch nodes -i inventories/example-yaml/hosts.yml
      sshorch nodes -i hosts.ini --limit web -o json
    """
    inventory = load_cli_inventory(inventory_path, vault_password_file)
    hosts = inventory.select(limit)
    options = connect_options(
        inventory, known_hosts=known_hosts, accept_new_host_keys=accept_new_host_keys, connect_timeout=connect_timeout
    )
    with Session(options, forks=forks) as session:
        reports = gather_nodes(session, [(target_for(h), h.runtime) for h in hosts])
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
