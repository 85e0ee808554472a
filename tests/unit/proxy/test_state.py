"""Reading a cluster's rules back: parse_saved against real iptables-save output, and the node's shell.

fixtures/iptables-save-nft.txt is SAVE_COMMAND's output in a throwaway network
namespace (iptables v1.8.9, nf_tables backend) holding: a foreign chain and
rules, the golden restore text of cluster "blue" (golden/restore.txt) with its
jumps, and cluster "green"'s rules with its jumps. Recapture it as root with
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

from sshorch.proxy import SAVE_COMMAND, cluster_chains, fingerprint_command, jump_step_argv, parse_saved, render_restore, rules_command
from sshorch.proxy.state import parse_fingerprint_lines
from tests.unit.proxy.samples import CLUSTER, DB, OTHER_CLUSTER, node_rules

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "restore.txt"
BLUE = cluster_chains(CLUSTER)
GREEN = cluster_chains(OTHER_CLUSTER)


def saved() -> str:
    return (FIXTURES / "iptables-save-nft.txt").read_text()


def declared(table: str) -> set[str]:
    text = GOLDEN.read_text()
    section = text.split(f"*{table}\n", 1)[1].split("COMMIT", 1)[0]
    names = {line[1:].split()[0] for line in section.splitlines() if line.startswith(":")}
    deleted = {line.split()[1] for line in section.splitlines() if line.startswith("-X")}
    return names - deleted


def test_save_command_reads_both_tables() -> None:
    assert SAVE_COMMAND == "iptables-save -t nat; iptables-save -t filter"


def test_real_save_output_lists_exactly_the_clusters_chains_per_table() -> None:
    rules = parse_saved(saved(), CLUSTER)
    assert rules.chains["nat"] == declared("nat")
    assert rules.chains["filter"] == declared("filter")
    assert not any(name.startswith(GREEN.prefix) or name == "FOREIGN" for name in rules.all_chains)
    assert rules.canary and rules.misplaced == frozenset()
    assert rules.legacy == {"nat": frozenset(), "filter": frozenset()}
    green = parse_saved(saved(), OTHER_CLUSTER)
    assert green.all_chains and all(name.startswith(GREEN.prefix) for name in green.all_chains) and green.canary


def test_fingerprint_covers_the_clusters_lines_and_jumps_only() -> None:
    lines = parse_fingerprint_lines(saved(), CLUSTER)
    assert f'-A PREROUTING -m comment --comment "sshorch:blue" -j {BLUE.services}' in lines
    assert f":{BLUE.canary} -" in lines
    assert not any("FOREIGN" in line or line.startswith("#") or GREEN.prefix in line or "sshorch:green" in line for line in lines)
    assert not any(re.search(r"\[\d+:\d+\]", line) for line in lines)


def test_fingerprint_ignores_counters() -> None:
    text = saved()
    counted = re.sub(r"\[0:0\]", "[1234:987654]", text)
    counted = re.sub(r"^-A ", "[7:420] -A ", counted, flags=re.MULTILINE)  # iptables-save -c
    assert counted != text
    assert parse_saved(counted, CLUSTER) == parse_saved(text, CLUSTER)


def test_fingerprint_changes_when_the_clusters_rules_change_but_not_others() -> None:
    text = saved()
    base = parse_saved(text, CLUSTER).fingerprint
    dropped = "\n".join(line for line in text.splitlines() if not (line.startswith(f"-A {BLUE.prefix}") and "MASQUERADE" in line))
    assert parse_saved(dropped, CLUSTER).fingerprint != base
    lines = text.splitlines()
    first, second = [i for i, line in enumerate(lines) if line.startswith(f"-A {BLUE.hostports} -s")][:2]
    lines[first], lines[second] = lines[second], lines[first]
    assert parse_saved("\n".join(lines), CLUSTER).fingerprint != base
    foreign = text.replace("--dport 9 -j RETURN", "--dport 10 -j RETURN")
    assert foreign != text and parse_saved(foreign, CLUSTER).fingerprint == base
    green = "\n".join(line for line in text.splitlines() if not line.startswith(f"-A {GREEN.prefix}"))
    assert parse_saved(green, CLUSTER).fingerprint == base and parse_saved(green, OTHER_CLUSTER).fingerprint != parse_saved(text, OTHER_CLUSTER).fingerprint


def test_flushed_or_missing_rules_lose_the_canary() -> None:
    text = saved()
    filter_part = text.index("*filter")
    without = text[:filter_part] + text[filter_part:].replace(f":{BLUE.canary} - [0:0]\n", "")
    assert not parse_saved(without, CLUSTER).canary and parse_saved(without, OTHER_CLUSTER).canary
    empty = parse_saved("", CLUSTER)
    assert empty.chains == {"nat": frozenset(), "filter": frozenset()} and not empty.canary


def _insert_after_policies(text: str, table: str, line: str) -> str:
    """`line` as the first rule of its built-in chain in `table`, as docker inserts its own."""
    head, _, rest = text.partition(f"*{table}\n")
    declarations = [l for l in rest.splitlines() if l.startswith(":")]
    at = rest.index(declarations[-1]) + len(declarations[-1]) + 1
    return f"{head}*{table}\n{rest[:at]}{line}\n{rest[at:]}"


def test_a_foreign_rule_above_our_jumps_is_noticed_and_another_clusters_jump_is_not() -> None:
    text = saved()
    above = _insert_after_policies(text, "filter", "-A FORWARD -j DOCKER-USER")
    assert parse_saved(above, CLUSTER).misplaced == {("filter", "FORWARD")}
    assert parse_saved(above, OTHER_CLUSTER).misplaced == {("filter", "FORWARD")}
    assert parse_saved(above, CLUSTER).fingerprint == parse_saved(text, CLUSTER).fingerprint  # the lines are the same
    nat = _insert_after_policies(text, "nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER")
    assert parse_saved(nat, CLUSTER).misplaced == {("nat", "PREROUTING")}
    # The fixture has green's jumps above blue's (green wrote last): that is no foreign rule.
    prerouting = [line for line in text.splitlines() if line.startswith("-A PREROUTING")]
    assert prerouting.index(f'-A PREROUTING -m comment --comment "sshorch:green" -j {GREEN.services}') < prerouting.index(
        f'-A PREROUTING -m comment --comment "sshorch:blue" -j {BLUE.services}'
    )
    # A foreign rule below every jump of ours is where it belongs.
    below = text.replace("-A PREROUTING -j FOREIGN", "-A PREROUTING -j FOREIGN\n-A PREROUTING -j RETURN")
    assert parse_saved(below, CLUSTER).misplaced == frozenset()


def test_chains_of_an_earlier_sshorch_are_found_as_legacy() -> None:
    legacy = _insert_after_policies(saved(), "nat", ":SSHORCH-SERVICES - [0:0]\n:SSHORCH-SVC-GG6TP4UGIVMDRQT7 - [0:0]")
    rules = parse_saved(legacy, CLUSTER)
    assert rules.legacy["nat"] == {"SSHORCH-SERVICES", "SSHORCH-SVC-GG6TP4UGIVMDRQT7"}
    assert "SSHORCH-SERVICES" not in rules.all_chains


# --- the node's shell computes the same -------------------------------------------------------------------


def _fake_iptables_save(directory: Path, save: str) -> dict[str, str]:
    """An environment whose `iptables-save -t TABLE` prints that table's part of SAVE_COMMAND output `save`."""
    parts = re.split(r"(?m)^(?=# Generated)", save)
    for part in parts:
        table = re.search(r"(?m)^\*(\w+)$", part)
        if table:
            (directory / f"{table[1]}.txt").write_text(part)
    script = directory / "iptables-save"
    script.write_text(f'#!/bin/sh\n[ "$1" = -t ] || exit 2\nexec cat "{directory}/$2.txt"\n')
    script.chmod(0o755)
    return {"PATH": f"{directory}:/usr/bin:/bin", "LC_ALL": "C"}


