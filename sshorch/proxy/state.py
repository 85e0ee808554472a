"""Reading a cluster's rules back from a node: the shell the node runs.

A node keeps, per cluster, next to the rules it was given (`rules/<cluster>.rules`),
the hash of what sshorch rendered (`.sha`) and the fingerprint of the cluster's
lines as iptables printed them right after the write (`.fingerprint`). The gather
(rules_command) prints both, the fingerprint now, the cluster's chains and those
sshorch wrote before chains were scoped by cluster (to migrate), and which
built-in chains hold one of the cluster's jumps below a foreign rule.

The cluster's lines are those containing its chain prefix `SSHORCH-<tag>-`: its
chains, their rules and its jumps, and nothing of another cluster's. What the
gather prints is read by observe.rules; nothing else parses iptables-save output.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sshorch.forwarding import forwarding_command
from sshorch.ipfamily import IPV4, IpFamily
from sshorch.proxy.chains import LEGACY_CHAIN_ERE, check_cluster, cluster_chains

BUILTIN_CHAINS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")

RULES_DIR = "/run/sshorch/rules"
# Where sshorch kept one node's only rule set before chains were scoped by cluster.
LEGACY_STATE_FILES = ("/run/sshorch/iptables.rules", "/run/sshorch/iptables.sha", "/run/sshorch/iptables.fingerprint")


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


def our_lines_command(cluster: str, family: IpFamily = IPV4) -> str:
    """The cluster's lines as the node's tables hold them, in order, counters removed."""
    return f"{_save_both(family)} | {_our_lines_sed(cluster)}"


def fingerprint_command(cluster: str, family: IpFamily = IPV4) -> str:
    """The node's fingerprint of the cluster's lines: sha256 over them, counters removed."""
    return f"{our_lines_command(cluster, family)} | sha256sum | cut -d' ' -f1"


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
        f"{forwarding_command(family)}; "
        f"printf '%s\\n' \"$saved\" | {_chains_awk(cluster)}"
    )
