"""apply_result, container_ready, liveness_verdicts, record_results and resets."""

from __future__ import annotations

import pytest

from sshorch.probes.model import ProbeKey, ProbeKind, ProbeRecord, initial_record
from sshorch.probes.verdict import (
    apply_result,
    container_ready,
    liveness_verdicts,
    prune_records,
    record_results,
    reset_records,
)
from sshorch.spec.model import Probe
from tests.unit.probes.helpers import STARTED, exec_probe, http_probe, key, probe, record, target, task


def run(kind: ProbeKind, results: str, success_threshold: int = 1, failure_threshold: int = 3) -> list[bool]:
    """The verdict after each result of a sequence ("+" success, "-" failure)."""
    the_probe = probe(success_threshold=success_threshold, failure_threshold=failure_threshold)
    current = initial_record(kind)
    verdicts = []
    for at, result in enumerate(results):
        current = apply_result(current, the_probe, result == "+", float(at))
        verdicts.append(current.passed)
    return verdicts


@pytest.mark.parametrize(
    ("kind", "results", "thresholds", "expected"),
    [
        # Readiness starts not ready; one success (threshold 1) makes it ready.
        ("readiness", "+", (1, 3), [True]),
        ("readiness", "--+", (1, 3), [False, False, True]),
        # Ready until failureThreshold failures in a row; a success in between resets the count.
        ("readiness", "+--+--", (1, 3), [True, True, True, True, True, True]),
        ("readiness", "+---", (1, 3), [True, True, True, False]),
        # successThreshold 2: needs two in a row; flapping never gets there.
        ("readiness", "+-+-+-", (2, 3), [False] * 6),
        ("readiness", "+-++", (2, 3), [False, False, False, True]),
        # Flapping does not reach failureThreshold either: the verdict holds.
        ("readiness", "++-+-+-+", (2, 2), [False, True, True, True, True, True, True, True]),
        ("readiness", "++--+", (2, 2), [False, True, True, False, False]),
        # Liveness starts healthy and stays so until failureThreshold failures in a row.
        ("liveness", "", (1, 3), []),
        ("liveness", "--", (1, 3), [True, True]),
        ("liveness", "---", (1, 3), [True, True, False]),
        ("liveness", "---+", (1, 3), [True, True, False, True]),
        ("liveness", "-", (1, 1), [False]),
        # Startup starts not done; one success finishes it.
        ("startup", "---+", (1, 3), [False, False, False, True]),
    ],
)
def test_thresholds_flapping_and_initial_states(kind: ProbeKind, results: str, thresholds: tuple[int, int],
                                               expected: list[bool]) -> None:
    assert run(kind, results, *thresholds) == expected


def test_initial_records() -> None:
    assert initial_record("readiness").passed is False
    assert initial_record("startup").passed is False
    assert initial_record("liveness").passed is True


def test_apply_result_counts_consecutively_and_stamps_the_run() -> None:
    the_probe = probe()
    after = apply_result(record(successes=4, passed=True), the_probe, False, 12.5, "HTTP 500")
    assert after == record(successes=0, failures=1, last_run=12.5, passed=True, message="HTTP 500")
    after = apply_result(after, the_probe, True, 13.0, "HTTP 200")
    assert after == record(successes=1, failures=0, last_run=13.0, passed=True, message="HTTP 200")


LIVE = http_probe(failure_threshold=3)
READY = exec_probe("cat", "/tmp/ready")
START = exec_probe("true", failure_threshold=5)


@pytest.mark.parametrize(
    ("probes", "records", "running", "ready"),
    [
        ({}, {}, True, True),
        ({}, {}, False, False),
        ({"liveness": LIVE}, {}, True, True),
        ({"readiness": READY}, {}, True, False),
        ({"readiness": READY}, {key("readiness"): record(1, passed=True)}, True, True),
        ({"readiness": READY}, {key("readiness"): record(1, passed=True)}, False, False),
        # A failing liveness probe does not make a container unready by itself.
        ({"liveness": LIVE, "readiness": READY},
         {key("readiness"): record(1, passed=True), key("liveness"): record(0, 3, passed=False)}, True, True),
        # Startup: not ready before it passed, even without a readiness probe.
        ({"startup": START}, {}, True, False),
        ({"startup": START}, {key("startup"): record(1, passed=True)}, True, True),
        ({"startup": START, "readiness": READY}, {key("startup"): record(1, passed=True)}, True, False),
        ({"startup": START, "readiness": READY},
         {key("startup"): record(1, passed=True), key("readiness"): record(1, passed=True)}, True, True),
    ],
)
def test_container_ready(probes: dict[ProbeKind, Probe], records: dict[ProbeKey, ProbeRecord], running: bool,
                         ready: bool) -> None:
    assert container_ready(target(probes, running=running), records) is ready


