"""A node's tables as iptables-save prints them, read back the way a run reads them.

Fixtures hold SAVE_COMMAND's output; the helpers here run the node's own
commands (proxy.state) over such text with a stand-in `iptables-save`, and
parse what they print with the gather's parser (observe.rules), so tests check
the code a run uses rather than a second reading of the same output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sshorch.observe.rules import RulesState, parse_rules_state
from sshorch.proxy.chains import cluster_chains
from sshorch.proxy.state import rules_command

# Both tables as a node holds them: what the fixtures were captured with.
SAVE_COMMAND = "iptables-save -t nat; iptables-save -t filter"


def fake_iptables_save(directory: Path, save: str) -> dict[str, str]:
    """An environment whose `iptables-save -t TABLE` prints that table's part of SAVE_COMMAND output `save`."""
    for stale in directory.glob("*.txt"):
        stale.unlink()
    for part in re.split(r"(?m)^(?=# Generated)", save):
        table = re.search(r"(?m)^\*(\w+)$", part)
        if table:
            (directory / f"{table[1]}.txt").write_text(part)
    script = directory / "iptables-save"
    script.write_text(f'#!/bin/sh\n[ "$1" = -t ] || exit 2\nexec cat "{directory}/$2.txt"\n')
    script.chmod(0o755)
    return {"PATH": f"{directory}:/usr/bin:/bin", "LC_ALL": "C"}


def node_says(directory: Path, save: str, command: str) -> str:
    """What `command` prints on a node whose tables are `save`."""
    env = fake_iptables_save(directory, save)
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, check=True).stdout


def gathered(directory: Path, save: str, cluster: str) -> RulesState:
    """The rules fact of `cluster` on a node whose tables are `save` (and that has no state files)."""
    return parse_rules_state(node_says(directory, save, rules_command(cluster)))


def has_canary(state: RulesState, cluster: str) -> bool:
    """The cluster's canary chain is in both tables: nobody flushed them since the write."""
    canary = cluster_chains(cluster).canary
    return all(canary in state.chain_names(table) for table in ("nat", "filter"))
