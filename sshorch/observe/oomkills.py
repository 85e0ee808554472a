"""Containers the kernel killed for running out of memory, read from the kernel log.

The runtime's own flag (podman and docker `State.OOMKilled`) is cleared when the
runtime restarts the container, which a restart policy does at once; the kernel's
log keeps every kill, naming the victim's memory cgroup, whose last component
holds the container's id with podman and docker alike, cgroupfs or systemd. The
kubelet reads the same log (cadvisor's oomparser).

Kernel log times count from boot; the node's clock and uptime, read in the same
exec, turn them into epoch seconds (approximately: the two clocks drift apart
slowly on a long-running host).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sshorch.observe.facts import Fact
from sshorch.observe.owned import ObservedContainer, ObservedPod, Owned

OOM_KILLS = "oom_kills"
# The kills kept per read: enough for every container of a node to have its last few.
_MAX_LINES = 500
# Times are missing where the kernel prints none (printk.time=0).
_KILL = re.compile(r"^(?:\[\s*(?P<at>\d+\.\d+)\]\s+)?oom-kill:.*?\btask_memcg=(?P<cgroup>[^,\s]*)")
_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class OomKills:
    """Kills per container id, and the epoch time of each one's last (None when the log has no times)."""

    counts: Mapping[str, int]
    last: Mapping[str, float | None]


def oom_kills_fact() -> Fact:
    # A node that has had no OOM kill since boot (/proc/vmstat says so) is spared reading the
    # log. dmesg is root's on most hosts; without it there is nothing to read, not a failed node.
    command = (
        "grep -qx 'oom_kill 0' /proc/vmstat 2>/dev/null || { "
        'printf "%s " "$(date +%s.%N)"; cat /proc/uptime; '
        f"dmesg 2>/dev/null | grep -F 'oom-kill:' | tail -n {_MAX_LINES}; }}; true"
    )
    return Fact(OOM_KILLS, command, parse_oom_kills)


def parse_oom_kills(output: str) -> OomKills:
    """First line: the node's clock and /proc/uptime; then the kernel's `oom-kill:` lines."""
    lines = output.splitlines()
    clock = lines[0].split() if lines else []
    boot = float(clock[0]) - float(clock[1]) if len(clock) >= 2 else None
    counts: dict[str, int] = {}
    last: dict[str, float | None] = {}
    for line in lines[1:]:
        match = _KILL.match(line.strip())
        ids = _ID.findall(match["cgroup"]) if match else []
        if not match or not ids:
            continue
        container = ids[-1]  # podman's cgroupfs path holds the pod's id first
        counts[container] = counts.get(container, 0) + 1
        at = match["at"]
        last[container] = None if boot is None or at is None else round(boot + float(at), 3)
    return OomKills(counts, last)


def _with_kills(container: ObservedContainer, kills: OomKills) -> ObservedContainer:
    count = kills.counts.get(container.id, 0)
    return replace(container, oom_kills=count, last_oom_kill=kills.last.get(container.id)) if count else container


def with_oom_kills(owned: Owned, kills: OomKills) -> Owned:
    """`owned` with each container's kills from the kernel log."""
    if not kills.counts:
        return owned

    def pod(p: ObservedPod) -> ObservedPod:
        return replace(
            p,
            containers=tuple(_with_kills(c, kills) for c in p.containers),
            init_containers=tuple(_with_kills(c, kills) for c in p.init_containers),
        )

    return replace(owned, pods=tuple(pod(p) for p in owned.pods))