def test_readiness_of_an_earlier_run_does_not_count() -> None:
    old = {key("readiness"): record(1, passed=True, started_at=STARTED - 60)}
    assert container_ready(target({"readiness": READY}), old) is False
    assert container_ready(target({"readiness": READY}), {key("readiness"): record(1, passed=True, started_at=STARTED)})


def test_liveness_verdicts() -> None:
    healthy = target({"liveness": LIVE}, pod="a")
    failing = target({"liveness": LIVE}, pod="b")
    almost = target({"liveness": LIVE}, pod="c")
    stopped = target({"liveness": LIVE}, pod="d", running=False)
    records = {
        key("liveness", "a"): record(1, 0, passed=True),
        key("liveness", "b"): record(0, 3, passed=False, message="HTTP 500 from http://198.18.0.2:20100/healthz"),
        key("liveness", "c"): record(0, 2, passed=True),
        key("liveness", "d"): record(0, 5, passed=False),
    }
    assert liveness_verdicts([healthy, failing, almost, stopped], records) == [
        (failing, "Liveness probe failed 3 times: HTTP 500 from http://198.18.0.2:20100/healthz"),
    ]


def test_startup_failing_past_its_threshold_restarts_and_liveness_waits_for_it() -> None:
    starting = target({"startup": START, "liveness": LIVE})
    records = {key("startup"): record(0, 4, message="exited 1"), key("liveness"): record(0, 9, passed=False)}
    # Before startup passed, liveness records do not count (it does not run in that phase).
    assert liveness_verdicts([starting], records) == []
    records[key("startup")] = record(0, 5, message="exited 1")
    assert liveness_verdicts([starting], records) == [(starting, "Startup probe failed 5 times: exited 1")]
    # Once started, the startup probe's past failures are over; liveness decides.
    records[key("startup")] = record(1, 0, passed=True)
    assert liveness_verdicts([starting], records) == [(starting, "Liveness probe failed 9 times")]


def test_record_results_applies_results_and_skips_probes_without_one() -> None:
    the_target = target({"liveness": LIVE, "readiness": READY})
    tasks = [task("liveness", the_target), task("readiness", the_target)]
    before = {key("liveness"): record(0, 2, last_run=5.0, passed=True, started_at=STARTED)}
    after = record_results(before, tasks, {key("liveness"): (False, "HTTP 500")}, 20.0)
    assert after[key("liveness")] == record(0, 3, 20.0, False, "HTTP 500", STARTED)
    assert key("readiness") not in after  # no result: nothing known, it stays due
    assert before[key("liveness")].failures == 2  # the input is not changed


def test_record_results_starts_over_for_a_new_run_of_the_container() -> None:
    the_target = target({"liveness": LIVE})
    stale = {key("liveness"): record(0, 2, last_run=5.0, passed=True, started_at=STARTED - 100)}
    after = record_results(stale, [task("liveness", the_target)], {key("liveness"): (False, "refused")}, 20.0)
    assert after[key("liveness")] == record(0, 1, 20.0, True, "refused", STARTED)


def test_reset_and_prune() -> None:
    records = {
        key("liveness", "a", "web"): record(0, 3),
        key("readiness", "a", "web"): record(1, passed=True),
        key("readiness", "a", "sidecar"): record(1, passed=True),
        key("readiness", "b", "web"): record(1, passed=True),
    }
    assert set(reset_records(records, "a", "web")) == {key("readiness", "a", "sidecar"), key("readiness", "b", "web")}
    assert set(prune_records(records, ["b"])) == {key("readiness", "b", "web")}
