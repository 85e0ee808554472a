import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sshorch.proxy import SAVE_COMMAND, parse_saved
from sshorch.proxy.state import parse_fingerprint_lines

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "restore.txt"


def saved() -> str:
    # The golden restore text applied in a fresh network namespace next to a
    # foreign chain and rules, the jumps added, then SAVE_COMMAND
    # (iptables v1.8.9, nf_tables backend).
    return (FIXTURES / "iptables-save-nft.txt").read_text()


def declared(table: str) -> set[str]:
    text = GOLDEN.read_text()
    section = text.split(f"*{table}\n", 1)[1].split("COMMIT", 1)[0]
    names = {line[1:].split()[0] for line in section.splitlines() if line.startswith(":")}
    deleted = {line.split()[1] for line in section.splitlines() if line.startswith("-X")}
    return names - deleted


def test_save_command_reads_both_tables() -> None:
    assert SAVE_COMMAND == "iptables-save -t nat; iptables-save -t filter"


def test_real_save_output_lists_exactly_our_chains_per_table() -> None:
    rules = parse_saved(saved())
    assert rules.chains["nat"] == declared("nat")
    assert rules.chains["filter"] == declared("filter")
    assert "FOREIGN" not in rules.all_chains
    assert "SSHORCH-SVC-STALE0000000000" not in rules.all_chains
    assert rules.canary


def test_fingerprint_covers_our_lines_and_jumps_only() -> None:
    lines = parse_fingerprint_lines(saved())
    assert "-A PREROUTING -m comment --comment sshorch -j SSHORCH-SERVICES" in lines
    assert ":SSHORCH-CANARY -" in lines
    assert not any("FOREIGN" in line or line.startswith("#") for line in lines)
    assert not any(re.search(r"\[\d+:\d+\]", line) for line in lines)


def test_fingerprint_ignores_counters() -> None:
    text = saved()
    counted = re.sub(r"\[0:0\]", "[1234:987654]", text)
    counted = re.sub(r"^-A ", "[7:420] -A ", counted, flags=re.MULTILINE)  # iptables-save -c
    assert counted != text
    assert parse_saved(counted).fingerprint == parse_saved(text).fingerprint


def test_fingerprint_changes_when_our_rules_change_but_not_foreign_ones() -> None:
    text = saved()
    base = parse_saved(text).fingerprint
    dropped = "\n".join(line for line in text.splitlines() if "MASQUERADE" not in line)
    assert parse_saved(dropped).fingerprint != base
    lines = text.splitlines()
    first, second = [i for i, line in enumerate(lines) if line.startswith("-A SSHORCH-HOSTPORTS -s")][:2]
    lines[first], lines[second] = lines[second], lines[first]
    assert parse_saved("\n".join(lines)).fingerprint != base
    foreign = text.replace("--dport 9 -j RETURN", "--dport 10 -j RETURN")
    assert foreign != text and parse_saved(foreign).fingerprint == base


def test_flushed_or_missing_rules_lose_the_canary() -> None:
    text = saved()
    filter_part = text.index("*filter")
    without = text[:filter_part] + text[filter_part:].replace(":SSHORCH-CANARY - [0:0]\n", "")
    assert not parse_saved(without).canary
    empty = parse_saved("")
    assert empty.chains == {"nat": frozenset(), "filter": frozenset()} and not empty.canary


@pytest.mark.skipif(not all(shutil.which(tool) for tool in ("sh", "grep", "sed", "sha256sum")), reason="needs coreutils")
def test_fingerprint_equals_the_one_a_node_computes_with_a_shell_pipeline() -> None:
    pipeline = "grep -e SSHORCH- | sed -e 's/ \\[[0-9]*:[0-9]*\\]$//' | sha256sum | cut -d' ' -f1"
    shell = subprocess.run(["sh", "-c", pipeline], input=saved(), capture_output=True, text=True, check=True)
    assert shell.stdout.strip() == parse_saved(saved()).fingerprint
