"""Combine parsed sources and vars directories into an ``Inventory``, with Ansible's precedence.

A host's variables are merged, lowest first, exactly as Ansible's default
``VARIABLE_PRECEDENCE`` does:

1. group ``all``, as written in the inventory sources;
2. every other group of the host, as written in the sources, sorted by depth
   (parents before children), then ``ansible_group_priority``, then name;
3. ``group_vars/all`` of each source;
4. ``group_vars/<group>`` of each source, groups in the order of step 2;
5. the host, as written in the sources (``host:port`` sets ``ansible_port``);
6. ``host_vars/<host>`` of each source.

So a ``group_vars/`` file beats what any inventory file says about any group.
Each step replaces values key by key; dicts are replaced, never merged.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sshorch.errors import InventoryError

from .model import FrozenMap, Group, Host, Inventory
from .settings import check_cluster_settings, parse_host_settings
from .ssh_options import parse_host_connection
from .source import AddChild, AddHost, DeclareGroup, ParsedSource, Place, SetGroupVar, Statement
from .vars_dirs import VarsTree, merge_vars_files
from .vaulted import Decrypt

__all__ = ["VarsRoot", "merge_inventory"]

ALL, UNGROUPED = "all", "ungrouped"


@dataclass(frozen=True)
class VarsRoot:
    """The ``group_vars/`` and ``host_vars/`` next to one inventory source (``None`` if absent)."""

    group_vars: VarsTree | None = None
    host_vars: VarsTree | None = None


@dataclass
class _GroupState:
    """A group while the merge builds it; ``origins`` maps each of its variables to the file that set it."""

    name: str
    defined: bool = False
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    priority: int = 1
    # Why the group is known if it is never defined: the first reference to it.
    reference: str = ""


@dataclass
class _HostState:
    """A host while the merge builds it: where it was first written, its own variables and their files."""

    name: str
    place: Place
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)


@dataclass
class _State:
    """Every group and host the merge has seen so far, by name."""

    groups: dict[str, _GroupState] = field(default_factory=dict)
    hosts: dict[str, _HostState] = field(default_factory=dict)


def merge_inventory(
    sources: Sequence[str],
    parsed: Iterable[ParsedSource],
    vars_roots: Sequence[VarsRoot],
    decrypt: Decrypt | None = None,
) -> Inventory:
    """The inventory described by ``parsed`` (in load order) and the vars directories of ``sources``."""
    state = _State()
    for name in (ALL, UNGROUPED):
        state.groups[name] = _GroupState(name, defined=True)
    _add_child(state, ALL, UNGROUPED, Place("<inventory>"))
    for source in parsed:
        for statement in source.statements:
            _apply(state, statement)
    where = ", ".join(sources)
    _check_defined(state)
    _check_names(state)
    _attach_roots(state)
    _fix_ungrouped(state)
    if not state.hosts:
        raise InventoryError(f"{where}: the inventory has no hosts")
    return _build(state, tuple(sources), vars_roots, decrypt)


def _apply(state: _State, statement: Statement) -> None:
    if isinstance(statement, DeclareGroup):
        group = _group(state, statement.group)
        if statement.defined:
            group.defined = True
        elif not group.reference:
            group.reference = (
                f"{statement.place}: section [{group.name}:vars] is for group {group.name!r}, which is never defined"
            )
    elif isinstance(statement, AddChild):
        child = _group(state, statement.child)
        if not child.reference:
            child.reference = (
                f"{statement.place}: group {statement.parent!r} lists unknown child group {child.name!r}"
            )
        _group(state, statement.parent)
        _add_child(state, statement.parent, statement.child, statement.place)
    elif isinstance(statement, AddHost):
        _add_host(state, statement)
    elif isinstance(statement, SetGroupVar):
        _set_group_var(state, statement)
    else:
        host = state.hosts[statement.host]
        host.vars[statement.key] = statement.value
        host.origins[statement.key] = statement.place.path


def _group(state: _State, name: str) -> _GroupState:
    if name not in state.groups:
        state.groups[name] = _GroupState(name)
    return state.groups[name]


def _add_child(state: _State, parent: str, child: str, place: Place) -> None:
    if child == ALL:
        raise InventoryError(f"{place}: group 'all' cannot be a child of group {parent!r}")
    if child in state.groups[parent].children:
        return
    if parent == child or parent in _descendants(state, child):
        raise InventoryError(f"{place}: making {child!r} a child of {parent!r} creates a loop of groups")
    state.groups[parent].children.append(child)
    state.groups[child].parents.append(parent)


def _descendants(state: _State, name: str) -> set[str]:
    found: set[str] = set()
    pending = list(state.groups[name].children)
    while pending:
        child = pending.pop()
        if child not in found:
            found.add(child)
            pending.extend(state.groups[child].children)
    return found


def _add_host(state: _State, statement: AddHost) -> None:
    group = _group(state, statement.group)
    group.defined = True  # a group that lists hosts is defined
    if statement.host not in state.hosts:
        host = _HostState(statement.host, statement.place)
        # Like Ansible, 'host:port' only counts where the host first appears.
        if statement.port is not None:
            host.vars["ansible_port"] = statement.port
            host.origins["ansible_port"] = statement.place.path
        state.hosts[statement.host] = host
    if statement.host not in group.hosts:
        group.hosts.append(statement.host)


def _set_group_var(state: _State, statement: SetGroupVar) -> None:
    group = _group(state, statement.group)
    if statement.key == "ansible_group_priority":
        # Ansible turns this into the group's sort priority instead of a variable.
        group.priority = _priority(statement.value, statement.place, group.name)
        return
    group.vars[statement.key] = statement.value
    group.origins[statement.key] = statement.place.path


def _priority(value: Any, place: Place, group: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InventoryError(f"{place}: group {group!r}: ansible_group_priority must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise InventoryError(
            f"{place}: group {group!r}: ansible_group_priority must be an integer, got {value!r}"
        ) from None


def _check_defined(state: _State) -> None:
    for group in state.groups.values():
        if not group.defined:
            raise InventoryError(group.reference)


def _check_names(state: _State) -> None:
    for name, host in state.hosts.items():
        if name in state.groups:
            raise InventoryError(f"{host.place}: {name!r} is the name of both a host and a group")


def _attach_roots(state: _State) -> None:
    # Every group without a parent is a child of 'all', as Ansible reconciles it.
    for name, group in list(state.groups.items()):
        if name != ALL and not group.parents:
            _add_child(state, ALL, name, Place("<inventory>"))


def _fix_ungrouped(state: _State) -> None:
    ungrouped = state.groups[UNGROUPED]
    for name in state.hosts:
        others = _host_groups(state, name) - {ALL, UNGROUPED}
        if others and name in ungrouped.hosts:
            ungrouped.hosts.remove(name)
        elif not others and name not in ungrouped.hosts:
            ungrouped.hosts.append(name)


def _host_groups(state: _State, host: str) -> set[str]:
    """Every group that contains ``host``, directly or through children."""
    found: set[str] = set()
    pending = [name for name, group in state.groups.items() if host in group.hosts]
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(state.groups[name].parents)
    return found


def _depths(state: _State) -> dict[str, int]:
    """Longest path from 'all' to each group: Ansible's group depth."""
    depths: dict[str, int] = {ALL: 0}

    def depth(name: str) -> int:
        if name not in depths:
            depths[name] = 1 + max(depth(parent) for parent in state.groups[name].parents)
        return depths[name]

    for name in state.groups:
        depth(name)
    return depths


