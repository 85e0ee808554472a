"""Jumps from the built-in chains into a cluster's chains, kept at the top of each.

Docker, firewalld and others insert their own rules at the top of the built-in
chains when they start; a jump of ours below a foreign ACCEPT or DNAT would no
longer see every packet. The gather notices a jump of ours below a rule that is
not some sshorch cluster's jump (proxy.state), and every write moves the jumps
back to the top: one `iptables-restore --noflush` that deletes each jump that is
present and inserts it again at position 1, so no packet ever finds a jump
missing. Jumps of other clusters sharing the node count as ours: no cluster
fights another for the top.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from sshorch.ipfamily import IPV4, IpFamily
from sshorch.proxy.chains import LEGACY_FORWARD, LEGACY_HOSTPORTS, LEGACY_POSTROUTING, LEGACY_SERVICES, cluster_chains

JumpRule = tuple[str, str, tuple[str, ...]]  # (table, built-in chain, rule arguments)

_NEW = ("-m", "conntrack", "--ctstate", "NEW")
# What may appear in a jump's arguments: restore text and the shell see them unquoted.
_SAFE_ARG = re.compile(r"^[A-Za-z0-9:_.,/+-]+$")
TABLES = ("nat", "filter")


def jump_comment(cluster: str) -> str:
    return f"sshorch:{cluster}"


def jump_rules(cluster: str) -> list[JumpRule]:
    """The cluster's jumps, in the order they should sit at the top of each built-in chain."""
    chains = cluster_chains(cluster)
    tag = ("-m", "comment", "--comment", jump_comment(cluster))
    return [
        ("nat", "PREROUTING", (*tag, "-j", chains.services)),
        ("nat", "OUTPUT", (*tag, "-j", chains.services)),
        ("nat", "POSTROUTING", (*tag, "-j", chains.postrouting)),
        # Filter rules only reject; only a connection's first packet needs them.
        ("filter", "INPUT", (*_NEW, *tag, "-j", chains.services)),
        ("filter", "INPUT", (*_NEW, *tag, "-j", chains.node_access)),
        ("filter", "OUTPUT", (*_NEW, *tag, "-j", chains.services)),
        ("filter", "FORWARD", (*_NEW, *tag, "-j", chains.services)),
        ("filter", "FORWARD", (*_NEW, *tag, "-j", chains.hostports)),
        # Before our FORWARD chain, whose ACCEPT would end the walk of the built-in chain.
        ("filter", "FORWARD", (*_NEW, *tag, "-j", chains.node_access)),
        ("filter", "FORWARD", (*tag, "-j", chains.forward)),
    ]


# The jumps sshorch inserted before chains were scoped by cluster, exactly as it wrote them.
_LEGACY_TAG = ("-m", "comment", "--comment", "sshorch")
LEGACY_JUMPS: tuple[JumpRule, ...] = (
    ("nat", "PREROUTING", (*_LEGACY_TAG, "-j", LEGACY_SERVICES)),
    ("nat", "OUTPUT", (*_LEGACY_TAG, "-j", LEGACY_SERVICES)),
    ("nat", "POSTROUTING", (*_LEGACY_TAG, "-j", LEGACY_POSTROUTING)),
    ("filter", "INPUT", (*_NEW, *_LEGACY_TAG, "-j", LEGACY_SERVICES)),
    ("filter", "OUTPUT", (*_NEW, *_LEGACY_TAG, "-j", LEGACY_SERVICES)),
    ("filter", "FORWARD", (*_NEW, *_LEGACY_TAG, "-j", LEGACY_SERVICES)),
    ("filter", "FORWARD", (*_NEW, *_LEGACY_TAG, "-j", LEGACY_HOSTPORTS)),
    ("filter", "FORWARD", (*_LEGACY_TAG, "-j", LEGACY_FORWARD)),
)


def _restore_line(command: str, chain: str, args: tuple[str, ...]) -> str:
    """`-D CHAIN ARGS` or `-I CHAIN 1 ARGS` as restore text, which does not quote."""
    for arg in (chain, *args):
        if not _SAFE_ARG.match(arg):
            raise ValueError(f"jump argument {arg!r}: only letters, digits and :_.,/+- may reach restore text")
    position = ("1",) if command == "-I" else ()
    return " ".join((command, chain, *position, *args))


def _delete_if_present(family: IpFamily, table: str, chain: str, args: tuple[str, ...]) -> str:
    check = shlex.join([family.tables, "-w", "-t", table, "-C", chain, *args])
    return f"{check} >/dev/null 2>&1 && echo {shlex.quote(_restore_line('-D', chain, args))}"


def render_jump_script(cluster: str, remove: Sequence[JumpRule] = (), family: IpFamily = IPV4) -> str:
    """sh script: one `iptables-restore --noflush` that moves the cluster's jumps to the
    top of their built-in chains (each present one deleted, all inserted at 1, in
    jump_rules() order) and deletes those of `remove` that are present.

    The checks (`iptables -C`) run before the restore; the restore itself is one
    transaction, so every packet sees either the old jumps or the new ones.
    """
    jumps = jump_rules(cluster)
    lines: list[str] = []
    for table in TABLES:
        lines.append(f"echo '*{table}'")
        lines += [_delete_if_present(family, t, chain, args) for t, chain, args in jumps if t == table]
        # Inserting at 1 in reverse order leaves them in jump_rules() order.
        lines += [f"echo {shlex.quote(_restore_line('-I', chain, args))}" for t, chain, args in reversed(jumps) if t == table]
        lines += [_delete_if_present(family, t, chain, args) for t, chain, args in remove if t == table]
        lines.append("echo COMMIT")
    return "{ " + "; ".join(lines) + f"; }} | {family.restore} -w --noflush"


def jump_step_argv(cluster: str, remove: Sequence[JumpRule] = (), family: IpFamily = IPV4) -> list[str]:
    """argv of the step that runs render_jump_script."""
    return ["sh", "-c", render_jump_script(cluster, remove, family)]
