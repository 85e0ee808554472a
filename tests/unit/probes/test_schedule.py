"""due_probes: Kubernetes' timing and startup gating, as tables."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from sshorch.probes.model import ProbeKey, ProbeKind, ProbeRecord
from sshorch.probes.timing import due_probes
from sshorch.spec.model import Probe
from tests.unit.probes.helpers import STARTED, exec_probe, key, record, target

LIVE = exec_probe("true", initial_delay_seconds=5, period_seconds=10)
READY = exec_probe("true", period_seconds=3)
START = exec_probe("true", period_seconds=2)


def due_kinds(probes: Mapping[ProbeKind, Probe], records: Mapping[ProbeKey, ProbeRecord], now: float, *,
              running: bool = True, started_at: float | None = STARTED) -> list[str]:
    the_target = target(probes, running=running, started_at=started_at)
    return [t.key.kind for t in due_probes([the_target], records, now)]


@pytest.mark.parametrize(
    ("now", "records", "expected"),
    [
        # Initial delay: liveness waits 5 s after the start, readiness (no delay) runs at once.
        (STARTED, {}, ["readiness"]),
        (STARTED + 4.9, {}, ["readiness"]),
        (STARTED + 5, {}, ["liveness", "readiness"]),
        # Period: after a run, the next one is periodSeconds later, not sooner.
        (STARTED + 6, {key("liveness"): record(last_run=STARTED + 5), key("readiness"): record(last_run=STARTED + 5)}, []),
        (STARTED + 8, {key("liveness"): record(last_run=STARTED + 5), key("readiness"): record(last_run=STARTED + 5)},
         ["readiness"]),
        (STARTED + 15, {key("liveness"): record(last_run=STARTED + 5), key("readiness"): record(last_run=STARTED + 14)},
         ["liveness"]),
        # A late pass runs the probe once, not once per missed period.
        (STARTED + 100, {key("liveness"): record(last_run=STARTED + 5), key("readiness"): record(last_run=STARTED + 5)},
         ["liveness", "readiness"]),
    ],
)
def test_initial_delay_and_period(now: float, records: dict[ProbeKey, ProbeRecord], expected: list[str]) -> None:
    assert due_kinds({"liveness": LIVE, "readiness": READY}, records, now) == expected


@pytest.mark.parametrize(
    ("records", "now", "expected"),
    [
        # Not passed yet: only the startup probe runs, even where the others would be due.
        ({}, STARTED + 20, ["startup"]),
        ({key("startup"): record(failures=2, last_run=STARTED + 19)}, STARTED + 20, []),
        ({key("startup"): record(failures=2, last_run=STARTED + 18)}, STARTED + 20, ["startup"]),
        # Passed: it never runs again; liveness (delay over) and readiness take over.
        ({key("startup"): record(successes=1, last_run=STARTED + 18, passed=True)}, STARTED + 20, ["liveness", "readiness"]),
        ({key("startup"): record(successes=1, last_run=STARTED + 1, passed=True)}, STARTED + 2, ["readiness"]),
    ],
)
def test_startup_gates_liveness_and_readiness(records: dict[ProbeKey, ProbeRecord], now: float, expected: list[str]) -> None:
    assert due_kinds({"startup": START, "liveness": LIVE, "readiness": READY}, records, now) == expected


def test_startup_probe_has_its_own_initial_delay() -> None:
    slow = exec_probe("true", initial_delay_seconds=30)
    assert due_kinds({"startup": slow, "readiness": READY}, {}, STARTED + 29) == []
    assert due_kinds({"startup": slow, "readiness": READY}, {}, STARTED + 30) == ["startup"]


def test_no_probes_nothing_due() -> None:
    assert due_probes([target({})], {}, STARTED + 100) == []
    assert due_probes([], {}, STARTED) == []


def test_a_container_that_is_not_running_is_not_probed() -> None:
    assert due_kinds({"liveness": LIVE, "readiness": READY}, {}, STARTED + 100, running=False) == []


def test_unknown_start_time_counts_the_initial_delay_as_over() -> None:
    assert due_kinds({"liveness": LIVE}, {}, 0.0, started_at=None) == ["liveness"]


def test_records_of_an_earlier_run_of_the_container_count_as_fresh() -> None:
    # The runtime restarted the container between passes: its startup probe starts over.
    old = {key("startup"): record(successes=1, last_run=STARTED - 50, passed=True, started_at=STARTED - 100)}
    assert due_kinds({"startup": START, "liveness": LIVE}, old, STARTED + 10) == ["startup"]
    same = {key("startup"): record(successes=1, last_run=STARTED + 1, passed=True, started_at=STARTED)}
    assert due_kinds({"startup": START, "liveness": LIVE}, same, STARTED + 10) == ["liveness"]


def test_tasks_carry_target_and_probe_in_target_order() -> None:
    first = target({"readiness": READY}, pod="a")
    second = target({"liveness": exec_probe("true"), "readiness": READY}, pod="b")
    tasks = due_probes([first, second], {}, STARTED)
    assert [(t.key.pod, t.key.kind) for t in tasks] == [("a", "readiness"), ("b", "liveness"), ("b", "readiness")]
    assert tasks[0].target is first and tasks[0].probe is READY
    assert tasks[2].key == ProbeKey("b", "web", "readiness")
