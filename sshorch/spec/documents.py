"""Manifest text to documents: multi-document YAML or JSON, ``kind: List`` expanded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from .problems import Problem, ProblemList
from .fields import describe
from .limits import MAX_NUMBER_CHARACTERS, MAX_YAML_DEPTH, MAX_YAML_NODES
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


    def construct_document(self, node: yaml.Node) -> Any:
        # Before anything walks it: aliases are shared on loading, but every later walk
        # (secrets, validation, JSON for the state store) goes through each copy.
        problem = check_node_shape(node)
        if problem is not None:
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return super().construct_document(node)


def check_node_shape(root: yaml.Node) -> str | None:
    """Why a composed YAML document is too big once its aliases are expanded, or too deep, or
    holds an alias to itself; None when it is fine. Linear in the distinct nodes."""
    sizes: dict[int, int] = {}
    started: set[int] = set()  # on the current path: reaching one again is a cycle
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        children = _children(node)
        if finished:
            started.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_YAML_NODES:
                return f"the document expands to more than {MAX_YAML_NODES} values (aliases counted as copies); refused"
            continue
        if id(node) in sizes:
            continue
        if id(node) in started:
            return "an alias refers to a value that holds it (a recursive alias); refused"
        if depth > MAX_YAML_DEPTH:
            return f"the document is nested more than {MAX_YAML_DEPTH} levels deep; refused"
        started.add(id(node))
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    """An integer, refused past MAX_NUMBER_CHARACTERS (Python would take minutes, or refuse, beyond 4300 digits)."""
    text = loader.construct_scalar(node)  # type: ignore[arg-type]
    if len(str(text)) > MAX_NUMBER_CHARACTERS:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(str(text))} characters is too long", node.start_mark)
    return int(yaml.constructor.SafeConstructor.construct_yaml_int(loader, node))  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)

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
        document = json.loads(text, object_pairs_hook=_reject_duplicates, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        suffix = " of the rendered template" if rendered else ""
        problems.add(Source(file), Problem(file, None, None, f"line {exc.lineno}{suffix}: invalid JSON: {exc.msg}"))
        return [], problems
    except ValueError as exc:
        problems.add(Source(file), Problem(file, None, None, f"invalid JSON: {exc}"))
        return [], problems
    except RecursionError:
        problems.add(Source(file), Problem(file, None, None, f"invalid JSON: nested more than {MAX_YAML_DEPTH} levels deep; refused"))
        return [], problems
    if _depth(document) > MAX_YAML_DEPTH:
        problems.add(Source(file), Problem(file, None, None, f"invalid JSON: nested more than {MAX_YAML_DEPTH} levels deep; refused"))
        return [], problems
    return ([(Source(file), document)] if document is not None else []), problems


def _json_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise ValueError(f"an integer of {len(text)} characters is too long")
    return int(text)


def _depth(value: Any) -> int:
    """How deeply lists and mappings nest in a value (1 for a scalar)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


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
