"""Building a run from command-line options: inventory, session, state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from sshorch.cli.options import connection_options, inventory_option, load_cli_inventory
from sshorch.converge import RunContext
from sshorch.deploy import allowed_host_paths, cluster_name, eviction_timeout, service_config
from sshorch.memory import (
    add_plan_events,
    cordoned_nodes,
    load_allocations,
    load_draining,
    load_evacuating,
    load_health,
    load_jobs,
    load_listings,
    load_nodes,
    save_allocations,
    save_draining,
    save_health,
    save_jobs,
    save_listings,
    save_nodes,
)
from sshorch.inventory import Inventory
from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import PlanEvent
from sshorch.run.progress import Progress, quiet
from sshorch.schedule import Strategy
from sshorch.state import SqliteStore
from sshorch.transport import Session
from sshorch.transport.targets import connect_options

F = TypeVar("F", bound=Callable[..., Any])


def cluster_options(func: F) -> F:
    """-i, connection options and --state: what every command that touches the cluster takes."""
    func = click.option(
        "--state", "state_path", type=click.Path(path_type=Path), envvar="SSHORCH_STATE", default=None,
        help="State file (env SSHORCH_STATE) [default: ~/.local/state/sshorch/CLUSTER.db].",
    )(func)
    return inventory_option(connection_options(func))


def manifest_options(func: F) -> F:
    """-f, --set, --values. Commands that read Secret values also take the inventory's
    --vault-password-file (`graph` reads only the structure and takes no inventory)."""
    options = [
        click.option("-f", "--filename", "paths", multiple=True, required=True, type=click.Path(path_type=Path),
                     help="Manifest file or directory (YAML, multi-document; *.j2 are Jinja2 templates). Repeatable."),
        click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE",
                     help="Template value (dotted keys nest; the value is YAML). Repeatable."),
        click.option("--values", "values_files", multiple=True, type=click.Path(path_type=Path),
                     help="YAML file of template values. Repeatable; later files win, --set wins over all."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def open_session(inventory: Inventory, kw: dict[str, Any]) -> Session:
    options = connect_options(
        inventory,
        known_hosts=kw["known_hosts"],
        accept_new_host_keys=kw["accept_new_host_keys"],
        connect_timeout=kw["connect_timeout"],
    )
    return Session(options, forks=kw["forks"])


def run_context(
    inventory: Inventory,
    session: Session,
    kw: dict[str, Any],
    progress: Progress = quiet,
    store: SqliteStore | None = None,
    read_only: bool = False,
) -> RunContext:
    """A run's context; with `read_only` (plan, status) it reads the state but records nothing."""
    strategy: Strategy = "binpack" if inventory.cluster_vars.get("sshorch_scheduler") == "binpack" else "spread"
    ctx = RunContext(
        hosts=inventory.select(kw["limit"]),
        session=session,
        cluster=cluster_name(inventory),
        strategy=strategy,
        progress=progress,
        services=service_config(inventory),
        eviction_timeout=eviction_timeout(inventory),
        allowed_host_paths=allowed_host_paths(inventory),
    )
    if store is not None:
        ctx.allocations = load_allocations(store)
        ctx.draining = load_draining(store)
        ctx.health = load_health(store)
        ctx.nodes_memory = load_nodes(store)
        ctx.listings = load_listings(store)
        ctx.cordoned = cordoned_nodes(store)
        ctx.jobs = load_jobs(store)
        ctx.evacuating = load_evacuating(store)
        if not read_only:
            ctx.record_allocations = lambda allocations: save_allocations(store, allocations)
            ctx.record_draining = lambda pods: save_draining(store, pods)
            ctx.record_health = lambda health: save_health(store, health)
            ctx.record_nodes = lambda memory: save_nodes(store, memory)
            ctx.record_listings = lambda listings: save_listings(store, listings)
            ctx.record_jobs = lambda jobs, events: record_jobs(store, jobs, events, progress)
    return ctx


def record_jobs(store: SqliteStore, jobs: Mapping[str, JobRecord], events: Sequence[PlanEvent], progress: Progress) -> None:
    save_jobs(store, jobs)
    add_plan_events(store, events, progress)


def load(kw: dict[str, Any]) -> Inventory:
    return load_cli_inventory(kw["inventory_path"], kw.get("vault_password_file"))
