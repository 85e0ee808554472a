"""Pods with init containers as podman reports them: captured on a sandbox node (podman 4.3.1)
with one pod past its init containers (one a sidecar) and one whose init container fails."""

from __future__ import annotations

import pytest

from sshorch.observe.owned import ObservedPod
from sshorch.plan.initpods import failures_by

from .test_owned import owned_from, pods_by_name

ORDERED = "ordered-13197c39b2-6wr5h"
BLOCKED = "blocked-524384db2e-94qtc"


@pytest.fixture(scope="module")
def pods() -> dict[str, ObservedPod]:
    return pods_by_name(owned_from("podman", "gather-owned-init-podman.txt"))


def test_init_containers_are_kept_apart_from_the_app_containers(pods: dict[str, ObservedPod]) -> None:
    ordered = pods[ORDERED]
    assert [c.name for c in ordered.containers] == [f"{ORDERED}-main"]
    assert [(c.name, c.state, c.exit_code) for c in ordered.init_containers] == [
        (f"{ORDERED}-first", "exited", 0), (f"{ORDERED}-proxy", "running", 0), (f"{ORDERED}-second", "exited", 0),
    ]
    # Exited init containers are done: the pod runs, as podman's status of its app containers says.
    assert ordered.running and ordered.status == "Running" and ordered.failed_containers == ()


def test_a_pod_waiting_on_a_failed_init_container(pods: dict[str, ObservedPod]) -> None:
    blocked = pods[BLOCKED]
    (wait,) = blocked.init_containers
    (main,) = blocked.containers
    assert (wait.state, wait.exit_code, wait.failed) == ("exited", 3, True)
    # podman's status counts the running infra container with the created app one.
    assert (main.state, blocked.status, blocked.running) == ("created", "Degraded", False)
    assert blocked.failed_containers == ()
    # Started by hand each time: podman does not count those starts.
    assert wait.restarts == 0


def test_finished_and_started_times(pods: dict[str, ObservedPod]) -> None:
    blocked = pods[BLOCKED]
    (wait,) = blocked.init_containers
    assert blocked.started_at == pytest.approx(1796322348.274350064)  # 2026-12-03T18:25:48.274350064Z, its infra's start
    assert wait.started_at == pytest.approx(1796322379.058050724)
    assert wait.finished_at == pytest.approx(1796322379.052611255)  # podman's own clock: a hair before its start
    assert blocked.containers[0].finished_at is None
    # It had started at the pod's start, then after 10 s and 20 s of back-off: three failures.
    assert failures_by(blocked.started_at, wait.started_at) == 3
