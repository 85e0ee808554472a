"""A node cut off under load, with `converge --watch` running: endpoints leave at once,
replicas come back elsewhere after the eviction timeout, stale pods go when it returns."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, endpoint_chains, on_nodes, own_state, sshorch
from tests.e2e.test_rollouts import Load

APP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: site}
spec:
  replicas: 3
  selector: {matchLabels: {app: site}}
  template:
    metadata: {labels: {app: site}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: site}
spec:
  selector: {app: site}
  ports: [{port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def app(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("failure")
    with own_state(root):
        (root / "app.yaml").write_text(APP)
        sshorch("apply", "-i", sandbox.inventory, "-f", str(root / "app.yaml"), "--yes")
        yield root


def until(condition, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `condition()` holds (polled), or fail."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.5)
    return time.monotonic() - started


def vip(sandbox: Sandbox) -> str:
    data = json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)
    return str(next(s for s in data["services"] if s["name"] == "site")["clusterIP"])


def site_pods(sandbox: Sandbox, node: str) -> int:
    text = on_nodes(sandbox, "podman pod ps -q --filter label=sshorch.io/owner=site | wc -l")[node]
    return int(text.strip()) if text.strip().isdigit() else -1


def test_a_failed_node_under_load(sandbox: Sandbox, app: Path) -> None:
    address = vip(sandbox)
    assert endpoint_chains(sandbox, address) == {"node1": 3, "node2": 3, "node3": 3}
    log = open(app / "watch.log", "w")
    watch = subprocess.Popen(
        [sys.executable, "-m", "sshorch", "converge", "-i", sandbox.inventory, "--watch", "--interval", "2s"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        with Load(sandbox) as load:
            time.sleep(2)  # some healthy traffic first
            sshorch("sandbox", "fail", "--name", sandbox.name, "node2")
            failed_at = time.monotonic()
            gone = until(lambda: endpoint_chains(sandbox, address, ("node1",))["node1"] == 2, 30, "node2's endpoint leaves node1's rules")
            back = until(lambda: endpoint_chains(sandbox, address, ("node1",))["node1"] == 3, 120, "a replacement replica is an endpoint")
            replicas_back = time.monotonic() - failed_at
            sshorch("sandbox", "recover", "--name", sandbox.name, "node2")
            until(lambda: site_pods(sandbox, "node2") == 0, 60, "node2's stale pod is removed")
        ok, fail = load.counts()
        print(f"\nendpoint of the failed node gone after {gone:.1f}s; replicas back after {replicas_back:.1f}s "
              f"({back:.1f}s after the endpoint left); requests ok={ok} failed={fail}")
        assert gone <= 12  # target 10 s: the first pass that finds the node gone rewrites every rule
        # Failures only in the detection window: at 25 requests/s, fewer than that window's worth.
        assert ok >= 10 * replicas_back and fail <= 25 * gone, (ok, fail, load.failures)
        assert replicas_back <= 80  # target 75 s with the default 60 s eviction timeout
        assert sum(site_pods(sandbox, n) for n in ("node1", "node3")) == 3  # no duplicates
        assert load.versions[-10:] == ["v1"] * 10
    finally:
        watch.terminate()
        watch.wait(60)
        log.close()
        sshorch("sandbox", "recover", "--name", sandbox.name, "node2", check=False)
