"""Probe data: what is probed (targets, tasks) and what is known about each probe (records).

Records are plain values the caller keeps between passes (in memory during a
watch loop, in the state store between cron runs): `to_json` / `from_json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from sshorch.spec.model import Probe

ProbeKind = Literal["startup", "liveness", "readiness"]
PROBE_KINDS: tuple[ProbeKind, ...] = get_args(ProbeKind)
# A probe's result: (success, one line saying what happened).
ProbeResult = tuple[bool, str]


@dataclass(frozen=True)
class ProbeKey:
    """Which probe: a container of a pod, and the kind (startup, liveness or readiness)."""

    pod: str
    container: str  # the container's name in the pod spec
    kind: ProbeKind


@dataclass(frozen=True)
class ProbeRecord:
    """Consecutive successes and failures, the time of the last run, the current verdict
    (readiness: ready; liveness: healthy; startup: done), the last result's message and
    the `started_at` of the container run it was recorded for."""

    successes: int = 0
    failures: int = 0
    last_run: float | None = None
    passed: bool = False
    message: str = ""
    started_at: float | None = None  # the container run the record belongs to (None: any)

    def to_json(self) -> dict[str, Any]:
        return {
            "successes": self.successes,
            "failures": self.failures,
            "last_run": self.last_run,
            "passed": self.passed,
            "message": self.message,
            "started_at": self.started_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeRecord:
        last_run, started_at = data.get("last_run"), data.get("started_at")
        record = cls(
            successes=int(data.get("successes", 0)),
            failures=int(data.get("failures", 0)),
            last_run=None if last_run is None else float(last_run),
            passed=bool(data.get("passed", False)),
            message=str(data.get("message", "")),
            started_at=None if started_at is None else float(started_at),
        )
        if record.successes < 0 or record.failures < 0:
            raise ValueError(f"probe record counts must not be negative: {dict(data)!r}")
        return record


def initial_record(kind: ProbeKind) -> ProbeRecord:
    """A probe that has not run yet: liveness is presumed healthy, readiness and startup have not passed."""
    return ProbeRecord(passed=kind == "liveness")


def records_to_json(records: Mapping[ProbeKey, ProbeRecord]) -> list[dict[str, Any]]:
    """Records as a JSON list, in a stable order."""
    keys = sorted(records, key=lambda k: (k.pod, k.container, PROBE_KINDS.index(k.kind)))
    return [{"pod": k.pod, "container": k.container, "kind": k.kind, **records[k].to_json()} for k in keys]


def records_from_json(items: Iterable[Mapping[str, Any]]) -> dict[ProbeKey, ProbeRecord]:
    records: dict[ProbeKey, ProbeRecord] = {}
    for item in items:
        kind = item.get("kind")
        if kind not in PROBE_KINDS:
            raise ValueError(f"unknown probe kind {kind!r} (expected one of {', '.join(PROBE_KINDS)})")
        key = ProbeKey(str(item["pod"]), str(item["container"]), kind)
        records[key] = ProbeRecord.from_json(item)
    return records


@dataclass(frozen=True)
class ProbeTarget:
    """One container of one pod, with its probes and how the controller reaches its ports."""

    pod: str
    container: str  # the container's name in the pod spec
    container_name: str  # the runtime's name for it (what `podman exec` takes)
    node: str
    node_address: str
    started_at: float | None  # None: unknown, the initial delay counts as over
    probes: Mapping[ProbeKind, Probe] = field(default_factory=dict, hash=False)
    host_ports: Mapping[int, int] = field(default_factory=dict, hash=False)  # container port -> host port (TCP)
    named_ports: Mapping[str, int] = field(default_factory=dict, hash=False)  # port name -> container port
    running: bool = True

    def key(self, kind: ProbeKind) -> ProbeKey:
        return ProbeKey(self.pod, self.container, kind)


@dataclass(frozen=True)
class ProbeTask:
    """A probe that is due to run, with the container it probes."""

    key: ProbeKey
    target: ProbeTarget
    probe: Probe
