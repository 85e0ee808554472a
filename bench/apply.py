#!/usr/bin/env python3
"""Wall time of `sshorch apply` (DESIGN.md section 10).

Run as root from the repository: `.venv/bin/python bench/apply.py [--sizes 3,20] [--runs 3]`.
For each sandbox size: a cold apply of 3 workloads x 3 replicas (until every
pod runs), then no-op applies. Prints a table and removes the sandboxes.
Targets: cold deploy on 3 nodes under 5 s; no-op well under 1 s of work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.compare_tools.sshorch_tool import write_manifests  # noqa: E402
from sshorch import sandbox  # noqa: E402


def apply(inventory: str, manifests: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sshorch", "apply", "-i", inventory, "-f", str(manifests), "--yes"],
        check=True, capture_output=True, env=env,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="3,20")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # The work of bench/compare: three Deployments of 3 replicas.
        manifests = write_manifests(Path(tmp, "app"), replicas=3)
        for size in (int(s) for s in args.sizes.split(",")):
            name = f"bench-apply-{size}"
            sandbox.down(name)
            sandbox.up(name, size)
            env = {**os.environ, "SSHORCH_STATE": f"{tmp}/{name}.db", "SSHORCH_SECRET_KEY_FILE": f"{tmp}/key"}
            try:
                inventory = sandbox.status(name)["inventory"]
                cold = apply(inventory, manifests, env)
                noop = [apply(inventory, manifests, env) for _ in range(args.runs)]
            finally:
                sandbox.down(name)
            rows.append((size, cold, statistics.median(noop)))
    print(f"{'nodes':>5}  {'cold apply 3x3 (all running)':>28}  {'no-op apply median':>18}")
    for size, cold, noop in rows:
        print(f"{size:>5}  {cold:>27.2f}s  {noop:>17.2f}s")


if __name__ == "__main__":
    main()
