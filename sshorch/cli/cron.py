"""sshorch cron install|remove|status"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from sshorch.cli.options import inventory_option, load_cli_inventory
from sshorch.cli.output import print_json
from sshorch.run.crontab import CronJob, cron_running, find_entry, read_crontab, render_schedule, with_entry, without_entry, write_crontab
from sshorch.run.apply import cluster_name
from sshorch.errors import SshorchError
from sshorch.state import default_state_location, state_file

state_option = click.option("--state", "state_path", type=click.Path(path_type=str), envvar="SSHORCH_STATE", default=None,
                            help="State file (or sqlite:///PATH) the cron runs use [default: ~/.local/state/sshorch/CLUSTER.db].")


@click.group()
def cron() -> None:
    """Run `sshorch converge` from cron (for the invoking user), with a log file.

    One entry per cluster: installing again replaces it. Overlapping runs are
    harmless: a run that finds the lock taken exits 3 at once.
    """


@cron.command()
@inventory_option
@state_option
@click.option("--every", default="1m", show_default=True, help="1m, 5m, 1h ...: how often to converge.")
@click.option("--log", "log_path", type=click.Path(path_type=Path), default=None,
              help="Log file [default: beside the state file, CLUSTER-converge.log].")
def install(
    inventory_path: Path, vault_password_file: Path | None, state_path: str | None, every: str, log_path: Path | None
) -> None:
    """Install (or replace) the crontab entry for this inventory's cluster."""
    inventory = load_cli_inventory(inventory_path, vault_password_file)
    cluster = cluster_name(inventory)
    location = state_path or default_state_location(cluster)
    file = state_file(location)
    if file is None:
        raise SshorchError(f"{location} keeps nothing between runs: give cron runs a state file (--state PATH)")
    state = file.resolve()
    log = (log_path or state.with_name(f"{cluster}-converge.log")).resolve()
    job = CronJob(
        cluster=cluster,
        schedule=render_schedule(every),
        command=(
            sys.executable, "-m", "sshorch", "converge", "-i", str(inventory_path.resolve()), "--state", str(state),
            *(("--vault-password-file", str(vault_password_file.resolve())) if vault_password_file else ()),
        ),
        log=str(log),
    )
    write_crontab(with_entry(read_crontab(), job))
    click.echo(job.line())
    if not cron_running():
        click.echo("note: the cron daemon is not running here; start it (service cron start) for the entry to run", err=True)


@cron.command()
@inventory_option
def remove(inventory_path: Path, vault_password_file: Path | None) -> None:
    """Remove this cluster's crontab entry (other entries stay)."""
    cluster = cluster_name(load_cli_inventory(inventory_path, vault_password_file))
    current = read_crontab()
    if find_entry(current, cluster) is None:
        click.echo(f"no cron entry for cluster {cluster}", err=True)
        return
    write_crontab(without_entry(current, cluster))
    click.echo(f"removed the cron entry for cluster {cluster}", err=True)


@cron.command()
@inventory_option
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status(inventory_path: Path, vault_password_file: Path | None, output: str) -> None:
    """Show this cluster's crontab entry and whether cron runs."""
    cluster = cluster_name(load_cli_inventory(inventory_path, vault_password_file))
    entry = find_entry(read_crontab(), cluster)
    data: dict[str, Any] = {"cluster": cluster, "entry": entry, "cron_running": cron_running()}
    if output == "json":
        print_json(data)
    else:
        click.echo(entry or f"no cron entry for cluster {cluster}")
        click.echo(f"cron daemon: {'running' if data['cron_running'] else 'not running'}")
