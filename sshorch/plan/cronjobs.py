"""When a CronJob's run is due, and what its concurrency policy makes of it. Pure.

Time is always passed in, as UNIX seconds; nothing here reads a clock.

Schedule times follow robfig/cron (which Kubernetes uses): an instant is
scheduled when it is a whole minute and the wall clock of the time zone at
that instant matches the schedule. So across a daylight saving change
- a wall time that does not exist (spring forward: "30 2 * * *" on the day
  Europe/Berlin jumps from 02:00 to 03:00) does not run that day, and
- a wall time that happens twice (fall back: 02:30 comes twice when Berlin goes
  from 03:00 back to 02:00) runs twice, an hour apart
  (kubernetes/kubernetes#121594).
Without a time zone the schedule is read in UTC (Kubernetes reads it in the
controller manager's local zone, which in practice is UTC).

The caller keeps a `CronState` per CronJob, calls `decide` on every pass and
records the returned state; it starts the run named `run_name(name, start)`.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from sshorch.spec.cronexpr import CronSchedule, parse_cron_schedule
from sshorch.spec.model import CronJob

# schedule_times stops after this many: enough for `decide` to tell whether
# more than 100 start times were missed (Kubernetes' TooManyMissedTimes).
MAX_SCHEDULE_TIMES = 101
# `missed` is exact up to this and means "this many or more" at it.
MISSED_CAP = 101
# Kubernetes warns when more than this many start times were unmet.
TOO_MANY_MISSED = 100
SEARCH_YEARS = 5  # robfig/cron gives up after five years
MISSED_DEADLINE = "missed its starting deadline"
FORBID_ACTIVE = "previous run still active (Forbid)"
MAX_NAME = 63  # a DNS-1123 label

_DAY = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --- schedule times -----------------------------------------------------------


def _day_matches(schedule: CronSchedule, day: date) -> bool:
    """cron's rule: if either day field is a wildcard both must match, else either may."""
    in_month = day.day in schedule.days_of_month
    in_week = (day.weekday() + 1) % 7 in schedule.days_of_week  # cron: Sunday is 0
    if schedule.any_day_of_month or schedule.any_day_of_week:
        return in_month and in_week
    return in_month or in_week


