"""Upgrading sshorch on a running cluster: a cluster applied by the last version before apply
sets (its state file: schema 3, one complete desired state) is planned, applied and
converged by this one without a single pod restarted, its record read as one apply set
named after the paths it was applied from."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, built_sandbox, on_node, own_state, sshorch

REPO = Path(__file__).resolve().parents[2]
# The last commit before the state recorded apply sets.
PREVIOUS = "7aeb8a993a265a8b1e1576e447103d6a99f0939b"

APP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: prod}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: localhost/sshorch/web:v1
          imagePullPolicy: IfNotPresent
          envFrom: [{configMapRef: {name: settings}}]
          ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous version's package, from the repository's history."""
    root = tmp_path_factory.mktemp("previous")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS, "sshorch"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("upgrade")
    with own_state(root), built_sandbox("upgrade", 2) as box:
        yield box, root


def containers(box: Sandbox) -> dict[str, str]:
    script = "podman ps -q --no-trunc --filter label=sshorch.io/owner=web --filter label=sshorch.io/container=main | sort"
    return {node: on_node(box, node, script) for node in ("node1", "node2")}


def test_a_cluster_applied_by_the_previous_version_restarts_nothing(
    cluster: tuple[Sandbox, Path], previous: Path
) -> None:
    box, root = cluster
    shop = root / "shop"
    shop.mkdir()
    (shop / "app.yaml").write_text(APP)
    old = subprocess.run([sys.executable, "-m", "sshorch", "apply", "-i", box.inventory, "-f", str(shop), "--yes"],
                         cwd=previous, env={**os.environ, "PYTHONPATH": str(previous)}, capture_output=True, text=True)
    assert old.returncode == 0 and "applied:" in old.stdout, old.stdout + old.stderr
    running = containers(box)
    assert sum(len(ids.split()) for ids in running.values()) == 2, running

    plan = sshorch("plan", "-i", box.inventory, "-f", str(shop), check=False)
    assert plan.returncode == 0 and "apply set shop: 3 objects" in plan.stdout, plan.stdout + plan.stderr
    converged = sshorch("converge", "-i", box.inventory)
    assert "0 actions" in converged.stdout + converged.stderr
    applied = sshorch("apply", "-i", box.inventory, "-f", str(shop), "--yes")
    assert "no changes" in applied.stdout and "0 actions" in applied.stdout, applied.stdout
    assert containers(box) == running