def _build(
    state: _State, sources: tuple[str, ...], vars_roots: Sequence[VarsRoot], decrypt: Decrypt | None
) -> Inventory:
    files = _FileVars(vars_roots, decrypt)
    group_vars = {name: _group_own_vars(group, files) for name, group in state.groups.items()}
    _check_cluster(state, files, sources)
    depths = _depths(state)
    hosts = tuple(
        _build_host(state, host, depths, files, decrypt) for host in state.hosts.values()
    )
    groups = FrozenMap(
        {
            name: Group(
                name=name,
                hosts=tuple(group.hosts),
                children=tuple(group.children),
                vars=FrozenMap(copy.deepcopy(group_vars[name])),
                priority=group.priority,
            )
            for name, group in state.groups.items()
        }
    )
    return Inventory(
        sources=sources,
        hosts=hosts,
        groups=groups,
        cluster_vars=groups[ALL].vars,
    )


def _check_cluster(state: _State, files: _FileVars, sources: Sequence[str]) -> None:
    values, origins = dict(state.groups[ALL].vars), dict(state.groups[ALL].origins)
    for layer, layer_origins in files.group_layers([ALL]):
        values.update(layer)
        origins.update(layer_origins)
    check_cluster_settings(values, origins, ", ".join(sources))


def _group_own_vars(group: _GroupState, files: _FileVars) -> dict[str, Any]:
    merged = dict(group.vars)
    for values, _ in files.group_layers([group.name]):
        merged.update(values)
    return merged


