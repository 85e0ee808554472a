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
SAVE_BOTH = "{ iptables-save -t nat; iptables-save -t filter; } 2>/dev/null"
OUR_LINES_SED = "sed -n -e '/SSHORCH-/{s/ \\[[0-9]*:[0-9]*\\]$//;p;}'"
FINGERPRINT_COMMAND = f"{SAVE_BOTH} | {OUR_LINES_SED} | sha256sum | cut -d' ' -f1"
# The gather saves the tables once and derives the fingerprint and chain list
# from that; it runs on every node every pass, so it reads files with the
# shell's `read` and keeps each pipeline short (each process costs the node ~1 ms).
RULES_COMMAND = (
    f"saved=$({SAVE_BOTH}); "
    f"rendered=; read -r rendered 2>/dev/null <{RENDERED_SHA}; echo \"rendered $rendered\"; "
    f"stored=; read -r stored 2>/dev/null <{FINGERPRINT}; echo \"stored $stored\"; "
    f"live=$(printf '%s\\n' \"$saved\" | {OUR_LINES_SED} | sha256sum); echo \"live ${{live%% *}}\"; "
    "printf '%s\\n' \"$saved\" | sed -n -e 's/^\\(:SSHORCH-[^ ]*\\).*/\\1/p' -e '/^\\*/p'"
)


@dataclass(frozen=True)
class RulesState:
    """A node's service rules as gathered: what was rendered, fingerprints then and now, our chains."""

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
