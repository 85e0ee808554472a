"""Container CPU usage from the runtime's `stats` command: commands and pure parsers of their real output.

Units (see tests/unit/observe/fixtures/stats/README.md for the captures):

- Both runtimes print CPU as a percent of ONE CPU: 100% is one core, a
  container busy on two cores shows about 200%. So millicores = percent * 10.
  podman: libpod's `calculateCPUPercent` is container CPU ns / wall ns * 100;
  a one-thread busy loop reads 94.62% on a 2-CPU node. docker: the CLI's
  `calculateCPUPercentUnix` is cpuDelta / systemDelta * onlineCPUs * 100.
- What the percent covers differs. docker's `--no-stream` waits for a second
  sample of the daemon's 1 s collector (a call takes one to two seconds): it is
  the last second. podman's `--no-stream` has no earlier sample and uses the
  container's start instead: it is the average since the container started
  (`cpu_percent` equals `avg_cpu`); a freshly started idle container reads 40%.
  For a current rate on podman, take the difference of the cumulative
  `cpu_time` between two passes (`parse_podman_cpu_seconds`, `cpu_millicores_between`).
  podman's call is fast (0.03-0.10 s on a sandbox node): cheap on every pass.

Neither command can filter on a label (podman stats has no --filter), so the
caller names the containers it owns (house rule: nothing else is read). podman
fails the whole command (exit 125) when a named container does not exist, and
lists named containers that are not running with zeros.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sshorch.observe.facts import Fact

PODMAN_STATS = "podman stats --no-stream --no-reset --format json"
DOCKER_STATS = "docker stats --no-stream --format '{{json .}}'"

_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
# Go's time.Duration.String(): "0s", "830ns", "1.5µs", "31.492425ms", "10.750560697s", "1m2.5s", "2h0m0s".
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def stats_command(runtime: str, names: Sequence[str]) -> str:
    """The command that prints the stats of the named containers (podman | docker).

    An empty ``names`` would list every container of the node: refuse it.
    """
    if not names:
        raise ValueError("no container named: the stats command would read every container of the node")
    base = DOCKER_STATS if runtime == "docker" else PODMAN_STATS
    return " ".join([base, *(shlex.quote(name) for name in names)])


def parse_percent(text: str) -> float | None:
    """"12.34%" -> 12.34; "--" (not available) -> None."""
    if text.strip() == "--":
        return None
    match = _PERCENT.fullmatch(text)
    if match is None:
        raise ValueError(f"not a percentage: {text!r}")
    return float(match.group(1))


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


def _field(entry: Mapping[str, Any], key: str, runtime: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{runtime} stats: container {entry.get('name') or entry.get('Name')!r} has no {key}")
    return value


def parse_podman_stats(output: str) -> dict[str, float]:
    """`podman stats --no-stream --no-reset --format json` -> container name: CPU millicores.

    The average since the container started (see the module docstring).
    Containers whose CPU is not available ("--") are left out.
    """
    result: dict[str, float] = {}
    for entry in _podman_entries(output):
        percent = parse_percent(_field(entry, "cpu_percent", "podman"))
        if percent is not None:
            result[entry["name"]] = percent * 10
    return result


def parse_podman_cpu_seconds(output: str) -> dict[str, float]:
    """`podman stats ... --format json` -> container name: CPU time used since it started, in seconds.

    Not running containers read 0. Containers without a cpu_time ("--") are left out.
    """
    result: dict[str, float] = {}
    for entry in _podman_entries(output):
        text = _field(entry, "cpu_time", "podman")
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


def parse_docker_stats(output: str) -> dict[str, float]:
    """`docker stats --no-stream --format '{{json .}}'` (one object a line) -> container name: CPU millicores.

    The last second's rate. Containers whose CPU is not available ("--") are left out.
    """
    result: dict[str, float] = {}
    for number, line in enumerate(output.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"docker stats line {number} is not JSON: {error}") from error
        if not isinstance(entry, dict):
            raise ValueError(f"docker stats line {number} is not an object")
        name = _field(entry, "Name", "docker").lstrip("/")
        percent = parse_percent(_field(entry, "CPUPerc", "docker"))
        if percent is not None and name and name != "--":
            result[name] = percent * 10
    return result


def parse_stats(runtime: str, output: str) -> dict[str, float]:
    """The output of `stats_command(runtime, ...)` -> container name: CPU millicores."""
    return parse_docker_stats(output) if runtime == "docker" else parse_podman_stats(output)


CPU_FACT = "cpu"


def _cpu_command(runtime: str, cluster: str) -> str:
    """podman: stats of this cluster's running containers, named by their ids (stats cannot
    filter). docker's stats carry no cumulative CPU time: autoscaling reads podman nodes only."""
    if runtime == "docker":
        return "true"
    ids = f"podman ps -q --filter label=sshorch.io/cluster={shlex.quote(cluster)} --filter status=running"
    return f'ids=$({ids}); if [ -n "$ids" ]; then {PODMAN_STATS} $ids; else echo "[]"; fi'


def _parse_cpu(runtime: str) -> Callable[[str], dict[str, float]]:
    return (lambda _output: {}) if runtime == "docker" else parse_podman_cpu_seconds


def cpu_fact(runtime: str, cluster: str) -> Fact:
    """Cumulative CPU seconds of each running container: the caller takes differences between passes."""
    return Fact(CPU_FACT, _cpu_command(runtime, cluster), _parse_cpu(runtime))
