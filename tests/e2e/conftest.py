"""End-to-end fixtures: every test module gets a real sandbox it creates and removes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sshorch.sandbox import host, manager

pytestmark = pytest.mark.e2e

if os.geteuid() != 0:
    pytest.skip("end-to-end tests build a sandbox and need root", allow_module_level=True)


def sshorch(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real CLI, as a user would."""
    done = subprocess.run(
        [sys.executable, "-m", "sshorch", *args], capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"sshorch {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@contextmanager
def own_state(root: Path) -> Iterator[None]:
    """A state file and secret key of the test module's own, as a user of one cluster has."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSHORCH_STATE", str(root / "state.db"))
        patch.setenv("SSHORCH_SECRET_KEY_FILE", str(root / "secret.key"))
        yield


def sshorch_json(*args: str) -> Any:
    return json.loads(sshorch(*args, "-o", "json").stdout)


def leftovers(name: str, directory: Path, namespace_inodes: set[int], processes: dict[int, str] | None = None) -> list[str]:
    """Everything a sandbox could leave behind on this machine; `processes`, those
    that ran in its namespaces before `down`, must be gone, not even zombies."""
    found: list[str] = [f"process {pid} (exited, not yet reaped)" for pid in host.still_there(processes or {})]
    netns = Path("/run/netns")
    if netns.exists():
        found += [f"netns {n}" for n in os.listdir(netns) if n.startswith(f"sshorch-{name}-")]
    ident = manager.short_id(name)
    found += [f"link {link}" for link in os.listdir("/sys/class/net") if ident in link]
    rules = subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True).stdout
    found += [f"rule {r}" for r in rules.splitlines() if f"sshorch-sandbox:{name}" in r]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [f"mount {line.split()[4]}" for line in mounts.splitlines() if str(directory) in line]
    if directory.exists():
        found.append(f"directory {directory}")
    if not manager.all_records(manager.sandbox_root()):
        routes = subprocess.run(["ip", "route", "show", "type", "unreachable"], capture_output=True, text=True).stdout
        found += [f"route {r}" for r in routes.splitlines() if r.split()[1] in manager.GUARD_ROUTES]
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            state = (pid_dir / "stat").read_text().split(") ", 1)[1][0]
            inodes = {os.stat(pid_dir / "ns" / kind).st_ino for kind in ("mnt", "net")}
            cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if state != "Z" and (inodes & namespace_inodes or str(directory) in cmdline):
            found.append(f"process {pid_dir.name} {cmdline[:80]}")
    return found


def processes_of(inodes: set[int]) -> dict[int, str]:
    """The processes in these namespaces now, with their start times."""
    return host.start_times(host.processes_in(*inodes))


def namespace_inodes(status: dict[str, Any], directory: Path) -> set[int]:
    inodes = set()
    for node in status["nodes"]:
        for path in (Path("/run/netns") / node["netns"], directory / "nodes" / node["name"] / "ns" / "mnt"):
            try:
                inodes.add(path.stat().st_ino)
            except OSError:
                pass
    return inodes


def on_nodes(sandbox: "Sandbox", script: str, nodes: tuple[str, ...] | None = None) -> dict[str, str]:
    """Run a shell command on the nodes (all, or those named) over SSH; output per node,
    "ERROR ..." for a node that does not answer."""
    from sshorch.inventory import load_inventory
    from sshorch.transport import Session
    from sshorch.transport.hosttargets import connect_options, target_for

    inventory = load_inventory(sandbox.inventory)
    hosts = [h for h in inventory.hosts if nodes is None or h.name in nodes]
    with Session(connect_options(inventory)) as session:
        outcomes = session.map(lambda c: c.run(["sh", "-c", script], timeout=120), [target_for(h) for h in hosts])
    return {o.target.name: (o.value.text if o.value else f"ERROR {o.error}") for o in outcomes}


def on_node(sandbox: "Sandbox", node: str, script: str) -> str:
    return on_nodes(sandbox, script, (node,))[node]


def endpoint_chains(sandbox: "Sandbox", vip: str, nodes: tuple[str, ...] | None = None) -> dict[str, int]:
    """How many endpoints each node's rules give the VIP (-1: the node does not answer)."""
    script = (
        f"svc=$(iptables-save -t nat | grep -- '-d {vip}/32' | sed 's/.*-j //' | head -1); "
        "iptables-save -t nat | grep -c -- \"-A $svc .*-j SSHORCH-[A-Z2-7]*-SEP-\""
    )
    return {
        node: -1 if text.startswith("ERROR") else int(text.strip() or 0)
        for node, text in on_nodes(sandbox, script, nodes).items()
    }


class Sandbox:
    def __init__(self, name: str, status: dict[str, Any]) -> None:
        self.name = name
        self.status = status
        self.inventory = status["inventory"]
        self.directory = Path(status["inventory"]).parent

    def node(self, name: str) -> dict[str, Any]:
        return next(n for n in self.status["nodes"] if n["name"] == name)

    @property
    def run_dir(self) -> str:
        """Where the cluster of the sandbox's inventory keeps its files on a node (tmpfs)."""
        from sshorch.nodefiles import cluster_run_dir

        return cluster_run_dir(self.name)


@contextmanager
def built_sandbox(name: str, nodes: int, *up_options: str) -> Iterator[Sandbox]:
    """A sandbox of `nodes` nodes (and `sandbox up`'s `up_options`), always removed, and checked to leave nothing behind."""
    box: Sandbox | None = None
    try:
        sshorch("sandbox", "up", "--name", name, "--nodes", str(nodes), *up_options)
        status = sshorch_json("sandbox", "status", "--name", name)
        box = Sandbox(name, status)
        inodes = namespace_inodes(status, box.directory)
        yield box
    finally:
        processes = processes_of(inodes) if box else {}
        sshorch("sandbox", "down", "--name", name, check=False)
    assert leftovers(name, box.directory, inodes, processes) == []


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A 3-node sandbox for the whole run."""
    with built_sandbox(f"e2e-{os.getpid()}", 3) as box:
        yield box
