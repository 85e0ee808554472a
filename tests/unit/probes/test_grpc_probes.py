"""grpc probes: a real grpc.health.v1.Health/Check against gRPC servers the tests start on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshorch.probes.model import ProbeKey, ProbeKind, ProbeRecord, ProbeTask
from sshorch.probes.prober import run_network_probe, run_probes
from sshorch.probes.timing import due_probes
from sshorch.probes.verdict import container_ready, liveness_verdicts, record_results
from sshorch.spec.model import GrpcAction, Probe
from tests.unit.probes.grpcservers import Recording, serve_health, start
from tests.unit.probes.helpers import STARTED, target, task
from tests.unit.probes.servers import LOCAL, hostile
from tests.unit.probes.test_network_probes import closed_port

SLACK = 0.8  # seconds a probe may take beyond its timeout (the channel's set-up and close, a busy machine)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def health_server() -> Iterator[tuple[Recording, int]]:
    yield from serve_health()


def grpc_task(host_port: int, service: str = "", timeout: int = 1, kind: ProbeKind = "readiness", **timing: int) -> ProbeTask:
    probe = Probe(GrpcAction(9555, service), timeout_seconds=timeout, **timing)
    return task(kind, target({kind: probe}, address=LOCAL, host_ports={9555: host_port}, named_ports={}))


def timed_probe(the_task: ProbeTask) -> tuple[tuple[bool, str], float]:
    start = time.monotonic()
    result = run_network_probe(the_task)
    return result, time.monotonic() - start


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("", (True, "service healthy")),
        ("shop.Cart", (True, "service healthy")),
        ("shop.Down", (False, 'service unhealthy (responded with "NOT_SERVING")')),
        ("shop.Unknown", (False, 'service unhealthy (responded with "UNKNOWN")')),
        ("shop.Gone", (False, 'service unhealthy (responded with "SERVICE_UNKNOWN")')),
        # The standard servicer answers a service it does not know with the NOT_FOUND error.
        ("shop.Nobody", (False, "error: health rpc probe failed: rpc error: code = NOT_FOUND desc = ")),
    ],
)
def test_the_health_status_decides(health_server: tuple[Recording, int], service: str, expected: tuple[bool, str]) -> None:
    _, port = health_server
    assert run_network_probe(grpc_task(port, service)) == expected


def test_the_probe_says_who_it_is_and_ignores_proxies(health_server: tuple[Recording, int], monkeypatch: pytest.MonkeyPatch) -> None:
    servicer, port = health_server
    # A proxy from the environment would refuse the connection: the probe must go straight to the pod.
    proxy = f"http://{LOCAL}:{closed_port()}"
    for name in ("http_proxy", "https_proxy", "grpc_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert run_network_probe(grpc_task(port)) == (True, "service healthy")
    assert len(servicer.user_agents) == 1 and servicer.user_agents[0].startswith("kube-probe/sshorch ")


def test_a_call_that_does_not_complete_times_out(health_server: tuple[Recording, int]) -> None:
    _, port = health_server
    (ok, message), took = timed_probe(grpc_task(port, "shop.Stuck", timeout=1))
    assert (ok, message) == (False, "timeout: health rpc did not complete within 1s")
    assert 0.95 <= took < 1 + SLACK


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_port_that_never_speaks_http2_times_out_connecting(mode: str) -> None:
    port = next(hostile_port := hostile(mode))
    try:
        (ok, message), took = timed_probe(grpc_task(port, timeout=1))
    finally:
        hostile_port.close()
    assert (ok, message) == (False, f'timeout: failed to connect service "{LOCAL}:{port}" within 1s')
    assert 0.95 <= took < 1 + SLACK


def test_a_closed_port_fails_at_once() -> None:
    port = closed_port()
    (ok, message), took = timed_probe(grpc_task(port, timeout=5))
    assert (ok, message) == (False, f'error: failed to connect service at "{LOCAL}:{port}": Failed to connect to remote host: Connection refused')
    assert took < 1  # refused, not timed out


def test_a_stopped_server_fails() -> None:
    serving = serve_health()
    _, port = next(serving)
    assert run_network_probe(grpc_task(port))[0] is True
    serving.close()
    ok, message = run_network_probe(grpc_task(port))
    assert (ok, message) == (False, f'error: failed to connect service at "{LOCAL}:{port}": Failed to connect to remote host: Connection refused')


def test_a_server_without_the_health_service() -> None:
    server, port = start(None)
    try:
        ok, message = run_network_probe(grpc_task(port))
    finally:
        server.stop(0).wait(5)
    assert ok is False
    assert message.startswith("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ")


def test_a_port_that_is_not_published_is_not_probed() -> None:
    probe = Probe(GrpcAction(9555))
    the_target = target({"readiness": probe}, address=LOCAL, host_ports={8080: 20100})
    assert run_network_probe(task("readiness", the_target)) == (
        False, "port 9555 of pod web-abc-1 is not published on node n1 (list it in the container's ports)")


def test_failures_count_towards_the_threshold_in_a_pass(health_server: tuple[Recording, int]) -> None:
    _, port = health_server
    liveness = grpc_task(port, "shop.Down", kind="liveness", failure_threshold=2)
    records: dict[ProbeKey, ProbeRecord] = {}
    for now in (1000.0, 1010.0):
        assert liveness_verdicts([liveness.target], records) == []
        results = run_probes([liveness], lambda node, script: "", runtimes={})
        records = record_results(records, [liveness], results, now)
    assert liveness_verdicts([liveness.target], records) == [
        (liveness.target, 'Liveness probe failed 2 times: service unhealthy (responded with "NOT_SERVING")')]


def test_readiness_waits_for_the_initial_delay_the_period_and_the_success_threshold(health_server: tuple[Recording, int]) -> None:
    _, port = health_server
    readiness = grpc_task(port, initial_delay_seconds=5, period_seconds=10, success_threshold=2)
    records: dict[ProbeKey, ProbeRecord] = {}
    ready = []
    for now in (STARTED + 4, STARTED + 5, STARTED + 9, STARTED + 15):
        due = due_probes([readiness.target], records, now)
        records = record_results(records, due, run_probes(due, lambda node, script: "", runtimes={}), now)
        ready.append((len(due), container_ready(readiness.target, records)))
    # Not before the delay, then once a period; ready at the second success in a row.
    assert ready == [(0, False), (1, False), (0, False), (1, True)]


def test_commands_that_do_not_probe_grpc_do_not_import_it() -> None:
    # grpc takes over half a second to import: the CLI and the probe package must not pay it up front.
    code = "import sys, sshorch.cli, sshorch.probes; sys.exit('grpc' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 0


def test_an_ipv6_address() -> None:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
            port = sock.getsockname()[1]
    except OSError:
        pytest.skip("no IPv6 loopback here")
    probe = Probe(GrpcAction(9555), timeout_seconds=5)
    the_task = task("readiness", target({"readiness": probe}, address="::1", host_ports={9555: port}, named_ports={}))
    assert run_network_probe(the_task) == (False, f'error: failed to connect service at "[::1]:{port}": Failed to connect to remote host: Connection refused')
