"""sshorch sandbox up|down|status|list|fail|recover"""

from __future__ import annotations

import time

import click

from sshorch import sandbox as sb
from sshorch.cli.options import output_option
from sshorch.cli.output import print_json, print_table, progress

name_option = click.option(
    "--name", default="default", show_default=True, envvar="SSHORCH_SANDBOX",
    help="Sandbox name; several can run side by side (env SSHORCH_SANDBOX).",
)


@click.group()
def sandbox() -> None:
    """A real multi-node cluster on this machine, for demos and tests (root).

    Each node is a network namespace with its own mount and UTS namespaces,
    sshd, podman storage and iptables, on a bridge in 198.18.0.0/24 with no
    route out. `up` writes an Ansible inventory, a known_hosts file and a key,
    and loads demo images (localhost/sshorch/web:v1, web:v2, never-ready:v1,
    crash:v1, busybox:latest) on every node; `--grpc-image` adds grpc-health:v1.

    \b
    Examples:
      sshorch sandbox up --nodes 3
      sshorch nodes -i /var/lib/sshorch-sandboxes/default/inventory.yml
      sshorch sandbox fail node2 && sshorch sandbox recover node2
      sshorch sandbox down
    """


def _print_status(data: dict[str, object], output: str) -> None:
    if output == "json":
        print_json(data)
        return
    click.echo(f"sandbox {data['name']}: network {data['network']}, controller {data['host_address']}")
    click.echo(f"inventory: {data['inventory']}")
    nodes = data["nodes"]
    assert isinstance(nodes, list)
    print_table(["NODE", "ADDRESS", "STATE"], [[n["name"], n["address"], n["state"]] for n in nodes])


@sandbox.command()
@name_option
@click.option("--nodes", "count", type=click.IntRange(1, 125), default=3, show_default=True, help="How many nodes.")
@click.option("--no-images", is_flag=True, help="Skip loading the demo images (faster, for benchmarks).")
@click.option(
    "--grpc-image", is_flag=True,
    help="Also build and load localhost/sshorch/grpc-health:v1, a gRPC health server (this machine's Python and grpcio, 40-65 MB).",
)
@output_option
def up(name: str, count: int, no_images: bool, grpc_image: bool, output: str) -> None:
    """Build a sandbox of N nodes and print where its inventory is."""
    started = time.monotonic()
    sb.up(name, count, with_images=not no_images, with_grpc_image=grpc_image, progress=progress)
    progress(f"sandbox {name!r} up with {count} nodes in {time.monotonic() - started:.1f}s")
    _print_status(sb.status(name), output)


@sandbox.command()
@name_option
def down(name: str) -> None:
    """Remove a sandbox and everything it made: processes, namespaces, links, rules, files."""
    if sb.down(name, progress=progress):
        progress(f"sandbox {name!r} removed")
    else:
        progress(f"no sandbox {name!r}: nothing to remove")


@sandbox.command()
@name_option
@output_option
def status(name: str, output: str) -> None:
    """Show a sandbox's nodes (running, failed, stopped) and its inventory path."""
    _print_status(sb.status(name), output)


@sandbox.command(name="list")
@output_option
def list_(output: str) -> None:
    """List the sandboxes on this machine."""
    all_ = sb.list_sandboxes()
    if output == "json":
        print_json(all_)
        return
    print_table(
        ["NAME", "NODES", "NETWORK", "INVENTORY"],
        [[s["name"], len(s["nodes"]), s["network"], s["inventory"]] for s in all_],
    )


@sandbox.command()
@name_option
@click.argument("node")
def fail(name: str, node: str) -> None:
    """Cut NODE off the network; it and its containers keep running, like a partition."""
    sb.fail(name, node)
    progress(f"{node} cut off")


@sandbox.command()
@name_option
@click.argument("node")
def recover(name: str, node: str) -> None:
    """Reconnect NODE after `fail`."""
    sb.recover(name, node)
    progress(f"{node} reconnected")
