#!/usr/bin/env python3
"""sshorch side by side with Ansible and pyinfra: the same work on the same sandbox (DESIGN.md section 10).

Run as root from the repository: `bench/compare [--runs 5] [--nodes 3] [--scale 3,10,20,50]`.

The work: three services, one container of each on every node, published on a
host port, with an environment file (sshorch: three Deployments, a replica per
node, environment from a ConfigMap). For each tool, `--runs` times from a clean
cluster: (a) cold deploy, until the containers run; (b) the same command again,
with nothing to change; (c) one container deleted by hand on node1, then the
same command again, until it runs again. Medians, and sshorch's time over the
other's (below 1: sshorch is faster). Then the no-op re-run on 3, 10, 20 and 50
nodes for sshorch (`converge`) and Ansible, with the controller's CPU time.

Ansible and pyinfra are installed from PyPI into their own virtual
environments under --tools-dir, at the settings written in
bench/compare_tools/. Figures go to stdout and to --json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tools", default="sshorch,ansible,pyinfra")
    parser.add_argument("--scale", default="3,10,20,50", help="node counts for the no-op scale runs ('' to skip)")
    parser.add_argument("--scale-runs", type=int, default=3)
    parser.add_argument("--tools-dir", type=Path, default=Path("/var/lib/sshorch-bench"))
    parser.add_argument("--json", type=Path, default=Path("bench/compare-results.json"))
    return parser.parse_args()


if __name__ == "__main__":
    # --help answers here, before the modules below (and the environment they need) are loaded.
    ARGS = arguments()

import yaml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.compare_tools.sshorch_tool import RunResult, Sshorch, write_manifests  # noqa: E402
from sshorch import sandbox  # noqa: E402
from sshorch.inventory import load_inventory  # noqa: E402
from sshorch.transport import Session  # noqa: E402
from sshorch.transport.hosttargets import connect_options, target_for  # noqa: E402

CASES = ("cold", "noop", "recovery")
# What each node must run after a deploy: one container of each service.
RUNNING_CHECK = "podman ps --filter status=running --format '{{.Names}}' | grep -c -E 'svc-[abc]' || true"
WIPE = "podman pod rm -f -a >/dev/null 2>&1; podman rm -f -a >/dev/null 2>&1; rm -rf /etc/bench /run/sshorch /var/lib/sshorch; true"


class Tool(Protocol):
    name: str

    def version(self) -> str: ...
    def deploy(self) -> RunResult: ...
    def container_to_delete(self) -> str: ...
    def reset(self) -> None: ...


def on_nodes(inventory: Path, script: str, only: Sequence[str] | None = None) -> dict[str, str]:
    loaded = load_inventory(inventory)
    hosts = [h for h in loaded.hosts if only is None or h.name in only]
    with Session(connect_options(loaded)) as session:
        outcomes = session.map(lambda c: c.run(["sh", "-c", script], timeout=300), [target_for(h) for h in hosts])
    return {o.target.name: o.value.text if o.value else f"ERROR {o.error}" for o in outcomes}


def all_running(inventory: Path, deadline: float = 60) -> bool:
    """Every node runs its three containers (polled: the others return before their containers settle)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        counts = on_nodes(inventory, RUNNING_CHECK)
        if all(text.strip() == "3" for text in counts.values()):
            return True
        time.sleep(0.2)
    return False


def subset_inventory(full: Path, count: int, out: Path) -> Path:
    data = yaml.safe_load(full.read_text())
    hosts = data["all"]["children"]["sandbox"]["hosts"]
    data["all"]["children"]["sandbox"]["hosts"] = {name: hosts[name] for name in list(hosts)[:count]}
    out.write_text(yaml.safe_dump(data))
    return out


def measure(tool: Tool, inventory: Path, runs: int, progress: Callable[[str], None]) -> dict[str, list[RunResult]]:
    results: dict[str, list[RunResult]] = {case: [] for case in CASES}
    for run in range(runs):
        on_nodes(inventory, WIPE)
        tool.reset()
        for case in CASES:
            if case == "recovery":
                on_nodes(inventory, tool.container_to_delete(), ["node1"])
            result = tool.deploy()
            if result.returncode != 0 or not all_running(inventory):
                raise SystemExit(f"{tool.name} {case} failed (exit {result.returncode}):\n{result.output_tail}")
            results[case].append(result)
            progress(f"{tool.name} run {run + 1} {case}: {result.wall:.2f}s wall, {result.cpu:.2f}s cpu")
    on_nodes(inventory, WIPE)
    return results


def median(results: Sequence[RunResult], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in results))


