"""Taints on a real cluster: the inventory's NoSchedule keeps pods off a node unless they
tolerate it, `sshorch taint ... :NoExecute` moves the pods that do not (and, after
tolerationSeconds, those that tolerate it for a while), cordon is a taint DaemonSets pass."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import built_sandbox, own_state, sshorch

NAME = f"taints-{os.getpid()}"

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: main, image: localhost/sshorch/web:v1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node1}
      tolerations:
        - {key: dedicated, operator: Equal, value: db, effect: NoSchedule}
      containers:
        - {name: main, image: localhost/sshorch/web:v1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: patient}
spec:
  replicas: 1
  selector: {matchLabels: {app: patient}}
  template:
    metadata: {labels: {app: patient}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node2}
      tolerations:
        - {key: gone, operator: Exists, effect: NoExecute, tolerationSeconds: 15}
      containers:
        - {name: main, image: localhost/sshorch/web:v1}
"""

AGENT = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        - {name: main, image: localhost/sshorch/web:v1}
"""


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 3-node sandbox whose node1 carries dedicated=db:NoSchedule in the inventory."""
    root = tmp_path_factory.mktemp("taints")
    with own_state(root), built_sandbox(NAME, 3) as box:
        data = yaml.safe_load(Path(box.inventory).read_text())
        hosts = data["all"]["children"]["sandbox"]["hosts"]
        hosts["node1"] = {**(hosts["node1"] or {}), "sshorch_taints": ["dedicated=db:NoSchedule"]}
        tainted = root / "tainted.yml"
        tainted.write_text(yaml.safe_dump(data))
        yield tainted


def status(inventory: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(sshorch("status", "-i", str(inventory), "-o", "json").stdout)
    return result


def nodes_of(inventory: Path, owner: str) -> list[str]:
    return sorted(p["node"] for p in status(inventory)["pods"] if p["owner"].endswith(f"/{owner}") and p["node"])


def test_no_schedule_from_the_inventory_keeps_untolerating_pods_off(inventory: Path, tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(APP)
    sshorch("apply", "-i", str(inventory), "-f", str(app), "--yes")
    assert "node1" not in nodes_of(inventory, "web") and len(nodes_of(inventory, "web")) == 3
    assert nodes_of(inventory, "db") == ["node1"]  # it tolerates the taint
    node1 = next(n for n in status(inventory)["nodes"] if n["name"] == "node1")
    assert node1["taints"] == ["dedicated=db:NoSchedule"]


def converge(inventory: Path) -> None:
    done = sshorch("converge", "-i", str(inventory), check=False)
    assert done.returncode in (0, 2), done.stdout + done.stderr  # 2: changes made


def test_no_execute_moves_the_pods_that_do_not_tolerate_it(inventory: Path) -> None:
    assert "node2" in nodes_of(inventory, "web") and nodes_of(inventory, "patient") == ["node2"]
    assert sshorch("taint", "-i", str(inventory), "node2", "gone:NoExecute").stdout.strip() == "node/node2 tainted"
    try:
        tainted = time.monotonic()
        converge(inventory)
        assert nodes_of(inventory, "web") == ["node3", "node3", "node3"]
        # Tolerated for 15 s after the taint was added: it stays, then goes (and cannot come back).
        assert nodes_of(inventory, "patient") == ["node2"]
        while nodes_of(inventory, "patient") and time.monotonic() - tainted < 40:
            sshorch("converge", "-i", str(inventory), check=False)  # 1 once the pod is left pending
        assert nodes_of(inventory, "patient") == []
        assert time.monotonic() - tainted >= 15
        pending = [p for p in status(inventory)["pods"] if p["owner"].endswith("/patient")]
        assert pending and "had untolerated taint {gone: }" in pending[0]["reason"], pending
    finally:
        sshorch("taint", "-i", str(inventory), "node2", "gone-")
    converge(inventory)
    assert nodes_of(inventory, "patient") == ["node2"]


def test_a_bad_taint_is_one_line_and_changes_nothing(inventory: Path) -> None:
    done = sshorch("taint", "-i", str(inventory), "node2", "gone:Sometimes", check=False)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = sshorch("taint", "-i", str(inventory), "node1", "dedicated-", check=False)
    assert done.returncode == 1 and "sshorch_taints" in done.stderr, done.stderr
    node2 = next(n for n in status(inventory)["nodes"] if n["name"] == "node2")
    assert node2["taints"] == []


def test_cordon_is_the_unschedulable_taint_and_daemon_sets_pass_it(inventory: Path, tmp_path: Path) -> None:
    sshorch("cordon", "-i", str(inventory), "node3")
    try:
        node3 = next(n for n in status(inventory)["nodes"] if n["name"] == "node3")
        assert "node.kubernetes.io/unschedulable:NoSchedule" in node3["taints"] and node3["cordoned"]
        app = tmp_path / "app.yaml"
        app.write_text(APP + "---\n" + AGENT)
        sshorch("apply", "-i", str(inventory), "-f", str(app), "--yes")
        # Every node runs the agent: cordoned node3 too; node1's NoSchedule taint is not tolerated.
        assert nodes_of(inventory, "agent") == ["node2", "node3"]
    finally:
        sshorch("uncordon", "-i", str(inventory), "node3")
