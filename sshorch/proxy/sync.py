"""The write of a node's rules for one cluster: the steps of a sync-rules action and its files.

In order, on the node:
  1. hairpin mode on the pod bridges' ports (proxy.hairpin): the rules may send a
     pod to itself as soon as they are in;
  2. `iptables-restore --noflush` of the cluster's chains (render_restore), which
     also deletes the cluster's chains no longer rendered;
  3. the cluster's jumps moved to the top of the built-in chains, in one restore
     (proxy.jumps); on a node that still holds unscoped rules of an earlier
     sshorch, the same restore deletes their jumps: the cluster's chains are
     complete and jumped to before the old ones stop being; then packet
     forwarding turned on (sshorch.forwarding);
  4. on such a node only: the old chains flushed and deleted, the old state files removed;
  5. connection tracking forgets the half-open connections to endpoints the write
     took out (see _FORGET_GONE);
  6. the hash of the rendered text and the fingerprint of the cluster's lines
     recorded, which the next gather compares (proxy.state).
Every step is idempotent; a failed or cut-short write is repaired by the next one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sshorch.plan.model import Action, ActionKind, FileUpload, Step
from sshorch.forwarding import turn_on_command
from sshorch.ipfamily import IpFamily
from sshorch.proxy.hairpin import hairpin_argv
from sshorch.proxy.jumps import LEGACY_JUMPS, jump_step_argv
from sshorch.proxy.model import NodeRules
from sshorch.proxy.chains import cluster_chains, is_legacy_chain
from sshorch.proxy.render import render_legacy_removal, render_restore
from sshorch.proxy.state import LEGACY_STATE_FILES, fingerprint_command, state_files

if TYPE_CHECKING:  # observe.rules reads proxy's names: a run-time import would be circular
    from sshorch.observe.rules import RulesState

FoundChains = Mapping[str, Iterable[str]]  # table -> chains found on the node (the cluster's and legacy)


def _targets(family: IpFamily) -> str:
    """The DNAT targets of the cluster's rules ($1: its chain prefix), one per line, sorted."""
    return f"""{family.save} -t nat | sed -n "s/^-A $1.* --to-destination \\([^ ]*\\).*/\\1/p" | sort -u"""


def _save_targets(family: IpFamily) -> str:
    return f'{_targets(family)} > "$2"'


# A connection whose SYN went to an endpoint that is gone stays in conntrack (SYN_SENT, 2
# minutes) with that endpoint as its NAT; a client that happens to reuse the source port
# matches it, and its SYN goes to the gone endpoint again: a timeout long after the endpoint
# left the rules. So the entries of endpoints the write took out are forgotten: TCP ones
# not yet established (an established connection to a pod that is draining goes on), every
# UDP one, as kube-proxy does. Without the conntrack tool there is nothing to forget with.
def _forget_gone(family: IpFamily) -> str:
    return f"""command -v conntrack >/dev/null || exit 0
[ -f "$2" ] || exit 0
new=$({_targets(family)})
while read -r target; do
  case "
$new
" in *"
$target
"*) continue ;; esac
  address=${{target%:*}} port=${{target##*:}}
  for state in SYN_SENT SYN_RECV; do
    conntrack -D -p tcp --state "$state" --reply-src "$address" --reply-port-src "$port" >/dev/null 2>&1
  done
  conntrack -D -p udp --reply-src "$address" --reply-port-src "$port" >/dev/null 2>&1
done < "$2"
rm -f "$2"
"""


@dataclass(frozen=True)
class RulesWrite:
    """What a node runs to hold `rules`, and the files it needs first."""

    steps: tuple[Step, ...]
    files: tuple[FileUpload, ...]
    rendered_sha: str  # what the node records, and what rendered_sha() gives for the same rules


def rendered_sha(rules: NodeRules) -> str:
    """sha256 of the rules' text as rendered on their own (without deletions): a node
    that recorded this and whose fingerprint is intact needs no write."""
    return hashlib.sha256(render_restore(rules).encode()).hexdigest()


