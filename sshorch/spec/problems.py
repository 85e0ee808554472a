"""Manifest problems: each names the file, the object and the field, on one line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sshorch.errors import SshorchError

from .model import Source


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the manifests.

    ``obj`` is ``Kind/name`` when known; ``path`` is the dotted field path
    (``spec.template.spec.containers[0].image``) when the problem is in a field.
    """

    file: str
    obj: str | None
    path: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.obj:
            parts.append(self.obj)
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


def cause_path(path: str) -> str:
    """A field path without its list indices: the same field in every item and object."""
    return re.sub(r"\[\d+\]", "[]", path)


def _objects(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return f"{len(names)} objects ({shown}{f' and {len(names) - 3} more' if len(names) > 3 else ''})"


def grouped_lines(problems: Iterable[Problem]) -> list[str]:
    """A line per problem, except that one cause (file, field path without indices, message) in
    several objects is one line, where its first problem was: `web.yaml: 3 objects (...): path: message`."""
    problems = tuple(problems)
    groups: dict[tuple[str, str, str], list[Problem]] = {}
    for problem in problems:
        if problem.obj and problem.path:
            groups.setdefault((problem.file, cause_path(problem.path), problem.message), []).append(problem)
    lines = []
    said: set[tuple[str, str, str]] = set()
    for problem in problems:
        key = (problem.file, cause_path(problem.path or ""), problem.message)
        objects = list(dict.fromkeys(p.obj or "" for p in groups.get(key, ())))
        if len(objects) < 2:
            lines.append(str(problem))
        elif key not in said:
            said.add(key)
            lines.append(f"{problem.file}: {_objects(objects)}: {key[1]}: {problem.message}")
    return lines


class ManifestError(SshorchError):
    """The manifests cannot be used; carries every problem found, one line each (a cause
    repeated in several objects of a file on one line)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(grouped_lines(self.problems)))


class ProblemList:
    """Problems gathered across files and documents, reported sorted by file, then document."""

    def __init__(self) -> None:
        self._items: list[tuple[Source, Problem]] = []

    def add(self, source: Source, problem: Problem) -> None:
        self._items.append((source, problem))

    def extend(self, source: Source, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(source, problem)

    def merge(self, other: ProblemList) -> None:
        self._items.extend(other._items)

    def __len__(self) -> int:
        return len(self._items)

    def sorted(self) -> tuple[Problem, ...]:
        # A stable sort keeps the order in which each document's problems were found.
        ordered = sorted(self._items, key=lambda item: (item[0].file, item[0].document))
        return tuple(problem for _, problem in ordered)

    def raise_if_any(self) -> None:
        if self._items:
            raise ManifestError(self.sorted())
