"""Jumps from the built-in chains into ours, added only where missing.

iptables-restore --noflush cannot say "insert unless present", so each jump is
a check command and an insert command for the caller to run as `check || insert`.
"""

from __future__ import annotations

from sshorch.proxy.names import FORWARD, HOSTPORTS, POSTROUTING, SERVICES

JumpRule = tuple[str, str, tuple[str, ...]]  # (table, built-in chain, rule arguments)

_TAG = ("-m", "comment", "--comment", "sshorch")
_NEW = ("-m", "conntrack", "--ctstate", "NEW")


def jump_rules() -> list[JumpRule]:
    """The jumps, in the order they should sit at the top of each built-in chain."""
    return [
        ("nat", "PREROUTING", (*_TAG, "-j", SERVICES)),
        ("nat", "OUTPUT", (*_TAG, "-j", SERVICES)),
        ("nat", "POSTROUTING", (*_TAG, "-j", POSTROUTING)),
        # Filter rules only reject; only a connection's first packet needs them.
        ("filter", "INPUT", (*_NEW, *_TAG, "-j", SERVICES)),
        ("filter", "OUTPUT", (*_NEW, *_TAG, "-j", SERVICES)),
        ("filter", "FORWARD", (*_NEW, *_TAG, "-j", SERVICES)),
        ("filter", "FORWARD", (*_NEW, *_TAG, "-j", HOSTPORTS)),
        ("filter", "FORWARD", (*_TAG, "-j", FORWARD)),
    ]


def render_jump_steps() -> list[tuple[list[str], list[str]]]:
    """(check argv, insert argv) pairs; run the insert only when the check fails.

    Inserting at position 1 in reverse order leaves the jumps in jump_rules()
    order when all are missing. Our chains' verdicts do not depend on that
    order, so a single re-inserted jump is harmless.
    """
    steps: list[tuple[list[str], list[str]]] = []
    for table, chain, args in reversed(jump_rules()):
        base = ["iptables", "-w", "-t", table]
        steps.append(([*base, "-C", chain, *args], [*base, "-I", chain, "1", *args]))
    return steps
