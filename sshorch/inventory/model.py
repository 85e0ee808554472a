"""The loaded inventory: hosts, groups and their variables, all immutable."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sshorch.errors import InventoryError
from sshorch.taints import Taint

from .ssh_options import HostConnection

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only mapping.

    Unlike ``types.MappingProxyType`` it can be pickled and deep-copied, and it
    compares equal to any mapping with the same items (a plain ``dict`` too).
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data) if data is not None else {}

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __getstate__(self) -> dict[K, V]:
        return self._data

    def __setstate__(self, state: dict[K, V]) -> None:
        self._data = state


@dataclass(frozen=True)
class Host:
    """One inventory host with its merged variables and sshorch settings."""

    name: str
    address: str
    port: int
    user: str
    private_key_file: str | None
    become: bool
    groups: tuple[str, ...]
    vars: Mapping[str, Any] = field(hash=False)
    labels: Mapping[str, str] = field(hash=False)
    runtime: str
    capacity: Mapping[str, Any] = field(hash=False)
    # ansible_connection, ssh arguments, become user and password: see ssh_options.py.
    connection: HostConnection = field(default_factory=HostConnection, hash=False)
    allow_privileged: bool = False  # sshorch_allow_privileged: privileged pods and host namespaces
    taints: tuple[Taint, ...] = ()  # sshorch_taints


@dataclass(frozen=True)
class Group:
    """One inventory group as written: its direct members and its own variables."""

    name: str
    hosts: tuple[str, ...]
    children: tuple[str, ...]
    vars: Mapping[str, Any] = field(hash=False)
    # ansible_group_priority set in the inventory source; Ansible keeps it out of vars.
    priority: int = 1


@dataclass(frozen=True)
class Inventory:
    """Every host and group of one or more inventory sources."""

    sources: tuple[str, ...]
    hosts: tuple[Host, ...]
    groups: Mapping[str, Group] = field(hash=False)
    cluster_vars: Mapping[str, Any] = field(hash=False)

    def host(self, name: str) -> Host:
        """The host called ``name``; an InventoryError if there is none."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise InventoryError(f"{self._where()}: no host named {name!r} in the inventory")

    def select(self, pattern: str | None) -> tuple[Host, ...]:
        """Hosts matching a union of host and group names, in inventory order.

        ``None`` or ``'all'`` selects every host; names are separated by ``,`` or
        ``:`` (Ansible's union operators). A name that is neither a host nor a
        group is an error, so a typo never silently selects nothing.
        """
        if pattern is None:
            return self.hosts
        wanted: set[str] = set()
        names = [part.strip() for part in pattern.split(",")]
        if not any(names):
            raise InventoryError(f"{self._where()}: empty host pattern {pattern!r}")
        for part in names:
            if part:
                wanted.update(self._match(part))
        return tuple(host for host in self.hosts if host.name in wanted)

    def _match(self, part: str) -> set[str]:
        # An IPv6 host name contains ':', so try the whole part before splitting on ':'.
        known = self._names_of(part)
        if known is not None:
            return known
        result: set[str] = set()
        for name in (piece.strip() for piece in part.split(":")):
            if not name:
                continue
            known = self._names_of(name)
            if known is None:
                raise InventoryError(
                    f"{self._where()}: host pattern {part!r}: {name!r} is neither a host nor a group"
                    " (patterns are host and group names separated by ',' or ':')"
                )
            result |= known
        return result

    def _names_of(self, name: str) -> set[str] | None:
        if name == "all":
            return {host.name for host in self.hosts}
        if name in self.groups:
            return self._group_members(name)
        if any(host.name == name for host in self.hosts):
            return {name}
        return None

    def _group_members(self, name: str) -> set[str]:
        members: set[str] = set()
        pending, seen = [name], set()
        while pending:
            group = self.groups[pending.pop()]
            if group.name in seen:
                continue
            seen.add(group.name)
            members.update(group.hosts)
            pending.extend(group.children)
        return members

    def _where(self) -> str:
        return ", ".join(self.sources) or "inventory"
