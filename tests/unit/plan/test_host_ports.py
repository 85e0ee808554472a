"""Host ports of new pods: the lowest free port from 20000 on their node, or the manifest's hostPort."""

from __future__ import annotations


from sshorch.plan.model import PendingPod
from sshorch.runtime import PortBinding

from .helpers import (
    cluster_nodes,
    deployment,
    desired,
    key_of,
    moves,
    name_of,
    observe,
    observed_pod,
    published,
    run,
    the_action,
)

ONE_NODE = cluster_nodes("n1")
WEB = desired(deployment("web", replicas=2, ports=[8080]), deployment("api"))


def test_new_pods_get_the_lowest_free_port_from_20000_per_node() -> None:
    plan = run(WEB, observe(nodes=("n1", "n2")), cluster_nodes("n1", "n2"))
    assert [published(a) for a in plan.actions if a.workload == key_of("web")] == [
        ["10.0.0.1:20000:8080/tcp"],
        ["10.0.0.2:20000:8080/tcp"],
    ]


def test_ports_taken_in_the_same_pass_are_not_given_twice() -> None:
    plan = run(WEB, observe(nodes=["n1"]), ONE_NODE)
    assert [published(a) for a in plan.actions if a.workload == key_of("web")] == [
        ["10.0.0.1:20000:8080/tcp"],
        ["10.0.0.1:20001:8080/tcp"],
    ]


def test_ports_observed_in_use_are_skipped() -> None:
    api = observed_pod(WEB, "api", 0, "n1", ports=[20000, 20001, 20003])
    plan = run(WEB, observe(api, nodes=["n1"]), ONE_NODE)
    assert [published(a) for a in plan.actions] == [["10.0.0.1:20002:8080/tcp"], ["10.0.0.1:20004:8080/tcp"]]


def test_every_port_of_every_container_gets_one() -> None:
    d = desired(deployment("web", containers=[
        {"name": "app", "image": "localhost/web:v1", "ports": [{"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}]},
        {"name": "side", "image": "localhost/web:v1", "ports": [{"containerPort": 9090}]},
    ]))
    (create,) = run(d, observe(nodes=["n1"]), ONE_NODE).actions
    assert published(create) == ["10.0.0.1:20000:8080/tcp", "10.0.0.1:20001:53/udp", "10.0.0.1:20002:9090/tcp"]


def test_an_explicit_host_port_is_used_as_is() -> None:
    d = desired(deployment("web", ports=[{"containerPort": 8080, "hostPort": 80}]))
    (create,) = run(d, observe(nodes=["n1"]), ONE_NODE).actions
    assert published(create) == ["10.0.0.1:80:8080/tcp"]


def test_explicit_host_ports_conflict_is_a_scheduling_filter() -> None:
    d = desired(deployment("web", replicas=2, ports=[{"containerPort": 8080, "hostPort": 80}]))
    plan = run(d, observe(nodes=["n1"]), ONE_NODE)
    assert moves(plan) == [("create-pod", "n1", name_of(d, "web", 0))]
    assert plan.pending == (PendingPod(key_of("web"), name_of(d, "web", 1), "0/1 nodes: 1 host port in use"),)


def test_a_host_port_held_by_an_observed_pod_sends_the_new_pod_elsewhere() -> None:
    d = desired(deployment("web", ports=[{"containerPort": 8080, "hostPort": 80}]), deployment("api"))
    holder = observed_pod(d, "api", 0, "n1", ports=[PortBinding("10.0.0.1", 80, 80, "tcp")])
    plan = run(d, observe(holder))
    assert moves(plan) == [("create-pod", "n2", name_of(d, "web", 0))]


def test_same_host_port_on_another_protocol_does_not_conflict() -> None:
    d = desired(deployment("web", ports=[{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]), deployment("api"))
    holder = observed_pod(d, "api", 0, "n1", ports=[PortBinding("10.0.0.1", 53, 53, "tcp")])
    plan = run(d, observe(holder, nodes=["n1"]), ONE_NODE)
    assert published(the_action(plan, "create-pod", name_of(d, "web", 0))) == ["10.0.0.1:53:53/udp"]


def test_explicit_host_port_in_the_automatic_range_is_not_also_allocated() -> None:
    d = desired(deployment("auto", ports=[8080]), deployment("fixed", ports=[{"containerPort": 80, "hostPort": 20000}]))
    plan = run(d, observe(nodes=["n1"]), ONE_NODE)
    ports = [p.split(":")[1] for a in plan.actions for p in published(a)]
    assert len(ports) == len(set(ports)), ports

