"""Manifest text to documents: multi-document YAML or JSON, ``kind: List`` expanded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from .errors import Problem, ProblemList
from .fields import describe
from .model import Source

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML that rejects duplicate keys (never silently drop one) and, like
    kubectl, keeps dates as strings."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result


_DROPPED_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def _construct_vault(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    """Ansible's `!vault |` value: kept as its text ($ANSIBLE_VAULT...), decrypted with Secrets."""
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "!vault must tag a text value", node.start_mark)
    return str(loader.construct_scalar(node))


_Loader.add_constructor("!vault", _construct_vault)


def _yaml_problem(file: str, exc: yaml.YAMLError, rendered: bool) -> Problem:
    # Built from the parts of the error, never its snippet of the text (which may hold a secret).
    mark = getattr(exc, "problem_mark", None)
    detail = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    where = ""
    if mark is not None:
        where = f"line {mark.line + 1}{' of the rendered template' if rendered else ''}: "
    return Problem(file, None, None, f"{where}invalid YAML: {detail}")


def parse_yaml_text(text: str, file: str, *, rendered: bool = False) -> tuple[list[tuple[Source, Any]], ProblemList]:
    """Every non-empty document of a (multi-document) YAML text, and a problem if the text is invalid."""
    documents: list[tuple[Source, Any]] = []
    problems = ProblemList()
    count = 0
    try:
        for document in yaml.load_all(text, Loader=_Loader):
            if document is not None:
                documents.append((Source(file, count), document))
            count += 1
    except yaml.YAMLError as exc:
        problems.add(Source(file, count), _yaml_problem(file, exc, rendered))
    return documents, problems


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json_text(text: str, file: str, *, rendered: bool = False) -> tuple[list[tuple[Source, Any]], ProblemList]:
    problems = ProblemList()
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        suffix = " of the rendered template" if rendered else ""
        problems.add(Source(file), Problem(file, None, None, f"line {exc.lineno}{suffix}: invalid JSON: {exc.msg}"))
        return [], problems
    except ValueError as exc:
        problems.add(Source(file), Problem(file, None, None, f"invalid JSON: {exc}"))
        return [], problems
    return ([(Source(file), document)] if document is not None else []), problems


def expand_documents(documents: list[tuple[Source, Any]], problems: ProblemList) -> Iterator[tuple[Source, dict[str, Any]]]:
    """Mapping documents, with the items of each ``kind: List`` in its place."""
    for source, document in documents:
        if not isinstance(document, dict):
            message = f"document {source.document + 1}: must be a mapping (a Kubernetes object), got {describe(document)}"
            problems.add(source, Problem(source.file, None, None, message))
        elif document.get("kind") == "List":
            items = document.get("items")
            if items is not None and not isinstance(items, list):
                problems.add(source, Problem(source.file, "List", "items", f"must be a list, got {describe(items)}"))
                continue
            for i, item in enumerate(items or ()):
                if isinstance(item, dict):
                    yield source, item
                else:
                    problems.add(source, Problem(source.file, "List", f"items[{i}]", f"must be a mapping (a Kubernetes object), got {describe(item)}"))
        else:
            yield source, document
