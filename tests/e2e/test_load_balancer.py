"""LoadBalancer Services on a real cluster: the port answers on every node's address (one
pod, on node1, behind it), externalTrafficPolicy Local answers only where a pod runs,
loadBalancerSourceRanges keeps other sources out, and sshorch_load_balancer_addresses
narrows the addresses. Clients are curl on this machine: outside the cluster."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Sandbox, built_sandbox, own_state, sshorch

NAME = f"lb-{os.getpid()}"

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node1}
      containers:
        - name: main
          image: localhost/sshorch/web:v1
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 8081, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-local}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{port: 8082, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-fenced}
spec:
  type: LoadBalancer
  loadBalancerSourceRanges: [192.0.2.0/24]
  selector: {app: web}
  ports: [{port: 8083, targetPort: 8080}]
status:
  loadBalancer: {ingress: [{ip: 192.0.2.10}]}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("load-balancer")
    with own_state(root), built_sandbox(NAME, 3) as box:
        app = root / "app.yaml"
        app.write_text(APP)
        done = sshorch("apply", "-i", box.inventory, "-f", str(app), "--yes")
        assert "LoadBalancer" in done.stdout + done.stderr  # the info line says what it means here
        yield box, app


def curl(address: str, port: int) -> str:
    """The body, or "" when nothing answers within 3 s (dropped) or the connection is refused."""
    done = subprocess.run(
        ["curl", "-s", "-m", "3", f"http://{address}:{port}/"], capture_output=True, text=True, timeout=30
    )
    return done.stdout if done.returncode == 0 else ""


def services(inventory: str | Path) -> dict[str, dict[str, Any]]:
    data = json.loads(sshorch("status", "-i", str(inventory), "-o", "json").stdout)
    return {s["name"]: s for s in data["services"]}


def addresses(box: Sandbox) -> dict[str, str]:
    return {node["name"]: node["address"] for node in box.status["nodes"]}


def test_status_shows_every_node_address_and_a_node_port(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    lb = services(box.inventory)["web-lb"]
    assert lb["type"] == "LoadBalancer"
    assert sorted(lb["externalAddresses"]) == sorted(addresses(box).values())
    assert 30000 <= lb["ports"][0]["nodePort"] <= 32767
    table = sshorch("status", "-i", box.inventory).stdout
    assert "EXTERNAL-IP" in table and ",".join(lb["externalAddresses"]) in table


def test_the_port_answers_on_every_node_address(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    lb = services(box.inventory)["web-lb"]
    for node, address in addresses(box).items():
        assert curl(address, 8081).startswith("web v1 on node1"), node
        assert curl(address, lb["ports"][0]["nodePort"]).startswith("web v1 on node1"), node


def test_local_policy_answers_only_on_the_node_with_the_pod(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    node_port = services(box.inventory)["web-local"]["ports"][0]["nodePort"]
    for node, address in addresses(box).items():
        for port in (8082, node_port):
            body = curl(address, port)
            if node == "node1":
                assert body.startswith("web v1 on node1"), (node, port)
            else:
                assert body == "", (node, port, body)


def test_source_ranges_keep_other_sources_out(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    fenced = services(box.inventory)["web-fenced"]
    for node, address in addresses(box).items():
        assert curl(address, 8083) == "", node  # this machine is not in 192.0.2.0/24
        # As in Kubernetes, the ranges fence the load balancer addresses, not the node port.
        assert curl(address, fenced["ports"][0]["nodePort"]).startswith("web v1 on node1"), node


def test_the_inventory_narrows_the_addresses(cluster: tuple[Sandbox, Path], tmp_path: Path) -> None:
    box, app = cluster
    node2 = addresses(box)["node2"]
    data = yaml.safe_load(Path(box.inventory).read_text())
    data["all"]["vars"]["sshorch_load_balancer_addresses"] = [node2]
    narrowed = tmp_path / "narrowed.yml"
    narrowed.write_text(yaml.safe_dump(data))
    sshorch("apply", "-i", str(narrowed), "-f", str(app), "--yes")
    try:
        assert services(narrowed)["web-lb"]["externalAddresses"] == [node2]
        for node, address in addresses(box).items():
            body = curl(address, 8081)
            assert body.startswith("web v1 on node1") if node == "node2" else body == "", (node, body)
    finally:
        sshorch("apply", "-i", box.inventory, "-f", str(app), "--yes")
    assert curl(addresses(box)["node3"], 8081).startswith("web v1 on node1")