def comparison_table(figures: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    tools = list(figures)
    header = f"{'case':<10}" + "".join(f"{t + ' (s)':>16}" for t in tools)
    header += "".join(f"{'sshorch/' + t:>18}" for t in tools if t != "sshorch")
    lines = [header]
    for case in CASES:
        row = f"{case:<10}" + "".join(f"{figures[t][case]['wall']:>16.2f}" for t in tools)
        row += "".join(f"{figures['sshorch'][case]['wall'] / figures[t][case]['wall']:>18.3f}" for t in tools if t != "sshorch")
        lines.append(row)
    return lines


class Ansible:
    """ansible-playbook of bench/compare_tools/ansible/site.yml, forks = node count."""

    name = "ansible"

    def __init__(self, inventory: Path, nodes: int, tools_dir: Path) -> None:
        from bench.compare_tools import ansible_tool

        self.tool, self.venv = ansible_tool, tools_dir / "ansible-venv"
        self.inventory, self.nodes = inventory, nodes
        self.playbook = ansible_tool.install(self.venv)

    def version(self) -> str:
        return str(self.tool.version(self.venv))

    def deploy(self) -> RunResult:
        r = self.tool.run(self.playbook, self.inventory, self.nodes)
        return RunResult(r.wall_seconds, r.cpu_seconds, r.returncode, r.changed, r.output[-2000:])

    def container_to_delete(self) -> str:
        return str(self.tool.delete_one_container_command())

    def reset(self) -> None:
        pass


class Pyinfra:
    """pyinfra of bench/compare_tools/pyinfra/deploy.py, parallel = node count."""

    name = "pyinfra"

    def __init__(self, inventory: Path, nodes: int, tools_dir: Path, work: Path) -> None:
        from bench.compare_tools import pyinfra_tool

        self.tool, self.nodes = pyinfra_tool, nodes
        self.bin = pyinfra_tool.install(tools_dir / "pyinfra-venv")
        self.inventory = work / "pyinfra_inventory.py"
        pyinfra_tool.write_inventory(inventory, self.inventory)

    def version(self) -> str:
        return f"pyinfra {self.tool.version(self.bin)}"

    def deploy(self) -> RunResult:
        return self.tool.run(self.bin, self.inventory, self.tool.DEPLOY, self.nodes)

    def container_to_delete(self) -> str:
        return "podman rm -f bench-svc-a"

    def reset(self) -> None:
        pass


def build_tools(names: Sequence[str], inventory: Path, nodes: int, work: Path, tools_dir: Path) -> list[Tool]:
    tools: list[Tool] = []
    for name in names:
        if name == "sshorch":
            tools.append(Sshorch(inventory, write_manifests(work / "manifests", nodes), work / "state.db"))
        elif name == "ansible":
            tools.append(Ansible(inventory, nodes, tools_dir))
        elif name == "pyinfra":
            tools.append(Pyinfra(inventory, nodes, tools_dir, work))
    return tools


def main(args: argparse.Namespace) -> None:
    names = [t for t in args.tools.split(",") if t]

    def progress(text: str) -> None:
        print(f"• {text}", file=sys.stderr, flush=True)

    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"), "machine": {"cores": len(__import__("os").sched_getaffinity(0)),
                                                        "python": platform.python_version(), "kernel": platform.release()},
        "nodes": args.nodes, "runs": args.runs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        box = "bench-compare"
        sandbox.down(box)
        progress(f"sandbox {box}: {args.nodes} nodes")
        sandbox.up(box, args.nodes)
        try:
            inventory = Path(sandbox.status(box)["inventory"])
            tools = build_tools(names, inventory, args.nodes, work, args.tools_dir)
            report["versions"] = {t.name: t.version() for t in tools}
            figures = {}
            for tool in tools:
                results = measure(tool, inventory, args.runs, progress)
                figures[tool.name] = {case: {"wall": median(rs, "wall"), "cpu": median(rs, "cpu")} for case, rs in results.items()}
            report["compare"] = figures
        finally:
            sandbox.down(box)
        lines = [f"{args.nodes} nodes, median of {args.runs} runs, wall seconds"] + comparison_table(figures)
        if args.scale:
            report["scale"] = scale(args, [t for t in names if t in ("sshorch", "ansible")], work, progress)
            lines += ["", "no-op re-run by node count: wall / controller CPU seconds (median)"]
            lines.append(f"{'nodes':>6}" + "".join(f"{t:>22}" for t in report["scale"]["tools"]))
            for row in report["scale"]["rows"]:
                lines.append(f"{row['nodes']:>6}" + "".join(f"{row[t]['wall']:>12.2f} / {row[t]['cpu']:>6.2f}" for t in report["scale"]["tools"]))
    print("\n".join(lines))
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    progress(f"written: {args.json}")


def scale(args: argparse.Namespace, names: list[str], work: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    sizes = [int(s) for s in args.scale.split(",")]
    box = "bench-scale"
    sandbox.down(box)
    progress(f"sandbox {box}: {max(sizes)} nodes")
    sandbox.up(box, max(sizes))
    rows = []
    try:
        full = Path(sandbox.status(box)["inventory"])
        for size in sizes:
            inventory = subset_inventory(full, size, work / f"inventory-{size}.yml")
            row: dict[str, Any] = {"nodes": size}
            for tool in build_tools(names, inventory, size, work / f"scale-{size}", args.tools_dir):
                on_nodes(full, WIPE)
                tool.reset()
                first = tool.deploy()
                if first.returncode != 0:
                    raise SystemExit(f"{tool.name} on {size} nodes failed:\n{first.output_tail}")
                noop = [tool.converge() if isinstance(tool, Sshorch) else tool.deploy() for _ in range(args.scale_runs)]
                row[tool.name] = {"wall": median(noop, "wall"), "cpu": median(noop, "cpu")}
                progress(f"{size} nodes {tool.name}: no-op {row[tool.name]['wall']:.2f}s wall, {row[tool.name]['cpu']:.2f}s cpu")
            rows.append(row)
    finally:
        sandbox.down(box)
    return {"tools": names, "rows": rows}


if __name__ == "__main__":
    main(ARGS)
