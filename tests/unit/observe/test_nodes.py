from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.forwarding import parse_forwarding

from sshorch.observe.facts import node_facts, parse_gather_output
from sshorch.observe.nodereport import NOT_READY, READY, build_node_report
from sshorch.transport import NodeOutcome, SshTarget

FIXTURES = Path(__file__).parent / "fixtures"
TARGET = SshTarget("node1", "198.18.0.18")


def parsed(name: str):  # type: ignore[no-untyped-def]
    return parse_gather_output(node_facts("podman"), (FIXTURES / name).read_text())


def test_reachable_node_with_runtime_is_ready() -> None:
    report = build_node_report(TARGET, "podman", NodeOutcome(TARGET, value=parsed("gather-sandbox-node-podman.txt")))
    assert report.status == READY and report.reason == ""
    assert report.to_json()["runtime"] == "podman"
    assert report.cpus == 2 and report.memory_bytes and report.addresses == ("198.18.0.18", "198.18.0.129")
    assert report.warnings == ()


def test_unreachable_node_is_not_ready_with_the_reason() -> None:
    outcome: NodeOutcome[object] = NodeOutcome(TARGET, error="root@198.18.0.2:22: connection timed out after 5s", unreachable=True)
    report = build_node_report(TARGET, "podman", outcome)  # type: ignore[arg-type]
    assert report.status == NOT_READY
    assert "timed out" in report.reason
    data = report.to_json()
    assert {"name", "address", "status", "runtime", "cpus", "memory_bytes"} <= set(data)
    assert data["cpus"] is None


def test_node_without_its_runtime_is_not_ready() -> None:
    report = build_node_report(TARGET, "podman", NodeOutcome(TARGET, value=parsed("gather-no-runtime.txt")))
    assert report.status == NOT_READY
    assert "podman not usable" in report.reason
    assert report.warnings == (
        "conntrack missing: connections already sent to a removed endpoint are not "
        "forgotten; a client reusing its source port may reach it again for up to 2 minutes",
        "packet forwarding off (net.ipv4.ip_forward = 0): the next rules write turns it on",
    )


@pytest.mark.parametrize(("line", "warnings"), [
    # forwarding_command's real output on a sandbox node that ran a pod, one that never
    # did, and (by hand) one whose /proc/sys is read-only.
    ("forwarding 1 rw", ()),
    ("forwarding 0 rw", ("packet forwarding off (net.ipv4.ip_forward = 0): the next rules write turns it on",)),
    ("forwarding 0 ro", ("packet forwarding off (net.ipv4.ip_forward = 0) and cannot be turned on (read-only): "
                         "NodePorts answer here only for pods on this node",)),
    ("", ()),  # not read: nothing said
])
def test_forwarding_off_is_a_warning_of_the_node(line: str, warnings: tuple[str, ...]) -> None:
    facts = parsed("gather-sandbox-node-podman.txt")
    facts = replace(facts, values={**facts.values, "forwarding": parse_forwarding(line)})
    report = build_node_report(TARGET, "podman", NodeOutcome(TARGET, value=facts))
    assert report.warnings == warnings
