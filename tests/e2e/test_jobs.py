"""Jobs end to end: completions with parallelism, back-off to failure, a migration gating its app."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sandbox, on_nodes, own_state, sshorch

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  completions: {completions}
  parallelism: {parallelism}
  backoffLimit: {backoff}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: localhost/sshorch/busybox:latest
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "{script}"]
"""

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  annotations: {sshorch.io/depends-on: job/migrate}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: web
          image: localhost/sshorch/web:v1
"""


def job(name: str, script: str, completions: int = 1, parallelism: int = 1, backoff: int = 6) -> str:
    return JOB.format(name=name, script=script, completions=completions, parallelism=parallelism, backoff=backoff)


@pytest.fixture(scope="module")
def root(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("jobs")
    with own_state(path):
        yield path


def jobs(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    return {j["name"]: j for j in json.loads(sshorch("jobs", "-i", sandbox.inventory, "-o", "json").stdout)}


def converge_until(sandbox: Sandbox, name: str, status: str, deadline: float) -> dict[str, Any]:
    """Converge passes (as cron would run them) until the Job has `status`."""
    end = time.monotonic() + deadline
    while True:
        sshorch("converge", "-i", sandbox.inventory, check=False)
        found = jobs(sandbox)[name]
        if found["status"] == status or time.monotonic() > end:
            return found
        time.sleep(1)


def job_containers(sandbox: Sandbox, name: str) -> list[tuple[str, int, str, str]]:
    """(container, exit code, started, finished) of every pod of the Job, on every node."""
    script = (f"podman ps -a --filter label=sshorch.io/owner={name} --filter label=sshorch.io/kind=job "
              "--format '{{.Names}}' | grep -v infra | while read c; do "
              "podman inspect --format '{{.Name}} {{.State.ExitCode}} {{.State.StartedAt}}|{{.State.FinishedAt}}' $c; done")
    rows = []
    for text in on_nodes(sandbox, script).values():
        for line in text.splitlines():
            if not line.strip() or "-infra" in line.split()[0]:
                continue
            container, code, times = line.split(" ", 2)
            started, finished = times.split("|")
            rows.append((container, int(code), started, finished))
    return rows


def parse_time(text: str) -> float:
    day, clock = text.split()[:2]
    whole, _, fraction = clock.partition(".")
    return datetime.fromisoformat(f"{day}T{whole}+00:00").timestamp() + float(f"0.{fraction or 0}")


def test_five_completions_two_at_a_time(sandbox: Sandbox, root: Path) -> None:
    manifest = root / "batch.yaml"
    manifest.write_text(job("batch", "sleep 1; echo done", completions=5, parallelism=2))
    sshorch("apply", "-i", sandbox.inventory, "-f", str(manifest), "--prune", "--yes")
    found = converge_until(sandbox, "batch", "Complete", 90)
    assert (found["status"], found["succeeded"], found["failed"], found["active"]) == ("Complete", 5, 0, 0), found
    containers = job_containers(sandbox, "batch")
    assert len(containers) == 5 and all(code == 0 for _, code, _, _ in containers), containers
    pod = containers[0][0].rsplit("-", 1)[0]
    assert "done" in sshorch("logs", "-i", sandbox.inventory, pod).stdout  # finished pods keep their logs


def test_a_failing_job_retries_with_growing_delays_then_fails(sandbox: Sandbox, root: Path) -> None:
    manifest = root / "batch.yaml"
    manifest.write_text(job("flaky", "echo trying; exit 3", backoff=2))
    sshorch("apply", "-i", sandbox.inventory, "-f", str(manifest), "--prune", "--yes")
    found = converge_until(sandbox, "flaky", "Failed", 120)
    assert found["status"] == "Failed" and found["failed"] == 3 and "BackoffLimitExceeded" in found["reason"], found
    starts = sorted(parse_time(started) for _, code, started, _ in job_containers(sandbox, "flaky") if code == 3)
    assert len(starts) == 3
    first_gap, second_gap = starts[1] - starts[0], starts[2] - starts[1]
    assert 10 <= first_gap and 20 <= second_gap and second_gap > first_gap, (first_gap, second_gap)
    events = sshorch("events", "-i", sandbox.inventory, "-o", "json").stdout
    assert "BackoffLimitExceeded" in events


def test_a_migration_job_gates_the_app_that_depends_on_it(sandbox: Sandbox, root: Path) -> None:
    manifest = root / "batch.yaml"
    manifest.write_text(job("migrate", "sleep 4; echo migrated") + "---\n" + APP)
    sshorch("apply", "-i", sandbox.inventory, "-f", str(manifest), "--prune", "--yes")
    assert jobs(sandbox)["migrate"]["status"] == "Complete"
    ((_, code, _, finished),) = job_containers(sandbox, "migrate")
    script = ("c=$(podman ps --filter label=sshorch.io/owner=app --format '{{.Names}}' | grep -- -web$); "
              "[ -n \"$c\" ] && podman inspect --format '{{.State.StartedAt}}' $c")
    (app_started,) = [t.strip() for t in on_nodes(sandbox, script).values() if t.strip()]
    assert code == 0 and parse_time(app_started) > parse_time(finished)


CRON = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: {policy}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: localhost/sshorch/busybox:latest
              imagePullPolicy: IfNotPresent
              command: ["sh", "-c", "{script}"]
"""


def next_minute_plus(seconds: float) -> None:
    time.sleep(60 - time.time() % 60 + seconds)


def test_a_cronjob_runs_once_a_minute_and_forbid_skips_while_one_runs(sandbox: Sandbox, root: Path) -> None:
    manifest = root / "batch.yaml"
    manifest.write_text(CRON.format(name="tick", policy="Allow", script="echo tick") + "---\n"
                        + CRON.format(name="slow", policy="Forbid", script="sleep 150"))
    sshorch("apply", "-i", sandbox.inventory, "-f", str(manifest), "--prune", "--yes")
    for _ in range(3):
        next_minute_plus(2)
        # Two passes in the same minute, as two cron entries or a race would make: one run.
        sshorch("converge", "-i", sandbox.inventory, check=False)
        sshorch("converge", "-i", sandbox.inventory, check=False)
    found = jobs(sandbox)
    ticks = sorted(name for name in found if name.startswith("tick-"))
    assert len(ticks) == 3 and len({int(name.rsplit("-", 1)[1]) for name in ticks}) == 3, found
    assert [int(t.rsplit("-", 1)[1]) for t in ticks] == list(range(int(ticks[0].rsplit("-", 1)[1]), int(ticks[0].rsplit("-", 1)[1]) + 3))
    slow = [name for name in found if name.startswith("slow-")]
    assert len(slow) == 1 and found[slow[0]]["status"] == "Running", found
    events = json.loads(sshorch("events", "-i", sandbox.inventory, "-o", "json").stdout)
    skipped = [e for e in events if e["object"] == "cronjob/default/slow" and "previous run still active (Forbid)" in e["message"]]
    assert len(skipped) >= 2, events
