"""CronJob decisions: schedule times against a minute-by-minute reference, and
`decide` as Kubernetes' CronJob controller (v2) takes each pass."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.plan.cronjobs import (
    FORBID_ACTIVE,
    MISSED_DEADLINE,
    CronDecision,
    CronState,
    decide,
    history_to_remove,
    next_time,
    run_name,
    schedule_times,
)
from sshorch.spec.cronexpr import CronSchedule, parse_cron_schedule
from sshorch.spec.model import CronJob, Job, ObjectMeta, PodTemplate
from sshorch.spec.names import is_dns1123_label

DAY = 86400


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc).timestamp()


def iso(times: list[float]) -> list[str]:
    return [datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M") for t in times]


def times(schedule: str, after: float, until: float, tz: str | None = None) -> list[str]:
    return iso(schedule_times(parse_cron_schedule(schedule), after, until, tz))


# --- reference: every minute, checked on the wall clock ----------------------


def matches(schedule: CronSchedule, local: datetime) -> bool:
    dom = local.day in schedule.days_of_month
    dow = local.isoweekday() % 7 in schedule.days_of_week
    day = (dom and dow) if schedule.any_day_of_month or schedule.any_day_of_week else (dom or dow)
    return local.minute in schedule.minutes and local.hour in schedule.hours and local.month in schedule.months and day


def reference(schedule: CronSchedule, after: float, until: float, tz: str | None) -> list[float]:
    zone = timezone.utc if tz is None else ZoneInfo(tz)
    found = []
    t = math.floor(after) // 60 * 60 + 60
    while t <= until:
        if matches(schedule, datetime.fromtimestamp(t, zone)):
            found.append(float(t))
        t += 60
    return found


def field(low: int, high: int, question: bool = False) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    step = st.integers(1, max(2, (high - low) // 2))
    item = st.one_of(
        st.just("?" if question else "*"),
        value.map(str),
        st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}"),
        step.map(lambda n: f"*/{n}"),
        st.tuples(value, value, step).map(lambda abn: f"{min(abn[:2])}-{max(abn[:2])}/{abn[2]}"),
        st.tuples(value, step).map(lambda an: f"{an[0]}/{an[1]}"),
    )
    return st.one_of(st.just("*"), st.lists(item, min_size=1, max_size=3).map(",".join))


SCHEDULES = st.tuples(field(0, 59), field(0, 23), field(1, 31, True), field(1, 12), field(0, 6, True)).map(" ".join)
ZONES = [None, "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo", "America/Santiago"]
# Days with a clock change in that zone (Lord Howe shifts by 30 minutes; São
# Paulo 2018/2019 and Santiago change at midnight).
CHANGES = [
    ("Europe/Berlin", (2024, 3, 31)), ("Europe/Berlin", (2024, 10, 27)),
    ("America/New_York", (2024, 3, 10)), ("America/New_York", (2024, 11, 3)),
    ("Australia/Lord_Howe", (2024, 4, 7)), ("Australia/Lord_Howe", (2024, 10, 6)),
    ("America/Sao_Paulo", (2018, 11, 4)), ("America/Sao_Paulo", (2019, 2, 17)),
    ("America/Santiago", (2024, 4, 7)), ("America/Santiago", (2024, 9, 8)),
]  # fmt: skip
ANYWHERE = st.tuples(st.sampled_from(ZONES), st.integers(int(utc(2000, 1, 1)), int(utc(2035, 1, 1))))
NEAR_CHANGE = st.tuples(st.sampled_from(CHANGES), st.integers(-3 * DAY, 2 * DAY)).map(
    lambda change: (change[0][0], int(utc(*change[0][1])) + change[1])
)
WINDOWS = st.tuples(st.one_of(ANYWHERE, NEAR_CHANGE), st.sampled_from([0.0, 0.5, 30.0, 59.999]), st.integers(0, 3 * DAY))


@settings(max_examples=150, deadline=2000)
@given(SCHEDULES, WINDOWS)
def test_schedule_times_match_the_minute_by_minute_reference(text: str, window: tuple[tuple[str | None, int], float, int]) -> None:
    (tz, start), fraction, span = window
    schedule = parse_cron_schedule(text)
    after = start + fraction
    expected = reference(schedule, after, after + span, tz)
    assert schedule_times(schedule, after, after + span, tz, limit=10_000) == expected
    assert schedule_times(schedule, after, after + span, tz, limit=3) == expected[:3]


@settings(max_examples=150, deadline=2000)
@given(SCHEDULES, WINDOWS)
def test_next_time_is_the_first_reference_time(text: str, window: tuple[tuple[str | None, int], float, int]) -> None:
    (tz, start), fraction, span = window
    schedule = parse_cron_schedule(text)
    after = start + fraction
    expected = reference(schedule, after, after + span, tz)
    if expected:
        assert next_time(schedule, after, tz) == expected[0]
        return
    try:
        found = next_time(schedule, after, tz)
    except ValueError:
        return  # e.g. only 30 or 31 February: never
    assert found > after + span and found % 60 == 0
    assert matches(schedule, datetime.fromtimestamp(found, timezone.utc if tz is None else ZoneInfo(tz)))


def test_schedule_times_stop_after_101() -> None:
    every_minute = parse_cron_schedule("* * * * *")
    found = schedule_times(every_minute, utc(2000, 1, 1), utc(2040, 1, 1))
    assert len(found) == 101 and found[0] == utc(2000, 1, 1, 0, 1) and found[-1] == utc(2000, 1, 1, 1, 41)


def test_sparse_schedules_skip_whole_months_over_long_gaps() -> None:
    assert times("0 0 29 2 *", utc(2024, 3, 1), utc(2040, 1, 1), "Europe/Berlin") == [
        "2028-02-28 23:00", "2032-02-28 23:00", "2036-02-28 23:00",
    ]  # fmt: skip
    assert iso([next_time(parse_cron_schedule("0 0 29 2 *"), utc(2024, 3, 1))]) == ["2028-02-29 00:00"]
    # Like robfig/cron, the search ends with the fifth year after: 2100 is no leap year.
    with pytest.raises(ValueError):
        next_time(parse_cron_schedule("0 0 29 2 *"), utc(2096, 3, 1))


def test_times_are_strictly_after_and_up_to_including() -> None:
    assert times("0 * * * *", utc(2024, 5, 1, 10), utc(2024, 5, 1, 12)) == ["2024-05-01 11:00", "2024-05-01 12:00"]
    assert times("0 * * * *", utc(2024, 5, 1, 10), utc(2024, 5, 1, 10)) == []
    assert next_time(parse_cron_schedule("*/15 * * * *"), utc(2024, 5, 1, 10, 14) + 59.5) == utc(2024, 5, 1, 10, 15)


def test_either_day_field_matches_when_both_are_restricted() -> None:
    # May 2024: Friday the 3rd, 10th, 17th, 24th, 31st.
    may = (utc(2024, 4, 30, 12), utc(2024, 5, 31, 12))
    assert times("0 0 13 * 5", *may) == [f"2024-05-{d:02} 00:00" for d in (3, 10, 13, 17, 24, 31)]
    # A wildcard day field (also '?', '*/1' or in a list) makes both fields count.
    for wildcard in ("* * 5", "? * 5", "*/1 * 5", "1,* * 5"):
        assert times(f"0 0 {wildcard}", *may) == [f"2024-05-{d:02} 00:00" for d in (3, 10, 17, 24, 31)], wildcard
    assert times("0 0 13 * *", *may) == ["2024-05-13 00:00"]
    assert times("0 0 13 * ?", *may) == ["2024-05-13 00:00"]
    # A step is a restriction (robfig/cron: "*/10" is not a wildcard).
    assert times("0 0 */10 * 5", *may) == [f"2024-05-{d:02} 00:00" for d in (1, 3, 10, 11, 17, 21, 24, 31)]


def test_months_and_weekdays_by_name() -> None:
    assert times("0 12 1 jan,JUL *", utc(2024, 1, 1), utc(2025, 1, 1)) == ["2024-01-01 12:00", "2024-07-01 12:00"]
    assert times("0 9 * * mon-fri", utc(2024, 5, 3), utc(2024, 5, 7, 9)) == ["2024-05-03 09:00", "2024-05-06 09:00", "2024-05-07 09:00"]


@pytest.mark.parametrize(
    ("macro", "days", "expected"),
    [
        ("@hourly", 0.1, ["2024-05-01 11:00", "2024-05-01 12:00"]),
        ("@daily", 2, ["2024-05-02 00:00", "2024-05-03 00:00"]),
        ("@midnight", 2, ["2024-05-02 00:00", "2024-05-03 00:00"]),
        ("@weekly", 14, ["2024-05-05 00:00", "2024-05-12 00:00"]),  # Sundays
        ("@monthly", 61, ["2024-06-01 00:00", "2024-07-01 00:00"]),
        ("@yearly", 600, ["2025-01-01 00:00"]),
        ("@annually", 600, ["2025-01-01 00:00"]),
    ],
)
def test_macros(macro: str, days: float, expected: list[str]) -> None:
    start = utc(2024, 5, 1, 10, 30)
    assert times(macro, start, start + days * DAY) == expected


def test_spring_forward_skips_a_wall_time_that_does_not_exist() -> None:
    """Berlin jumps from 02:00 CET to 03:00 CEST on 2024-03-31: no 02:30 that day.
    robfig/cron (so Kubernetes) skips it too; ISC cron would run it at 03:00."""
    assert times("30 2 * * *", utc(2024, 3, 29), utc(2024, 4, 2, 12), "Europe/Berlin") == [
        "2024-03-29 01:30", "2024-03-30 01:30", "2024-04-01 00:30", "2024-04-02 00:30",
    ]  # fmt: skip
    assert iso([next_time(parse_cron_schedule("30 2 * * *"), utc(2024, 3, 30, 1, 30), "Europe/Berlin")]) == ["2024-04-01 00:30"]


def test_fall_back_runs_a_repeated_wall_time_twice() -> None:
    """Berlin goes from 03:00 CEST back to 02:00 CET on 2024-10-27: 02:30 comes
    twice and runs twice, as in Kubernetes (kubernetes/kubernetes#121594)."""
    assert times("30 2 * * *", utc(2024, 10, 26), utc(2024, 10, 28, 12), "Europe/Berlin") == [
        "2024-10-26 00:30", "2024-10-27 00:30", "2024-10-27 01:30", "2024-10-28 01:30",
    ]  # fmt: skip
    hourly = schedule_times(parse_cron_schedule("0 * * * *"), utc(2024, 10, 26, 21, 30), utc(2024, 10, 27, 22, 30), "Europe/Berlin")
    assert len(hourly) == 25  # the local day has 25 hours


def test_time_zone_none_is_utc() -> None:
    assert times("0 9 * * *", utc(2024, 7, 1), utc(2024, 7, 2)) == ["2024-07-01 09:00"]
    assert times("0 9 * * *", utc(2024, 7, 1), utc(2024, 7, 2), "Europe/Berlin") == ["2024-07-01 07:00"]


def test_an_impossible_schedule_has_no_next_time() -> None:
    with pytest.raises(ValueError, match="no time in the 5 years after 2024-01-01"):
        next_time(parse_cron_schedule("0 0 30 2 *"), utc(2024, 1, 1))
    assert schedule_times(parse_cron_schedule("0 0 31 4,6,9,11 *"), utc(2024, 1, 1), utc(2030, 1, 1)) == []


# --- decide ------------------------------------------------------------------

Policy = Literal["Allow", "Forbid", "Replace"]


def cronjob(
    schedule: str = "0 * * * *",
    policy: Policy = "Allow",
    deadline: int | None = None,
    suspend: bool = False,
    tz: str | None = None,
    name: str = "report",
) -> CronJob:
    return CronJob(
        meta=ObjectMeta("CronJob", name),
        schedule=schedule,
        job=Job(ObjectMeta("Job", name), PodTemplate()),
        concurrency_policy=policy,
        suspend=suspend,
        starting_deadline_seconds=deadline,
        time_zone=tz,
    )


def at(hour: int, minute: int = 0, second: float = 0) -> float:
    return utc(2024, 5, 15, hour, minute) + second


CREATED = at(8, 20)
RAN_AT_9 = CronState(last_schedule=at(9), created=CREATED)


def started(scheduled: float, missed: int = 0, replace: tuple[str, ...] = (), next_run: float | None = None) -> CronDecision:
    return CronDecision(scheduled, replace, (), missed, CronState(scheduled, CREATED), next_run)


def test_first_run_is_the_first_scheduled_time_after_creation() -> None:
    fresh = CronState(None, at(10, 0, 30))
    job = cronjob("*/5 * * * *")
    assert decide(job, fresh, [], at(10, 4, 59)) == CronDecision(None, (), (), 0, fresh, at(10, 5))
    assert decide(job, fresh, [], at(10, 5, 10)) == CronDecision(at(10, 5), (), (), 0, CronState(at(10, 5), at(10, 0, 30)), at(10, 10))


def test_a_time_equal_to_creation_is_not_run() -> None:
    fresh = CronState(None, at(10))
    assert decide(cronjob(), fresh, [], at(10, 30)).start is None


def test_the_same_scheduled_time_never_starts_twice() -> None:
    first = decide(cronjob(), RAN_AT_9, [], at(10, 0, 5))
    assert first.start == at(10)
    again = decide(cronjob(), first.state, [], at(10, 0, 5))
    assert again == CronDecision(None, (), (), 0, first.state, at(11))
    assert decide(cronjob(), first.state, [run_name("report", at(10))], at(10, 59)).start is None


def test_only_the_most_recent_missed_time_starts() -> None:
    decision = decide(cronjob("* * * * *"), CronState(at(10), CREATED), [], at(10, 10, 5))
    assert decision == started(at(10, 10), missed=9, next_run=at(10, 11))
    assert not decision.too_many_missed


def test_more_than_100_missed_is_capped_and_flagged() -> None:
    every_minute = cronjob("* * * * *")
    # 100 unmet times (10:00 excluded, 10:01..11:40): 99 missed, no warning.
    assert decide(every_minute, CronState(at(10), CREATED), [], at(11, 40, 30)).too_many_missed is False
    # 101 unmet: Kubernetes counts the one it starts too, so it warns.
    exactly = decide(every_minute, CronState(at(10), CREATED), [], at(11, 41, 30))
    assert (exactly.start, exactly.missed, exactly.too_many_missed) == (at(11, 41), 100, True)
    # A week of minutes: still the latest starts; the count stops at 101.
    week = decide(every_minute, CronState(at(10) - 7 * DAY, CREATED), [], at(10, 0, 30))
    assert (week.start, week.missed, week.too_many_missed) == (at(10), 101, True)
    assert week.state.last_schedule == at(10)


def test_a_starting_deadline_limits_which_times_count() -> None:
    # Unmet within the last 300 s: 09:56..10:00; the 55 before are dropped.
    decision = decide(cronjob("* * * * *", deadline=300), CronState(at(9), CREATED), [], at(10, 0, 30))
    assert decision == started(at(10), missed=4, next_run=at(10, 1))
    assert decide(cronjob("* * * * *"), CronState(at(9), CREATED), [], at(10, 0, 30)).missed == 59


def test_a_time_older_than_the_deadline_is_skipped_once() -> None:
    job = cronjob(deadline=60)
    assert decide(job, RAN_AT_9, [], at(10, 0, 59.5)) == started(at(10), next_run=at(11))
    # Exactly 60 s late is too late: Kubernetes only looks at times after now - deadline.
    late = decide(job, RAN_AT_9, [], at(10, 1))
    assert late == CronDecision(None, (), ((at(10), MISSED_DEADLINE),), 0, CronState(at(10), CREATED), at(11))
    assert decide(job, late.state, [], at(10, 30)) == CronDecision(None, (), (), 0, late.state, at(11))


def test_a_zero_deadline_never_starts() -> None:
    decision = decide(cronjob(deadline=0), RAN_AT_9, [], at(10))
    assert decision.start is None and decision.skipped == ((at(10), MISSED_DEADLINE),)


def test_allow_starts_beside_active_runs() -> None:
    assert decide(cronjob(), RAN_AT_9, ["report-28600000"], at(10, 0, 5)) == started(at(10), next_run=at(11))


def test_replace_stops_the_active_runs_then_starts() -> None:
    decision = decide(cronjob(policy="Replace"), RAN_AT_9, [run_name("report", at(9)), "report-x"], at(10, 0, 5))
    assert decision == started(at(10), replace=(run_name("report", at(9)), "report-x"), next_run=at(11))
    assert decide(cronjob(policy="Replace"), RAN_AT_9, [], at(10, 0, 5)).replace == ()


def test_forbid_skips_without_recording_so_the_time_starts_late() -> None:
    """Kubernetes does not set lastScheduleTime when Forbid skips: the same
    time is reconsidered on every pass and starts as soon as the active run is
    gone, unless the deadline has passed or a newer time superseded it."""
    job, previous = cronjob(policy="Forbid"), [run_name("report", at(9))]
    blocked = decide(job, RAN_AT_9, previous, at(10, 0, 5))
    assert blocked == CronDecision(None, (), ((at(10), FORBID_ACTIVE),), 0, RAN_AT_9, at(11))
    # The 09:00 run finishes at 10:00:30; the next pass starts the 10:00 run.
    assert decide(job, blocked.state, [], at(10, 0, 31)) == started(at(10), next_run=at(11))
    # With a 20 s deadline that is too late: 10:00 is skipped for good.
    assert decide(cronjob(policy="Forbid", deadline=20), RAN_AT_9, [], at(10, 0, 31)).skipped == ((at(10), MISSED_DEADLINE),)
    # Still running at 11:00: 11:00 is now the one considered, 10:00 is missed.
    assert decide(job, blocked.state, previous, at(11, 0, 5)).skipped == ((at(11), FORBID_ACTIVE),)
    assert decide(job, blocked.state, [], at(11, 0, 5)) == started(at(11), missed=1, next_run=at(12))


def test_a_run_already_active_for_the_time_is_recorded_not_started_again() -> None:
    """Another pass started 10:00 but its state was lost: the deterministic
    name shows it; even Replace must not stop it."""
    own = run_name("report", at(10))
    for policy in ("Allow", "Forbid", "Replace"):
        decision = decide(cronjob(policy=policy), RAN_AT_9, [own], at(10, 0, 5))
        assert decision == CronDecision(None, (), (), 0, CronState(at(10), CREATED), at(11)), policy


def test_suspended_starts_nothing_and_keeps_the_state() -> None:
    assert decide(cronjob(suspend=True), RAN_AT_9, [], at(12, 0, 5)) == CronDecision(None, (), (), 0, RAN_AT_9, None)
    # Resumed at 12:00:05: the most recent time missed meanwhile starts (as in Kubernetes).
    assert decide(cronjob(), RAN_AT_9, [], at(12, 0, 5)) == started(at(12), missed=2, next_run=at(13))


def test_decide_reads_the_schedule_in_the_time_zone() -> None:
    job = cronjob("0 9 * * *", tz="Europe/Berlin")
    assert decide(job, CronState(None, at(6)), [], at(7, 0, 5)) == CronDecision(
        at(7), (), (), 0, CronState(at(7), at(6)), at(7) + DAY
    )


def test_an_impossible_schedule_never_starts() -> None:
    assert decide(cronjob("0 0 30 2 *"), RAN_AT_9, [], at(10)) == CronDecision(None, (), (), 0, RAN_AT_9, None)


# --- names and history -------------------------------------------------------


def test_run_names_are_the_scheduled_minute() -> None:
    assert run_name("report", at(10)) == f"report-{int(at(10)) // 60}" == "report-28596120"
    assert run_name("report", at(10, 0, 59.9)) == run_name("report", at(10))
    assert run_name("report", at(10, 1)) != run_name("report", at(10))


@pytest.mark.parametrize("length", [1, 52, 54, 55, 63, 100])
def test_run_names_stay_dns_labels(length: int) -> None:
    name = ("ab-" * 40)[:length].rstrip("-")
    result = run_name(name, at(10))
    assert is_dns1123_label(result) and result.endswith("-28596120")
    if length <= 52:
        assert result == f"{name}-28596120"


def test_history_keeps_the_newest_of_each_kind() -> None:
    finished = [
        ("r1", 100.0, True), ("r2", 200.0, False), ("r3", 300.0, True), ("r4", 400.0, True),
        ("r5", 500.0, False), ("r6", 600.0, True), ("r7", 700.0, False),
    ]  # fmt: skip
    assert history_to_remove(finished, 3, 1) == ["r1", "r2", "r5"]
    assert history_to_remove(finished, 0, 0) == ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]
    assert history_to_remove(finished, 10, 10) == []
    assert history_to_remove(list(reversed(finished)), 2, 2) == ["r1", "r2", "r3"]

