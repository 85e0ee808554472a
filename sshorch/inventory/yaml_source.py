"""Ansible's YAML inventory format (``all`` / ``children`` / ``hosts`` / ``vars``) and YAML/JSON vars files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from sshorch.errors import InventoryError

from .hostnames import GROUP_NAME_RULE, is_valid_group_name
from .ranges import HostPatternError, parse_host_pattern
from .source import AddChild, AddHost, DeclareGroup, ParsedSource, Place, SetGroupVar, SetHostVar, Statement
from .vaulted import PASSWORD_HINT, Vaulted

__all__ = ["Vaulted", "load_yaml_text", "parse_yaml_inventory"]

_SECTIONS = ("hosts", "vars", "children")
_VAULT_HEADER = "$ANSIBLE_VAULT;"


class _Loader(yaml.SafeLoader):
    """YAML 1.1 like Ansible's loader (``yes`` is true), plus Ansible's own tags.

    The pure-Python parser, not libyaml: inventories are small, and its error
    messages are clearer and the same on every machine.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # An alias inside the value of its own anchor makes a value that contains
        # itself: every later walk over it would recurse forever.
        open_anchors: set[str] = self.__dict__.setdefault("_open_anchors", set())
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"recursive alias *{event.anchor} refers to a value that contains it", event.start_mark  # type: ignore[arg-type]
                )
            return super().compose_node(parent, index)
        anchor = event.anchor
        if anchor is None or anchor in open_anchors:
            return super().compose_node(parent, index)
        open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            open_anchors.discard(anchor)


def _construct_unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # '!unsafe' only marks a value as not-a-template; the value itself is read as usual.
    if isinstance(node, yaml.ScalarNode):
        tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
        return loader.construct_object(yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark), deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, "unsupported !unsafe value", node.start_mark)


def _construct_vault(loader: yaml.SafeLoader, node: yaml.Node) -> Vaulted:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, f"the {node.tag} tag requires a string", node.start_mark)
    return Vaulted(str(loader.construct_scalar(node)))


_Loader.add_constructor("!unsafe", _construct_unsafe)
_Loader.add_constructor("!vault", _construct_vault)
_Loader.add_constructor("!vault-encrypted", _construct_vault)


def load_yaml_text(text: str, path: str) -> Any:
    """The data of a YAML or JSON document; ``None`` for an empty one."""
    if text.lstrip("\ufeff").startswith(_VAULT_HEADER):
        raise InventoryError(f"{path}: the file is encrypted with Ansible Vault; {PASSWORD_HINT}")
    # Ansible tries JSON first: same data for valid JSON, but faster and exact.
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError:
            pass
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}: line {mark.line + 1}" if mark is not None else path
        problem = " ".join((exc.problem or exc.context or "cannot parse").split())
        raise InventoryError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InventoryError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise InventoryError(f"{path}: invalid YAML: nested too deeply") from None


def parse_yaml_inventory(data: Any, path: str) -> ParsedSource:
    """Statements of a YAML inventory whose top-level keys are groups."""
    if data is None:
        return ParsedSource(path, ())  # an empty file is an empty inventory, as in Ansible
    if not isinstance(data, Mapping):
        raise InventoryError(f"{path}: a YAML inventory must be a mapping of groups, got {_kind(data)}")
    if data.get("plugin"):
        raise InventoryError(f"{path}: inventory plugin configurations (plugin: {data['plugin']!r}) are not supported")
    statements: list[Statement] = []
    place = Place(path)
    for name, body in data.items():
        _parse_group(name, body, place, statements)
    return ParsedSource(path, tuple(statements))


def _parse_group(name: Any, body: Any, place: Place, out: list[Statement]) -> str:
    group = _group_name(name, place)
    if body is not None and not isinstance(body, Mapping):
        raise InventoryError(f"{place}: group {group!r} must be a mapping of hosts, vars and children, got {_kind(body)}")
    out.append(DeclareGroup(group, True, place))
    for key, section in (body or {}).items():
        if key not in _SECTIONS:
            raise InventoryError(f"{place}: group {group!r}: unknown key {key!r} (expected hosts, vars or children)")
        if isinstance(section, str):
            section = {section: None}  # Ansible accepts a single name instead of a mapping
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise InventoryError(f"{place}: group {group!r}: {key} must be a mapping, got {_kind(section)}")
        if key == "vars":
            for var, value in section.items():
                out.append(SetGroupVar(group, _var_name(var, f"group {group!r}", place), value, place))
        elif key == "children":
            for child, child_body in section.items():
                # 'child:' with no body defines an empty group, as in Ansible (its own
                # inventory guide lists 'northeast:' under 'usa: children:' this way).
                child_name = _parse_group(child, child_body, place, out)
                out.append(AddChild(group, child_name, place))
        else:
            for pattern, host_vars in section.items():
                _parse_hosts(pattern, host_vars, group, place, out)
    return group


def _parse_hosts(pattern: Any, host_vars: Any, group: str, place: Place, out: list[Statement]) -> None:
    if not isinstance(pattern, str):
        raise InventoryError(f"{place}: group {group!r}: host name {pattern!r} must be a string (quote it)")
    try:
        names, port = parse_host_pattern(pattern)
    except HostPatternError as exc:
        raise InventoryError(f"{place}: group {group!r}: {exc}") from None
    if host_vars is not None and not isinstance(host_vars, Mapping):
        raise InventoryError(f"{place}: host {pattern!r}: variables must be a mapping, got {_kind(host_vars)}")
    for name in names:
        out.append(AddHost(name, group, port, place))
        for var, value in (host_vars or {}).items():
            out.append(SetHostVar(name, _var_name(var, f"host {name!r}", place), value, place))


def _group_name(name: Any, place: Place) -> str:
    if not isinstance(name, str) or not is_valid_group_name(name):
        raise InventoryError(f"{place}: invalid group name {name!r}: {GROUP_NAME_RULE}")
    return name


def _var_name(name: Any, owner: str, place: Place) -> str:
    if not isinstance(name, str) or not name:
        raise InventoryError(f"{place}: {owner}: variable name {name!r} must be a non-empty string")
    return name


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)
