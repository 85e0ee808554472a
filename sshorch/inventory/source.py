"""What an inventory file says, as a list of statements replayed in order by the merge.

Parsers only translate syntax into these statements; every rule about how
hosts, groups and variables combine lives in ``merge``, once for all formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class Place:
    """Where a statement was written, for error messages."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}: line {self.line}"


@dataclass(frozen=True)
class DeclareGroup:
    """A group is mentioned; ``defined`` when this is a definition, not only a reference to it."""

    group: str
    defined: bool
    place: Place


@dataclass(frozen=True)
class AddChild:
    """Group ``child`` is made a child of group ``parent``."""

    parent: str
    child: str
    place: Place


@dataclass(frozen=True)
class AddHost:
    """A host entry in a group; ``port`` from the ``host:port`` shorthand."""

    host: str
    group: str
    port: int | None
    place: Place


@dataclass(frozen=True)
class SetGroupVar:
    """A variable of a group, as written in a source."""

    group: str
    key: str
    value: Any
    place: Place


@dataclass(frozen=True)
class SetHostVar:
    """A variable of a host, as written in a source."""

    host: str
    key: str
    value: Any
    place: Place


Statement = Union[DeclareGroup, AddChild, AddHost, SetGroupVar, SetHostVar]


@dataclass(frozen=True)
class ParsedSource:
    """One inventory file, parsed."""

    path: str
    statements: tuple[Statement, ...]
