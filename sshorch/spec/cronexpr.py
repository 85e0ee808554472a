"""Cron schedules as Kubernetes CronJobs accept them: five fields or a macro.

Fields: minute hour day-of-month month day-of-week, each ``*`` (or ``?`` for
the two day fields), a value, a range ``a-b``, a step ``*/n`` / ``a-b/n`` /
``a/n``, or a comma list of those; months and weekdays also by name.
"""

from __future__ import annotations

from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Field:
    """One field of a cron schedule: its range, the names of its values, and whether ``?`` is allowed."""

    name: str
    low: int
    high: int
    names: dict[str, int]
    question_mark: bool = False


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}, question_mark=True),
    _Field("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    _Field("day of week", 0, 6, {name: i for i, name in enumerate(_DAYS)}, question_mark=True),
)

SCHEDULE_RULE = "must be a cron schedule: 5 fields (minute hour day-of-month month day-of-week) or one of " + ", ".join(MACROS)


class CronError(ValueError):
    """The schedule is invalid; the message says where."""


@dataclass(frozen=True)
class CronSchedule:
    """The values each field matches.  Like cron, when both day fields are
    restricted a day matches if either does."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    any_day_of_month: bool
    any_day_of_week: bool


def _shown(text: str) -> str:
    return repr(text if len(text) <= 20 else text[:17] + "...")


def _number(text: str) -> int:
    """A field's number; more than a few digits is out of range anyway (and int() of thousands is slow)."""
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= 6 else 10**6


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not text.isascii() or not text.isdigit():
        raise CronError(f"{field.name}: {_shown(text)} is not a number" + (" or a name" if field.names else ""))
    number = _number(text)
    if number >= 10**6:
        raise CronError(f"{field.name}: {_shown(text)} is out of range {field.low}-{field.high}")
    if not field.low <= number <= field.high:
        raise CronError(f"{field.name}: {number} is out of range {field.low}-{field.high}")
    return number


def _item(text: str, field: _Field) -> tuple[set[int], bool]:
    """The values of one list item and whether it is a bare wildcard."""
    base, slash, step_text = text.partition("/")
    step = 1
    if slash:
        if not step_text.isascii() or not step_text.isdigit() or _number(step_text) == 0:
            raise CronError(f"{field.name}: step {_shown(step_text)} must be a positive number")
        step = _number(step_text)
    if base == "*" or (base == "?" and field.question_mark):
        low, high = field.low, field.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, field), _value(last, field)
        if low > high:
            raise CronError(f"{field.name}: range {_shown(base)} ends before it starts")
    else:
        low = _value(base, field)
        # 'a/n' means from a to the end in steps of n.
        high = field.high if slash else low
    return set(range(low, high + 1, step)), base in ("*", "?") and step == 1


def _field(text: str, field: _Field) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    wildcard = False
    for item in text.split(","):
        if not item:
            raise CronError(f"{field.name}: empty list item")
        item_values, item_wildcard = _item(item, field)
        values |= item_values
        wildcard = wildcard or item_wildcard
    return frozenset(values), wildcard


def parse_cron_schedule(schedule: str) -> CronSchedule:
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise CronError("TZ= in the schedule is not supported; use spec.timeZone")
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise CronError(f"unknown macro {_shown(text)}")
        text = MACROS[text.lower()]
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"expected 5 fields, got {len(parts)}")
    parsed = [_field(part, field) for part, field in zip(parts, _FIELDS)]
    return CronSchedule(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days_of_month=parsed[2][0],
        months=parsed[3][0],
        days_of_week=parsed[4][0],
        any_day_of_month=parsed[2][1],
        any_day_of_week=parsed[4][1],
    )


def check_cron_schedule(schedule: str) -> str | None:
    """None for a valid schedule, else what is allowed and what is wrong."""
    try:
        parse_cron_schedule(schedule)
    except CronError as exc:
        return f"{SCHEDULE_RULE} ({exc})"
    return None
