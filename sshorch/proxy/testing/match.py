"""One rule as the packet walker sees it: the matches and targets that render.py writes.

Anything else is an error rather than silently treated as matching.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Flow:
    """A connection's first packet as it moves through the tables."""

    src: str
    dst: str
    proto: str
    dport: int
    dst_is_local: bool
    ctstate: frozenset[str]
    reply: bool = False
    in_interface: str = ""  # the interface it arrived on ("" when sent by the node itself)
    orig_dst: str | None = None  # before any DNAT
    orig_dport: int | None = None
    mark: int = 0
    dnat: bool = False
    masquerade: bool = False


@dataclass(frozen=True)
class Rule:
    """One parsed rule: its matches (None: any) and its target with the target's options."""

    target: str
    src: ipaddress.IPv4Network | None = None
    dst: ipaddress.IPv4Network | None = None
    in_interface: str | None = None  # iptables -i: a trailing "+" matches any suffix
    proto: str | None = None
    dport: tuple[int, int] | None = None
    dst_local: bool = False
    mark: tuple[int, int, bool] | None = None  # value, mask, negated
    probability: Fraction | None = None
    ctstate: frozenset[str] | None = None
    ctdir: str | None = None
    ctorigdst: ipaddress.IPv4Network | None = None
    ctorigdstport: tuple[int, int] | None = None
    to_destination: tuple[str, int] | None = None
    set_xmark: tuple[int, int] | None = None


def _port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    return int(low), int(high or low)


def _mark(text: str) -> tuple[int, int]:
    value, _, mask = text.partition("/")
    return int(value, 0), int(mask or "0xffffffff", 0)


def _host_port(text: str) -> tuple[str, int]:
    address, _, port = text.rpartition(":")
    return address, int(port)


def _states(text: str) -> frozenset[str]:
    return frozenset(text.split(","))


_MODULES = frozenset({"tcp", "udp", "comment", "addrtype", "mark", "statistic", "conntrack"})
_IGNORED = frozenset({"--comment", "--reject-with"})  # options whose value changes no verdict
_REQUIRED = {"--dst-type": "LOCAL", "--mode": "random"}  # the only values we render
_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "-s": ("src", ipaddress.IPv4Network),
    "-d": ("dst", ipaddress.IPv4Network),
    "-i": ("in_interface", str),
    "-p": ("proto", str),
    "--dport": ("dport", _port_range),
    "--probability": ("probability", Fraction),
    "--ctstate": ("ctstate", _states),
    "--ctdir": ("ctdir", str),
    "--ctorigdst": ("ctorigdst", ipaddress.IPv4Network),
    "--ctorigdstport": ("ctorigdstport", _port_range),
    "-j": ("target", str),
    "--to-destination": ("to_destination", _host_port),
    "--set-xmark": ("set_xmark", _mark),
}


def parse_rule(args: tuple[str, ...]) -> Rule:
    """Parse the arguments of one rule (everything after "-A CHAIN")."""
    where = f"rule {' '.join(args)!r}"
    rule = Rule(target="")
    tokens: Iterator[str] = iter(args)
    for token in tokens:
        if token == "!":
            if next(tokens, "") != "--mark":
                raise ValueError(f"{where}: '!' is only supported before --mark")
            rule = replace(rule, mark=(*_mark(next(tokens)), True))
            continue
        value = next(tokens, None)
        if value is None:
            raise ValueError(f"{where}: {token} has no value")
        if token == "-m" and value not in _MODULES:
            raise ValueError(f"{where}: match module {value} is not supported")
        elif token in _REQUIRED and value != _REQUIRED[token]:
            raise ValueError(f"{where}: only {token} {_REQUIRED[token]} is supported")
        elif token == "--dst-type":
            rule = replace(rule, dst_local=True)
        elif token == "--mark":
            rule = replace(rule, mark=(*_mark(value), False))
        elif token in _FIELDS:
            name, convert = _FIELDS[token]
            rule = replace(rule, **{name: convert(value)})
        elif token not in _IGNORED and token not in ("-m", "--mode"):
            raise ValueError(f"{where}: option {token} is not supported")
    if not rule.target:
        raise ValueError(f"{where}: no -j target")
    return rule


def _in(address: str, network: ipaddress.IPv4Network) -> bool:
    return ipaddress.IPv4Address(address) in network


def _in_range(port: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= port <= bounds[1]


def _matches_conntrack(rule: Rule, flow: Flow) -> bool:
    if rule.ctstate is not None and not rule.ctstate & flow.ctstate:
        return False
    if rule.ctdir is not None and rule.ctdir != ("REPLY" if flow.reply else "ORIGINAL"):
        return False
    if rule.ctorigdst is not None and not _in(flow.orig_dst or flow.dst, rule.ctorigdst):
        return False
    origport = flow.orig_dport if flow.orig_dport is not None else flow.dport
    return rule.ctorigdstport is None or _in_range(origport, rule.ctorigdstport)


def _matches_interface(rule: Rule, flow: Flow) -> bool:
    if rule.in_interface is None:
        return True
    if rule.in_interface.endswith("+"):
        return flow.in_interface.startswith(rule.in_interface[:-1]) and bool(flow.in_interface)
    return flow.in_interface == rule.in_interface


def _matches_mark(rule: Rule, flow: Flow) -> bool:
    if rule.mark is None:
        return True
    value, mask, negated = rule.mark
    return ((flow.mark & mask) == value) != negated


def match_probability(rule: Rule, flow: Flow) -> Fraction:
    """1 when the rule matches, 0 when not, the statistic's probability when random."""
    matched = (
        (rule.src is None or _in(flow.src, rule.src))
        and (rule.dst is None or _in(flow.dst, rule.dst))
        and _matches_interface(rule, flow)
        and (rule.proto is None or rule.proto == flow.proto)
        and (rule.dport is None or _in_range(flow.dport, rule.dport))
        and (not rule.dst_local or flow.dst_is_local)
        and _matches_mark(rule, flow)
        and _matches_conntrack(rule, flow)
    )
    if not matched:
        return Fraction(0)
    return rule.probability if rule.probability is not None else Fraction(1)
