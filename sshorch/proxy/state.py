"""Reading our rules back from a node: which chains exist, and a fingerprint of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sshorch.proxy.names import CANARY, is_owned_chain

SAVE_COMMAND = "iptables-save -t nat; iptables-save -t filter"

TABLES = ("nat", "filter")

# Packet/byte counters: "[12:720]" after a chain's policy, or before a rule with -c.
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+|\s+\[\d+:\d+\]$")


@dataclass(frozen=True)
class SavedRules:
    """Our rules as read back from a node's iptables-save: chains per table, fingerprint, canary."""

    chains: Mapping[str, frozenset[str]] = field(hash=False)  # table -> our chains there
    fingerprint: str  # changes when any line of ours is added, removed, edited or moved
    canary: bool  # our canary chain is in both tables: nobody flushed them since we wrote

    @property
    def all_chains(self) -> frozenset[str]:
        return frozenset().union(*self.chains.values())


def parse_fingerprint_lines(saved: str) -> list[str]:
    """Every line mentioning one of our chains, in order, without counters."""
    return [_COUNTERS.sub("", line) for line in saved.splitlines() if "SSHORCH-" in line]


def parse_saved(output: str) -> SavedRules:
    """Parse SAVE_COMMAND's output.

    The fingerprint is sha256 over the lines of parse_fingerprint_lines, each
    ending in a newline: what `grep SSHORCH- | sed 's/ \\[[0-9]*:[0-9]*\\]$//' | sha256sum`
    prints for the same output on the node, so either side can compute it.
    """
    chains: dict[str, set[str]] = {table: set() for table in TABLES}
    table = ""
    for line in output.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") and table in chains:
            name = line[1:].split(" ", 1)[0]
            if is_owned_chain(name):
                chains[table].add(name)
    text = "".join(line + "\n" for line in parse_fingerprint_lines(output))
    return SavedRules(
        chains={name: frozenset(found) for name, found in chains.items()},
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        canary=all(CANARY in found for found in chains.values()),
    )
