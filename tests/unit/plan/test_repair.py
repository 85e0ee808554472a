"""A pod that lost a container by hand is removed and made again; a stopped one is started."""

from __future__ import annotations

from dataclasses import replace

from .helpers import daemon_set, deployment, desired, moves, observe, observed_pod, run

WEB = desired(deployment("web", replicas=1), daemon_set("agent"))


def test_a_pod_whose_container_was_deleted_is_removed_and_made_again_in_one_pass() -> None:
    pod = replace(observed_pod(WEB, "web", 0, "n1"), containers=())
    plan = run(WEB, observe(pod, *(observed_pod(WEB, "agent", n, n, kind="DaemonSet") for n in ("n1", "n2", "n3"))))
    removal, creation = [m for m in moves(plan) if m[2] == pod.name]
    assert removal == ("remove-pod", "n1", pod.name) and creation[0] == "create-pod"
    assert "container main was deleted" in next(a.reason for a in plan.actions if a.target == pod.name)


def test_a_daemon_pod_whose_container_was_deleted_is_removed() -> None:
    agents = [observed_pod(WEB, "agent", n, n, kind="DaemonSet") for n in ("n1", "n2", "n3")]
    broken = replace(agents[1], containers=())
    plan = run(WEB, observe(observed_pod(WEB, "web", 0, "n1"), agents[0], broken, agents[2]))
    assert ("remove-pod", "n2", broken.name) in moves(plan)


def test_a_stopped_pod_is_started_not_recreated() -> None:
    stopped = observed_pod(WEB, "web", 0, "n1", status="Exited")
    plan = run(WEB, observe(stopped, *(observed_pod(WEB, "agent", n, n, kind="DaemonSet") for n in ("n1", "n2", "n3"))))
    assert [m for m in moves(plan) if m[2] == stopped.name] == [("start-pod", "n1", stopped.name)]
