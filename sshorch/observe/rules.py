"""What a node's service rules for this cluster look like now: a fact read in the gather.

The command (proxy.state.rules_command) prints the hash of what sshorch last
rendered for the node, the fingerprint of the cluster's rules recorded right
after that write and the fingerprint now, the cluster's chains (and unscoped
ones of an earlier sshorch), and the built-in chains where a jump of ours sits
below a foreign rule, and the family's packet forwarding. When the hashes and fingerprints agree, nothing is
misplaced and nothing is left to migrate, the node needs no write; a flush, a
deleted chain or a foreign rule in ours changes the live fingerprint, and the
next pass rewrites everything.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sshorch.ipfamily import IPV4, IpFamily
from sshorch.forwarding import Forwarding, parse_forwarding
from sshorch.observe.facts import Fact
from sshorch.proxy.chains import is_legacy_chain
from sshorch.proxy.state import rules_command

RULES = "rules"  # the fact's name


@dataclass(frozen=True)
class RulesState:
    """A node's service rules as gathered: what was rendered, fingerprints then and now, our chains."""

    rendered: str  # hash of the text sshorch last rendered for this node ("" if none)
    stored: str  # fingerprint recorded right after that write
    live: str  # fingerprint now
    chains: frozenset[tuple[str, str]]  # (table, chain) of the cluster's, and unscoped ones of an earlier sshorch
    misplaced: frozenset[tuple[str, str]] = frozenset()  # (table, built-in chain): a jump of ours below a foreign rule
    forwarding: Forwarding | None = None  # the family's packet forwarding (None: not read)

    @property
    def intact(self) -> bool:
        return bool(self.stored) and self.stored == self.live

    @property
    def legacy(self) -> bool:
        """The node still holds rules of an sshorch from before chains were scoped by cluster."""
        return any(is_legacy_chain(chain) for _, chain in self.chains)

    def chain_names(self, table: str) -> frozenset[str]:
        return frozenset(chain for t, chain in self.chains if t == table)

    def by_table(self) -> dict[str, frozenset[str]]:
        return {table: self.chain_names(table) for table in ("nat", "filter")}


def parse_rules_state(output: str) -> RulesState:
    values: dict[str, str] = {}
    chains: set[tuple[str, str]] = set()
    misplaced: set[tuple[str, str]] = set()
    table = ""
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":SSHORCH-"):
            chains.add((table, line[1:]))
        elif line.startswith("misplaced "):
            misplaced.add((table, line.split()[1]))
        elif " " in line or line in ("rendered", "stored", "live"):
            key, _, value = line.partition(" ")
            values[key] = value.strip()
    return RulesState(
        values.get("rendered", ""), values.get("stored", ""), values.get("live", ""), frozenset(chains), frozenset(misplaced),
        parse_forwarding(values.get("forwarding", "")),
    )


@functools.lru_cache(maxsize=16)
def rules_fact(cluster: str, family: IpFamily = IPV4) -> Fact:
    """The fact for `cluster`'s rules (a DNS-1123 label) of `family`."""
    return Fact(RULES, rules_command(cluster, family), parse_rules_state)
