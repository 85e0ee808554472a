"""gRPC probes end to end, on a 1-node sandbox with the grpc-health demo image (`sandbox up --grpc-image`).

A readinessProbe.grpc keeps a pod in its Service's rules while the server answers SERVING and takes
it out on NOT_SERVING, on no answer and on a service the server does not know; a failing
livenessProbe.grpc restarts the container. The server's status is switched from outside, through
`sshorch exec`, by writing /tmp/grpc-status in the container.

Only the sandbox's 198.18.0.x addresses are contacted (SSH to the node, probes to its published port).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sshorch.probes.grpcprobe import grpc_probe
from tests.e2e.conftest import Sandbox, built_sandbox, endpoint_chains, own_state, sshorch

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="end-to-end tests build a sandbox and need root"),
]

NAME = "grpcprobe"
PORT = 50051

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: server
          image: localhost/sshorch/grpc-health:v1
          env: [{{name: SERVICES, value: demo}}]
          ports: [{{containerPort: {port}}}]
          {kind}Probe:
            grpc: {{port: {port}, service: {service}}}
            periodSeconds: 1
            failureThreshold: {threshold}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: {port}, targetPort: {port}}}]
"""


def deployment(name: str, kind: str, service: str = "demo", threshold: int = 1) -> str:
    return DEPLOYMENT.format(name=name, kind=kind, service=service, threshold=threshold, port=PORT)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("grpcprobe")
    with built_sandbox(NAME, 1, "--grpc-image") as box, own_state(root):
        yield box


@pytest.fixture(scope="module")
def app(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("app")
    (directory / "rpc.yaml").write_text(deployment("rpc", "readiness"))
    (directory / "live.yaml").write_text(deployment("live", "liveness", threshold=2))
    sshorch("apply", "-i", sandbox.inventory, "-f", str(directory), "--yes", "--timeout", "120")
    return directory


def status(sandbox: Sandbox) -> dict[str, Any]:
    return dict(json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout))


def pod_of(sandbox: Sandbox, owner: str) -> dict[str, Any]:
    return dict(next(p for p in status(sandbox)["pods"] if p["owner"] == f"deployment/default/{owner}"))


def endpoints(sandbox: Sandbox, service: str) -> int:
    """How many endpoints the node's rules give the Service: its ready pods."""
    vip = next(s["clusterIP"] for s in status(sandbox)["services"] if s["name"] == service)
    return endpoint_chains(sandbox, str(vip))["node1"]


def probe(pod: dict[str, Any], service: str = "demo") -> tuple[bool, str]:
    """The controller's own gRPC probe, straight to the pod's published port."""
    (binding,) = [b for b in pod["ports"] if b["containerPort"] == PORT]
    return grpc_probe(pod["ip"], binding["hostPort"], service, 1, "kube-probe/sshorch-e2e")


def set_status(sandbox: Sandbox, pod: dict[str, Any], word: str) -> None:
    sshorch("exec", "-i", sandbox.inventory, pod["name"], "--", "sh", "-c", f"echo {word} > /tmp/grpc-status")


def converge_until(sandbox: Sandbox, done: Callable[[], bool], what: str, seconds: float = 90) -> str:
    """Converge (each run probes) until `done`; the runs' output."""
    deadline = time.monotonic() + seconds
    outputs = ""
    while not done():
        assert time.monotonic() < deadline, f"not {what} after {seconds:g}s:\n{outputs}"
        outputs += sshorch("converge", "-i", sandbox.inventory, "--timeout", "3", check=False).stderr
    return outputs


def test_readiness_follows_the_servers_status(sandbox: Sandbox, app: Path) -> None:
    pod = pod_of(sandbox, "rpc")
    assert probe(pod) == (True, "service healthy")
    converge_until(sandbox, lambda: endpoints(sandbox, "rpc") == 1, "ready while SERVING")

    set_status(sandbox, pod, "NOT_SERVING")
    assert probe(pod) == (False, 'service unhealthy (responded with "NOT_SERVING")')
    converge_until(sandbox, lambda: endpoints(sandbox, "rpc") == 0, "out of the rules on NOT_SERVING")

    set_status(sandbox, pod, "SERVING")
    converge_until(sandbox, lambda: endpoints(sandbox, "rpc") == 1, "back in the rules on SERVING")

    set_status(sandbox, pod, "SILENT")  # the server holds each call: no answer within the probe's timeout
    assert probe(pod) == (False, "timeout: health rpc did not complete within 1s")
    converge_until(sandbox, lambda: endpoints(sandbox, "rpc") == 0, "out of the rules when the server does not answer")

    set_status(sandbox, pod, "SERVING")
    converge_until(sandbox, lambda: endpoints(sandbox, "rpc") == 1, "back in the rules once it answers again")
    assert pod_of(sandbox, "rpc")["name"] == pod["name"]  # readiness never restarts a container


def test_a_service_the_server_does_not_know_is_never_ready(sandbox: Sandbox, app: Path) -> None:
    (app / "wrong.yaml").write_text(deployment("wrong", "readiness", service="no.such.Service"))
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes", "--timeout", "10", check=False)
    assert done.returncode != 0 and "not ready" in done.stderr, done.stderr
    pod = pod_of(sandbox, "wrong")
    assert pod["phase"] == "Running"
    assert probe(pod, "no.such.Service") == (
        False, "error: health rpc probe failed: rpc error: code = NOT_FOUND desc = unknown service")
    assert probe(pod) == (True, "service healthy")  # the server answers for what it knows
    assert endpoints(sandbox, "wrong") == 0
    (app / "wrong.yaml").unlink()  # a pod never ready would hold up every later converge
    sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--prune", "--yes", "--timeout", "60")


def test_a_failing_liveness_probe_restarts_the_container(sandbox: Sandbox, app: Path) -> None:
    pod = pod_of(sandbox, "live")
    assert pod["restarts"] == 0
    set_status(sandbox, pod, "NOT_SERVING")
    outputs = converge_until(sandbox, lambda: pod_of(sandbox, "live")["restarts"] >= 1, "restarted")
    assert 'Liveness probe failed 2 times: service unhealthy (responded with "NOT_SERVING")' in outputs, outputs
    after = pod_of(sandbox, "live")
    assert after["name"] == pod["name"] and after["phase"] == "Running"
    # The restarted server wrote its initial status again: it serves, and is left running.
    deadline = time.monotonic() + 30
    while (result := probe(after)) != (True, "service healthy"):
        assert time.monotonic() < deadline, result
        time.sleep(0.5)
    assert "Liveness probe failed" not in sshorch("converge", "-i", sandbox.inventory, "--timeout", "10", check=False).stderr
