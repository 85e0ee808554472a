"""The gRPC health server of the demo image localhost/sshorch/grpc-health:v1.

It runs in the image on the interpreter and grpcio copied there (pythonlayer.py), so it imports
nothing but the standard library and grpc. It answers grpc.health.v1.Health/Check through a
generic handler: each of the two messages is one field, encoded here, so the image needs neither
protobuf nor generated code.

What it answers is read from a file on every call, so a test flips it from outside
(`sshorch exec POD -- sh -c 'echo NOT_SERVING > /tmp/grpc-status'`); the file is written with
$STATUS (SERVING when unset) at start, so a restarted container serves its initial status again:

- SERVING, NOT_SERVING, UNKNOWN: that status, for the server ("") and each service in $SERVICES;
- SILENT: no answer: the call is held until its caller gives up;
- a service it does not know: the error NOT_FOUND, as grpc's reference health servicer answers.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Collection, Iterator
from concurrent import futures
from typing import Any

SERVICE = "grpc.health.v1.Health"
STATUSES = {"UNKNOWN": 0, "SERVING": 1, "NOT_SERVING": 2}
SILENT = "SILENT"
DEFAULT_PORT = 50051
DEFAULT_STATUS_FILE = "/tmp/grpc-status"
_HOLD_STEP = 0.05


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise ValueError("truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> Iterator[tuple[int, int, bytes | int]]:
    """A protobuf message's fields as (number, wire type, value); lengths are checked."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, wire, value
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if at + size > len(data):
                raise ValueError("truncated fixed field")
            yield number, wire, data[at:at + size]
            at += size
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ValueError("truncated length-delimited field")
            yield number, wire, data[at:at + size]
            at += size
        else:
            raise ValueError(f"unsupported wire type {wire}")


def decode_request(data: bytes) -> str:
    """HealthCheckRequest {string service = 1;} -> the service name."""
    service = ""
    for number, wire, value in _fields(data):
        if number == 1 and wire == 2 and isinstance(value, bytes):
            service = value.decode("utf-8")
    return service


def encode_response(status: str) -> bytes:
    """HealthCheckResponse {ServingStatus status = 1;}; proto3 leaves out the default UNKNOWN (0)."""
    number = STATUSES[status]
    return bytes([0x08, number]) if number else b""


def read_status(path: str) -> str:
    """The status the file holds; one it does not hold (missing, empty, unknown word) is UNKNOWN."""
    try:
        with open(path, encoding="utf-8") as file:
            word = file.read().strip()
    except OSError:
        return "UNKNOWN"
    return word if word in STATUSES or word == SILENT else "UNKNOWN"


def check_handler(status_file: str, services: Collection[str]) -> Callable[[bytes, Any], bytes]:
    """The Check method: request bytes in, response bytes out (no (de)serializers)."""
    import grpc

    def check(request: bytes, context: Any) -> bytes:
        try:
            service = decode_request(request)
        except ValueError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad HealthCheckRequest: {error}")
        if service and service not in services:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        status = read_status(status_file)
        while status == SILENT and context.is_active():
            time.sleep(_HOLD_STEP)
            status = read_status(status_file)
        return encode_response("UNKNOWN" if status == SILENT else status)

    return check


def start_server(address: str, status_file: str, services: Collection[str], workers: int = 16) -> tuple[Any, int]:
    """A started grpc server answering Health/Check on `address`; it and the port it bound."""
    import grpc

    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Check": grpc.unary_unary_rpc_method_handler(check_handler(status_file, services))}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), handlers=(handler,))
    port = server.add_insecure_port(address)
    server.start()
    return server, port


def main() -> None:
    status_file = os.environ.get("STATUS_FILE", DEFAULT_STATUS_FILE)
    initial = os.environ.get("STATUS", "SERVING")
    with open(status_file, "w", encoding="utf-8") as file:
        file.write(initial + "\n")
    services = [name for name in os.environ.get("SERVICES", "").replace(",", " ").split() if name]
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    server, _ = start_server(f"0.0.0.0:{port}", status_file, services)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    print(f"grpc health on port {port}: {initial} (from {status_file}), services {services or '(server only)'}", flush=True)
    server.wait_for_termination()
    sys.exit(0)


if __name__ == "__main__":
    main()
