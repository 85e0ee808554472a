"""CronJobs over passes: runs start once per scheduled time, become Jobs, and leave by history limits."""

from __future__ import annotations

from typing import Any

from sshorch.plan.cronjobs import CronState, run_name
from sshorch.plan.cronruns import CronRecord, schedule_cronjobs, with_runs
from sshorch.plan.jobs import COMPLETE, FAILED, JobRecord
from sshorch.spec import parse_documents
from sshorch.spec.model import Desired, Job, Source

MINUTE = 60.0
T0 = 1_800_000_000.0 - 1_800_000_000.0 % 60  # a whole minute


def cronjob(name: str = "tick", schedule: str = "* * * * *", **spec: Any) -> Desired:
    doc = {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
        "spec": {"schedule": schedule, **spec, "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1", "command": ["true"]}]}}}}},
    }
    return parse_documents([(Source("cron.yaml"), doc)])


def passes(d: Desired, times: list[float], jobs: dict[str, JobRecord] | None = None) -> tuple[dict[str, CronRecord], list[str]]:
    records: dict[str, CronRecord] = {}
    messages = []
    for now in times:
        records, events = schedule_cronjobs(d, records, jobs or {}, now)
        messages += [e.message for e in events]
    return records, messages


def test_one_run_per_minute_however_many_passes() -> None:
    records, messages = passes(cronjob(), [T0 + 5, T0 + 61, T0 + 62, T0 + 90, T0 + 125, T0 + 181, T0 + 182])
    (record,) = records.values()
    assert [name for name, _ in record.runs] == [run_name("tick", T0 + 60), run_name("tick", T0 + 120), run_name("tick", T0 + 180)]
    assert sum("started run" in m for m in messages) == 3


def test_runs_are_jobs_in_the_desired_state() -> None:
    d = cronjob()
    records, _ = passes(d, [T0 + 5, T0 + 61])
    expanded = with_runs(d, records)
    (job,) = [o for o in expanded.objects if isinstance(o, Job)]
    assert job.meta.name == f"tick-{int((T0 + 60) // 60)}" and job.template.spec.restart_policy == "Never"
    assert with_runs(d, {}) is d


def test_forbid_skips_while_a_run_is_active() -> None:
    d = cronjob(concurrencyPolicy="Forbid")
    records, messages = passes(d, [T0 + 5, T0 + 61, T0 + 121])
    (record,) = records.values()
    assert len(record.runs) == 1
    assert any("skipped: " in m for m in messages)


def test_replace_stops_the_active_run_for_the_new_one() -> None:
    d = cronjob(concurrencyPolicy="Replace")
    records, messages = passes(d, [T0 + 5, T0 + 61, T0 + 121])
    (record,) = records.values()
    assert [name for name, _ in record.runs] == [run_name("tick", T0 + 120)]
    assert any("stopped for a newer one" in m for m in messages)


def test_finished_runs_beyond_the_history_limits_leave() -> None:
    d = cronjob(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1)
    names = [run_name("tick", T0 + 60 * i) for i in (1, 2, 3)]
    jobs = {
        f"job/default/{names[0]}": JobRecord("r", T0 + 60, finished=T0 + 70, outcome=COMPLETE),
        f"job/default/{names[1]}": JobRecord("r", T0 + 120, finished=T0 + 130, outcome=COMPLETE),
        f"job/default/{names[2]}": JobRecord("r", T0 + 180, finished=T0 + 190, outcome=FAILED),
    }
    records = {"cronjob/default/tick": CronRecord(CronState(T0 + 180, T0), tuple((n, T0 + 60 * (i + 1)) for i, n in enumerate(names)))}
    new, events = schedule_cronjobs(d, records, jobs, T0 + 200)
    assert [n for n, _ in new["cronjob/default/tick"].runs] == names[1:]
    assert [e.reason for e in events] == ["SuccessfulDelete"]


def test_a_cronjob_no_longer_desired_loses_its_record() -> None:
    records, _ = passes(cronjob(), [T0 + 5, T0 + 61])
    new, _ = schedule_cronjobs(Desired(objects=()), records, {}, T0 + 121)
    assert new == {}
