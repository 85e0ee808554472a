"""Effects on this machine: commands, namespaces and processes of sandbox nodes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sshorch.errors import SandboxError
from sshorch.sandbox.layout import NodeLayout

REQUIRED_TOOLS = {
    "ip": "iproute2",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "iptables": "iptables",
    "podman": "podman",
    "runc": "runc",
}
SSHD = Path("/usr/sbin/sshd")


def check_host() -> None:
    """Root and the tools the sandbox needs, with the package to install for each."""
    if os.geteuid() != 0:
        raise SandboxError("the sandbox needs root (it creates network namespaces): run it with sudo")
    missing = {tool: pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None}
    if not SSHD.exists():
        missing["sshd"] = "openssh-server"
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise SandboxError(f"missing {', '.join(sorted(missing))}: apt-get install {packages} (or run 'make demo')")


def run(
    argv: Sequence[str], *, stdin: bytes | None = None, check: bool = True, timeout: float = 120, what: str | None = None
) -> str:
    """Run a local command; on failure raise with its stderr, which names the cause,
    after `what` it was doing (else the command)."""
    what = what or describe(argv)
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"{what}: no answer after {timeout:.0f}s") from None
    if check and done.returncode != 0:
        raise SandboxError(f"{what}: {failure_detail(done.stderr.decode(errors='replace'), done.returncode)}")
    return done.stdout.decode(errors="replace")


def describe(argv: Sequence[str]) -> str:
    """The command as a person reads it: a script argument is not spelled out."""
    return " ".join("SCRIPT" if "\n" in arg else arg for arg in argv)


def failure_detail(stderr: str, status: int) -> str:
    """The line of stderr that names the cause. A script's own `failed: STEP` line
    comes with the error before it; mount's hint to read dmesg is no cause."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and "dmesg(1)" not in line]
    if not lines:
        return f"exit {status}"
    if lines[-1].startswith("failed: ") and len(lines) > 1:
        return f"{lines[-1]}: {lines[-2]}"
    return lines[-1]


def succeeds(argv: Sequence[str]) -> bool:
    return subprocess.run(list(argv), capture_output=True).returncode == 0


def enter(node: NodeLayout) -> list[str]:
    """Prefix that runs a command inside a node.

    nsenter rather than `ip netns exec`, which remounts /sys and hides the
    cgroup mounts podman needs.
    """
    return [
        "nsenter",
        f"--net=/run/netns/{node.netns}",
        f"--mount={node.mount_ns}",
        f"--uts={node.uts_ns}",
        "--",
    ]


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
        return any(line.split()[4] == target for line in mounts)


def namespace_inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def processes_in(*namespaces: int | None) -> list[int]:
    """Pids whose mount or network namespace is one of these (by inode)."""
    wanted = {ino for ino in namespaces if ino is not None}
    if not wanted:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        for kind in ("mnt", "net"):
            try:
                if os.stat(entry / "ns" / kind).st_ino in wanted:
                    pids.append(int(entry.name))
                    break
            except OSError:
                break
    return pids


def kill_all(pids: list[int], grace: float = 2.0) -> None:
    """TERM, wait up to `grace`, then KILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = [p for p in pids if Path(f"/proc/{p}").exists() and not _is_zombie(p)]
            if not pids:
                return
            time.sleep(0.05)


def start_times(pids: list[int]) -> dict[int, str]:
    """Each live pid with its start time, so a pid the kernel hands out again is not taken for it."""
    found = {}
    for pid in pids:
        started = _start_time(pid)
        if started is not None:
            found[pid] = started
    return found


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def still_there(processes: Mapping[int, str]) -> list[int]:
    """Those of the processes that exist, zombies included."""
    return sorted(pid for pid, started in processes.items() if _start_time(pid) == started)


def wait_gone(processes: Mapping[int, str], timeout: float) -> list[int]:
    """Wait until the processes are gone from the process table, zombies reaped by
    their parent (init, for daemons) included; return those still there."""
    deadline = time.monotonic() + timeout
    while (left := still_there(processes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def wait_for_port(address: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise SandboxError(f"{address}:{port} did not open within {timeout:.0f}s: {error}") from None
            time.sleep(0.05)


def pid_alive(pid: int | None) -> bool:
    return pid is not None and Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def remove_pod_cgroups(pods: Sequence[str]) -> None:
    """The cgroups podman made for these pods (cgroupfs: libpod_parent/<pod id>, in
    every hierarchy), deepest first; podman leaves them when its pods go."""
    for pod in pods:
        if not pod.isalnum():
            continue
        for top in Path("/sys/fs/cgroup").glob(f"*/libpod_parent/{pod}"):
            for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                _rmdir(directory)
            _rmdir(top)


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass  # still in use, or gone already
