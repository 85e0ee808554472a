"""gRPC servers for probe tests, on 127.0.0.1 only: grpcio's own server with the standard health servicer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.unit.probes.servers import LOCAL

Status = health_pb2.HealthCheckResponse.ServingStatus
# The services the health server knows, with their status ("" is the server as a whole).
STATUSES = {
    "": Status.Value("SERVING"),
    "shop.Cart": Status.Value("SERVING"),
    "shop.Down": Status.Value("NOT_SERVING"),
    "shop.Unknown": Status.Value("UNKNOWN"),
    "shop.Gone": Status.Value("SERVICE_UNKNOWN"),
}


class Recording(health.HealthServicer):
    """The standard servicer, recording each Check's user agent; a Check of "shop.Stuck" answers
    only once `release` is set (never, within a probe's timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.user_agents: list[str] = []
        self.release = threading.Event()

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        self.user_agents += [value for key, value in context.invocation_metadata() if key == "user-agent"]
        if request.service == "shop.Stuck":
            self.release.wait(30)
        return super().Check(request, context)


def start(servicer: Recording | None) -> tuple[grpc.Server, int]:
    """A started server with `servicer` as its health service (None: no health service at all)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    if servicer is not None:
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port(f"{LOCAL}:0")
    server.start()
    return server, port


def serve_health() -> Iterator[tuple[Recording, int]]:
    servicer = Recording()
    for service, status in STATUSES.items():
        servicer.set(service, status)
    server, port = start(servicer)
    try:
        yield servicer, port
    finally:
        servicer.release.set()
        server.stop(0).wait(5)
