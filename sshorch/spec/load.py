"""Reading manifest files and directories: the only I/O of the spec package."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .documents import expand_documents, parse_json_text, parse_yaml_text
from .problems import ManifestError, Problem, ProblemList
from .fields import describe
from .limits import MAX_MANIFEST_BYTES
from .model import Desired, Source
from .parse import build_desired
from .templating import SET_SOURCE, build_template_context, render_template

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
TEMPLATE_SUFFIX = ".j2"
_NO_VARIABLES: Mapping[str, Any] = MappingProxyType({})


def is_manifest_name(name: str) -> bool:
    """web.yaml, web.json, web.yaml.j2 ...; hidden files never."""
    return not name.startswith(".") and name.removesuffix(TEMPLATE_SUFFIX).endswith(MANIFEST_SUFFIXES)


def _find_files(path: Path, problems: ProblemList) -> list[Path]:
    if path.is_file():
        return [path]  # a file named explicitly is read whatever its name
    if not path.is_dir():
        problems.add(Source(str(path)), Problem(str(path), None, None, "no such file or directory"))
        return []
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root, name) for name in sorted(files) if is_manifest_name(name))
    # Sorted by path, so that a/z.yaml comes before b.yaml.
    found.sort(key=lambda file: file.relative_to(path).parts)
    if not found:
        message = f"no manifests (*{', *'.join(MANIFEST_SUFFIXES)}, or those with {TEMPLATE_SUFFIX}) in this directory"
        problems.add(Source(str(path)), Problem(str(path), None, None, message))
    return found


def _read(path: Path, problems: ProblemList) -> str | None:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_MANIFEST_BYTES + 1)  # never more, whatever the file is
        if len(data) > MAX_MANIFEST_BYTES:
            limit = f"{MAX_MANIFEST_BYTES // 2**20} MiB"
            problems.add(Source(str(path)), Problem(str(path), None, None, f"is larger than {limit}; a manifest or values file may be at most {limit}"))
            return None
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.add(Source(str(path)), Problem(str(path), None, None, "is not UTF-8 text"))
    except OSError as exc:
        problems.add(Source(str(path)), Problem(str(path), None, None, f"cannot be read: {exc.strerror}"))
    return None


def _read_values(paths: Sequence[Path], problems: ProblemList) -> list[Mapping[str, Any]]:
    layers = []
    for path in paths:
        text = _read(path, problems)
        if text is None:
            continue
        documents, found = parse_yaml_text(text, str(path))
        problems.merge(found)
        if len(documents) > 1:
            problems.add(Source(str(path)), Problem(str(path), None, None, "must hold one YAML document, not several"))
        elif documents and not isinstance(documents[0][1], dict):
            problems.add(Source(str(path)), Problem(str(path), None, None, f"must be a mapping of values, got {describe(documents[0][1])}"))
        elif documents:
            layers.append(documents[0][1])
    return layers


def _context(variables: Mapping[str, Any], values_files: Sequence[Path], set_values: Sequence[str],
             problems: ProblemList) -> dict[str, Any] | None:  # fmt: skip
    before = len(problems)
    layers = _read_values(values_files, problems)
    try:
        context = build_template_context(variables, layers, set_values)
    except ManifestError as exc:
        problems.extend(Source(SET_SOURCE), exc.problems)
        return None
    # Rendering with a partial context would only add undefined-variable noise.
    return None if len(problems) > before else context


def _documents_of(path: Path, text: str, context: dict[str, Any] | None,
                  problems: ProblemList) -> list[tuple[Source, Any]]:  # fmt: skip
    file = str(path)
    rendered = path.name.endswith(TEMPLATE_SUFFIX)
    if rendered:
        if context is None:
            return []
        try:
            text = render_template(text, context, file=file)
        except ManifestError as exc:
            problems.extend(Source(file), exc.problems)
            return []
    parse = parse_json_text if path.name.removesuffix(TEMPLATE_SUFFIX).endswith(".json") else parse_yaml_text
    documents, found = parse(text, file, rendered=rendered)
    problems.merge(found)
    return documents


def _load(
    paths: Sequence[Path], variables: Mapping[str, Any], set_values: Sequence[str], values_files: Sequence[Path]
) -> tuple[list[tuple[Source, dict[str, Any]]], ProblemList]:
    problems = ProblemList()
    context = _context(variables, values_files, set_values, problems)
    documents: list[tuple[Source, dict[str, Any]]] = []
    for path in paths:
        for file in _find_files(Path(path), problems):
            text = _read(file, problems)
            if text is not None:
                documents.extend(expand_documents(_documents_of(file, text, context, problems), problems))
    return documents, problems


def load_documents(
    paths: Sequence[Path],
    *,
    variables: Mapping[str, Any] = _NO_VARIABLES,
    set_values: Sequence[str] = (),
    values_files: Sequence[Path] = (),
) -> list[tuple[Source, dict[str, Any]]]:
    """The documents of manifest files and directories, templates rendered; ManifestError lists every problem."""
    documents, problems = _load(paths, variables, set_values, values_files)
    problems.raise_if_any()
    return documents


def load_desired(
    paths: Sequence[Path],
    *,
    variables: Mapping[str, Any] = _NO_VARIABLES,
    set_values: Sequence[str] = (),
    values_files: Sequence[Path] = (),
) -> Desired:
    """Load, parse and validate: problems of loading and of parsing are reported together."""
    documents, problems = _load(paths, variables, set_values, values_files)
    desired, parse_problems = build_desired(documents)
    problems.merge(parse_problems)
    problems.raise_if_any()
    return desired
