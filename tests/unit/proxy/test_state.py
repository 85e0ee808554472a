"""Reading a cluster's rules back: the node's commands against real iptables-save output.

fixtures/iptables-save-nft.txt is SAVE_COMMAND's output in a throwaway network
namespace (iptables v1.8.9, nf_tables backend) holding: a foreign chain and
rules, the golden restore text of cluster "blue" (golden/restore.txt) with its
jumps, and cluster "green"'s rules with its jumps. The gather's command runs over
it with a stand-in iptables-save (tests.unit.proxy.saved). Recapture it as root with
`.venv/bin/python -m tests.unit.proxy.test_state`. Nothing is sent on any network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sshorch.proxy import cluster_chains, fingerprint_command, jump_step_argv, render_restore
from sshorch.proxy.chains import is_legacy_chain
from sshorch.proxy.state import our_lines_command
from tests.unit.proxy.samples import CLUSTER, DB, OTHER_CLUSTER, node_rules
from tests.unit.proxy.saved import SAVE_COMMAND, gathered, has_canary, node_says

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "restore.txt"
BLUE = cluster_chains(CLUSTER)
GREEN = cluster_chains(OTHER_CLUSTER)
NODE_TOOLS = ("sh", "sed", "awk", "sha256sum", "cut")

pytestmark = pytest.mark.skipif(not all(shutil.which(tool) for tool in NODE_TOOLS), reason="needs sh, sed, awk and coreutils")


def saved() -> str:
    return (FIXTURES / "iptables-save-nft.txt").read_text()


def declared(table: str) -> set[str]:
    text = GOLDEN.read_text()
    section = text.split(f"*{table}\n", 1)[1].split("COMMIT", 1)[0]
    names = {line[1:].split()[0] for line in section.splitlines() if line.startswith(":")}
    deleted = {line.split()[1] for line in section.splitlines() if line.startswith("-X")}
    return names - deleted


def test_real_save_output_lists_exactly_the_clusters_chains_per_table(tmp_path: Path) -> None:
    rules = gathered(tmp_path, saved(), CLUSTER)
    assert rules.chain_names("nat") == declared("nat")
    assert rules.chain_names("filter") == declared("filter")
    assert not any(name.startswith(GREEN.prefix) or name == "FOREIGN" for _, name in rules.chains)
    assert has_canary(rules, CLUSTER) and rules.misplaced == frozenset()
    assert not rules.legacy
    green = gathered(tmp_path, saved(), OTHER_CLUSTER)
    assert green.chains and all(name.startswith(GREEN.prefix) for _, name in green.chains) and has_canary(green, OTHER_CLUSTER)


def test_fingerprint_covers_the_clusters_lines_and_jumps_only(tmp_path: Path) -> None:
    lines = node_says(tmp_path, saved(), our_lines_command(CLUSTER)).splitlines()
    assert f'-A PREROUTING -m comment --comment "sshorch:blue" -j {BLUE.services}' in lines
    assert f":{BLUE.canary} -" in lines
    assert not any("FOREIGN" in line or line.startswith("#") or GREEN.prefix in line or "sshorch:green" in line for line in lines)
    assert not any(re.search(r"\[\d+:\d+\]", line) for line in lines)


def test_fingerprint_ignores_counters(tmp_path: Path) -> None:
    text = saved()
    counted = re.sub(r"\[0:0\]", "[1234:987654]", text)
    assert counted != text
    assert gathered(tmp_path, counted, CLUSTER) == gathered(tmp_path, text, CLUSTER)


def test_fingerprint_changes_when_the_clusters_rules_change_but_not_others(tmp_path: Path) -> None:
    def live(save: str, cluster: str = CLUSTER) -> str:
        return gathered(tmp_path, save, cluster).live

    text = saved()
    base = live(text)
    dropped = "\n".join(line for line in text.splitlines() if not (line.startswith(f"-A {BLUE.prefix}") and "MASQUERADE" in line))
    assert live(dropped) != base
    lines = text.splitlines()
    first, second = [i for i, line in enumerate(lines) if line.startswith(f"-A {BLUE.hostports} -s")][:2]
    lines[first], lines[second] = lines[second], lines[first]
    assert live("\n".join(lines)) != base
    foreign = text.replace("--dport 9 -j RETURN", "--dport 10 -j RETURN")
    assert foreign != text and live(foreign) == base
    green = "\n".join(line for line in text.splitlines() if not line.startswith(f"-A {GREEN.prefix}"))
    assert live(green) == base and live(green, OTHER_CLUSTER) != live(text, OTHER_CLUSTER)


def test_flushed_or_missing_rules_lose_the_canary(tmp_path: Path) -> None:
    text = saved()
    filter_part = text.index("*filter")
    without = text[:filter_part] + text[filter_part:].replace(f":{BLUE.canary} - [0:0]\n", "")
    assert not has_canary(gathered(tmp_path, without, CLUSTER), CLUSTER)
    assert has_canary(gathered(tmp_path, without, OTHER_CLUSTER), OTHER_CLUSTER)
    empty = gathered(tmp_path, "", CLUSTER)
    assert empty.by_table() == {"nat": frozenset(), "filter": frozenset()} and not has_canary(empty, CLUSTER)


def _insert_after_policies(text: str, table: str, line: str) -> str:
    """`line` as the first rule of its built-in chain in `table`, as docker inserts its own."""
    head, _, rest = text.partition(f"*{table}\n")
    declarations = [l for l in rest.splitlines() if l.startswith(":")]
    at = rest.index(declarations[-1]) + len(declarations[-1]) + 1
    return f"{head}*{table}\n{rest[:at]}{line}\n{rest[at:]}"


def test_a_foreign_rule_above_our_jumps_is_noticed_and_another_clusters_jump_is_not(tmp_path: Path) -> None:
    text = saved()
    above = _insert_after_policies(text, "filter", "-A FORWARD -j DOCKER-USER")
    assert gathered(tmp_path, above, CLUSTER).misplaced == {("filter", "FORWARD")}
    assert gathered(tmp_path, above, OTHER_CLUSTER).misplaced == {("filter", "FORWARD")}
    # The lines are the same.
    assert gathered(tmp_path, above, CLUSTER).live == gathered(tmp_path, text, CLUSTER).live
    nat = _insert_after_policies(text, "nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER")
    assert gathered(tmp_path, nat, CLUSTER).misplaced == {("nat", "PREROUTING")}
    # The fixture has green's jumps above blue's (green wrote last): that is no foreign rule.
    prerouting = [line for line in text.splitlines() if line.startswith("-A PREROUTING")]
    assert prerouting.index(f'-A PREROUTING -m comment --comment "sshorch:green" -j {GREEN.services}') < prerouting.index(
        f'-A PREROUTING -m comment --comment "sshorch:blue" -j {BLUE.services}'
    )
    # A foreign rule below every jump of ours is where it belongs.
    below = text.replace("-A PREROUTING -j FOREIGN", "-A PREROUTING -j FOREIGN\n-A PREROUTING -j RETURN")
    assert gathered(tmp_path, below, CLUSTER).misplaced == frozenset()


def test_chains_of_an_earlier_sshorch_are_found_as_legacy(tmp_path: Path) -> None:
    legacy = _insert_after_policies(saved(), "nat", ":SSHORCH-SERVICES - [0:0]\n:SSHORCH-SVC-GG6TP4UGIVMDRQT7 - [0:0]")
    rules = gathered(tmp_path, legacy, CLUSTER)
    assert rules.legacy
    assert {name for name in rules.chain_names("nat") if is_legacy_chain(name)} == {"SSHORCH-SERVICES", "SSHORCH-SVC-GG6TP4UGIVMDRQT7"}
    assert not BLUE.owns("SSHORCH-SERVICES")


@pytest.mark.parametrize("cluster", [CLUSTER, OTHER_CLUSTER])
@pytest.mark.parametrize("change", ["as captured", "counters", "foreign rule on top", "legacy chains", "a rule dropped"])
def test_the_nodes_fingerprint_and_gather_agree(tmp_path: Path, cluster: str, change: str) -> None:
    text = saved()
    if change == "counters":
        text = re.sub(r"\[0:0\]", "[1234:987654]", text)
    elif change == "foreign rule on top":
        text = _insert_after_policies(_insert_after_policies(text, "filter", "-A FORWARD -j DOCKER-USER"), "nat", "-A OUTPUT -j DOCKER")
    elif change == "legacy chains":
        text = _insert_after_policies(text, "filter", ":SSHORCH-HOSTPORTS - [0:0]\n:SSHORCH-SVC-NOTWHATWEWROTE - [0:0]")
    elif change == "a rule dropped":
        text = "\n".join(line for line in text.splitlines() if "MASQUERADE" not in line) + "\n"
    state = gathered(tmp_path, text, cluster)
    assert node_says(tmp_path, text, fingerprint_command(cluster)).strip() == state.live
    # The shell's legacy pattern is looser; the gather's parser checks names again.
    assert state.legacy == (change == "legacy chains")
    assert bool(state.misplaced) == (change == "foreign rule on top")


# --- capture (root) ----------------------------------------------------------------------------------------

FOREIGN = [
    ["iptables", "-w", "-t", "nat", "-N", "FOREIGN"],
    ["iptables", "-w", "-t", "nat", "-A", "FOREIGN", "-p", "tcp", "--dport", "9", "-j", "RETURN"],
    ["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-j", "FOREIGN"],
    ["iptables", "-w", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "ACCEPT"],
]


def capture(namespace: str) -> str:
    """The fixture: foreign rules, blue's golden text and jumps, green's rules and jumps, then SAVE_COMMAND."""
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        def run(*argv: str, stdin: str | None = None) -> str:
            return subprocess.run(
                ["ip", "netns", "exec", namespace, *argv], input=stdin, capture_output=True, text=True, check=True
            ).stdout

        for argv in FOREIGN:
            run(*argv)
        green = render_restore(node_rules(DB, cluster=OTHER_CLUSTER))
        for text, cluster in ((GOLDEN.read_text(), CLUSTER), (green, OTHER_CLUSTER)):
            run("iptables-restore", "-w", "--noflush", stdin=text)
            run(*jump_step_argv(cluster))
        return run("sh", "-c", SAVE_COMMAND)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("run as root with iproute2 and iptables")
    path = FIXTURES / "iptables-save-nft.txt"
    path.write_text(capture(f"sshorch-statefixture-{os.getpid()}"))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
