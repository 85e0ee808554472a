"""Service rules as iptables text, like kube-proxy's iptables mode; pure, nothing here runs a command.

sshorch.proxy.walk, a model of where packets land under such rules, is for tests
and is not imported here (a run never needs it)."""

from __future__ import annotations

from sshorch.proxy.jumps import JumpRule, jump_rules, render_jump_steps
from sshorch.proxy.model import Endpoint, NodeRules, ServicePort
from sshorch.proxy.names import chain_name, endpoint_chain, is_owned_chain, service_chain
from sshorch.proxy.render import render_probability, render_restore
from sshorch.proxy.state import SAVE_COMMAND, SavedRules, parse_saved

__all__ = [
    "SAVE_COMMAND",
    "Endpoint",
    "JumpRule",
    "NodeRules",
    "SavedRules",
    "ServicePort",
    "chain_name",
    "endpoint_chain",
    "is_owned_chain",
    "jump_rules",
    "parse_saved",
    "render_jump_steps",
    "render_probability",
    "render_restore",
    "service_chain",
]
