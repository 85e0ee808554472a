"""Where a connection's first packet lands under our rules: a pure model of netfilter.

Walks nat (PREROUTING or OUTPUT), then filter (INPUT, FORWARD or OUTPUT), then
nat POSTROUTING, following jumps and RETURNs. A statistic match splits the walk
into both outcomes, each with its probability, so a test can check that every
endpoint of a service gets its share. Built-in chains hold only the jumps given
(one cluster's, several clusters', or old and new ones in a migration) and
otherwise accept, as on a node with no other rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

from sshorch.proxy.jumps import JumpRule
from sshorch.proxy.testing.match import Flow, Rule, match_probability, parse_rule
from sshorch.proxy.testing.restore import parse_restore

Kind = Literal["DNAT", "REJECT", "DROP", "ACCEPT"]
Verdict = Literal["RETURN", "ACCEPT", "REJECT", "DROP", "CONTINUE"]
_REFUSED = ("REJECT", "DROP")
_ENDS: dict[str, Verdict] = {"RETURN": "RETURN", "ACCEPT": "ACCEPT", "REJECT": "REJECT", "DROP": "DROP"}
Branch = tuple[Fraction, Flow, Verdict]
Chains = dict[str, dict[str, list[Rule]]]

_MAX_DEPTH = 32  # deeper than any chain nesting we render; stops a loop


@dataclass(frozen=True)
class Packet:
    """A connection's first packet as given to the walk: addresses, protocol, port and where it enters."""

    src: str
    dst: str
    proto: Literal["tcp", "udp"]
    dport: int
    dst_is_local: bool  # dst is one of this node's addresses (addrtype LOCAL)
    hook: Literal["PREROUTING", "OUTPUT"]  # arriving from outside, or sent from this node
    ctstate: frozenset[str] = frozenset({"NEW"})
    reply: bool = False
    # Set when something else (netavark's hostport DNAT) already translated the packet.
    orig_dst: str | None = None
    orig_dport: int | None = None
    in_interface: str = ""  # e.g. "podman0" for a pod's packet, "eth0" from the network


@dataclass(frozen=True)
class Landing:
    """One outcome of a walk: where the packet goes, how likely that is, and whether it is masqueraded."""

    kind: Kind  # ACCEPT: passes our rules untranslated; DROP: discarded without an answer
    target: str  # address:port the packet goes to (or was going to, when rejected)
    probability: float
    masquerade: bool


def _build_chains(restore_text: str, jumps: Iterable[JumpRule]) -> Chains:
    chains: Chains = {}
    for table, chain, args in jumps:
        chains.setdefault(table, {}).setdefault(chain, []).append(parse_rule(args))
    for table, table_chains in parse_restore(restore_text).items():
        for name, rules in table_chains.items():
            chains.setdefault(table, {}).setdefault(name, []).extend(parse_rule(args) for args in rules)
    return chains


def _scale(chance: Fraction, branches: list[Branch]) -> list[Branch]:
    return [(chance * p, flow, verdict) for p, flow, verdict in branches]


def _dnat(rule: Rule, flow: Flow) -> Flow:
    assert rule.to_destination is not None, "DNAT without --to-destination"
    address, port = rule.to_destination
    return replace(
        flow,
        dst=address,
        dport=port,
        dst_is_local=False,  # we DNAT to pod IPs and other nodes, never to this node
        dnat=True,
        ctstate=flow.ctstate | {"DNAT"},
        orig_dst=flow.orig_dst or flow.dst,
        orig_dport=flow.orig_dport if flow.orig_dport is not None else flow.dport,
    )


def _apply(chains: Chains, table: str, rule: Rule, flow: Flow, depth: int) -> list[Branch]:
    """The rule's target; "CONTINUE" means go on with the next rule of the same chain."""
    target = rule.target
    if target in _ENDS:
        return [(Fraction(1), flow, _ENDS[target])]
    if target == "DNAT":
        return [(Fraction(1), _dnat(rule, flow), "ACCEPT")]
    if target == "MASQUERADE":
        return [(Fraction(1), replace(flow, masquerade=True), "ACCEPT")]
    if target == "MARK":
        assert rule.set_xmark is not None, "MARK without --set-xmark"
        value, mask = rule.set_xmark
        return [(Fraction(1), replace(flow, mark=(flow.mark & ~mask) ^ value), "CONTINUE")]
    if target not in chains.get(table, {}):
        raise ValueError(f"{table}: jump to {target}, which is neither a chain nor a supported target")
    returned = _run_chain(chains, table, target, flow, depth + 1)
    return [(p, f, "CONTINUE" if verdict == "RETURN" else verdict) for p, f, verdict in returned]


