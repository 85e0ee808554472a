"""Resource limits on a live sandbox: limits.cpu and limits.memory are the container's cgroup
limits, and a container the kernel kills for passing its memory limit shows as OOMKilled in
`status` and `events`, though the runtime restarted it at once and forgot why."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sandbox, built_sandbox, on_node, own_state, sshorch, sshorch_json

NAME = "limits"

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: hog}
spec:
  replicas: 1
  selector: {matchLabels: {app: hog}}
  template:
    metadata: {labels: {app: hog}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/sshorch/busybox:latest
        imagePullPolicy: IfNotPresent
        # Shows its limits, then fills its memory: tail keeps a line that never ends.
        command: ["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us; sleep 3; head -c 200m /dev/zero | tail"]
        resources:
          limits: {cpu: 500m, memory: 32Mi}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("limits")
    with own_state(root), built_sandbox(NAME, 1) as box:
        yield box, root


def _hog(box: Sandbox) -> dict[str, Any] | None:
    pods = sshorch_json("status", "-i", box.inventory)["pods"]
    return next((p for p in pods if p["owner"] == "deployment/default/hog"), None)


def test_limits_reach_the_cgroup_and_an_oom_kill_is_shown(cluster: tuple[Sandbox, Path]) -> None:
    box, root = cluster
    manifest = root / "hog.yaml"
    manifest.write_text(MANIFEST)
    sshorch("apply", "-i", box.inventory, "-f", str(manifest), "--yes")

    logs = sshorch("logs", "-i", box.inventory, "deployment/hog").stdout.split()
    assert logs[:1] == [str(32 * 1024 * 1024)] and ("50000" in logs[1:3]), logs  # 500m: half of each 100 ms period

    deadline = time.monotonic() + 90
    pod = _hog(box)
    while not (pod and pod["reason"] == "OOMKilled") and time.monotonic() < deadline:
        pod = _hog(box)
    assert pod and pod["reason"] == "OOMKilled" and pod["oom_kills"] >= 1, pod
    assert "OOMKilled" in sshorch("status", "-i", box.inventory).stdout

    sshorch("converge", "-i", box.inventory, "--timeout", "5", check=False)
    events = sshorch_json("events", "-i", box.inventory)
    killed = [e for e in events if e["reason"] == "OOMKilled"]
    assert killed and killed[0]["object"] == f"pod/{pod['name']}", events
    assert "more memory than its limit" in killed[0]["message"]

    # Not a crash loop left burning the node's CPU for the rest of the run.
    manifest.write_text(MANIFEST.replace("replicas: 1", "replicas: 0"))
    sshorch("apply", "-i", box.inventory, "-f", str(manifest), "--yes")
    assert on_node(box, "node1", "podman ps -q --filter label=sshorch.io/owner=hog") == ""
