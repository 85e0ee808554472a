"""A DaemonSet follows the inventory; an HPA scales a CPU-burning Deployment up and back down."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import built_sandbox, own_state, sshorch

NAME = f"ds-{os.getpid()}"

DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        - name: main
          image: localhost/sshorch/web:v1
"""

BURN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      containers:
        - name: main
          image: localhost/sshorch/busybox:latest
          imagePullPolicy: IfNotPresent
          # Busy for 40 s after it starts (at most 200m by its limit), then idle.
          command: ["sh", "-c", "timeout 40 sh -c 'while :; do :; done'; exec sleep 100000"]
          resources:
            requests: {cpu: 100m}
            limits: {cpu: 200m}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burn}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 10}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A 4-node sandbox, and an inventory of its first three nodes."""
    root = tmp_path_factory.mktemp("daemonsets")
    with own_state(root), built_sandbox(NAME, 4) as box:
        full = Path(box.inventory)
        data = yaml.safe_load(full.read_text())
        del data["all"]["children"]["sandbox"]["hosts"]["node4"]
        three = root / "three.yml"
        three.write_text(yaml.safe_dump(data))
        yield three, full


def pods(inventory: Path, owner: str) -> list[dict]:  # type: ignore[type-arg]
    status = json.loads(sshorch("status", "-i", str(inventory), "-o", "json").stdout)
    return [p for p in status["pods"] if p["owner"].endswith(f"/{owner}")]


def test_a_daemonset_runs_one_pod_per_node_and_a_new_node_gets_one(cluster: tuple[Path, Path], tmp_path: Path) -> None:
    three, full = cluster
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(DAEMONSET)
    sshorch("apply", "-i", str(three), "-f", str(manifest), "--yes")
    assert sorted(p["node"] for p in pods(three, "agent")) == ["node1", "node2", "node3"]
    sshorch("converge", "-i", str(full), check=False)
    found = pods(full, "agent")
    assert sorted(p["node"] for p in found) == ["node1", "node2", "node3", "node4"] and all(p["ready"] for p in found), found


def test_an_hpa_scales_up_within_two_passes_and_down_after_its_window(cluster: tuple[Path, Path], tmp_path: Path) -> None:
    _, full = cluster
    manifest = tmp_path / "burn.yaml"
    manifest.write_text(DAEMONSET + "---\n" + BURN)
    sshorch("apply", "-i", str(full), "-f", str(manifest), "--yes")  # pass 1: the first CPU reading
    time.sleep(5)
    sshorch("converge", "-i", str(full), check=False)  # pass 2: the rate, and the decision
    assert len(pods(full, "burn")) == 3
    events = json.loads(sshorch("events", "-i", str(full), "-o", "json").stdout)
    assert any(e["reason"] == "SuccessfulRescale" and "1 -> 3" in e["message"] for e in events), events
    # Every pod goes idle 40 s after it started; then, past the 10 s window, back to one.
    deadline = time.monotonic() + 150
    while len(pods(full, "burn")) != 1:
        assert time.monotonic() < deadline, pods(full, "burn")
        time.sleep(5)
        sshorch("converge", "-i", str(full), check=False)
    events = json.loads(sshorch("events", "-i", str(full), "-o", "json").stdout)
    assert any(e["reason"] == "SuccessfulRescale" and "-> 1" in e["message"] for e in events), events