def build_rules_write(rules: NodeRules, found: FoundChains | None = None, sha: str = "") -> RulesWrite:
    """The steps and files that make a node hold `rules` (see the module docstring).

    found: the chains the gather found there, per table; this cluster's that are no
    longer rendered are deleted, and legacy ones make it a migrating write. Other
    clusters' chains and jumps are never named. sha: rendered_sha(rules), when the
    caller has it already.
    """
    found = found or {}
    family = rules.family
    files = state_files(rules.cluster, family)
    sha = sha or rendered_sha(rules)
    text = render_restore(rules, found)
    legacy = {table: [name for name in names if is_legacy_chain(name)] for table, names in found.items()}
    removal = render_legacy_removal(legacy)
    migrating = bool(removal)
    prefix = cluster_chains(rules.cluster).prefix
    steps = [
        Step(tuple(hairpin_argv()), ignore_errors=True),
        Step(("sh", "-c", _save_targets(family), "sh", prefix, files.targets), ignore_errors=True),
        Step((family.restore, "-w", "--noflush", files.rules)),
        Step(tuple(jump_step_argv(rules.cluster, LEGACY_JUMPS if migrating else (), family))),
        Step(("sh", "-c", turn_on_command(family))),
    ]
    uploads = [FileUpload(files.rules, text.encode(), 0o600)]
    if migrating:
        uploads.append(FileUpload(files.legacy, removal.encode(), 0o600))
        steps += [
            Step((family.restore, "-w", "--noflush", files.legacy)),
            Step(("rm", "-f", files.legacy, *LEGACY_STATE_FILES)),
        ]
    steps.append(Step(("sh", "-c", _forget_gone(family), "sh", prefix, files.targets), ignore_errors=True))
    record = f"echo {sha} > {files.sha} && {fingerprint_command(rules.cluster, family)} > {files.fingerprint}"
    steps.append(Step(("sh", "-c", record)))
    return RulesWrite(tuple(steps), tuple(uploads), sha)


@dataclass(frozen=True)
class RulesDue:
    """A node whose rules need a write: what it should hold, the chains of ours it holds now
    (by table; None: not gathered), the rendered text's hash and why."""

    node: str
    wanted: NodeRules
    present: Mapping[str, frozenset[str]] | None
    sha: str
    reason: str

    @property
    def served(self) -> str:
        return _served(self.wanted)


def rules_due(node: str, wanted: NodeRules, state: RulesState | None) -> RulesDue | None:
    """Whether a node that should hold `wanted` and was found holding `state` (None: not
    gathered) needs a write; None when its rules are as rendered, intact and first."""
    sha = rendered_sha(wanted)
    why = _out_of_date(state, sha, bool(wanted.services))
    if why is None:
        return None
    return RulesDue(node, wanted, state.by_table() if state is not None else None, sha, why)


def rules_write_action(due: RulesDue) -> Action:
    """The sync-rules action that writes `due`'s rules on its node."""
    write = build_rules_write(due.wanted, due.present, due.sha)
    return Action(ActionKind.SYNC_RULES, due.node, due.served, due.reason, write.steps, write.files)


def rules_action(node: str, wanted: NodeRules, state: RulesState | None) -> Action | None:
    """rules_due, then its action."""
    due = rules_due(node, wanted, state)
    return None if due is None else rules_write_action(due)


def _out_of_date(state: RulesState | None, sha: str, serves: bool) -> str | None:
    """Why a node's rules need a write, or None when they are as rendered, intact and
    first, and the node forwards what they send elsewhere (or cannot be made to)."""
    if state is None:
        return "service rules changed"
    if state.stored and not state.intact:
        return "rules changed by hand"
    if state.legacy:
        return "unscoped rules of an earlier sshorch"
    if state.rendered != sha or not state.intact:
        return "service rules changed"
    if state.misplaced:
        return "other rules above ours"
    if serves and state.forwarding is not None and not state.forwarding.on and state.forwarding.settable:
        return "packet forwarding is off"
    return None


def _served(rules: NodeRules) -> str:
    count = len({(port.namespace, port.service) for port in rules.services})
    return f"{count} service" + ("" if count == 1 else "s")
