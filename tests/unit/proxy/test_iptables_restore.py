"""The rendered text against the real iptables-restore, in a throwaway network namespace.

Runs only as root with iptables and iproute2 present. No packet is sent: the
namespace has only its loopback device and is deleted whatever happens.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.proxy import SAVE_COMMAND, parse_saved, render_jump_steps, render_restore, service_chain
from sshorch.proxy.names import endpoint_chain
from tests.unit.proxy.samples import CART, DB, DNS, SERVICES, WEB, node_rules

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("ip", "iptables", "iptables-restore", "iptables-save")),
    reason="needs root, iproute2 and iptables",
)

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def netns() -> Iterator[Run]:
    name = f"sshorch-proxytest-{os.getpid()}"
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        pytest.skip(f"cannot create network namespace {name}: {created.stderr.strip()}")

    def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", name, *argv], capture_output=True, text=True, check=check, timeout=30)

    try:
        yield run
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


FOREIGN = [
    ["iptables", "-w", "-t", "nat", "-N", "FOREIGN"],
    ["iptables", "-w", "-t", "nat", "-A", "FOREIGN", "-p", "tcp", "--dport", "9", "-j", "RETURN"],
    ["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-j", "FOREIGN"],
    ["iptables", "-w", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "ACCEPT"],
]
FOREIGN_LINES = [
    ":FOREIGN - [0:0]",
    "-A PREROUTING -j FOREIGN",
    "-A FOREIGN -p tcp -m tcp --dport 9 -j RETURN",
    "-A INPUT -p tcp -m tcp --dport 9 -j ACCEPT",
]


def sync(run: Run, text: str, path: Path) -> str:
    """What the caller does on a node: restore from a file, add missing jumps, read back."""
    path.write_text(text)
    restored = run("iptables-restore", "-w", "--noflush", str(path), check=False)
    assert restored.returncode == 0, restored.stderr
    for check, insert in render_jump_steps():
        if run(*check, check=False).returncode != 0:
            run(*insert)
    return run("sh", "-c", SAVE_COMMAND).stdout


def our_rules(text: str) -> list[str]:
    """Our -A lines, probabilities cut to what survives iptables' 32-bit fixed point."""
    rules = [line for line in text.splitlines() if line.startswith("-A SSHORCH-")]
    return sorted(re.sub(r"--probability (\S+)", lambda m: f"--probability {float(m[1]):.9f}", line) for line in rules)


def test_real_iptables_restore_accepts_replaces_and_cleans_up(netns: Run, tmp_path: Path) -> None:
    for argv in FOREIGN:
        netns(*argv)

    first_text = render_restore(node_rules(*SERVICES))
    first = sync(netns, first_text, tmp_path / "first.rules")
    saved = parse_saved(first)
    assert saved.canary
    assert {service_chain(WEB), service_chain(DB), service_chain(DNS)} <= saved.chains["nat"]
    assert our_rules(first) == our_rules(first_text)

    # A second pass finds every jump in place and adds none.
    again = sync(netns, first_text, tmp_path / "again.rules")
    assert parse_saved(again).fingerprint == saved.fingerprint
    assert sum(1 for line in again.splitlines() if "--comment sshorch" in line) == 8

    # WEB and DB go away: their chains are deleted, the rest of ours rewritten.
    second_text = render_restore(node_rules(DNS, CART), saved.chains)
    second = sync(netns, second_text, tmp_path / "second.rules")
    after = parse_saved(second)
    gone = {service_chain(WEB), service_chain(DB)} | {endpoint_chain(DB, endpoint) for endpoint in DB.endpoints}
    assert not gone & after.all_chains
    assert service_chain(DNS) in after.chains["nat"]
    assert after.canary and after.fingerprint != saved.fingerprint
    assert our_rules(second) == our_rules(second_text)
    for line in FOREIGN_LINES:
        assert line in second.splitlines()


@pytest.mark.parametrize("endpoint_chains_up_to", [1000, 0], ids=["endpoint chains", "direct DNAT"])
def test_real_iptables_restore_refuses_nothing_in_a_large_render(
    netns: Run, tmp_path: Path, endpoint_chains_up_to: int
) -> None:
    ports = [
        replace(DB, service=f"db{i}", cluster_ip=f"198.19.{i // 200}.{i % 200 + 1}", node_port=30000 + i)
        for i in range(300)
    ]
    text = render_restore(node_rules(*ports), endpoint_chains_up_to=endpoint_chains_up_to)
    assert our_rules(sync(netns, text, tmp_path / "large.rules")) == our_rules(text)


def test_a_node_growing_past_the_endpoint_chain_limit_loses_its_endpoint_chains(netns: Run, tmp_path: Path) -> None:
    small = parse_saved(sync(netns, render_restore(node_rules(*SERVICES)), tmp_path / "small.rules"))
    assert any(name.startswith("SSHORCH-SEP-") for name in small.chains["nat"])
    large_text = render_restore(node_rules(*SERVICES), small.chains, endpoint_chains_up_to=0)
    large = sync(netns, large_text, tmp_path / "large.rules")
    assert not any(name.startswith("SSHORCH-SEP-") for name in parse_saved(large).all_chains)
    assert our_rules(large) == our_rules(large_text)
