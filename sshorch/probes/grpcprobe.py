"""gRPC probes: one grpc.health.v1.Health/Check call, as the kubelet makes it.

grpc is imported when a gRPC probe runs, not before: its import takes over half
a second, which commands that never probe gRPC must not pay. The messages are
the kubelet's, so that what people search for is what they see.
"""

from __future__ import annotations

import queue
from typing import Any

from sshorch.probes.model import ProbeResult

# How long to wait for a channel's connectivity state, asked for after a timeout.
_STATE_WAIT = 0.5
_CONNECT_FAILED = "failed to connect to all addresses"


def grpc_probe(address: str, port: int, service: str, timeout: float, user_agent: str) -> ProbeResult:
    """Check `service` ("" is the server as a whole) at address:port within `timeout` seconds, in
    plain text (no TLS, as in Kubernetes). Only SERVING succeeds."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    # No proxy from the environment: a probe goes straight to the pod, as the kubelet's does.
    options = [("grpc.enable_http_proxy", 0), ("grpc.primary_user_agent", user_agent)]
    channel = grpc.insecure_channel(where, options=options)
    try:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as error:
            return False, _rpc_failure(channel, error, where, port, timeout)
        status = _status_name(response.status)
        if status != "SERVING":
            return False, f'service unhealthy (responded with "{status}")'
        return True, "service healthy"
    finally:
        channel.close()


def _status_name(status: int) -> str:
    from grpc_health.v1 import health_pb2

    try:
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(status))
    except ValueError:  # a status this version of the protocol does not know
        return str(status)


def _rpc_failure(channel: Any, error: Any, where: str, port: int, timeout: float) -> str:
    import grpc

    code, details = error.code(), str(error.details() or "")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        if _connected(channel):
            return f"timeout: health rpc did not complete within {timeout:g}s"
        return f'timeout: failed to connect service "{where}" within {timeout:g}s'
    if code == grpc.StatusCode.UNAVAILABLE and details.startswith(_CONNECT_FAILED):
        # "failed to connect to all addresses; last error: UNKNOWN: ipv4:ADDRESS:PORT: Connection refused"
        return f'error: failed to connect service at "{where}": {details.rpartition(f":{port}: ")[2]}'
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return f"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {details}"
    return f"error: health rpc probe failed: rpc error: code = {code.name} desc = {details}"


def _connected(channel: Any) -> bool:
    """Whether the channel is connected: a timeout then ran out in the call, not in connecting."""
    import grpc

    states: queue.SimpleQueue[Any] = queue.SimpleQueue()
    callback = states.put
    channel.subscribe(callback, try_to_connect=False)
    try:
        return bool(states.get(timeout=_STATE_WAIT) == grpc.ChannelConnectivity.READY)
    except queue.Empty:
        return False
    finally:
        channel.unsubscribe(callback)
