"""grpc probes (Kubernetes' GRPCAction): what parses, and one line per bad field."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.model import Deployment, GrpcAction, Probe

from .manifests import changed, deployment, parse, problems

C = "spec.template.spec.containers[0]"
PORT_RULE = "must be an integer 1-65535"


def with_probe(kind: str, probe: Any) -> dict[str, Any]:
    return changed(deployment(), f"{C}.{kind}", probe)


@pytest.mark.parametrize(
    ("kind", "probe", "expected"),
    [
        ("readinessProbe", {"grpc": {"port": 9555}}, Probe(GrpcAction(9555))),
        ("livenessProbe", {"grpc": {"port": 50051, "service": "hipstershop.CartService"}},
         Probe(GrpcAction(50051, "hipstershop.CartService"))),
        ("startupProbe", {"grpc": {"port": 8080, "service": ""}, "failureThreshold": 30, "periodSeconds": 2},
         Probe(GrpcAction(8080), period_seconds=2, failure_threshold=30)),
        ("readinessProbe", {"grpc": {"port": 1, "service": None}, "timeoutSeconds": 5, "successThreshold": 2,
                            "initialDelaySeconds": 3}, Probe(GrpcAction(1), 3, 10, 5, 2, 3)),
    ],
)
def test_grpc_probes_parse(kind: str, probe: dict[str, Any], expected: Probe) -> None:
    (web,) = parse(with_probe(kind, probe)).objects
    assert isinstance(web, Deployment)
    (container,) = web.template.spec.containers
    parsed = {"readinessProbe": container.readiness_probe, "livenessProbe": container.liveness_probe,
              "startupProbe": container.startup_probe}
    assert parsed == {key: expected if key == kind else None for key in parsed}


@pytest.mark.parametrize(
    ("kind", "probe", "expected"),
    [
        ("readinessProbe", {"grpc": {}}, "readinessProbe.grpc.port: is required"),
        ("readinessProbe", {"grpc": None}, "readinessProbe: must have exactly one of exec, httpGet, tcpSocket, grpc"),
        ("livenessProbe", {"grpc": {"port": 0}}, f"livenessProbe.grpc.port: {PORT_RULE}, got 0"),
        ("livenessProbe", {"grpc": {"port": 65536}}, f"livenessProbe.grpc.port: {PORT_RULE}, got 65536"),
        ("livenessProbe", {"grpc": {"port": True}}, f"livenessProbe.grpc.port: {PORT_RULE}, got true"),
        ("livenessProbe", {"grpc": {"port": 1.5}}, f"livenessProbe.grpc.port: {PORT_RULE}, got 1.5"),
        ("startupProbe", {"grpc": {"port": "grpc"}},
         f"startupProbe.grpc.port: {PORT_RULE} (a grpc probe takes a port number, not a name), got 'grpc'"),
        ("startupProbe", {"grpc": {"port": "8080"}},
         f"startupProbe.grpc.port: {PORT_RULE} (a grpc probe takes a port number, not a name), got '8080'"),
        ("readinessProbe", {"grpc": {"port": 9555, "service": 5}}, "readinessProbe.grpc.service: must be a string, got 5"),
        ("readinessProbe", {"grpc": {"port": 9555, "service": ["a"]}}, "readinessProbe.grpc.service: must be a string, got a list"),
        ("readinessProbe", {"grpc": {"port": 9555, "host": "db"}},
         "readinessProbe.grpc.host: unsupported field; supported here: port, service"),
        ("readinessProbe", {"grpc": 9555}, "readinessProbe.grpc: must be a mapping, got 9555"),
        ("readinessProbe", {"grpc": {"port": 9555}, "tcpSocket": {"port": 9555}},
         "readinessProbe: must have exactly one of exec, httpGet, tcpSocket, grpc"),
        ("livenessProbe", {"grpc": {"port": 9555}, "successThreshold": 2},
         "livenessProbe.successThreshold: must be 1 for liveness and startup probes, got 2"),
        ("readinessProbe", {"grpc": {"port": 9555}, "timeoutSeconds": 61}, "readinessProbe.timeoutSeconds: must be an integer 1-60, got 61"),
    ],
)
def test_bad_grpc_probe_gives_one_line(kind: str, probe: Any, expected: str) -> None:
    assert problems(with_probe(kind, probe)) == [f"web.yaml: Deployment/web: {C}.{expected}"]
