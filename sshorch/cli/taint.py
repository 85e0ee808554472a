"""sshorch taint"""

from __future__ import annotations

import time
from dataclasses import replace

import click

from sshorch.cli.options import ClusterOptions, cluster_options, load
from sshorch.errors import SshorchError
from sshorch.run.apply import open_state
from sshorch.run.nodetaints import TAINTS
from sshorch.taints import TaintError, change_taints, parse_taint_change


@click.command()
@cluster_options
@click.argument("name", metavar="NODE")
@click.argument("changes", nargs=-1, required=True, metavar="KEY[=VALUE]:EFFECT[-]...")
def taint(cluster: ClusterOptions, name: str, changes: tuple[str, ...]) -> None:
    """Add taints to NODE, or remove them with a trailing '-', as `kubectl taint`.

    Effects: NoSchedule (no new pod that does not tolerate it), PreferNoSchedule
    (other nodes first), NoExecute (pods that do not tolerate it leave at the next
    pass). Taints set here are kept in the state and join the inventory's
    sshorch_taints; those are removed in the inventory.

    \b
    Examples:
      sshorch taint -i inventory.yml node2 dedicated=db:NoSchedule
      sshorch taint -i inventory.yml node2 dedicated:NoSchedule-
      sshorch taint -i inventory.yml node2 dedicated-
    """
    inventory = load(cluster)
    host = inventory.host(name)
    try:
        parsed = [parse_taint_change(text) for text in changes]
    except TaintError as error:
        raise SshorchError(f"node {name}: {error}") from None
    with open_state(inventory, cluster.state_path) as store, store.transaction():
        stored = store.load(TAINTS)
        taints = stored.set_by_command.get(name, ())
        for change in parsed:
            if change.remove and any(t.key == change.key and change.effect in (None, t.effect) for t in host.taints):
                raise SshorchError(f"node {name}: taint {change.key!r} is set by the inventory's sshorch_taints: remove it there")
            try:
                taints = change_taints(taints, change, time.time())
            except TaintError as error:
                raise SshorchError(f"node {name}: {error}") from None
        store.save(TAINTS, replace(stored, set_by_command={**stored.set_by_command, name: taints}))
    click.echo(f"node/{name} {'untainted' if all(c.remove for c in parsed) else 'tainted'}")
