"""The hairpin command, run for real with sh and sed against a stand-in `bridge` that
prints captured `bridge -o -d link show` output and records what it is told to set.

fixtures/bridge-links.txt: two ports of the sandbox's own bridge on this machine
(not a pod bridge), then a sandbox node with four pods on podman0, one of whose
ports was put in hairpin mode by hand (iproute2 6.1.0)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sshorch.proxy.hairpin import hairpin_argv

FIXTURE = Path(__file__).parent / "fixtures" / "bridge-links.txt"


def fake_bridge(directory: Path, links: str) -> dict[str, str]:
    (directory / "links.txt").write_text(links)
    script = directory / "bridge"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "-o -d link show" ]; then exec cat "{directory}/links.txt"; fi\n'
        f'echo "$*" >> "{directory}/set.log"\n'
    )
    script.chmod(0o755)
    return {"PATH": f"{directory}:/usr/bin:/bin"}


def run(tmp_path: Path, links: str) -> list[str]:
    done = subprocess.run(hairpin_argv(), env=fake_bridge(tmp_path, links), capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    log = tmp_path / "set.log"
    return log.read_text().splitlines() if log.exists() else []


def test_pod_bridge_ports_with_hairpin_off_are_set_and_no_others(tmp_path: Path) -> None:
    assert run(tmp_path, FIXTURE.read_text()) == [
        "link set dev veth0 hairpin on",
        "link set dev veth1 hairpin on",
        "link set dev veth3 hairpin on",
    ]


def test_cni_and_docker_bridges_count_as_pod_bridges(tmp_path: Path) -> None:
    podman = next(line for line in FIXTURE.read_text().splitlines() if line.startswith("4: veth0@"))
    links = "\n".join([
        podman.replace("veth0", "vethcni").replace("master podman0", "master cni-podman0"),
        podman.replace("veth0", "vethd0c").replace("master podman0", "master docker0"),
        podman.replace("veth0", "vethother").replace("master podman0", "master br-lan"),
    ]) + "\n"
    assert run(tmp_path, links) == ["link set dev vethcni hairpin on", "link set dev vethd0c hairpin on"]


def test_a_node_without_the_bridge_tool_is_left_as_it_is(tmp_path: Path) -> None:
    _, flag, command = hairpin_argv()
    done = subprocess.run(["/bin/sh", flag, command], env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
