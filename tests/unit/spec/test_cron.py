from __future__ import annotations

import pytest

from sshorch.spec.cronexpr import CronError, check_cron_schedule, parse_cron_schedule

VALID = [
    "* * * * *", "*/5 * * * *", "0 0 * * *", "0,15,30,45 8-18 * * mon-fri", "30 2 1 jan,jul *", "0 0 ? * SUN",
    "5-55/10 */2 1-15/7 */3 1-5", "0 12 * * 6", "10/15 * * * *", "0 0 31 12 *", "  0 0 * * *  ",
    "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@DAILY",
    "*/1000000 * * * *", "*/" + "9" * 5000 + " * * * *",  # a step past the range: the first value only
    "0000000000059 * * * *",
]  # fmt: skip
INVALID = [
    ("", "expected 5 fields, got 0"),
    ("* * * *", "expected 5 fields, got 4"),
    ("* * * * * *", "expected 5 fields, got 6"),
    ("60 * * * *", "minute: 60 is out of range 0-59"),
    ("* 24 * * *", "hour: 24 is out of range 0-23"),
    ("* * 0 * *", "day of month: 0 is out of range 1-31"),
    ("* * * 13 *", "month: 13 is out of range 1-12"),
    ("* * * * 7", "day of week: 7 is out of range 0-6"),
    ("*/0 * * * *", "minute: step '0' must be a positive number"),
    ("*/x * * * *", "minute: step 'x' must be a positive number"),
    ("5-1 * * * *", "minute: range '5-1' ends before it starts"),
    ("1,,2 * * * *", "minute: empty list item"),
    ("* * * foo *", "month: 'foo' is not a number or a name"),
    ("a * * * *", "minute: 'a' is not a number"),
    ("? * * * *", "minute: '?' is not a number"),
    ("@every 5m", "unknown macro '@every 5m'"),
    ("TZ=UTC 0 * * * *", "TZ= in the schedule is not supported; use spec.timeZone"),
    ("CRON_TZ=UTC 0 * * * *", "TZ= in the schedule is not supported; use spec.timeZone"),
    ("* * * * mon;reboot", "day of week: 'mon;reboot' is not a number or a name"),
    # Long input: a clear line, not a ValueError from int() (Python refuses 4300 digits and more).
    ("1" * 5000 + " * * * *", "minute: '11111111111111111...' is out of range 0-59"),
    ("0 0 1-" + "3" * 5000 + " * *", "day of month: '33333333333333333...' is out of range 1-31"),
    ("* * * * " + "x" * 5000, "day of week: 'xxxxxxxxxxxxxxxxx...' is not a number or a name"),
    ("*/" + "0" * 5000 + " * * * *", "minute: step '00000000000000000...' must be a positive number"),
]


@pytest.mark.parametrize("schedule", VALID)
def test_valid(schedule: str) -> None:
    assert check_cron_schedule(schedule) is None


@pytest.mark.parametrize(("schedule", "reason"), INVALID)
def test_invalid(schedule: str, reason: str) -> None:
    with pytest.raises(CronError) as raised:
        parse_cron_schedule(schedule)
    assert str(raised.value) == reason
    message = check_cron_schedule(schedule)
    assert message is not None and message.endswith(f"({reason})")


def test_parsed_values() -> None:
    schedule = parse_cron_schedule("0,30 9-17/4 * jan-mar mon-fri")
    assert schedule.minutes == {0, 30}
    assert schedule.hours == {9, 13, 17}
    assert schedule.months == {1, 2, 3}
    assert schedule.days_of_week == {1, 2, 3, 4, 5}
    assert schedule.any_day_of_month and not schedule.any_day_of_week
    weekly = parse_cron_schedule("@weekly")
    assert (weekly.minutes, weekly.hours, weekly.days_of_week) == (frozenset({0}),) * 3
    assert not parse_cron_schedule("*/2 * * * *").minutes ^ set(range(0, 60, 2))
