"""httpGet and tcpSocket probes against servers the tests start on 127.0.0.1."""

from __future__ import annotations

import http.server
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshorch.probes.prober import resolve_host_port, run_network_probe
from sshorch.probes.model import ProbeKind, ProbeTask
from sshorch.spec.model import HttpGetAction, Probe
from tests.unit.probes.helpers import http_probe, target, task, tcp_probe
from tests.unit.probes.servers import LOCAL, Handler, hostile, serve

@pytest.fixture()
def http_port() -> Iterator[int]:
    Handler.seen = []
    yield from serve(http.server.ThreadingHTTPServer((LOCAL, 0), Handler))


@pytest.fixture()
def https_port(tmp_path: Path) -> Iterator[int]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=probe.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer((LOCAL, 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Handler.seen = []
    yield from serve(server)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


def local_task(probe: Probe, host_port: int, kind: ProbeKind = "readiness") -> ProbeTask:
    return task(kind, target({kind: probe}, address=LOCAL, host_ports={8080: host_port}, named_ports={"http": 8080}))


@pytest.mark.parametrize(
    ("path", "ok", "status"),
    [("/healthz", True, 200), ("/moved", True, 302), ("/missing", False, 404), ("/fail", False, 500)],
)
def test_http_status_decides(http_port: int, path: str, ok: bool, status: int) -> None:
    result = run_network_probe(local_task(http_probe(8080, path), http_port))
    assert result == (ok, f"HTTP {status} from http://{LOCAL}:{http_port}{path}")


def test_redirects_are_not_followed(http_port: int) -> None:
    run_network_probe(local_task(http_probe(8080, "/moved"), http_port))
    assert [s["path"] for s in Handler.seen] == ["/moved"]


def test_named_port_path_query_and_headers(http_port: int) -> None:
    action = HttpGetAction(port="http", path="/healthz?full=1", host="web.example",
                           headers=(("X-Probe", "yes"), ("user-agent", "custom/1")))
    assert run_network_probe(local_task(Probe(action), http_port))[0] is True
    (seen,) = Handler.seen
    assert seen["path"] == "/healthz?full=1"
    assert (seen["host"], seen["x-probe"], seen["user-agent"], seen["accept"]) == ("web.example", "yes", "custom/1", "*/*")


def test_default_headers(http_port: int) -> None:
    run_network_probe(local_task(http_probe(8080), http_port))
    (seen,) = Handler.seen
    assert seen["user-agent"] == "kube-probe/sshorch"
    assert seen["host"] == f"{LOCAL}:{http_port}"


def test_slow_answer_times_out(http_port: int) -> None:
    started = time.monotonic()
    ok, message = run_network_probe(local_task(http_probe(8080, "/slow", timeout_seconds=1), http_port))
    assert time.monotonic() - started < 1.8
    assert (ok, message) == (False, f"timed out after 1s: GET http://{LOCAL}:{http_port}/slow")


def test_http_connection_refused() -> None:
    port = closed_port()
    assert run_network_probe(local_task(http_probe(8080), port)) == (
        False, f"GET http://{LOCAL}:{port}/healthz: connection refused")


def test_https_without_certificate_verification(https_port: int) -> None:
    action = HttpGetAction(port=8080, path="/fail", scheme="HTTPS")
    assert run_network_probe(local_task(Probe(action), https_port)) == (
        False, f"HTTP 500 from https://{LOCAL}:{https_port}/fail")
    action = HttpGetAction(port=8080, path="/healthz", scheme="HTTPS")
    assert run_network_probe(local_task(Probe(action), https_port))[0] is True


def test_tcp_socket() -> None:
    with socket.socket() as listener:
        listener.bind((LOCAL, 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert run_network_probe(local_task(tcp_probe("http"), port)) == (True, f"connected to {LOCAL}:{port}")
    port = closed_port()
    assert run_network_probe(local_task(tcp_probe(8080), port)) == (
        False, f"cannot connect to {LOCAL}:{port}: connection refused")


def test_unpublished_or_unknown_ports_fail_without_connecting() -> None:
    the_target = target({"readiness": tcp_probe(9090)}, address=LOCAL)
    assert resolve_host_port(the_target, 8080) == 20100
    assert resolve_host_port(the_target, "http") == 20100
    assert run_network_probe(task("readiness", the_target)) == (
        False, "port 9090 of pod web-abc-1 is not published on node n1 (list it in the container's ports)")
    named = target({"readiness": http_probe("metrics")}, address=LOCAL)
    assert run_network_probe(task("readiness", named)) == (False, "container web has no port named 'metrics'")


def test_no_node_address_no_probe() -> None:
    assert run_network_probe(task("readiness", target({"readiness": tcp_probe(8080)}, address=""))) == (
        False, "node n1 has no known address")


# --- hostile servers: a probe takes at most its timeoutSeconds, whatever the server does ---


@pytest.mark.parametrize(
    ("mode", "timeout", "message"),
    [
        ("trickle", 1, "timed out after 1s: GET http://127.0.0.1:{port}/healthz"),
        ("trickle", 2, "timed out after 2s: GET http://127.0.0.1:{port}/healthz"),
        ("trickle-body", 1, "timed out after 1s: GET http://127.0.0.1:{port}/healthz"),
        ("silent", 1, "timed out after 1s: GET http://127.0.0.1:{port}/healthz"),
        ("endless-headers", 1, "GET http://127.0.0.1:{port}/healthz: got more than 100 headers"),
    ],
)
def test_a_hostile_server_cannot_hold_a_probe_past_its_timeout(mode: str, timeout: int, message: str) -> None:
    for port in hostile(mode):
        started = time.monotonic()
        result = run_network_probe(local_task(http_probe(8080, timeout_seconds=timeout), port))
        elapsed = time.monotonic() - started
        assert result == (False, message.format(port=port))
        assert elapsed < timeout + 1.0, elapsed


def test_a_hostile_https_server_cannot_hold_a_probe_either() -> None:
    # Not even the TLS handshake: the server trickles bytes that are no TLS.
    for port in hostile("trickle"):
        started = time.monotonic()
        result = run_network_probe(local_task(Probe(HttpGetAction(port=8080, path="/", scheme="HTTPS"), timeout_seconds=1), port))
        assert time.monotonic() - started < 2.0
        assert result == (False, f"timed out after 1s: GET https://{LOCAL}:{port}/")


def test_non_ascii_path_and_header_values_are_sent_as_kubernetes_sends_them(http_port: int) -> None:
    """Kubernetes validates only header names; the kubelet percent-encodes the path's UTF-8
    and sends header values' UTF-8 bytes. Before, such a probe raised UnicodeEncodeError."""
    action = HttpGetAction(port=8080, path="/santé?q=ü ok".replace(" ", ""), headers=(("X-Name", "Zoë ☃"),))
    result = run_network_probe(local_task(Probe(action), http_port))
    assert result == (True, f"HTTP 200 from http://{LOCAL}:{http_port}/sant%C3%A9?q=%C3%BCok")
    (seen,) = Handler.seen
    assert seen["path"] == "/sant%C3%A9?q=%C3%BCok"
    assert seen["x-name"].encode("latin-1").decode() == "Zoë ☃"  # http.server reads headers as Latin-1
