"""run_probes: one exec per node through the caller's callable, network probes on the pool."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sshorch.errors import TransportError
from sshorch.probes import prober
from sshorch.probes.prober import pass_time_limit, run_probes
from sshorch.probes.model import ProbeTask
from tests.unit.probes.helpers import exec_probe, http_probe, key, target, task, tcp_probe
from tests.unit.probes.servers import Handler, hostile, serve

PODMAN_NODES = {node: "podman" for node in ("n1", "n2", "down")}

Calls = list[tuple[str, str]]
LocalExec = tuple[Calls, Callable[[str, str], str]]


@pytest.fixture()
def local_exec(fake_runtime: dict[str, str]) -> Iterator[LocalExec]:
    """An exec_on_node that runs the script here, with the fake runtime, and records each call."""
    calls: list[tuple[str, str]] = []
    lock = threading.Lock()

    def exec_on_node(node: str, script: str) -> str:
        with lock:
            calls.append((node, script))
        if node == "down":
            raise TransportError("down: connection refused")
        return subprocess.run(["sh", "-c", script], env=fake_runtime, capture_output=True, text=True, timeout=30).stdout

    yield calls, exec_on_node


def exec_on(node: str, pod: str, *command: str) -> ProbeTask:
    return task("readiness", target({"readiness": exec_probe(*command)}, pod=pod, node=node))


def tcp_to(pod: str, port: int) -> ProbeTask:
    return task("liveness", target({"liveness": tcp_probe(8080)}, pod=pod, address="127.0.0.1", host_ports={8080: port}))


def test_one_exec_per_node_and_network_probes_from_here(local_exec: LocalExec) -> None:
    calls, exec_on_node = local_exec
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        tasks = [exec_on("n1", "a", "true"), exec_on("n2", "b", "false"), exec_on("n1", "c", "echo", "hi"),
                 tcp_to("d", port), exec_on("down", "e", "true")]
        results = run_probes(tasks, exec_on_node, PODMAN_NODES, pool_size=4)
    assert sorted(node for node, _ in calls) == ["down", "n1", "n2"]
    n1_script = next(script for node, script in calls if node == "n1")
    assert "a-web true" in n1_script and "c-web echo hi" in n1_script
    assert dict(results) == {
        key("readiness", "a"): (True, "exited 0"),
        key("readiness", "b"): (False, "exited 1"),
        key("readiness", "c"): (True, "hi"),
        key("liveness", "d"): (True, f"connected to 127.0.0.1:{port}"),
    }
    assert results.node_errors == {"down": "down: down: connection refused"}


def test_network_probes_run_side_by_side(local_exec: LocalExec) -> None:
    calls, exec_on_node = local_exec
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    for port in serve(server):
        slow = http_probe(8080, "/slow", timeout_seconds=1)
        tasks = [task("readiness", target({"readiness": slow}, pod=f"p{i}", address="127.0.0.1",
                                          host_ports={8080: port})) for i in range(3)]
        tasks += [exec_on("n1", f"s{i}", "sleep", "0.6") for i in range(3)]
        tasks += [exec_on("n2", f"t{i}", "sleep", "0.6") for i in range(3)]
        started = time.monotonic()
        results = run_probes(tasks, exec_on_node, PODMAN_NODES, pool_size=8)
        # Three 1 s timeouts and two nodes of three 0.6 s sleeps each, all at once.
        assert time.monotonic() - started < 1.6
    assert [results[key("readiness", f"p{i}")][0] for i in range(3)] == [False] * 3
    assert all(results[key("readiness", p)] == (True, "exited 0") for p in ("s0", "s1", "s2", "t0", "t1", "t2"))
    assert len(calls) == 2


def test_no_tasks_no_work(local_exec: LocalExec) -> None:
    calls, exec_on_node = local_exec
    assert run_probes([], exec_on_node, {}) == {}
    assert calls == []


def test_docker_nodes_get_docker_exec(local_exec: LocalExec) -> None:
    seen: list[str] = []

    def record_script(node: str, script: str) -> str:
        seen.append(script)
        return ""

    assert run_probes([exec_on("n1", "a", "true")], record_script, runtimes={"n1": "docker"}) == {}
    assert "docker exec a-web true" in seen[0]


def test_a_node_whose_runtime_is_not_known_is_not_probed(local_exec: LocalExec) -> None:
    calls, exec_on_node = local_exec
    results = run_probes([exec_on("n1", "a", "true"), exec_on("n2", "b", "true")], exec_on_node, {"n2": "podman"})
    assert [node for node, _ in calls] == ["n2"]
    assert dict(results) == {key("readiness", "b"): (True, "exited 0")}
    assert results.node_errors == {"n1": "n1: its container runtime is not known"}


def test_an_exception_in_one_probe_is_that_probes_failure(local_exec: LocalExec, monkeypatch: pytest.MonkeyPatch) -> None:
    calls, exec_on_node = local_exec
    real = prober.run_network_probe

    def broken_for_b(task: ProbeTask) -> tuple[bool, str]:
        if task.target.pod == "b":
            raise UnicodeEncodeError("latin-1", "é", 0, 1, "ordinal not in range(256)")
        return real(task)

    monkeypatch.setattr(prober, "run_network_probe", broken_for_b)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        results = run_probes([tcp_to("a", port), tcp_to("b", port), exec_on("n1", "c", "true")], exec_on_node, PODMAN_NODES)
    assert dict(results) == {
        key("liveness", "a"): (True, f"connected to 127.0.0.1:{port}"),
        key("liveness", "b"): (False, "probe failed: UnicodeEncodeError: 'latin-1' codec can't encode character "
                                      "'\\xe9' in position 0: ordinal not in range(256)"),
        key("readiness", "c"): (True, "exited 0"),
    }


def test_a_pass_waits_for_its_probes_a_bounded_time(local_exec: LocalExec) -> None:
    """Five 2 s probes of trickling servers on one thread: the pass waits 3 s (the longest
    timeout and a second), keeps the result that came, and leaves the others for the next pass."""
    calls, exec_on_node = local_exec
    for port in hostile("trickle"):
        slow = http_probe(8080, timeout_seconds=2)
        tasks = [task("readiness", target({"readiness": slow}, pod=f"p{i}", address="127.0.0.1", host_ports={8080: port}))
                 for i in range(5)]
        assert pass_time_limit(tasks) == 3.0
        started = time.monotonic()
        results = run_probes(tasks, exec_on_node, PODMAN_NODES, pool_size=1)
        assert time.monotonic() - started < 3.8
    assert dict(results) == {key("readiness", "p0"): (False, f"timed out after 2s: GET http://127.0.0.1:{port}/healthz")}


def test_a_node_whose_exec_does_not_answer_in_time_is_a_node_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prober, "SCRIPT_SLACK", 0.5)

    def hangs(node: str, script: str) -> str:
        time.sleep(5)
        return ""

    started = time.monotonic()
    results = run_probes([exec_on("n1", "a", "true")], hangs, PODMAN_NODES)
    assert time.monotonic() - started < 4.0
    assert dict(results) == {} and results.node_errors == {"n1": "n1: exec probes did not answer within 2.5s"}
