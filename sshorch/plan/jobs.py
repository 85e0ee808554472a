"""One step of a Job, as Kubernetes' job controller takes it. Pure.

The caller keeps a JobRecord per Job in state, observes the Job's pods, asks
`job_step` what to do now and records the returned record. A record belongs
to one revision of the pod template: a changed template starts the Job over
(Kubernetes' templates are immutable; here a new image means a new run).

- Pods are counted once each, by name: an exit code 0 is a success, any other
  a failure (restartPolicy Never). With OnFailure the runtime restarts the
  container in place and each restart counts as a failure.
- Active pods are kept at min(parallelism, completions - succeeded); a new
  pod after a failure waits 10 s x 2^(failures-1), at most 6 min.
- More failures than backoffLimit, or activeDeadlineSeconds since the start,
  fail the Job and stop its active pods. Once `completions` pods succeeded the
  Job is Complete and any pod still running is stopped.
- Finished pods stay (their logs readable) until ttlSecondsAfterFinished has
  passed after the finish; then they go, and the record says so, so the Job is
  not run again while its manifest stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sshorch.spec.model import Job

BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0
COMPLETE = "Complete"
FAILED = "Failed"

Phase = Literal["active", "succeeded", "failed"]


@dataclass(frozen=True)
class JobRecord:
    """A Job's progress, kept in state between passes, for one revision of its pod template."""

    revision: str
    started: float
    created: int = 0  # pods created so far: the next pod's slot
    succeeded: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    restarts: int = 0  # in-place restarts (OnFailure), each a failure
    last_failure: float | None = None
    finished: float | None = None
    outcome: str = ""  # "", Complete or Failed
    reason: str = ""
    cleaned: bool = False  # finished pods removed after the TTL

    @property
    def failures(self) -> int:
        return len(self.failed) + self.restarts


@dataclass(frozen=True)
class JobPod:
    """One pod of a Job as `job_step` counts it: active, succeeded or failed, with its restarts."""

    name: str
    phase: Phase
    restarts: int = 0


@dataclass(frozen=True)
class JobStep:
    """What `job_step` decides for a Job now: the new record, pods to create and remove, events."""

    record: JobRecord
    create: tuple[str, ...] = ()  # slots of new pods
    remove: tuple[str, ...] = ()  # pods to stop and remove
    retry_at: float | None = None  # a back-off holds new pods until then
    events: tuple[tuple[str, str], ...] = ()  # (reason, message)


def backoff(failures: int) -> float:
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** max(0, failures - 1)))


def _count(record: JobRecord, pods: Sequence[JobPod], now: float) -> tuple[JobRecord, list[tuple[str, str]]]:
    """The record with every newly finished pod (and restart) counted."""
    events = []
    succeeded, failed = list(record.succeeded), list(record.failed)
    last_failure = record.last_failure
    for pod in pods:
        if pod.phase == "succeeded" and pod.name not in succeeded:
            succeeded.append(pod.name)
            events.append(("Completed", f"pod {pod.name} succeeded"))
        elif pod.phase == "failed" and pod.name not in failed:
            failed.append(pod.name)
            last_failure = now
            events.append(("PodFailed", f"pod {pod.name} failed"))
    restarts = max(record.restarts, sum(p.restarts for p in pods))
    if restarts > record.restarts:
        last_failure = now
        events.append(("PodRestarted", f"{restarts - record.restarts} more container restarts"))
    counted = replace(record, succeeded=tuple(succeeded), failed=tuple(failed), restarts=restarts, last_failure=last_failure)
    return counted, events


def _finish(record: JobRecord, outcome: str, reason: str, now: float, active: Sequence[str], events: list[tuple[str, str]]) -> JobStep:
    done = replace(record, outcome=outcome, reason=reason, finished=now)
    events.append((outcome, reason))
    return JobStep(done, remove=tuple(active), events=tuple(events))


def job_step(job: Job, record: JobRecord | None, revision: str, pods: Sequence[JobPod], now: float) -> JobStep:
    """What to do now for one Job whose current-revision pods are `pods`."""
    if record is None or record.revision != revision:
        record = JobRecord(revision=revision, started=now)
    if record.outcome:
        ttl = job.ttl_seconds_after_finished
        if ttl is not None and not record.cleaned and record.finished is not None and now >= record.finished + ttl:
            return JobStep(replace(record, cleaned=True), remove=tuple(p.name for p in pods),
                           events=(("Cleaned", f"finished pods removed {ttl}s after the job finished"),))
        # Anything still running belongs to a finished Job.
        return JobStep(record, remove=tuple(p.name for p in pods if p.phase == "active"))
    record, events = _count(record, pods, now)
    active = [p.name for p in pods if p.phase == "active"]
    if job.active_deadline_seconds is not None and now - record.started >= job.active_deadline_seconds:
        return _finish(record, FAILED, f"DeadlineExceeded: active longer than {job.active_deadline_seconds}s", now, active, events)
    if record.failures > job.backoff_limit:
        return _finish(record, FAILED, f"BackoffLimitExceeded: {record.failures} failures, limit {job.backoff_limit}", now, active, events)
    if len(record.succeeded) >= job.completions:
        return _finish(record, COMPLETE, f"{len(record.succeeded)}/{job.completions} completions", now, active, events)
    wanted = min(job.parallelism, job.completions - len(record.succeeded)) - len(active)
    if wanted <= 0:
        return JobStep(record, events=tuple(events))
    if record.failures and record.last_failure is not None and now < record.last_failure + backoff(record.failures):
        return JobStep(record, retry_at=record.last_failure + backoff(record.failures), events=tuple(events))
    slots = tuple(str(record.created + i) for i in range(wanted))
    return JobStep(replace(record, created=record.created + wanted), create=slots, events=tuple(events))
