"""Container CPU time from `podman stats`: the command and a pure parser of its real output.

podman's own `cpu_percent` with `--no-stream` is the average since the container
started, not the current rate (a freshly started idle container reads 40%; see
tests/unit/observe/fixtures/stats/README.md for the captures). So sshorch reads
the cumulative `cpu_time` on every pass and takes the difference between two
passes (`parse_podman_cpu_seconds`, `cpu_millicores_between`); millicores are CPU
seconds per second x 1000. podman's call is fast (0.03-0.10 s on a sandbox node).
docker's stats carry no cumulative CPU time: autoscaling reads podman nodes only.

`podman stats` cannot filter on a label, so the command names the running
containers of the cluster (house rule: nothing else is read).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from sshorch.labels import CLUSTER_LABEL
from sshorch.observe.facts import Fact

PODMAN_STATS = "podman stats --no-stream --no-reset --format json"

# Go's time.Duration.String(): "0s", "830ns", "1.5µs", "31.492425ms", "10.750560697s", "1m2.5s", "2h0m0s".
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """A Go duration string ("10.750560697s", "31.492425ms", "1m2.5s") in seconds."""
    text = text.strip()
    parts = _DURATION.findall(text)
    if text == "0" or (parts and "".join(n + u for n, u in parts) == text):
        return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    raise ValueError(f"not a duration: {text!r}")


def _podman_entries(output: str) -> list[dict[str, Any]]:
    if not output.strip():
        return []
    try:
        entries = json.loads(output)
    except json.JSONDecodeError as error:
        raise ValueError(f"podman stats output is not JSON: {error}") from error
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries):
        raise ValueError("podman stats output is not a list of containers with names")
    return entries


def parse_podman_cpu_seconds(output: str) -> dict[str, float]:
    """`podman stats ... --format json` -> container name: CPU time used since it started, in seconds.

    Not running containers read 0. Containers without a cpu_time ("--") are left out.
    """
    result: dict[str, float] = {}
    for entry in _podman_entries(output):
        text = entry.get("cpu_time")
        if not isinstance(text, str):
            raise ValueError(f"podman stats: container {entry['name']!r} has no cpu_time")
        if text.strip() != "--":
            result[entry["name"]] = parse_go_duration(text)
    return result


def cpu_millicores_between(before: Mapping[str, float], after: Mapping[str, float], seconds: float) -> dict[str, float]:
    """The CPU rate of each container between two readings of cumulative CPU seconds, ``seconds`` apart.

    Only containers in both readings; a container whose CPU time went down was
    restarted (a new cgroup) and is left out until the next pair of readings.
    """
    if seconds <= 0:
        raise ValueError(f"readings must be apart in time, got {seconds} s")
    return {
        name: (after[name] - used) * 1000 / seconds
        for name, used in before.items()
        if name in after and after[name] >= used
    }


CPU_FACT = "cpu"


def podman_cpu_fact(cluster: str) -> Fact:
    """Cumulative CPU seconds of each running container: the caller takes differences between
    passes. The stats of this cluster's running containers, named by their ids (stats cannot filter)."""
    ids = f"podman ps -q --filter label={CLUSTER_LABEL}={shlex.quote(cluster)} --filter status=running"
    command = f'ids=$({ids}); if [ -n "$ids" ]; then {PODMAN_STATS} $ids; else echo "[]"; fi'
    return Fact(CPU_FACT, command, parse_podman_cpu_seconds)


def _no_cpu(_output: str) -> dict[str, float]:
    return {}


def docker_cpu_fact() -> Fact:
    """docker's stats carry no cumulative CPU time: autoscaling reads podman nodes only."""
    return Fact(CPU_FACT, "true", _no_cpu)
