"""Ansible's INI inventory format: ``[group]``, ``[group:vars]``, ``[group:children]``.

Values are read as Ansible reads them: ``ast.literal_eval`` when it succeeds
(``42`` is an int, ``True`` a bool, ``"[1, 2]"`` a list), the raw text
otherwise (``yes``, ``true``, ``web01``) -- in host lines *and* in ``:vars``
sections, whatever Ansible's documentation says about the latter.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from typing import Any

from sshorch.errors import InventoryError

from .hostnames import GROUP_NAME_RULE, is_valid_group_name
from .ranges import HostPatternError, parse_host_pattern
from .source import AddChild, AddHost, DeclareGroup, ParsedSource, Place, SetGroupVar, SetHostVar, Statement

__all__ = ["parse_ini", "parse_ini_value"]

_COMMENT_MARKERS = ("#", ";")
# '[name]' or '[name:kind]', optionally followed by a '#' comment.
_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_CHILD = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")
_KINDS = ("hosts", "children", "vars")


def parse_ini(data: str | bytes, path: str) -> ParsedSource:
    """Parse one INI inventory file into statements."""
    statements: list[Statement] = []
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(_split_lines(data, path), start=1):
        line = raw.strip()
        if not line or line.startswith(_COMMENT_MARKERS):
            continue
        place = Place(path, number)
        section = _SECTION.fullmatch(line)
        if section:
            group, kind = _parse_section(section, place)
            # '[g]' and '[g:children]' define a group; '[g:vars]' only refers to one.
            statements.append(DeclareGroup(group, kind != "vars", place))
        elif line.startswith("[") and line.endswith("]"):
            raise InventoryError(f"{place}: invalid section header {line!r} (no spaces; '[group]' or '[group:vars]')")
        elif kind == "hosts":
            statements.extend(_parse_host_line(line, group, place))
        elif kind == "vars":
            statements.append(_parse_var_line(line, group, place))
        else:
            statements.append(AddChild(group, _parse_child_line(line, place), place))
    return ParsedSource(path, tuple(statements))


def _split_lines(data: str | bytes, path: str) -> list[str]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff").splitlines()
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        pass
    # Like Ansible, tolerate other encodings in comment lines only (kept empty to keep line numbers).
    lines: list[str] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if raw.lstrip().startswith((b"#", b";")):
            lines.append("")
            continue
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InventoryError(f"{path}: line {number}: not valid UTF-8") from None
    return lines


def _parse_section(match: re.Match[str], place: Place) -> tuple[str, str]:
    group, kind = match.group(1), match.group(2) or "hosts"
    if kind not in _KINDS:
        raise InventoryError(
            f"{place}: section [{group}:{kind}] has unknown type {kind!r} (use :vars or :children)"
        )
    if not is_valid_group_name(group):
        raise InventoryError(f"{place}: invalid group name {group!r}: {GROUP_NAME_RULE}")
    return group, kind


def _parse_host_line(line: str, group: str, place: Place) -> list[Statement]:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InventoryError(f"{place}: cannot split host line: {exc}") from None
    if not tokens:
        return []
    if tokens[0].strip() == "---":
        raise InventoryError(f"{place}: '---' starts a YAML document; name a YAML inventory *.yml")
    try:
        names, port = parse_host_pattern(tokens[0])
    except HostPatternError as exc:
        raise InventoryError(f"{place}: {exc}") from None
    variables: list[tuple[str, Any]] = []
    for token in tokens[1:]:
        key, equals, value = token.partition("=")
        if not equals:
            raise InventoryError(f"{place}: expected key=value after the host name, got {token!r}")
        if not key:
            raise InventoryError(f"{place}: empty variable name in {token!r}")
        variables.append((key, _parse_value_at(value, place)))
    statements: list[Statement] = []
    for name in names:
        statements.append(AddHost(name, group, port, place))
        statements.extend(SetHostVar(name, key, value, place) for key, value in variables)
    return statements


def _parse_var_line(line: str, group: str, place: Place) -> SetGroupVar:
    key, equals, value = line.partition("=")
    if not equals:
        raise InventoryError(f"{place}: expected key=value in [{group}:vars], got {line!r}")
    if not key.strip():
        raise InventoryError(f"{place}: empty variable name in [{group}:vars]")
    return SetGroupVar(group, key.strip(), _parse_value_at(value.strip(), place), place)


def _parse_child_line(line: str, place: Place) -> str:
    match = _CHILD.fullmatch(line)
    if not match:
        raise InventoryError(f"{place}: expected a group name, got {line!r}")
    child = match.group(1)
    if not is_valid_group_name(child):
        raise InventoryError(f"{place}: invalid group name {child!r}: {GROUP_NAME_RULE}")
    return child


def _parse_value_at(text: str, place: Place) -> Any:
    try:
        return parse_ini_value(text)
    except ValueError as exc:
        raise InventoryError(f"{place}: {exc}") from None


def parse_ini_value(text: str) -> Any:
    """The value of an INI ``key=value``: a Python literal if it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    except (TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"cannot read value {text!r}: {exc}") from None
    return _plain(value)


def _plain(value: Any) -> Any:
    # Keep only what YAML could also express, the way Ansible coerces literal_eval results.
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"bytes value {value!r} is not valid UTF-8") from None
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    return value
