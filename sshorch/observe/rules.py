"""What a node's service rules look like now: a fact read in the gather.

The node keeps, next to the rules it was given, the hash of what sshorch
rendered (`iptables.sha`) and a fingerprint of our rules as iptables printed
them right after the write (`iptables.fingerprint`). The gather prints both
and the fingerprint of our rules as they are now: when all agree the node
needs no write; a flush, a deleted chain or a foreign rule in ours changes
the live fingerprint, and the next pass rewrites everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sshorch.observe.facts import Fact

RULES_DIR = "/run/sshorch"
RENDERED_SHA = f"{RULES_DIR}/iptables.sha"
FINGERPRINT = f"{RULES_DIR}/iptables.fingerprint"
RULES_FILE = f"{RULES_DIR}/iptables.rules"

# Every line of ours (chains, rules, jumps) in both tables, counters removed.
OUR_LINES = "{ iptables-save -t nat; iptables-save -t filter; } 2>/dev/null | grep -e SSHORCH- | sed -e 's/ \\[[0-9]*:[0-9]*\\]$//'"
FINGERPRINT_COMMAND = f"{OUR_LINES} | sha256sum | cut -d' ' -f1"
# The gather saves the tables once and derives the fingerprint and chain list from that.
RULES_COMMAND = (
    "saved=$({ iptables-save -t nat; iptables-save -t filter; } 2>/dev/null); "
    f"echo \"rendered $(cat {RENDERED_SHA} 2>/dev/null)\"; "
    f"echo \"stored $(cat {FINGERPRINT} 2>/dev/null)\"; "
    "echo \"live $(printf '%s\\n' \"$saved\" | grep -e SSHORCH- | sed -e 's/ \\[[0-9]*:[0-9]*\\]$//' | sha256sum | cut -d' ' -f1)\"; "
    "printf '%s\\n' \"$saved\" | grep -e '^:SSHORCH-' -e '^\\*' | cut -d' ' -f1"
)


@dataclass(frozen=True)
class RulesState:
    rendered: str  # hash of the text sshorch last rendered for this node ("" if none)
    stored: str  # fingerprint recorded right after that write
    live: str  # fingerprint now
    chains: frozenset[tuple[str, str]]  # (table, chain) of ours present

    @property
    def intact(self) -> bool:
        return bool(self.stored) and self.stored == self.live

    def chain_names(self, table: str) -> frozenset[str]:
        return frozenset(chain for t, chain in self.chains if t == table)


def parse_rules_state(output: str) -> RulesState:
    values: dict[str, str] = {}
    chains: set[tuple[str, str]] = set()
    table = ""
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":SSHORCH-"):
            chains.add((table, line[1:]))
        elif " " in line or line in ("rendered", "stored", "live"):
            key, _, value = line.partition(" ")
            values[key] = value.strip()
    return RulesState(values.get("rendered", ""), values.get("stored", ""), values.get("live", ""), frozenset(chains))


RULES_FACT = Fact("rules", RULES_COMMAND, parse_rules_state)
