"""A run's context from the inventory, the session and the state; the manifest options."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from sshorch.cli.options import ClusterOptions
from sshorch.run.passes import RunContext, controller_addresses
from sshorch.run.apply import allowed_host_paths, cluster_name, eviction_timeout, service_config
from sshorch.run.memory import EVACUATING, cordoned_nodes, load_memory
from sshorch.run.setapply import SetChoice
from sshorch.spec.applysets import check_applyset_name, default_applyset
from sshorch.run.nodetaints import TAINTS, StoredTaints, node_taints
from sshorch.inventory import Inventory
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


def _applyset_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (rule := check_applyset_name(value)) is not None:
        raise click.BadParameter(f"{value!r}: {rule}")
    return value


def set_options(func: F) -> F:
    """--applyset and --prune: which recorded objects an apply may change and remove."""
    options = [
        click.option("--applyset", metavar="NAME", callback=_applyset_name,
                     help="The apply set the files are (default: named after the paths, e.g. -f examples/shop/ is 'shop'). "
                          "Objects of other sets are left as they are."),
        click.option("--prune", is_flag=True,
                     help="Also remove the objects of this apply set that are no longer in the files."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def set_choice(paths: Sequence[Path], applyset: str | None, prune: bool) -> SetChoice:
    return SetChoice(applyset or default_applyset([str(p) for p in paths]), prune)


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
    hosts = inventory.select(cluster.limit)
    ctx = RunContext(
        hosts=hosts,
        session=session,
        cluster=cluster_name(inventory),
        strategy=strategy,
        progress=progress,
        services=service_config(inventory),
        eviction_timeout=eviction_timeout(inventory),
        allowed_host_paths=allowed_host_paths(inventory),
        controller_addresses=controller_addresses(hosts),
    )
    if store is None:
        return replace(ctx, taints=node_taints(StoredTaints(), inventory.hosts, time.time())[0])
    stored = store.load(TAINTS)
    taints, seen = node_taints(stored, inventory.hosts, time.time())
    if seen != stored and not read_only:
        store.save(TAINTS, seen)
    return replace(
        ctx, memory=load_memory(store), cordoned=cordoned_nodes(store), evacuating=store.load(EVACUATING),
        store=None if read_only else store, taints=taints,
    )

