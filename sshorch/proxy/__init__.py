"""Service rules as iptables text, like kube-proxy's iptables mode; pure, nothing here runs a command.

Every name, jump and state file is scoped by cluster (proxy.names), so clusters
sharing a node keep apart. sshorch.proxy.testing, a model of where packets land
under such rules, is for tests and is not imported here (a run never needs it).
"""

from __future__ import annotations

from sshorch.proxy.jumps import LEGACY_JUMPS, JumpRule, jump_rules, jump_step_argv, render_jump_script
from sshorch.proxy.model import Endpoint, NodeRules, ServicePort
from sshorch.proxy.chains import ClusterChains, chain_name, cluster_chains, is_legacy_chain, is_owned_chain
from sshorch.proxy.render import render_legacy_removal, render_probability, render_restore
from sshorch.proxy.state import StateFiles, fingerprint_command, rules_command, state_files
from sshorch.proxy.sync import RulesWrite, build_rules_write, rendered_sha, rules_action

__all__ = [
    "LEGACY_JUMPS",
    "ClusterChains",
    "Endpoint",
    "JumpRule",
    "NodeRules",
    "RulesWrite",
    "ServicePort",
    "StateFiles",
    "build_rules_write",
    "chain_name",
    "cluster_chains",
    "fingerprint_command",
    "is_legacy_chain",
    "is_owned_chain",
    "jump_rules",
    "jump_step_argv",
    "render_jump_script",
    "render_legacy_removal",
    "render_probability",
    "render_restore",
    "rendered_sha",
    "rules_action",
    "rules_command",
    "state_files",
]
