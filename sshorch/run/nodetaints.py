"""Node taints kept in the state store: those `sshorch taint` set, and when each of the
inventory's `sshorch_taints` was first seen (what NoExecute's tolerationSeconds count from)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sshorch.inventory import Host
from sshorch.state import Record
from sshorch.taints import Taint, merge_taints


@dataclass(frozen=True)
class StoredTaints:
    """By node: the taints `sshorch taint` set (with their times), and the times the
    inventory's taints were first seen, by "key:effect"."""

    set_by_command: Mapping[str, tuple[Taint, ...]] = field(default_factory=dict)
    first_seen: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "set": {node: [[t.key, t.value, t.effect, t.added] for t in taints] for node, taints in self.set_by_command.items()},
            "seen": {node: dict(seen) for node, seen in self.first_seen.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredTaints:
        return cls(
            {node: tuple(Taint(key, effect, value, added) for key, value, effect, added in taints)
             for node, taints in data.get("set", {}).items()},
            {node: {k: float(v) for k, v in seen.items()} for node, seen in data.get("seen", {}).items()},
        )


TAINTS: Record[StoredTaints] = Record("node-taints", StoredTaints.to_json, StoredTaints.from_json, StoredTaints)


def _ident(taint: Taint) -> str:
    return f"{taint.key}:{taint.effect}"


def node_taints(stored: StoredTaints, hosts: Iterable[Host], now: float) -> tuple[dict[str, tuple[Taint, ...]], StoredTaints]:
    """Each host's taints: the inventory's (added when first seen), then the command's (which
    win for the same key and effect); and `stored` with the first-seen times of inventory
    taints seen now for the first time (those gone from the inventory are forgotten)."""
    hosts = tuple(hosts)
    names = {h.name for h in hosts}
    taints: dict[str, tuple[Taint, ...]] = {}
    first_seen = {node: dict(seen) for node, seen in stored.first_seen.items() if node not in names}
    for host in hosts:
        before = stored.first_seen.get(host.name, {})
        seen = {_ident(t): before.get(_ident(t), now) for t in host.taints}
        if seen:
            first_seen[host.name] = seen
        from_inventory = [Taint(t.key, t.effect, t.value, seen[_ident(t)]) for t in host.taints]
        merged = merge_taints(from_inventory, stored.set_by_command.get(host.name, ()))
        if merged:
            taints[host.name] = merged
    return taints, StoredTaints(stored.set_by_command, first_seen)
