"""Documents to Desired: every object parsed and validated, alone and as a set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .problems import Problem, ProblemList
from .fields import Report
from .model import Desired, ManifestObject, Source
from .notices import once_per_family
from .objects import object_label, parse_object
from .priorityclasses import is_priority_class, parse_priority_class, resolve_priorities
from .references import check_set


def _parse_all(documents: Sequence[tuple[Source, Any]]) -> tuple[list[Report], list[ManifestObject | None]]:
    reports = [Report(source.file, object_label(document)) for source, document in documents]
    classes = [
        parse_priority_class(report, source, document) if is_priority_class(document) else None
        for report, (source, document) in zip(reports, documents)
    ]
    objects: list[ManifestObject | None] = [
        None if is_priority_class(document) else parse_object(report, source, document)
        for report, (source, document) in zip(reports, documents)
    ]
    check_set(reports, objects)
    objects = resolve_priorities(reports, [document for _, document in documents], objects, classes)
    return reports, objects


def document_problems(documents: Sequence[tuple[Source, Any]]) -> list[tuple[Problem, ...]]:
    """The problems of each document, in order (those found across the set included): a
    document is usable when it has none. For reports on many manifests (bench/realworld.py)."""
    reports, _ = _parse_all(documents)
    return [tuple(report.problems) for report in reports]


def build_desired(documents: Sequence[tuple[Source, Any]]) -> tuple[Desired, ProblemList]:
    """The Desired state of ``documents`` and every problem found in them."""
    reports, objects = _parse_all(documents)
    problems = ProblemList()
    for (source, _), report in zip(documents, reports):
        problems.extend(source, report.problems)
    desired = Desired(
        objects=tuple(obj for obj in objects if obj is not None),
        documents=tuple(document for _, document in documents),
        notices=once_per_family(notice for report in reports for notice in report.notices),
    )
    return desired, problems


def parse_documents(documents: Sequence[tuple[Source, dict[str, Any]]]) -> Desired:
    """Typed, validated objects; raises ManifestError with every problem of every document."""
    desired, problems = build_desired(documents)
    problems.raise_if_any()
    return desired
