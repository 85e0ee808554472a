from __future__ import annotations

import pytest

from sshorch.run.crontab import CronJob, find_entry, render_schedule, with_entry, without_entry
from sshorch.durations import parse_duration
from sshorch.errors import SshorchError


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10), ("500ms", 0.5), ("1m", 60), ("2h", 7200), ("7", 7), ("1.5s", 1.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "0s", "-1m", "1d", "ten", "1 m", "1" * 5000 + "s", "1." + "5" * 5000, "8785h", "1e9"])
def test_bad_durations_say_what_is_expected(bad: str) -> None:
    with pytest.raises(SshorchError, match="10s, 1m or 2h") as raised:
        parse_duration(bad)
    assert len(str(raised.value)) < 120  # one short line, whatever was given


@pytest.mark.parametrize(("every", "schedule"), [("1m", "*/1 * * * *"), ("5m", "*/5 * * * *"), ("1h", "0 * * * *"), ("6h", "0 */6 * * *"), ("60m", "0 * * * *")])
def test_schedules(every: str, schedule: str) -> None:
    assert render_schedule(every) == schedule


@pytest.mark.parametrize("bad", ["30s", "90s", "90m"])
def test_schedules_are_whole_minutes_or_hours(bad: str) -> None:
    with pytest.raises(SshorchError):
        render_schedule(bad)


JOB = CronJob("demo", "*/1 * * * *", ("/venv/bin/python", "-m", "sshorch", "converge", "-i", "/inv dir/hosts.yml"), "/log/demo.log")


def test_the_entry_quotes_paths_and_carries_the_cluster_marker() -> None:
    assert JOB.line() == (
        "*/1 * * * * /venv/bin/python -m sshorch converge -i '/inv dir/hosts.yml' >> /log/demo.log 2>&1 "
        "# sshorch-converge:demo"
    )


def test_installing_twice_keeps_one_entry_and_other_lines() -> None:
    existing = "MAILTO=ops\n0 3 * * * /usr/bin/backup\n"
    once = with_entry(existing, JOB)
    twice = with_entry(once, JOB)
    assert twice == once
    assert twice.count("sshorch-converge:demo") == 1 and "/usr/bin/backup" in twice
    other = with_entry(twice, CronJob("prod", "*/5 * * * *", ("x",), "/l"))
    assert find_entry(other, "demo") == JOB.line() and find_entry(other, "prod") is not None
    assert without_entry(other, "demo") == existing + CronJob("prod", "*/5 * * * *", ("x",), "/l").line() + "\n"


def test_removing_from_an_empty_crontab() -> None:
    assert without_entry("", "demo") == ""
    assert find_entry("", "demo") is None


def test_a_percent_in_a_path_is_escaped_for_cron_and_a_line_break_refused() -> None:
    import pytest

    from sshorch.run.crontab import CronJob
    from sshorch.errors import SshorchError

    job = CronJob("prod", "* * * * *", ("sshorch", "converge", "-i", "/srv/inv 100%.yml"), "/var/log/s%.log")
    assert job.line() == "* * * * * sshorch converge -i '/srv/inv 100\\%.yml' >> /var/log/s\\%.log 2>&1 # sshorch-converge:prod"
    with pytest.raises(SshorchError, match="line break"):
        CronJob("prod", "* * * * *", ("sshorch", "converge", "-i", "/srv/a\n* * * * * evil"), "/l").line()
