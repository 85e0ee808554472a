"""A NodePort answers on a node that has never run a pod: the rules write turns packet
forwarding on there, and turns it on again when it is switched off by hand."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, built_sandbox, on_node, own_state, sshorch, sshorch_json

FORWARDING = "/proc/sys/net/ipv4/ip_forward"
NODE_PORT = 30091
APP = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: pinned}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: pinned}}}}
  template:
    metadata: {{labels: {{app: pinned}}}}
    spec:
      nodeSelector: {{kubernetes.io/hostname: node1}}
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: pinned}}
spec:
  type: NodePort
  selector: {{app: pinned}}
  ports: [{{port: 80, targetPort: 8080, nodePort: {NODE_PORT}}}]
"""


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with built_sandbox(f"fwd-{os.getpid()}", 2) as sandbox, own_state(tmp_path_factory.mktemp("forwarding")):
        yield sandbox


def answer(address: str) -> str:
    """The NodePort's answer on that node's address, or "" (curl, a 3 s limit)."""
    import subprocess

    done = subprocess.run(["curl", "-s", "-m", "3", f"http://{address}:{NODE_PORT}/"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else ""


def answers_within(address: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while True:
        text = answer(address)
        if text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_a_node_port_answers_on_a_node_that_never_ran_a_pod(box: Sandbox, tmp_path: Path) -> None:
    node2 = box.node("node2")["address"]
    # A fresh node forwards nothing: podman turns forwarding on only with its first pod network.
    assert on_node(box, "node2", f"cat {FORWARDING}").strip() == "0"
    nodes = sshorch_json("nodes", "-i", box.inventory, "-o", "json")
    warned = next(n for n in nodes if n["name"] == "node2")["warnings"]
    assert any("packet forwarding off" in w for w in warned), warned

    app = tmp_path / "pinned.yaml"
    app.write_text(APP)
    sshorch("apply", "-i", box.inventory, "-f", str(app), "--yes")
    assert on_node(box, "node2", "podman ps -aq | wc -l").strip() == "0"  # still no pod there
    assert "web v1 on node1" in answers_within(node2, 10)
    assert on_node(box, "node2", f"cat {FORWARDING}").strip() == "1"

    # Switched off by hand: the next converge sees it and turns it on again.
    on_node(box, "node2", f"echo 0 > {FORWARDING}")
    assert answer(node2) == ""
    done = sshorch("converge", "-i", box.inventory, check=False)
    assert done.returncode == 2 and "node2: rules synced" in done.stderr, (done.stdout, done.stderr)  # 2: changes made
    assert "web v1 on node1" in answers_within(node2, 10)
