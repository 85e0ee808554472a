"""A run's context from the inventory, the session and the state; the manifest options."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from sshorch.cli.options import ClusterOptions
from sshorch.run.passes import RunContext
from sshorch.run.apply import allowed_host_paths, cluster_name, eviction_timeout, service_config
from sshorch.run.memory import (
    DRAINING,
    EVACUATING,
    HEALTH,
    JOBS,
    LISTINGS,
    NODES,
    add_plan_events,
    cordoned_nodes,
    load_allocations,
    save_allocations,
)
from sshorch.inventory import Inventory
from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import PlanEvent
from sshorch.run.progress import Progress, quiet
from sshorch.plan.schedule import Strategy
from sshorch.state import StateStore
from sshorch.transport import Session

F = TypeVar("F", bound=Callable[..., Any])


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


def run_context(
    inventory: Inventory,
    session: Session,
    cluster: ClusterOptions,
    progress: Progress = quiet,
    store: StateStore | None = None,
    read_only: bool = False,
) -> RunContext:
    """A run's context; with `read_only` (plan, status) it reads the state but records nothing."""
    strategy: Strategy = "binpack" if inventory.cluster_vars.get("sshorch_scheduler") == "binpack" else "spread"
    ctx = RunContext(
        hosts=inventory.select(cluster.limit),
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
        ctx.draining = store.load(DRAINING)
        ctx.health = store.load(HEALTH)
        ctx.nodes_memory = store.load(NODES)
        ctx.listings = store.load(LISTINGS)
        ctx.cordoned = cordoned_nodes(store)
        ctx.jobs = store.load(JOBS)
        ctx.evacuating = store.load(EVACUATING)
        if not read_only:
            ctx.record_allocations = lambda allocations: save_allocations(store, allocations)
            ctx.record_draining = lambda pods: store.save(DRAINING, pods)
            ctx.record_health = lambda health: store.save(HEALTH, health)
            ctx.record_nodes = lambda memory: store.save(NODES, memory)
            ctx.record_listings = lambda listings: store.save(LISTINGS, listings)
            ctx.record_jobs = lambda jobs, events: record_jobs(store, jobs, events, progress, ctx.wall_clock())
    return ctx


def record_jobs(
    store: StateStore, jobs: Mapping[str, JobRecord], events: Sequence[PlanEvent], progress: Progress, now: float,
) -> None:
    with store.transaction():
        store.save(JOBS, jobs)
        add_plan_events(store, events, progress, now)
