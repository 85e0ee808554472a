"""Which probes a pass runs, by Kubernetes' rules; pure (time is passed in).

- A container that is not running is not probed.
- Nothing runs before `started_at + initialDelaySeconds`.
- A probe runs again `periodSeconds` after its last run.
- While a startup probe exists and has not passed, only it runs; liveness and
  readiness start once it passed (or at once, when there is none). A passed
  startup probe does not run again for that container.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sshorch.probes.model import ProbeKey, ProbeKind, ProbeRecord, ProbeTarget, ProbeTask
from sshorch.probes.verdict import current_record
from sshorch.spec.model import Probe


def active_kinds(target: ProbeTarget, records: Mapping[ProbeKey, ProbeRecord]) -> tuple[ProbeKind, ...]:
    """The probes of `target` that are in force now (startup gates the others)."""
    if "startup" in target.probes and not current_record(records, target, "startup").passed:
        return ("startup",)
    return tuple(kind for kind in ("liveness", "readiness") if kind in target.probes)


def is_due(probe: Probe, record: ProbeRecord, started_at: float | None, now: float) -> bool:
    if started_at is not None and now < started_at + probe.initial_delay_seconds:
        return False
    return record.last_run is None or now - record.last_run >= probe.period_seconds


def due_probes(targets: Iterable[ProbeTarget], records: Mapping[ProbeKey, ProbeRecord], now: float) -> list[ProbeTask]:
    """The probes to run at `now`, in target order, startup/liveness/readiness within a target."""
    tasks = []
    for target in targets:
        if not target.running:
            continue
        for kind in active_kinds(target, records):
            probe = target.probes[kind]
            if is_due(probe, current_record(records, target, kind), target.started_at, now):
                tasks.append(ProbeTask(target.key(kind), target, probe))
    return tasks
