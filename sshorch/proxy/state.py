"""Reading a cluster's rules back from a node: the shell the node runs, and the same in Python.

A node keeps, per cluster, next to the rules it was given (`rules/<cluster>.rules`),
the hash of what sshorch rendered (`.sha`) and the fingerprint of the cluster's
lines as iptables printed them right after the write (`.fingerprint`). The gather
(rules_command) prints both, the fingerprint now, the cluster's chains and those
sshorch wrote before chains were scoped by cluster (to migrate), and which
built-in chains hold one of the cluster's jumps below a foreign rule.

The cluster's lines are those containing its chain prefix `SSHORCH-<tag>-`: its
chains, their rules and its jumps, and nothing of another cluster's.
parse_saved computes from iptables-save output what the node's shell prints.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from sshorch.ipfamily import IPV4, IpFamily
from sshorch.proxy.names import LEGACY_CHAIN_ERE, check_cluster, cluster_chains, is_legacy_chain

SAVE_COMMAND = "iptables-save -t nat; iptables-save -t filter"

TABLES = ("nat", "filter")
BUILTIN_CHAINS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")

RULES_DIR = "/run/sshorch/rules"
# Where sshorch kept one node's only rule set before chains were scoped by cluster.
LEGACY_STATE_FILES = ("/run/sshorch/iptables.rules", "/run/sshorch/iptables.sha", "/run/sshorch/iptables.fingerprint")

# Packet/byte counters: "[12:720]" after a chain's policy, or before a rule with -c.
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+|\s+\[\d+:\d+\]$")


@dataclass(frozen=True)
class StateFiles:
    """A cluster's files on a node, beside its rules."""

    rules: str  # the restore text last written
    sha: str  # sha256 of that text as rendered
    fingerprint: str  # the cluster's lines right after that write
    legacy: str  # restore text removing unscoped chains, uploaded with a migrating write
    targets: str  # the endpoints the rules sent to before a write, for the one after it


def state_files(cluster: str, family: IpFamily = IPV4) -> StateFiles:
    base = f"{RULES_DIR}/{check_cluster(cluster)}{family.state_suffix}"
    return StateFiles(f"{base}.rules", f"{base}.sha", f"{base}.fingerprint", f"{base}.legacy", f"{base}.targets")


def _our_lines_sed(cluster: str) -> str:
    # The prefix is SSHORCH-, five base32 characters and '-': nothing a regex treats specially.
    prefix = cluster_chains(cluster).prefix
    return f"sed -n -e '/{prefix}/{{s/ \\[[0-9]*:[0-9]*\\]$//;p;}}'"


def _save_both(family: IpFamily) -> str:
    return f"{{ {family.save} -t nat; {family.save} -t filter; }} 2>/dev/null"


def fingerprint_command(cluster: str, family: IpFamily = IPV4) -> str:
    """The node's fingerprint of the cluster's lines: sha256 over them, counters removed."""
    return f"{_save_both(family)} | {_our_lines_sed(cluster)} | sha256sum | cut -d' ' -f1"


def _chains_awk(cluster: str) -> str:
    """awk over iptables-save output: each *table line, the cluster's and legacy chain
    declarations, and `misplaced CHAIN` for a built-in chain where one of the
    cluster's jumps sits below a rule that is no sshorch jump (once per chain)."""
    prefix = cluster_chains(cluster).prefix
    builtin = "|".join(BUILTIN_CHAINS)
    program = (
        '/^\\*/ { print; split("", foreign); split("", told); next } '
        f'/^:SSHORCH-/ {{ name = substr($1, 2); if (index(name, p) == 1 || name ~ /{LEGACY_CHAIN_ERE}/) print $1; next }} '
        f'/^-A ({builtin}) / {{ '
        'if (index($0, " -j SSHORCH-") == 0) foreign[$2] = 1; '
        'else if (($2 in foreign) && index($0, " -j " p) && !($2 in told)) { told[$2] = 1; print "misplaced " $2 } }'
    )
    return f"awk -v p={prefix} {shlex.quote(program)}"


def rules_command(cluster: str, family: IpFamily = IPV4) -> str:
    """The gather's command: saves the tables once and derives the fingerprint, the chain
    list and the jumps' places from that. It runs on every node every pass, so it reads
    files with the shell's `read` and keeps each pipeline short (each process costs the
    node ~1 ms)."""
    files = state_files(cluster, family)
    return (
        f"saved=$({_save_both(family)}); "
        f"rendered=; read -r rendered 2>/dev/null <{files.sha}; echo \"rendered $rendered\"; "
        f"stored=; read -r stored 2>/dev/null <{files.fingerprint}; echo \"stored $stored\"; "
        f"live=$(printf '%s\\n' \"$saved\" | {_our_lines_sed(cluster)} | sha256sum); echo \"live ${{live%% *}}\"; "
        f"printf '%s\\n' \"$saved\" | {_chains_awk(cluster)}"
    )


@dataclass(frozen=True)
class SavedRules:
    """A cluster's rules as read back from a node's iptables-save: what the gather reports, computed here."""

    chains: Mapping[str, frozenset[str]] = field(hash=False)  # table -> the cluster's chains there
    legacy: Mapping[str, frozenset[str]] = field(hash=False)  # table -> unscoped chains of an earlier sshorch
    fingerprint: str  # changes when any line of the cluster's is added, removed, edited or moved
    canary: bool  # the cluster's canary chain is in both tables: nobody flushed them since we wrote
    misplaced: frozenset[tuple[str, str]] = frozenset()  # (table, built-in chain) with our jump below a foreign rule

    @property
    def all_chains(self) -> frozenset[str]:
        return frozenset().union(*self.chains.values())


def parse_fingerprint_lines(saved: str, cluster: str) -> list[str]:
    """Every line containing the cluster's prefix, in order, without counters."""
    prefix = cluster_chains(cluster).prefix
    return [_COUNTERS.sub("", line) for line in saved.splitlines() if prefix in line]


def parse_saved(output: str, cluster: str) -> SavedRules:
    """Parse SAVE_COMMAND's output for `cluster`.

    The fingerprint is sha256 over the lines of parse_fingerprint_lines, each
    ending in a newline: what fingerprint_command prints for the same output on
    the node, so either side can compute it.
    """
    ours = cluster_chains(cluster)
    chains: dict[str, set[str]] = {table: set() for table in TABLES}
    legacy: dict[str, set[str]] = {table: set() for table in TABLES}
    misplaced: set[tuple[str, str]] = set()
    foreign: set[str] = set()
    table = ""
    for raw in output.splitlines():
        line = _COUNTERS.sub("", raw)
        if line.startswith("*"):
            table, foreign = line[1:].strip(), set()
        elif line.startswith(":") and table in chains:
            name = line[1:].split(" ", 1)[0]
            if ours.owns(name):
                chains[table].add(name)
            elif is_legacy_chain(name):
                legacy[table].add(name)
        elif line.startswith("-A "):
            builtin = line.split(" ", 2)[1]
            if builtin not in BUILTIN_CHAINS:
                continue
            if " -j SSHORCH-" not in line:
                foreign.add(builtin)
            elif builtin in foreign and f" -j {ours.prefix}" in line:
                misplaced.add((table, builtin))
    text = "".join(line + "\n" for line in parse_fingerprint_lines(output, cluster))
    return SavedRules(
        chains={name: frozenset(found) for name, found in chains.items()},
        legacy={name: frozenset(found) for name, found in legacy.items()},
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        canary=all(ours.canary in found for found in chains.values()),
        misplaced=frozenset(misplaced),
    )