def _run_rules(chains: Chains, table: str, rules: list[Rule], start: int, flow: Flow, depth: int) -> list[Branch]:
    if depth > _MAX_DEPTH:
        raise ValueError(f"{table}: chains nest deeper than {_MAX_DEPTH}; is there a loop?")
    for index in range(start, len(rules)):
        chance = match_probability(rules[index], flow)
        if chance == 0:
            continue
        branches: list[Branch] = []
        if chance < 1:  # statistic: the rule is skipped the rest of the time
            branches += _scale(1 - chance, _run_rules(chains, table, rules, index + 1, flow, depth))
        for p, taken, verdict in _apply(chains, table, rules[index], flow, depth):
            if verdict == "CONTINUE":
                branches += _scale(chance * p, _run_rules(chains, table, rules, index + 1, taken, depth))
            else:
                branches.append((chance * p, taken, verdict))
        return branches
    return [(Fraction(1), flow, "RETURN")]


def _run_chain(chains: Chains, table: str, chain: str, flow: Flow, depth: int = 0) -> list[Branch]:
    return _run_rules(chains, table, chains.get(table, {}).get(chain, []), 0, flow, depth)


def _filter_chain(hook: str, flow: Flow) -> str:
    if hook == "OUTPUT":
        return "OUTPUT"
    return "INPUT" if flow.dst_is_local else "FORWARD"


def _stage(branches: list[Branch], run: Callable[[Flow], list[Branch]]) -> list[Branch]:
    """Run one built-in chain on every branch still alive; falling off its end accepts."""
    result: list[Branch] = []
    for p, flow, verdict in branches:
        if verdict in _REFUSED:
            result.append((p, flow, verdict))
            continue
        for q, after, outcome in run(flow):
            result.append((p * q, after, "ACCEPT" if outcome == "RETURN" else outcome))
    return result


def _landing_key(flow: Flow, verdict: Verdict) -> tuple[Kind, str, bool]:
    kind: Kind = "REJECT" if verdict == "REJECT" else "DROP" if verdict == "DROP" else "DNAT" if flow.dnat else "ACCEPT"
    return kind, f"{flow.dst}:{flow.dport}", flow.masquerade


def _first_flow(packet: Packet) -> Flow:
    translated = packet.orig_dst is not None
    return Flow(
        src=packet.src,
        dst=packet.dst,
        proto=packet.proto,
        dport=packet.dport,
        dst_is_local=packet.dst_is_local,
        reply=packet.reply,
        ctstate=packet.ctstate | {"DNAT"} if translated else packet.ctstate,
        orig_dst=packet.orig_dst,
        orig_dport=packet.orig_dport,
        dnat=translated and not packet.reply,
        in_interface=packet.in_interface,
    )


def walk_packet(restore_text: str, packet: Packet, jumps: Iterable[JumpRule]) -> tuple[Landing, ...]:
    """Every place the packet can land, with its probability; the probabilities sum to 1.

    jumps: the jumps from built-in chains into ours, in their order there (jump_rules(cluster)).
    """
    chains = _build_chains(restore_text, jumps)
    flow = _first_flow(packet)
    branches: list[Branch] = [(Fraction(1), flow, "ACCEPT")]
    first = "NEW" in packet.ctstate  # nat only sees a connection's first packet
    if first:
        branches = _stage(branches, lambda f: _run_chain(chains, "nat", packet.hook, f))
    branches = _stage(branches, lambda f: _run_chain(chains, "filter", _filter_chain(packet.hook, f), f))
    if first:
        branches = _stage(branches, lambda f: _run_chain(chains, "nat", "POSTROUTING", f))
    totals: dict[tuple[Kind, str, bool], Fraction] = {}
    for p, end, verdict in branches:
        key = _landing_key(end, verdict)
        totals[key] = totals.get(key, Fraction(0)) + p
    return tuple(Landing(kind, target, float(p), masq) for (kind, target, masq), p in sorted(totals.items()))
