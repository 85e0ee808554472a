"""Host patterns: a ``:port`` suffix and ``[begin:end(:step)]`` ranges, expanded as Ansible does."""

from __future__ import annotations

import ipaddress
import itertools
import math
import re
import string

from .hostnames import HOST_NAME_RULE, is_valid_host_name

__all__ = [
    "HostPatternError",
    "expand_host_pattern",
    "parse_host_pattern",
    "split_host_port",
]


# Far beyond any real cluster; stops a typo such as web[1:99999999] from eating memory.
MAX_HOSTS_PER_PATTERN = 65536


class HostPatternError(ValueError):
    """A host pattern that cannot be expanded; the caller adds the file and line."""


# One range inside a name, as Ansible recognises it when deciding whether a
# trailing ':NN' is a port: numeric 'a:b' or single-letter 'x:y', optional step.
_RANGE = r"\[(?:[0-9]+:[0-9]+|[A-Za-z]:[A-Za-z])(?::[0-9]+)?\]"
_PATTERN_LABEL = rf"(?:\w|{_RANGE})(?:[\w-]|{_RANGE})*(?<![_-])"
_PATTERN_HOSTNAME = re.compile(rf"{_PATTERN_LABEL}(?:\.{_PATTERN_LABEL})*")

_BRACKETED_HOST_PORT = re.compile(r"\[(.+)\]:([0-9]+)")
_HOST_PORT = re.compile(r"((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)")

_DIGITS = re.compile(r"[0-9]+")


def _looks_like_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return _PATTERN_HOSTNAME.fullmatch(text) is not None
    return True


def split_host_port(pattern: str) -> tuple[str, int | None]:
    """Split ``host:port`` or ``[ipv6]:port``; a pattern without a usable port is returned whole."""
    for regex in (_BRACKETED_HOST_PORT, _HOST_PORT):
        match = regex.fullmatch(pattern)
        if match:
            host, port = match.group(1), int(match.group(2))
            # Ansible ignores the port when what precedes it is not a host (pattern).
            return (host, port) if _looks_like_host(host) else (pattern, None)
    return pattern, None


def expand_host_pattern(pattern: str) -> list[str]:
    """Expand every ``[begin:end(:step)]`` range, the leftmost one varying slowest.

    ``web[01:03]`` gives web01, web02, web03 (leading zeros set the width),
    ``db-[a:c]`` gives db-a, db-b, db-c and ``n[1:10:4]`` gives n1, n5, n9.
    """
    pieces: list[list[str]] = []
    rest = pattern
    while (start := rest.find("[")) >= 0:
        end = rest.find("]", start)
        if end < 0:
            raise HostPatternError(f"host pattern {pattern!r} has '[' without a closing ']'")
        pieces += [[rest[:start]], _expand_range(rest[start + 1 : end], pattern)]
        rest = rest[end + 1 :]
    pieces.append([rest])
    if math.prod(len(piece) for piece in pieces) > MAX_HOSTS_PER_PATTERN:
        raise HostPatternError(f"host pattern {pattern!r} gives more than {MAX_HOSTS_PER_PATTERN} hosts")
    return ["".join(parts) for parts in itertools.product(*pieces)]


def _expand_range(body: str, pattern: str) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise HostPatternError(
            f"host pattern {pattern!r}: range [{body}] must be [begin:end] or [begin:end:step]"
        )
    begin, end = bounds[0] or "0", bounds[1]
    step = _parse_step(bounds[2] if len(bounds) == 3 else "1", body, pattern)
    if not end:
        raise HostPatternError(f"host pattern {pattern!r}: range [{body}] has no end")
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        first, last = letters.index(begin), letters.index(end)
        if first > last:
            raise HostPatternError(f"host pattern {pattern!r}: range [{body}] ends before it begins")
        return list(letters[first : last + 1 : step])
    if not (_DIGITS.fullmatch(begin) and _DIGITS.fullmatch(end)):
        raise HostPatternError(
            f"host pattern {pattern!r}: range [{body}] must be numbers or single letters"
        )
    # A leading zero fixes the width of every generated number, as in Ansible.
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise HostPatternError(
            f"host pattern {pattern!r}: range [{body}] must give begin and end with the same number of digits"
        )
    first, last = int(begin), int(end)
    if first > last:
        # Ansible silently expands this to no hosts at all; that is always a mistake.
        raise HostPatternError(f"host pattern {pattern!r}: range [{body}] ends before it begins")
    numbers = range(first, last + 1, step)
    if len(numbers) > MAX_HOSTS_PER_PATTERN:
        raise HostPatternError(f"host pattern {pattern!r} gives more than {MAX_HOSTS_PER_PATTERN} hosts")
    return [str(number).zfill(width) for number in numbers]


def _parse_step(text: str, body: str, pattern: str) -> int:
    if not _DIGITS.fullmatch(text) or int(text) == 0:
        raise HostPatternError(f"host pattern {pattern!r}: range [{body}] step must be a positive integer")
    return int(text)


def parse_host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """Host names and optional port of one inventory host entry, each name validated."""
    host, port = split_host_port(pattern.strip())
    if port is not None and not 1 <= port <= 65535:
        raise HostPatternError(f"host pattern {pattern!r}: port must be 1-65535, got {port}")
    names = expand_host_pattern(host)
    for name in names:
        if not is_valid_host_name(name):
            raise HostPatternError(f"invalid host name {name!r}: {HOST_NAME_RULE}")
    return names, port
