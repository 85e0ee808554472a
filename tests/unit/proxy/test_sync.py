"""The sync-rules action: built from a node's wanted rules and what the gather found there."""

from __future__ import annotations

from dataclasses import replace

from sshorch.forwarding import Forwarding
from sshorch.observe.rules import RulesState
from sshorch.plan.model import ActionKind
from sshorch.proxy import build_rules_write, rendered_sha, rules_action
from tests.unit.proxy.samples import DB, SERVICES, WEB, node_rules

FINGERPRINT = "f" * 64


def _state(rendered: str, stored: str = FINGERPRINT, live: str = FINGERPRINT, **extra: frozenset[tuple[str, str]]) -> RulesState:
    return RulesState(rendered, stored, live, extra.get("chains", frozenset()), extra.get("misplaced", frozenset()))


def test_a_node_never_gathered_gets_the_whole_write() -> None:
    wanted = node_rules(*SERVICES)
    action = rules_action("n1", wanted, None)
    write = build_rules_write(wanted)
    assert action is not None and action.kind == ActionKind.SYNC_RULES and action.node == "n1"
    assert (action.steps, action.files, action.reason) == (write.steps, write.files, "service rules changed")
    single = rules_action("n1", node_rules(WEB), None)
    assert action.target == "4 services" and single is not None and single.target == "1 service"


def test_the_reason_says_what_differs_and_rules_as_rendered_need_nothing() -> None:
    wanted = node_rules(WEB, DB)
    sha = rendered_sha(wanted)
    assert rules_action("n1", wanted, _state(sha)) is None
    reasons = {
        "rules changed by hand": _state(sha, live="0" * 64),
        "unscoped rules of an earlier sshorch": _state(sha, chains=frozenset({("nat", "SSHORCH-SERVICES")})),
        "service rules changed": _state("0" * 64),
        "other rules above ours": _state(sha, misplaced=frozenset({("filter", "FORWARD")})),
        "packet forwarding is off": replace(_state(sha), forwarding=Forwarding(on=False, settable=True)),
    }
    for reason, state in reasons.items():
        action = rules_action("n1", wanted, state)
        assert action is not None and action.reason == reason, reason


def test_forwarding_needs_a_write_only_where_it_is_off_can_be_turned_on_and_is_used() -> None:
    wanted = node_rules(WEB, DB)
    written = _state(rendered_sha(wanted))
    for forwarding in (None, Forwarding(on=True, settable=True), Forwarding(on=False, settable=False)):
        assert rules_action("n1", wanted, replace(written, forwarding=forwarding)) is None, forwarding
    # A node with no Service to serve forwards nothing for them.
    empty = node_rules()
    off = replace(_state(rendered_sha(empty)), forwarding=Forwarding(on=False, settable=True))
    assert rules_action("n1", empty, off) is None


def test_the_write_turns_forwarding_on_after_the_rules_are_in() -> None:
    steps = [" ".join(step.argv) for step in build_rules_write(node_rules(WEB)).steps]
    turn_on = next(i for i, step in enumerate(steps) if "echo 1 > /proc/sys/net/ipv4/ip_forward" in step)
    assert turn_on > next(i for i, step in enumerate(steps) if step.startswith("iptables-restore"))
