"""CronJobs over runs: each pass decides which runs start, and the runs are Jobs. Pure.

A CronJob's runs are kept in state (name and scheduled time); every run goes
into the desired state as a Job named `<cronjob>-<scheduled minute>`, so the
Job machinery runs it, and a run that leaves the record (history limits,
Replace) leaves the desired state and its pods go. One record update per
pass, under the run lock: a scheduled time is started at most once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sshorch.plan.cronjobs import CronState, decide, history_to_remove, run_name
from sshorch.plan.jobs import COMPLETE, JobRecord
from sshorch.plan.model import PlanEvent
from sshorch.plan.naming import workload_key
from sshorch.spec.workloadkinds import job_makers
from sshorch.spec.model import CronJob, Desired, Job, ObjectMeta


@dataclass(frozen=True)
class CronRecord:
    """What sshorch keeps per CronJob between passes: its schedule state, the runs it keeps, the next run time."""

    state: CronState
    runs: tuple[tuple[str, float], ...] = ()  # (run name, scheduled time), oldest first
    next_run: float | None = None


def cron_key(cronjob: CronJob) -> str:
    return workload_key("CronJob", cronjob.meta.namespace, cronjob.meta.name)


def run_job(cronjob: CronJob, name: str) -> Job:
    """One run of the CronJob: its job template as a Job of that name."""
    meta = ObjectMeta(kind="Job", name=name, namespace=cronjob.meta.namespace, labels=cronjob.job.meta.labels,
                      annotations=cronjob.job.meta.annotations, source=cronjob.meta.source)
    return replace(cronjob.job, meta=meta)


def with_runs(desired: Desired, records: Mapping[str, CronRecord]) -> Desired:
    """The desired state plus a Job for every run the CronJobs have going or keep."""
    runs = [
        run_job(cronjob, name)
        for cronjob in job_makers(desired.objects)
        for name, _ in records.get(cron_key(cronjob), CronRecord(CronState(None, 0.0))).runs
    ]
    return replace(desired, objects=desired.objects + tuple(runs)) if runs else desired


def _finished(record: JobRecord | None) -> bool:
    return record is not None and bool(record.outcome)


def _clock(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def schedule_cronjobs(
    desired: Desired, records: Mapping[str, CronRecord], jobs: Mapping[str, JobRecord], now: float
) -> tuple[dict[str, CronRecord], list[PlanEvent]]:
    """Each CronJob's decision for this pass: the new records and what happened."""
    new: dict[str, CronRecord] = {}
    events: list[PlanEvent] = []
    for cronjob in job_makers(desired.objects):
        key = cron_key(cronjob)
        record = records.get(key) or CronRecord(CronState(last_schedule=None, created=now))

        def job_of(name: str) -> JobRecord | None:
            return jobs.get(workload_key("Job", cronjob.meta.namespace, name))

        active = [name for name, _ in record.runs if not _finished(job_of(name))]
        decision = decide(cronjob, record.state, active, now)
        runs = [r for r in record.runs if r[0] not in decision.replace]
        events += [PlanEvent(key, "Replaced", f"run {name} stopped for a newer one (Replace)") for name in decision.replace]
        for scheduled, reason in decision.skipped:
            events.append(PlanEvent(key, "Skipped", f"run for {_clock(scheduled)} skipped: {reason}"))
        if decision.too_many_missed:
            events.append(PlanEvent(key, "TooManyMissedTimes", f"{decision.missed}+ missed start times; only the latest is run"))
        if decision.start is not None:
            name = run_name(cronjob.meta.name, decision.start)
            if name not in {r[0] for r in runs}:
                runs.append((name, decision.start))
                events.append(PlanEvent(key, "SuccessfulCreate", f"started run {name} for {_clock(decision.start)}"))
        finished = [
            (name, record_.finished or scheduled, record_.outcome == COMPLETE)
            for name, scheduled in runs
            if (record_ := job_of(name)) is not None and record_.outcome
        ]
        dropped = set(history_to_remove(finished, cronjob.successful_jobs_history_limit, cronjob.failed_jobs_history_limit))
        events += [PlanEvent(key, "SuccessfulDelete", f"run {name} removed (history limit)") for name in sorted(dropped)]
        new[key] = CronRecord(decision.state, tuple(r for r in runs if r[0] not in dropped), decision.next_run)
    return new, events
