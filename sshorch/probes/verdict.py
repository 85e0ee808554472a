"""What probe results mean: consecutive counts, thresholds, readiness and restarts; pure.

A record belongs to one run of a container: it carries the container's
`started_at`, and a record of an earlier run (the runtime restarted the
container between passes) reads as a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from sshorch.probes.model import ProbeKey, ProbeKind, ProbeRecord, ProbeResult, ProbeTarget, ProbeTask, initial_record
from sshorch.spec.model import Probe

_TITLES: dict[ProbeKind, str] = {"startup": "Startup", "liveness": "Liveness", "readiness": "Readiness"}


def current_record(records: Mapping[ProbeKey, ProbeRecord], target: ProbeTarget, kind: ProbeKind) -> ProbeRecord:
    """The record of `target`'s `kind` probe for the container's current run."""
    record = records.get(target.key(kind))
    if record is None:
        return initial_record(kind)
    if record.started_at is not None and target.started_at is not None and record.started_at != target.started_at:
        return initial_record(kind)
    return record


def apply_result(record: ProbeRecord, probe: Probe, ok: bool, now: float, message: str = "") -> ProbeRecord:
    """Fold one result into the record: a probe passes after successThreshold consecutive
    successes and fails after failureThreshold consecutive failures; in between it keeps its verdict."""
    if ok:
        successes, failures = record.successes + 1, 0
        passed = record.passed or successes >= probe.success_threshold
    else:
        successes, failures = 0, record.failures + 1
        passed = record.passed and failures < probe.failure_threshold
    return replace(record, successes=successes, failures=failures, last_run=now, passed=passed, message=message)


def record_results(
    records: Mapping[ProbeKey, ProbeRecord],
    tasks: Iterable[ProbeTask],
    results: Mapping[ProbeKey, ProbeResult],
    now: float,
) -> dict[ProbeKey, ProbeRecord]:
    """New records with the results of a pass applied; a task without a result (its probe
    could not be run, e.g. the node was unreachable) changes nothing, as in Kubernetes."""
    updated = dict(records)
    for task in tasks:
        result = results.get(task.key)
        if result is None:
            continue
        ok, message = result
        record = current_record(records, task.target, task.key.kind)
        updated[task.key] = replace(apply_result(record, task.probe, ok, now, message), started_at=task.target.started_at)
    return updated


def _passed_or_absent(target: ProbeTarget, records: Mapping[ProbeKey, ProbeRecord], kind: ProbeKind) -> bool:
    return kind not in target.probes or current_record(records, target, kind).passed


def container_ready(target: ProbeTarget, records: Mapping[ProbeKey, ProbeRecord]) -> bool:
    """Running, startup passed (if it has one) and readiness passed (if it has one)."""
    return target.running and _passed_or_absent(target, records, "startup") and _passed_or_absent(target, records, "readiness")


def _failed(target: ProbeTarget, records: Mapping[ProbeKey, ProbeRecord], kind: ProbeKind) -> str | None:
    probe = target.probes.get(kind)
    if probe is None:
        return None
    record = current_record(records, target, kind)
    if record.failures < probe.failure_threshold:
        return None
    reason = f"{_TITLES[kind]} probe failed {record.failures} times"
    return f"{reason}: {record.message}" if record.message else reason


def liveness_verdicts(targets: Iterable[ProbeTarget], records: Mapping[ProbeKey, ProbeRecord]) -> list[tuple[ProbeTarget, str]]:
    """Running containers to restart, and why: a startup probe that failed failureThreshold times
    in a row, or (once started) a liveness probe that did."""
    verdicts = []
    for target in targets:
        if not target.running:
            continue
        if not _passed_or_absent(target, records, "startup"):
            reason = _failed(target, records, "startup")
        else:
            reason = _failed(target, records, "liveness")
        if reason is not None:
            verdicts.append((target, reason))
    return verdicts


def reset_records(records: Mapping[ProbeKey, ProbeRecord], pod: str, container: str) -> dict[ProbeKey, ProbeRecord]:
    """The records without that container's: after a restart its probes start over."""
    return {key: record for key, record in records.items() if (key.pod, key.container) != (pod, container)}


def prune_records(records: Mapping[ProbeKey, ProbeRecord], pods: Iterable[str]) -> dict[ProbeKey, ProbeRecord]:
    """Only the records of `pods` (the pods that still exist): records of removed pods do not pile up."""
    keep = set(pods)
    return {key: record for key, record in records.items() if key.pod in keep}