def _build_host(
    state: _State, host: _HostState, depths: Mapping[str, int], files: _FileVars, decrypt: Decrypt | None
) -> Host:
    groups = _host_groups(state, host.name) - {ALL}
    ordered = sorted(groups, key=lambda name: (depths[name], state.groups[name].priority, name))
    layers: list[tuple[Mapping[str, Any], Mapping[str, str]]] = [
        (state.groups[ALL].vars, state.groups[ALL].origins),
        *((state.groups[name].vars, state.groups[name].origins) for name in ordered),
    ]
    layers.extend(files.group_layers([ALL]))
    # Ansible walks the sources first and the groups second, so a later source's
    # parent-group file beats an earlier source's child-group file.
    layers.extend(files.group_layers(ordered))
    layers.append((host.vars, host.origins))
    layers.extend(files.host_layers(host.name))
    variables: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for values, value_origins in layers:
        variables.update(values)
        origins.update((key, value_origins.get(key, host.place.path)) for key in values)
    settings = parse_host_settings(host.name, variables, origins, host.place.path, decrypt)
    connection = parse_host_connection(host.name, variables, origins, host.place.path, decrypt)
    # ssh takes -o Port/User/IdentityFile from the arguments where ansible_* said nothing.
    port = connection.args_port if "port" not in connection.explicit and connection.args_port else settings.port
    user = connection.args_user if "user" not in connection.explicit and connection.args_user else settings.user
    key_file = settings.private_key_file
    if "key" not in connection.explicit and connection.args_key_file:
        key_file = os.path.expanduser(connection.args_key_file)
    given = {"port": connection.args_port, "user": connection.args_user, "key": connection.args_key_file}
    connection = replace(connection, explicit=connection.explicit | {name for name, value in given.items() if value})
    member_of = tuple(sorted(groups - {UNGROUPED}))
    # Every group is a label; explicit sshorch_labels win on conflict.
    labels = {**dict.fromkeys(member_of, "true"), **settings.labels}
    return Host(
        name=host.name,
        address=settings.address,
        port=port,
        user=user,
        private_key_file=key_file,
        become=settings.become,
        groups=member_of,
        vars=FrozenMap(copy.deepcopy(variables)),
        labels=FrozenMap(labels),
        runtime=settings.runtime,
        capacity=FrozenMap(copy.deepcopy(settings.capacity)),
        allow_privileged=settings.allow_privileged,
        connection=connection,
        taints=settings.taints,
    )


_Layer = tuple[dict[str, Any], dict[str, str]]


class _FileVars:
    """Variables from the vars directories of every source, each file parsed once."""

    def __init__(self, roots: Sequence[VarsRoot], decrypt: Decrypt | None) -> None:
        self._roots = roots
        self._decrypt = decrypt
        self._cache: dict[tuple[int, str, str], _Layer] = {}

    def group_layers(self, names: Sequence[str]) -> list[_Layer]:
        """For each source in order, the files of each of ``names`` in order."""
        return [
            self._layer(index, "group", root.group_vars, name)
            for index, root in enumerate(self._roots)
            if root.group_vars is not None
            for name in names
        ]

    def host_layers(self, name: str) -> list[_Layer]:
        return [
            self._layer(index, "host", root.host_vars, name)
            for index, root in enumerate(self._roots)
            if root.host_vars is not None
        ]

    def _layer(self, index: int, kind: str, tree: VarsTree, name: str) -> _Layer:
        key = (index, kind, name)
        if key not in self._cache:
            self._cache[key] = merge_vars_files(tree, name, self._decrypt)
        return self._cache[key]
