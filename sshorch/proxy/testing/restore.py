"""Reading restore text back into tables of chains of rules (for the packet walker)."""

from __future__ import annotations

import shlex

BUILTIN_CHAINS = frozenset({"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})

# table -> chain -> rules, each rule the argument list after "-A CHAIN".
RuleSet = dict[str, dict[str, list[tuple[str, ...]]]]


def parse_restore(text: str) -> RuleSet:
    """Parse iptables-restore text: *table, :chain declarations, -A, -X and COMMIT lines."""
    tables: RuleSet = {}
    chains: dict[str, list[tuple[str, ...]]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            chains = tables.setdefault(line[1:], {})
            continue
        if chains is None:
            raise ValueError(f"restore text line {number}: {line!r} before any *table line")
        if line == "COMMIT":
            chains = None
        elif line.startswith(":"):
            # Declaring a user chain flushes it, as iptables-restore --noflush does.
            chains[line[1:].split()[0]] = []
        elif line.startswith("-A "):
            _, chain, *args = shlex.split(line)
            if chain in BUILTIN_CHAINS:
                chains.setdefault(chain, [])
            if chain not in chains:
                raise ValueError(f"restore text line {number}: chain {chain} is not declared")
            chains[chain].append(tuple(args))
        elif line.startswith("-X "):
            chains.pop(line.split()[1], None)
        else:
            raise ValueError(f"restore text line {number}: {line!r} is not understood")
    return tables
