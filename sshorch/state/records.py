"""Typed records: values a run leaves to the next one (draining pods, probe counts, job progress...).

A record names itself and says how its value becomes plain JSON data and back;
the store keeps the data and hands the value back typed. Reading is forgiving:
a missing record is its empty value, and so is a damaged one (a hand edit, an
older layout) — it is memory, and the next pass rebuilds it from the cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sshorch.state.failures import StateError

T = TypeVar("T")


@dataclass(frozen=True)
class Record(Generic[T]):
    name: str
    encode: Callable[[T], Any]  # the value as plain JSON data
    decode: Callable[[Any], T]  # may raise ValueError, TypeError, KeyError or AttributeError on damaged data
    empty: Callable[[], T]


def record_text(record: Record[T], value: T) -> str:
    try:
        return json.dumps(record.encode(value), sort_keys=True)
    except (TypeError, ValueError) as error:
        raise StateError(f"record {record.name}: cannot be stored as JSON ({error})") from None


def record_value(record: Record[T], text: str | None) -> T:
    if not text:
        return record.empty()
    try:
        return record.decode(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        return record.empty()
