from pathlib import Path

import pytest

from sshorch.forwarding import Forwarding
from sshorch.observe.facts import (
    node_facts,
    parse_df_available,
    parse_gather_output,
    parse_ipv4_addresses,
    parse_meminfo,
    parse_runtime_version,
    render_gather_script,
    split_sections,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_gather_output_of_a_real_sandbox_node_parses_completely() -> None:
    parsed = parse_gather_output(node_facts("podman"), fixture("gather-sandbox-node-podman.txt"))
    assert parsed.errors == {}
    values = parsed.values
    assert values["hostname"] == "node1"
    assert values["cpus"] == 2
    assert values["runtime"] == {"runtime": "podman", "version": "4.3.1"}
    assert values["addresses"] == [
        {"interface": "eth0", "address": "198.18.0.18", "prefix": "28"},
        {"interface": "podman0", "address": "198.18.0.129", "prefix": "25"},  # the node's pod network
    ]
    assert values["missing_tools"] == []
    assert values["forwarding"] == Forwarding(on=True, settable=True)
    assert values["meminfo"]["MemTotal"] > values["meminfo"]["MemAvailable"] > 0
    assert values["disk"] > 0


def test_docker_version_line() -> None:
    parsed = parse_gather_output(node_facts("docker"), fixture("gather-sandbox-node-docker.txt"))
    assert parsed.values["runtime"] == {"runtime": "docker", "version": "28.2.2"}


def test_missing_runtime_is_an_error_of_that_fact_only() -> None:
    parsed = parse_gather_output(node_facts("podman"), fixture("gather-no-runtime.txt"))
    assert set(parsed.errors) == {"runtime"}
    assert "podman: not found" in parsed.errors["runtime"]
    assert "(127)" in parsed.errors["runtime"]
    assert parsed.values["cpus"] == 2


def test_truncated_output_reports_missing_facts() -> None:
    text = fixture("gather-sandbox-node-podman.txt")
    parsed = parse_gather_output(node_facts("podman"), text[: text.index("@@sshorch-fact:disk")])
    assert parsed.errors == {"disk": "no output", "runtime": "no output", "missing_tools": "no output", "forwarding": "no output"}


def test_script_frames_every_fact_once() -> None:
    script = render_gather_script(node_facts("podman"))
    for fact in node_facts("podman"):
        assert script.count(f"@@sshorch-fact:{fact.name}'") == 1


def test_section_without_trailing_newline_is_kept_whole() -> None:
    sections = split_sections("@@sshorch-fact:x\nabc\n@@sshorch-end:x:0\n")
    assert sections["x"].output == "abc" and sections["x"].exit_status == 0


def test_meminfo_in_bytes() -> None:
    assert parse_meminfo("MemTotal:       1000 kB\nHugePages_Total:       0\n") == {"MemTotal": 1024000, "HugePages_Total": 0}


def test_addresses_skip_non_inet_lines() -> None:
    out = "2: eth0    inet 198.18.0.2/28 brd 198.18.0.15 scope global eth0\\       valid_lft forever\n"
    assert parse_ipv4_addresses(out) == [{"interface": "eth0", "address": "198.18.0.2", "prefix": "28"}]


def test_df_available() -> None:
    out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda 263112772 22891140 83397896      22% /\n"
    assert parse_df_available(out) == 83397896 * 1024


def test_unknown_runtime_output_is_a_parse_error() -> None:
    with pytest.raises(ValueError, match="unrecognised"):
        parse_runtime_version("bash: podman: command not found")