def _node_says(tmp_path: Path, save: str, command: str) -> str:
    env = _fake_iptables_save(tmp_path, save)
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, check=True).stdout


NODE_TOOLS = ("sh", "sed", "awk", "sha256sum", "cut")


@pytest.mark.skipif(not all(shutil.which(tool) for tool in NODE_TOOLS), reason="needs sh, sed, awk and coreutils")
@pytest.mark.parametrize("cluster", [CLUSTER, OTHER_CLUSTER])
@pytest.mark.parametrize("change", ["as captured", "counters", "foreign rule on top", "legacy chains", "a rule dropped"])
def test_the_nodes_fingerprint_and_gather_agree_with_parse_saved(tmp_path: Path, cluster: str, change: str) -> None:
    text = saved()
    if change == "counters":
        text = re.sub(r"\[0:0\]", "[1234:987654]", text)
    elif change == "foreign rule on top":
        text = _insert_after_policies(_insert_after_policies(text, "filter", "-A FORWARD -j DOCKER-USER"), "nat", "-A OUTPUT -j DOCKER")
    elif change == "legacy chains":
        text = _insert_after_policies(text, "filter", ":SSHORCH-HOSTPORTS - [0:0]\n:SSHORCH-SVC-NOTWHATWEWROTE - [0:0]")
    elif change == "a rule dropped":
        text = "\n".join(line for line in text.splitlines() if "MASQUERADE" not in line) + "\n"
    expected = parse_saved(text, cluster)
    assert _node_says(tmp_path, text, fingerprint_command(cluster)).strip() == expected.fingerprint
    gathered = _node_says(tmp_path, text, rules_command(cluster)).splitlines()
    assert f"live {expected.fingerprint}" in gathered
    chains, table = {"nat": set(), "filter": set()}, ""
    misplaced = set()
    for line in gathered:
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            chains[table].add(line[1:])
        elif line.startswith("misplaced "):
            misplaced.add((table, line.split()[1]))
    for name in ("nat", "filter"):
        # The shell's legacy pattern is looser; parse_saved (and the gather's parser) check names again.
        assert {c for c in chains[name] if not c.startswith("SSHORCH-SVC-NOT")} == expected.chains[name] | expected.legacy[name]
    assert misplaced == expected.misplaced


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
