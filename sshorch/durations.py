"""Durations as users write them (10s, 1m, 2h) for intervals, timeouts and waits. Pure."""

from __future__ import annotations

import re

from sshorch.errors import SshorchError

_DURATION = re.compile(r"^(\d{1,12}(?:\.\d{1,9})?)(ms|s|m|h)?$")
MAX_DURATION_SECONDS = 366 * 24 * 3600  # a year: longer than any interval, timeout or eviction wait


def parse_duration(text: str) -> float:
    """"500ms", "10s", "1m", "2h" or a plain number of seconds, up to a year."""
    match = _DURATION.match(text.strip())
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    if not match or float(match.group(1)) <= 0:
        raise SshorchError(f"{shown}: give a duration like 10s, 1m or 2h")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    seconds = float(match.group(1)) * scale
    if seconds > MAX_DURATION_SECONDS:
        raise SshorchError(f"{shown}: give a duration like 10s, 1m or 2h, at most a year ({MAX_DURATION_SECONDS // 3600}h)")
    return seconds
