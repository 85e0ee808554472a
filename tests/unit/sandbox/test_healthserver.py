"""The grpc-health demo image's server, in process on 127.0.0.1, checked by sshorch's own grpc probe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from sshorch.probes.grpcprobe import grpc_probe
from sshorch.sandbox.healthserver import STATUSES, decode_request, encode_response, read_status, start_server

LOCAL = "127.0.0.1"


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_responses_are_the_protocol_messages(status: str) -> None:
    expected = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.ServingStatus.Value(status))
    assert encode_response(status) == expected.SerializeToString()


@pytest.mark.parametrize("service", ["", "demo", "grpc.health.v1.Health", "ünï"])
def test_requests_are_read_as_the_protocol_writes_them(service: str) -> None:
    assert decode_request(health_pb2.HealthCheckRequest(service=service).SerializeToString()) == service


@pytest.mark.parametrize(
    ("data", "service"),
    [
        (b"\x10\x05\x0a\x01a", "a"),  # an unknown varint field first
        (b"\x0a\x01a\x0a\x01b", "b"),  # a repeated field: the last one counts, as in protobuf
        (b"\x15\x00\x00\x00\x00\x0a\x00", ""),  # a fixed32 field skipped
    ],
)
def test_requests_skip_fields_they_do_not_know(data: bytes, service: str) -> None:
    assert decode_request(data) == service


@pytest.mark.parametrize("data", [b"\x0a\x05ab", b"\x0a", b"\x80", b"\x0b", b"\x11\x00"])
def test_truncated_or_unsupported_requests_are_errors(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_request(data)


@pytest.mark.parametrize(
    ("content", "status"),
    [("SERVING\n", "SERVING"), ("NOT_SERVING", "NOT_SERVING"), ("  SILENT \n", "SILENT"), ("", "UNKNOWN"),
     ("serving", "UNKNOWN"), ("SERVICE_UNKNOWN", "UNKNOWN"), (None, "UNKNOWN")],
)
def test_the_status_file(tmp_path: Path, content: str | None, status: str) -> None:
    path = tmp_path / "status"
    if content is not None:
        path.write_text(content)
    assert read_status(str(path)) == status


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    status = tmp_path / "status"
    status.write_text("SERVING\n")
    server, port = start_server(f"{LOCAL}:0", str(status), ["demo"])
    try:
        yield status, port
    finally:
        server.stop(0)


def probe(port: int, service: str = "demo") -> tuple[bool, str]:
    return grpc_probe(LOCAL, port, service, 1, "kube-probe/1.31")


def test_the_probe_follows_the_status_file(served: tuple[Path, int]) -> None:
    status, port = served
    assert probe(port) == probe(port, "") == (True, "service healthy")
    status.write_text("NOT_SERVING\n")
    assert probe(port) == (False, 'service unhealthy (responded with "NOT_SERVING")')
    status.write_text("UNKNOWN\n")
    assert probe(port, "") == (False, 'service unhealthy (responded with "UNKNOWN")')
    status.unlink()
    assert probe(port) == (False, 'service unhealthy (responded with "UNKNOWN")')
    status.write_text("SERVING\n")
    assert probe(port) == (True, "service healthy")


def test_an_unknown_service_is_not_found(served: tuple[Path, int]) -> None:
    _, port = served
    assert probe(port, "nope") == (False, "error: health rpc probe failed: rpc error: code = NOT_FOUND desc = unknown service")


def test_silent_holds_the_call_until_the_caller_gives_up(served: tuple[Path, int]) -> None:
    status, port = served
    status.write_text("SILENT\n")
    started = time.monotonic()
    assert probe(port) == (False, "timeout: health rpc did not complete within 1s")
    assert time.monotonic() - started < 3
    status.write_text("SERVING\n")
    assert probe(port) == (True, "service healthy")