def _walls(schedule: CronSchedule, after: int, until: int) -> Iterator[int]:
    """Matching wall-clock minutes w with after < w <= until, in order, as
    seconds since 1970-01-01 00:00 on that wall clock. Skips whole months and
    days that cannot match, and hours before `after`."""
    first = after // 60 * 60 + 60
    hours, minutes = sorted(schedule.hours), sorted(schedule.minutes)
    day = date.fromordinal(_EPOCH_ORDINAL + first // _DAY)
    while True:
        midnight = (day.toordinal() - _EPOCH_ORDINAL) * _DAY
        if midnight > until:
            return
        if day.month not in schedule.months:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            continue
        if _day_matches(schedule, day):
            for hour in hours:
                start = midnight + hour * 3600
                if start + 3540 < first:
                    continue
                for minute in minutes:
                    wall = start + minute * 60
                    if wall > until:
                        return
                    if wall >= first:
                        yield wall
        day += timedelta(days=1)


def _zone(tz: str | None) -> tzinfo | None:
    return None if tz is None else ZoneInfo(tz)


def _offset(zone: tzinfo, t: int) -> int:
    offset = datetime.fromtimestamp(t, zone).utcoffset()
    return 0 if offset is None else offset // timedelta(seconds=1)


def _change_after(zone: tzinfo, start: int, offset: int, end: int) -> int:
    """The first second in (start, end] with another UTC offset, else end + 1.
    Probes a day at a time, so it assumes no zone changes its offset twice
    within one day (none in the tz database does)."""
    probe = start
    while probe < end:
        ahead = min(probe + _DAY, end)
        if _offset(zone, ahead) != offset:
            low, high = probe, ahead
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            return high
        probe = ahead
    return end + 1


def _segments(zone: tzinfo | None, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(a, b, offset): consecutive [a, b) covering [start, end], each with one UTC offset."""
    if zone is None:
        yield start, end + 1, 0
        return
    while start <= end:
        offset = _offset(zone, start)
        stop = _change_after(zone, start, offset, end)
        yield start, stop, offset
        start = stop


def _times(schedule: CronSchedule, zone: tzinfo | None, after: float, until: float, limit: int) -> list[int]:
    """At most `limit` scheduled instants t with after < t <= until, in order."""
    low, high = math.floor(after), math.floor(until)
    found: list[int] = []
    if limit <= 0 or high <= low:
        return found
    # Within a segment the wall clock is UTC shifted by one offset, so the
    # search is a plain calendar walk there; segments come in time order.
    for start, stop, offset in _segments(zone, low + 1, high):
        for wall in _walls(schedule, max(start - 1, low) + offset, min(stop - 1, high) + offset):
            found.append(wall - offset)
            if len(found) >= limit:
                return found
    return found


def _latest(schedule: CronSchedule, zone: tzinfo | None, after: float, until: float) -> int | None:
    """The last scheduled instant t with after < t <= until (bisection on `after`)."""
    low, high = math.floor(after), math.floor(until)
    if not _times(schedule, zone, low, high, 1):
        return None
    # Invariant: a time lies in (low, until], none in (top, until].
    top = high
    while top - low > 1:
        middle = (low + top) // 2
        if _times(schedule, zone, middle, high, 1):
            low = middle
        else:
            top = middle
    return top


def schedule_times(
    schedule: CronSchedule, after: float, until: float, tz: str | None = None, *, limit: int = MAX_SCHEDULE_TIMES
) -> list[float]:
    """Every scheduled time t with after < t <= until, oldest first, read in the
    IANA time zone `tz` (None: UTC). Whole minutes only.

    Stops after `limit` times (101 by default: enough to tell "more than 100
    missed", where Kubernetes stops counting too), so a gap of years costs
    little; months and days that cannot match are skipped, not walked.
    """
    return [float(t) for t in _times(schedule, _zone(tz), after, until, limit)]


def _search_end(after: float) -> float:
    """The end of the fifth year after `after`'s year (UTC), robfig/cron's horizon."""
    year = datetime.fromtimestamp(math.floor(after), timezone.utc).year
    return float(calendar.timegm((year + SEARCH_YEARS + 1, 1, 1, 0, 0, 0)) - 1)


def next_time(schedule: CronSchedule, after: float, tz: str | None = None) -> float:
    """The first scheduled time strictly after `after`. ValueError when there is
    none within about five years (a schedule such as "0 0 30 2 *")."""
    found = _times(schedule, _zone(tz), after, _search_end(after), 1)
    if not found:
        when = datetime.fromtimestamp(math.floor(after), timezone.utc).isoformat()
        raise ValueError(f"the schedule has no time in the {SEARCH_YEARS} years after {when}")
    return float(found[0])


# --- decisions ----------------------------------------------------------------


@dataclass(frozen=True)
class CronState:
    """What sshorch records per CronJob between passes."""

    last_schedule: float | None  # scheduled time of the last run started or deliberately skipped
    created: float  # when sshorch first saw this CronJob


@dataclass(frozen=True)
class CronDecision:
    """What one pass of `decide` wants done; `state` is recorded either way."""

    start: float | None  # scheduled time of a run to start now (name: run_name)
    replace: tuple[str, ...]  # active runs to stop first (Replace)
    skipped: tuple[tuple[float, str], ...]  # (scheduled time, reason), for events
    missed: int  # unmet times (within the deadline) older than the one considered; MISSED_CAP means "or more"
    state: CronState  # to record
    next_run: float | None  # None when suspended or the schedule never fires

    @property
    def too_many_missed(self) -> bool:
        """Whether Kubernetes would warn TooManyMissedTimes: it counts the unmet
        times including the one it considers (estimating from the interval
        between the first two; here the count is exact)."""
        return self.missed + 1 > TOO_MANY_MISSED


def run_name(cronjob_name: str, scheduled: float) -> str:
    """`<cronjob>-<scheduled time in minutes>`, as Kubernetes names a CronJob's
    Jobs: deterministic, so one scheduled time can only ever have one run. The
    CronJob part is cut so the result stays a 63-character DNS-1123 label
    (Kubernetes limits CronJob names to 52 characters for this)."""
    suffix = f"-{int(scheduled // 60)}"
    return cronjob_name[: MAX_NAME - len(suffix)].rstrip("-") + suffix


def _next_run(schedule: CronSchedule, now: float, tz: str | None) -> float | None:
    try:
        return next_time(schedule, now, tz)
    except ValueError:
        return None


def decide(cronjob: CronJob, state: CronState, active_runs: Sequence[str], now: float) -> CronDecision:
    """One pass of Kubernetes' CronJob controller (v2 `syncCronJob`).

    - Suspended: nothing starts and the state stays; once resumed, the most
      recent time missed meanwhile starts (within the starting deadline).
    - Unmet times are those after last_schedule (or creation) up to now; with
      startingDeadlineSeconds only those less than that many seconds old. Only
      the most recent starts; older ones are just counted (`missed`).
    - When every unmet time is older than the deadline (exactly the deadline
      counts as too late), the most recent is skipped and recorded, so it is
      reported once. Kubernetes starts none of them either, but silently: its
      own "too late" check sits behind the same cutoff and never fires.
    - A run named for that time already active: it started; record it.
    - Forbid with a run active: skip, and do NOT record the time, as Kubernetes
      does not. Each later pass reconsiders it (and reports the skip again), so
      it starts late once the active runs are gone, unless the deadline has
      passed or a newer scheduled time has superseded it.
    - Replace: stop every active run, then start. Allow: start.
    The caller must treat an existing run of the name as already started.
    """
    schedule = parse_cron_schedule(cronjob.schedule)
    tz = cronjob.time_zone
    if cronjob.suspend:
        return CronDecision(None, (), (), 0, state, None)
    nothing = CronDecision(None, (), (), 0, state, _next_run(schedule, now, tz))
    zone = _zone(tz)
    earliest = state.created if state.last_schedule is None else state.last_schedule
    deadline = cronjob.starting_deadline_seconds
    window = earliest if deadline is None else max(earliest, now - deadline)
    unmet = _times(schedule, zone, window, now, MISSED_CAP + 1)
    if not unmet:
        if deadline is None or now - deadline <= earliest:
            return nothing
        late = _latest(schedule, zone, earliest, now - deadline)
        if late is None:
            return nothing
        return CronDecision(None, (), ((float(late), MISSED_DEADLINE),), 0, CronState(float(late), state.created), nothing.next_run)
    latest = unmet[-1] if len(unmet) <= MISSED_CAP else _latest(schedule, zone, window, now)
    assert latest is not None
    scheduled, missed = float(latest), len(unmet) - 1
    started = CronState(scheduled, state.created)
    if run_name(cronjob.meta.name, scheduled) in active_runs:
        return CronDecision(None, (), (), missed, started, nothing.next_run)
    if cronjob.concurrency_policy == "Forbid" and active_runs:
        return CronDecision(None, (), ((scheduled, FORBID_ACTIVE),), missed, state, nothing.next_run)
    replace = tuple(active_runs) if cronjob.concurrency_policy == "Replace" else ()
    return CronDecision(scheduled, replace, (), missed, started, nothing.next_run)


def history_to_remove(finished: Sequence[tuple[str, float, bool]], successful_limit: int, failed_limit: int) -> list[str]:
    """Finished runs (name, finished_at, succeeded) beyond the history limits:
    the newest `successful_limit` successes and `failed_limit` failures stay.
    Oldest first. (Kubernetes orders by start time; here by finish time.)"""
    remove: list[tuple[float, str]] = []
    for succeeded, limit in ((True, successful_limit), (False, failed_limit)):
        runs = sorted((at, name) for name, at, ok in finished if ok == succeeded)
        remove.extend(runs[: max(len(runs) - max(limit, 0), 0)])
    return [name for _, name in sorted(remove)]
