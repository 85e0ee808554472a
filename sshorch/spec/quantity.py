"""Kubernetes resource quantities: CPU to millicores, memory to bytes.

Fractions of the unit are rounded up, as Kubernetes does ("0.0001" CPU is 1m).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_MAX = 2**63 - 1

CPU_RULE = "must be a CPU quantity such as 500m, 0.5 or 2"
MEMORY_RULE = "must be a memory quantity such as 128Mi, 1Gi, 500M or 1000000 (bytes)"


class QuantityError(ValueError):
    """The text is not a quantity; the message says what is allowed."""


def _text(value: object, rule: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise QuantityError(rule)
    return value if isinstance(value, str) else str(value)


def parse_quantity(value: object, rule: str = "must be a quantity") -> tuple[Fraction, str]:
    """The exact amount of a quantity and its suffix."""
    text = _text(value, rule)
    match = _QUANTITY.fullmatch(text) if len(text) <= 64 else None
    if match is None:
        raise QuantityError(rule)
    number, suffix = Fraction(match["number"]), match["suffix"]
    if number < 0:
        raise QuantityError(f"{rule}, not negative")
    if suffix in _BINARY:
        return number * 1024 ** _BINARY[suffix], suffix
    exponent = int(suffix[1:]) if suffix[:1] in ("e", "E") and len(suffix) > 1 else _DECIMAL[suffix]
    if abs(exponent) > 30:  # keeps absurd exponents from building huge numbers
        raise QuantityError(f"{rule}, too large")
    return number * Fraction(10) ** exponent, suffix


def parse_cpu_millis(value: object) -> int:
    amount, _ = parse_quantity(value, CPU_RULE)
    millis = math.ceil(amount * 1000)
    if millis > _MAX:
        raise QuantityError(f"{CPU_RULE}, too large")
    return millis


def parse_memory_bytes(value: object) -> int:
    amount, suffix = parse_quantity(value, MEMORY_RULE)
    if suffix in ("n", "u", "m"):
        # '128m' is 0.128 bytes in Kubernetes, never what was meant.
        raise QuantityError(f"{MEMORY_RULE}; the '{suffix}' suffix means a fraction of a byte, use Mi or M")
    result = math.ceil(amount)
    if result > _MAX:
        raise QuantityError(f"{MEMORY_RULE}, too large")
    return result


def format_cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_memory(size: int) -> str:
    for suffix, power in (("Ei", 6), ("Pi", 5), ("Ti", 4), ("Gi", 3), ("Mi", 2), ("Ki", 1)):
        if size and size % 1024**power == 0:
            return f"{size // 1024**power}{suffix}"
    return str(size)
