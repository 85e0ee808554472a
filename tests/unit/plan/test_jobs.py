"""The Job state machine: completions, parallelism, back-off, limits, deadline, TTL."""

from __future__ import annotations

from dataclasses import replace

from sshorch.plan.jobs import COMPLETE, FAILED, JobPod, JobRecord, JobStep, backoff, job_step
from sshorch.spec.model import Job, ObjectMeta, PodSpec, PodTemplate

TEMPLATE = PodTemplate(spec=PodSpec(containers=(), restart_policy="Never"))


def job(**fields: object) -> Job:
    return Job(meta=ObjectMeta(kind="Job", name="work"), template=TEMPLATE, **fields)  # type: ignore[arg-type]


def names(prefix: str, slots: tuple[str, ...]) -> list[str]:
    return [f"{prefix}{s}" for s in slots]


def test_the_first_step_starts_parallelism_pods() -> None:
    step = job_step(job(completions=5, parallelism=2), None, "r1", [], now=100.0)
    assert step.create == ("0", "1") and step.record.created == 2 and step.record.started == 100.0


def test_five_completions_two_at_a_time_make_exactly_five_pods() -> None:
    spec = job(completions=5, parallelism=2)
    record: JobRecord | None = None
    pods: dict[str, str] = {}  # name -> phase
    created = []
    now = 0.0
    for _ in range(20):
        step = job_step(spec, record, "r1", [JobPod(n, p) for n, p in pods.items()], now)  # type: ignore[arg-type]
        record = step.record
        for slot in step.create:
            pods[f"p{slot}"] = "active"
            created.append(slot)
        if record.outcome:
            break
        for name in pods:  # every active pod finishes before the next pass
            pods[name] = "succeeded"
        now += 1
    assert record is not None and record.outcome == COMPLETE
    assert created == ["0", "1", "2", "3", "4"] and len(record.succeeded) == 5


def test_a_failure_waits_for_the_back_off_before_a_new_pod() -> None:
    spec = job(backoff_limit=3)
    first = job_step(spec, None, "r1", [], 0.0)
    failed = job_step(spec, first.record, "r1", [JobPod("p0", "failed")], 5.0)
    assert failed.create == () and failed.retry_at == 15.0 and failed.record.failures == 1
    assert job_step(spec, failed.record, "r1", [JobPod("p0", "failed")], 14.9).create == ()
    retry = job_step(spec, failed.record, "r1", [JobPod("p0", "failed")], 15.0)
    assert retry.create == ("1",)


def test_back_off_doubles_up_to_six_minutes() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6, 7, 8)] == [10, 20, 40, 80, 160, 320, 360, 360]


def test_more_failures_than_the_limit_fail_the_job_and_stop_its_pods() -> None:
    spec = job(parallelism=2, completions=2, backoff_limit=1)
    record = JobRecord("r1", 0.0, created=3, failed=("p0",), last_failure=0.0)
    step = job_step(spec, record, "r1", [JobPod("p0", "failed"), JobPod("p1", "failed"), JobPod("p2", "active")], 50.0)
    assert step.record.outcome == FAILED and step.record.reason.startswith("BackoffLimitExceeded: 2 failures, limit 1")
    assert step.remove == ("p2",) and step.create == ()


def test_on_failure_restarts_count_as_failures() -> None:
    spec = job(backoff_limit=2)
    record = JobRecord("r1", 0.0, created=1)
    assert job_step(spec, record, "r1", [JobPod("p0", "active", restarts=2)], 5.0).record.outcome == ""
    step = job_step(spec, record, "r1", [JobPod("p0", "active", restarts=3)], 6.0)
    assert step.record.outcome == FAILED and step.remove == ("p0",)


def test_the_active_deadline_fails_the_job() -> None:
    spec = job(active_deadline_seconds=30)
    record = JobRecord("r1", 100.0, created=1)
    assert job_step(spec, record, "r1", [JobPod("p0", "active")], 129.0).record.outcome == ""
    step = job_step(spec, record, "r1", [JobPod("p0", "active")], 130.0)
    assert step.record.outcome == FAILED and "DeadlineExceeded" in step.record.reason and step.remove == ("p0",)


def test_finished_pods_stay_until_the_ttl_then_go_once() -> None:
    spec = job(ttl_seconds_after_finished=60)
    done = JobRecord("r1", 0.0, created=1, succeeded=("p0",), finished=10.0, outcome=COMPLETE)
    assert job_step(spec, done, "r1", [JobPod("p0", "succeeded")], 69.0) == JobStep(done)
    cleaned = job_step(spec, done, "r1", [JobPod("p0", "succeeded")], 70.0)
    assert cleaned.remove == ("p0",) and cleaned.record.cleaned
    # Cleaned: the Job is not run again while its manifest stays.
    assert job_step(spec, cleaned.record, "r1", [], 500.0) == JobStep(cleaned.record)


def test_without_a_ttl_finished_pods_stay() -> None:
    done = JobRecord("r1", 0.0, created=1, succeeded=("p0",), finished=10.0, outcome=COMPLETE)
    assert job_step(job(), done, "r1", [JobPod("p0", "succeeded")], 10_000.0).remove == ()


def test_a_new_template_starts_the_job_over() -> None:
    done = JobRecord("r1", 0.0, created=1, succeeded=("p0",), finished=10.0, outcome=COMPLETE)
    step = job_step(job(), done, "r2", [], 20.0)
    assert step.record == replace(JobRecord("r2", 20.0), created=1) and step.create == ("0",)


def test_a_pod_is_counted_once() -> None:
    record = JobRecord("r1", 0.0, created=2, succeeded=("p0",))
    step = job_step(job(completions=3, parallelism=1), record, "r1", [JobPod("p0", "succeeded"), JobPod("p1", "succeeded")], 5.0)
    assert step.record.succeeded == ("p0", "p1") and step.create == ("2",)
