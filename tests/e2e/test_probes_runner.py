"""Probe runners end to end: httpGet, tcpSocket and exec probes against a real container on a sandbox node.

Only the sandbox's 198.18.0.x addresses are contacted (SSH to the node, probes to its published port).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from sshorch.inventory import Host, load_inventory
from sshorch.probes.prober import ExecOnNode, run_network_probe, run_probes
from sshorch.probes.model import ProbeKind, ProbeTarget, ProbeTask
from sshorch.spec.model import ExecAction, HttpGetAction, Probe, ProbeAction, TcpSocketAction
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options, target_for
from tests.e2e.conftest import built_sandbox

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="end-to-end tests build a sandbox and need root"),
]

NAME = "probes"
HOST_PORT = 20100
UNUSED_HOST_PORT = 20199  # published by nothing: refused


@dataclass
class Node:
    host: Host
    session: Session
    calls: list[str]

    def run(self, script: str, timeout: float = 60) -> str:
        result = self.session.connection(target_for(self.host)).run(["sh", "-c", script], timeout=timeout)
        assert result.ok, f"{script}: exit {result.exit_status}: {result.text}{result.stderr.decode()}"
        return result.text

    def runtimes(self) -> dict[str, str]:
        return {self.host.name: self.host.runtime}

    def exec_on_node(self) -> ExecOnNode:
        lock = threading.Lock()

        def run_script(node: str, script: str) -> str:
            assert node == self.host.name
            with lock:
                self.calls.append(script)
            connection = self.session.connection(target_for(self.host))
            return connection.run_script(script, timeout=60).text

        return run_script


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    with built_sandbox(NAME, 1) as sandbox:
        inventory = load_inventory(sandbox.inventory)
        (host,) = inventory.hosts
        assert host.address.startswith("198.18.0."), host.address
        with Session(connect_options(inventory)) as session:
            box = Node(host, session, [])
            box.run(f"podman run -d --name p1 -p {host.address}:{HOST_PORT}:8080 localhost/sshorch/web:v1")
            deadline = time.monotonic() + 30
            while "yes" not in box.run("podman exec p1 cat /tmp/ready >/dev/null 2>&1 && echo yes || echo no"):
                assert time.monotonic() < deadline, "container p1 did not become ready"
                time.sleep(0.3)
            yield box


def probe_target(node: Node, kind: ProbeKind, action: ProbeAction, timeout: int = 1) -> ProbeTarget:
    return ProbeTarget(
        pod="p1", container="web", container_name="p1", node=node.host.name, node_address=node.host.address,
        started_at=None, probes={kind: Probe(action, timeout_seconds=timeout)},
        host_ports={8080: HOST_PORT, 9999: UNUSED_HOST_PORT}, named_ports={"http": 8080},
    )


def probe_task(node: Node, action: ProbeAction, timeout: int = 1, kind: ProbeKind = "readiness",
               pod: str = "p1") -> ProbeTask:
    target = replace(probe_target(node, kind, action, timeout), pod=pod)
    return ProbeTask(target.key(kind), target, target.probes[kind])


def test_http_get(node: Node) -> None:
    url = f"http://{node.host.address}:{HOST_PORT}"
    assert run_network_probe(probe_task(node, HttpGetAction(port="http", path="/healthz"))) == (
        True, f"HTTP 200 from {url}/healthz")
    assert run_network_probe(probe_task(node, HttpGetAction(port=8080, path="/missing"))) == (
        False, f"HTTP 404 from {url}/missing")


def test_tcp_socket(node: Node) -> None:
    assert run_network_probe(probe_task(node, TcpSocketAction(8080))) == (
        True, f"connected to {node.host.address}:{HOST_PORT}")
    ok, message = run_network_probe(probe_task(node, TcpSocketAction(9999)))
    assert not ok and message.startswith(f"cannot connect to {node.host.address}:{UNUSED_HOST_PORT}: ")


def test_exec_probes_in_one_exec(node: Node) -> None:
    tasks = [
        probe_task(node, ExecAction(("cat", "/tmp/ready")), pod="ready"),
        probe_task(node, ExecAction(("cat", "/nope")), pod="nope"),
        probe_task(node, ExecAction(("sh", "-c", "echo $HOSTNAME; exit 0")), pod="host"),
        probe_task(node, HttpGetAction(port="http", path="/healthz"), pod="http"),
    ]
    node.calls.clear()
    results = run_probes(tasks, node.exec_on_node(), node.runtimes(), pool_size=4)
    assert len(node.calls) == 1
    assert results.node_errors == {}
    assert results[tasks[0].key] == (True, "exited 0")
    ok, message = results[tasks[1].key]
    assert not ok and message.startswith("exited 1: ") and "/nope" in message
    assert results[tasks[2].key][0] is True
    assert results[tasks[3].key][0] is True


def test_exec_timeout_is_enforced_on_the_node(node: Node) -> None:
    task = probe_task(node, ExecAction(("sleep", "5")), timeout=1)
    started = time.monotonic()
    results = run_probes([task], node.exec_on_node(), node.runtimes())
    elapsed = time.monotonic() - started
    assert results[task.key] == (False, "timed out after 1s")
    assert elapsed < 2.5, elapsed


def test_exec_in_a_missing_container_fails(node: Node) -> None:
    target = probe_target(node, "liveness", ExecAction(("true",)))
    missing = replace(target, container_name="no-such-container")
    task = ProbeTask(missing.key("liveness"), missing, missing.probes["liveness"])
    ok, message = run_probes([task], node.exec_on_node(), node.runtimes())[task.key]
    assert not ok and message.startswith("exited 125"), message
