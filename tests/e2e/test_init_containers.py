"""initContainers on a live sandbox: they run in order before the app (each appends to an
emptyDir file that the app prints), a sidecar keeps running beside it, a failing one starts
again after its back-off and shows as Init:CrashLoopBackOff, and a Job's pod whose init
container fails with restartPolicy Never fails the Job and shows as Init:Error."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sandbox, built_sandbox, on_node, own_state, sshorch

NAME = "init2-e2e"
IMAGE = "localhost/sshorch/busybox:latest"


def init_container(name: str, script: str, sidecar: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script],
                           "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    if sidecar:
        doc["restartPolicy"] = "Always"
    return doc


def deployment(name: str, init: list[dict[str, Any]], script: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 1, "volumes": [{"name": "data", "emptyDir": {}}], "initContainers": init,
                     "containers": [{**init_container("main", script)}]},
        }},
    }


ORDERED = deployment("ordered", [
    init_container("first", "echo first >> /data/log"),
    init_container("proxy", "echo proxy >> /data/log; exec sleep 100000", sidecar=True),
    init_container("second", "sleep 1; echo second >> /data/log"),
], "echo main >> /data/log; cat /data/log; exec sleep 100000")
BLOCKED = deployment("blocked", [init_container("wait-db", "echo no database; exit 3")], "exec sleep 100000")
JOB = {
    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
    "spec": {"backoffLimit": 0, "template": {"spec": {
        "restartPolicy": "Never", "volumes": [{"name": "data", "emptyDir": {}}],
        "initContainers": [init_container("check", "exit 1")], "containers": [init_container("main", "true")]}}},
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("init")
    with own_state(root), built_sandbox(NAME, 1) as box:
        yield box, root


def apply(cluster: tuple[Sandbox, Path], doc: dict[str, Any], *more: str, check: bool = True) -> None:
    box, root = cluster
    path = root / f"{doc['metadata']['name']}.json"
    path.write_text(json.dumps(doc))
    sshorch("apply", "-i", box.inventory, "-f", str(path), "--yes", *more, check=check)


def pod_of(box: Sandbox, owner: str) -> dict[str, Any]:
    status = json.loads(sshorch("status", "-i", box.inventory, "-o", "json").stdout)
    (pod,) = [p for p in status["pods"] if p["owner"].endswith(f"/{owner}")]
    return dict(pod)


def logs(box: Sandbox, pod: str, *container: str) -> str:
    return sshorch("logs", "-i", box.inventory, pod, *(("-c", *container) if container else ())).stdout


def test_init_containers_run_in_order_before_the_app_and_the_sidecar_keeps_running(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    apply(cluster, ORDERED)
    pod = pod_of(box, "ordered")
    assert pod["phase"] == "Running"
    assert logs(box, pod["name"]).split() == ["first", "proxy", "second", "main"]
    assert logs(box, pod["name"], "first") == ""
    ids = f"podman ps -aq --filter label=sshorch.io/pod={pod['name']} --filter label=sshorch.io/container"
    states = on_node(box, "node1", f"podman inspect --format '{{{{.Name}}}} {{{{.State.Status}}}}' $({ids})")
    found = dict(line.split() for line in states.splitlines() if line.strip())
    assert {name.removeprefix(pod["name"] + "-"): state for name, state in found.items()} == {
        "first": "exited", "proxy": "running", "second": "exited", "main": "running"}


def test_a_failing_init_container_starts_again_after_its_back_off(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    started = time.monotonic()
    apply(cluster, BLOCKED, "--timeout", "35", check=False)
    pod = pod_of(box, "blocked")
    assert pod["phase"] == "Init:CrashLoopBackOff" and not pod["ready"]
    # Started with the pod, again after 10 s, then after 20 s more (passes add a little):
    # each run printed its line, and no more ran than the back-off allows.
    runs = logs(box, pod["name"], "wait-db").count("no database")
    assert 2 <= runs <= (3 if time.monotonic() - started < 70 else 4), runs
    main = on_node(box, "node1", f"podman inspect --format '{{{{.State.Status}}}}' {pod['name']}-main").strip()
    assert main in ("created", "configured")


def test_a_job_whose_init_container_fails_with_restart_policy_never_fails(cluster: tuple[Sandbox, Path]) -> None:
    box, _ = cluster
    apply(cluster, JOB, "--timeout", "30", check=False)
    (job,) = [j for j in json.loads(sshorch("jobs", "-i", box.inventory, "-o", "json").stdout) if j["name"] == "migrate"]
    assert job["status"] == "Failed" and job["failed"] == 1, job
    # A finished Job's pods stay (no ttlSecondsAfterFinished): shown as kubectl shows it.
    assert pod_of(box, "migrate")["phase"] == "Init:Error"
