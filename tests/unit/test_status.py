"""status.build_status: the exact JSON `sshorch status` prints, from one gather and one plan."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sshorch.observe.owned import ObservedPod
from sshorch.plan.model import Blocked, Plan
from sshorch.runtime import PortBinding
from sshorch.plan.overview import build_status, pod_phase

from .plan.helpers import (
    cluster_nodes,
    daemon_set,
    deployment,
    desired,
    key_of,
    name_of,
    observe,
    observed_container,
    observed_pod,
    revision_of,
    run,
)

APP = desired(
    deployment("web", replicas=2, ports=[8080]),
    daemon_set("agent"),
    deployment("big", requests={"memory": "64Gi"}),
)
WEB_REV = revision_of(APP, "web")
AGENT_REV = revision_of(APP, "agent", "DaemonSet")
BIG_REV = revision_of(APP, "big")


def crashed(pod: ObservedPod) -> ObservedPod:
    (main,) = pod.containers
    return replace(pod, status="Exited", containers=(replace(main, state="exited", exit_code=1, restarts=4),))


def cluster() -> tuple[list[ObservedPod], Plan]:
    pods = [
        observed_pod(APP, "web", 0, "n1", ports=[PortBinding("10.0.0.1", 20000, 8080, "tcp")]),
        crashed(observed_pod(APP, "web", 1, "n2")),
        observed_pod(APP, "agent", "n1", "n1", kind="DaemonSet"),
        observed_pod(APP, "agent", "n2", "n2", kind="DaemonSet"),
    ]
    plan = run(APP, observe(*pods, unreachable=["n3"]), cluster_nodes())
    return pods, plan


def test_status_json_shape_and_values() -> None:
    pods, plan = cluster()
    observed = observe(*pods, unreachable=["n3"])
    status = build_status(APP, observed, plan, cluster_nodes())
    assert list(status) == ["workloads", "pods", "services", "jobs", "nodes", "waiting"]
    assert status["workloads"] == [
        {"kind": "Deployment", "namespace": "default", "name": "web", "desired": 2, "ready": 1, "up_to_date": 2, "revision": WEB_REV},
        {"kind": "DaemonSet", "namespace": "default", "name": "agent", "desired": 2, "ready": 2, "up_to_date": 2, "revision": AGENT_REV},
        {"kind": "Deployment", "namespace": "default", "name": "big", "desired": 1, "ready": 0, "up_to_date": 0, "revision": BIG_REV},
    ]
    def pod(name: str, owner: str, node: str, revision: str, **changes: object) -> dict[str, object]:
        shown = {"name": name, "owner": owner, "node": node, "phase": "Running", "ready": True,
                 "ip": f"10.0.0.{node[1]}", "ports": [], "revision": revision, "restarts": 0, "reason": "", "oom_kills": 0}
        return {**shown, **changes}

    agents = sorted((name_of(APP, "agent", n, "DaemonSet"), n) for n in ("n1", "n2"))
    webs = {name_of(APP, "web", 0): pod(name_of(APP, "web", 0), key_of("web"), "n1", WEB_REV,
                                        ports=[{"containerPort": 8080, "hostPort": 20000, "protocol": "TCP"}]),
            name_of(APP, "web", 1): pod(name_of(APP, "web", 1), key_of("web"), "n2", WEB_REV,
                                        phase="Failed", ready=False, restarts=4)}
    expected_pods = [pod(name, key_of("agent", "DaemonSet"), node, AGENT_REV) for name, node in agents]
    expected_pods += [webs[name] for name in sorted(webs)]  # by owner, then name
    expected_pods.append(
        {"name": name_of(APP, "big", 0), "owner": key_of("big"), "node": None, "phase": "Pending", "ready": False, "ip": None,
         "ports": [], "revision": BIG_REV, "restarts": 0, "reason": "0/2 nodes: 2 insufficient memory"}
    )
    assert status["pods"] == expected_pods
    assert [n["name"] for n in status["nodes"]] == ["n1", "n2", "n3"]
    assert status["nodes"][0] == {
        "name": "n1", "address": "10.0.0.1", "status": "Ready", "reason": None, "runtime": "podman",
        "runtime_version": "4.3.1", "cpus": 2, "memory_bytes": 4 * 1024**3, "memory_available_bytes": None,
        "kernel": None, "arch": None, "hostname": None, "addresses": [], "disk_free_bytes": None, "fact_errors": {}, "warnings": [], "cordoned": False, "taints": [],
    }
    assert (status["nodes"][2]["status"], status["nodes"][2]["reason"]) == ("NotReady", "unreachable: connection refused")
    assert status["waiting"] == []


def test_waiting_workloads_are_listed() -> None:
    plan = Plan(blocked=(Blocked(key_of("api"), (key_of("db"),)),))
    status = build_status(desired(deployment("db"), deployment("api")), observe(), plan)
    assert status["waiting"] == [{"workload": key_of("api"), "for": [key_of("db")]}]


def test_without_desired_state_or_plan_only_what_runs_is_shown() -> None:
    pod = observed_pod(APP, "web", 0, "n1")
    status = build_status(None, observe(pod), None)
    assert status["workloads"] == [] and status["waiting"] == []
    assert [p["name"] for p in status["pods"]] == [pod.name]


def test_old_revision_pods_count_as_ready_but_not_up_to_date() -> None:
    v2 = desired(deployment("web", replicas=2, image="localhost/web:v2"))
    old = [observed_pod(APP, "web", i, f"n{i + 1}") for i in range(2)]
    new = observed_pod(v2, "web", 0, "n3")
    (web,) = build_status(v2, observe(*old, new), None)["workloads"]
    assert (web["desired"], web["ready"], web["up_to_date"], web["revision"]) == (2, 3, 1, revision_of(v2, "web"))


@pytest.mark.parametrize(
    ("status", "states", "exit_code", "phase"),
    [
        ("Running", ["running"], 0, "Running"),
        ("Degraded", ["running", "exited"], 1, "Failed"),
        ("Exited", ["exited"], 0, "Exited"),
        ("Created", ["created"], 0, "Created"),
        ("Stopped", ["stopped"], 0, "Stopped"),
        ("Degraded", ["running", "created"], 0, "Starting"),
    ],
)
def test_pod_phase(status: str, states: list[str], exit_code: int, phase: str) -> None:
    pod = observed_pod(APP, "web", 0, "n1", status=status)
    pod = replace(pod, containers=tuple(
        observed_container(f"c{i}", state, exit_code if state == "exited" else 0) for i, state in enumerate(states)
    ))
    assert pod_phase(pod) == phase


def test_daemon_set_desired_follows_its_node_selector() -> None:
    edge = desired(daemon_set("agent", node_selector={"role": "edge"}))
    nodes = cluster_nodes(labels={"n1": {"role": "edge"}})
    pod = observed_pod(edge, "agent", "n1", "n1", kind="DaemonSet")
    plan = run(edge, observe(pod), nodes)
    assert plan.empty
    (agent,) = build_status(edge, observe(pod), plan, nodes)["workloads"]
    assert agent["desired"] == 1
