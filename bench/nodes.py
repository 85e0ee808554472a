#!/usr/bin/env python3
"""Wall time of `sshorch nodes` on sandboxes of 3 and 20 nodes (DESIGN.md section 10).

Run as root from the repository: `.venv/bin/python bench/nodes.py [--sizes 3,20] [--runs 5]`.
Builds each sandbox (without demo images), times the CLI end to end (process
start included) and the gather alone (in process), prints a table, and removes
the sandbox. Target: under 1 s for 3 nodes, flat-ish to 20.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from sshorch import sandbox
from sshorch.inventory import load_inventory
from sshorch.run.gather import gather_nodes
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options, target_for


def time_cli(inventory: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sshorch", "nodes", "-i", inventory, "-o", "json"], check=True, capture_output=True)
    return time.perf_counter() - started


def time_gather(inventory_path: str) -> float:
    inventory = load_inventory(inventory_path)
    started = time.perf_counter()
    with Session(connect_options(inventory)) as session:
        reports = gather_nodes(session, [(target_for(h), h.runtime) for h in inventory.hosts])
    elapsed = time.perf_counter() - started
    not_ready = [r.name for r in reports if r.status != "Ready"]
    if not_ready:
        raise SystemExit(f"nodes not Ready: {not_ready}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="3,20", help="comma-separated node counts")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        name = f"bench-nodes-{size}"
        sandbox.down(name)
        started = time.perf_counter()
        sandbox.up(name, size, with_images=False)
        up_seconds = time.perf_counter() - started
        try:
            inventory = sandbox.status(name)["inventory"]
            cli = [time_cli(inventory) for _ in range(args.runs)]
            gather = [time_gather(inventory) for _ in range(args.runs)]
        finally:
            sandbox.down(name)
        rows.append((size, up_seconds, statistics.median(cli), max(cli), statistics.median(gather)))
    print(f"{'nodes':>5}  {'sandbox up':>10}  {'nodes CLI median':>16}  {'CLI max':>8}  {'gather median':>13}")
    for size, up_s, cli_med, cli_max, gather_med in rows:
        print(f"{size:>5}  {up_s:>9.2f}s  {cli_med:>15.3f}s  {cli_max:>7.3f}s  {gather_med:>12.3f}s")


if __name__ == "__main__":
    main()
