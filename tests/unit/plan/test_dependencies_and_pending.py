"""Workloads that wait for others, pods that fit nowhere, and what converge calls stuck."""

from __future__ import annotations


from sshorch.run.passes import stuck_workloads, workload_keys
from sshorch.plan.model import Blocked, PendingPod, Plan

from .helpers import (
    cluster_nodes,
    config_map,
    deployment,
    desired,
    key_of,
    moves,
    name_of,
    observe,
    observed_pod,
    run,
)

DB, API, WEB = key_of("db"), key_of("api"), key_of("web")
APP = desired(deployment("db"), deployment("api", replicas=2, depends_on=["deployment/db"]))


def test_db_not_ready_blocks_api() -> None:
    plan = run(APP, observe())
    assert moves(plan) == [("create-pod", "n1", name_of(APP, "db", 0))]
    assert plan.blocked == (Blocked(API, (DB,)),)
    assert plan.ready == frozenset()


def test_db_observed_but_not_running_still_blocks_api() -> None:
    plan = run(APP, observe(observed_pod(APP, "db", 0, "n1", status="Degraded", states=["exited"])))
    assert moves(plan) == []
    assert plan.blocked == (Blocked(API, (DB,)),)


def test_db_ready_lets_api_be_created() -> None:
    plan = run(APP, observe(observed_pod(APP, "db", 0, "n1")))
    # db's pod counts for the spread only among its own replicas: api starts on n1.
    assert moves(plan) == [
        ("create-pod", "n1", name_of(APP, "api", 0)),
        ("create-pod", "n2", name_of(APP, "api", 1)),
    ]
    assert plan.blocked == ()
    assert plan.ready == {DB}


def test_explicit_dependencies_are_used_as_given() -> None:
    plain = desired(deployment("db"), deployment("api"))
    plan = run(plain, observe(), deps={API: (DB,)})
    assert moves(plan) == [("create-pod", "n1", name_of(plain, "db", 0))]
    assert plan.blocked == (Blocked(API, (DB,)),)


def test_a_workload_with_pods_is_not_blocked_again() -> None:
    """Once api runs, db going down does not stop api being healed."""
    observed = observe(observed_pod(APP, "api", 0, "n1"), observed_pod(APP, "api", 1, "n2", status="Exited"))
    plan = run(APP, observed)
    assert moves(plan) == [
        ("start-pod", "n2", name_of(APP, "api", 1)),
        ("create-pod", "n1", name_of(APP, "db", 0)),
    ]
    assert plan.blocked == ()


def test_config_map_dependencies_do_not_block() -> None:
    d = desired(config_map("settings", LEVEL="info"),
                deployment("web", env_from=[{"configMapRef": {"name": "settings"}}]))
    plan = run(d, observe())
    assert moves(plan) == [("create-pod", "n1", name_of(d, "web", 0))]
    assert plan.blocked == ()


HUGE = desired(
    deployment("web", replicas=1, requests={"memory": "8Gi"}),
    deployment("api", depends_on=["deployment/web"]),
    deployment("cache"),
)


def test_requests_that_fit_nowhere_are_pending_with_the_schedulers_reason() -> None:
    plan = run(HUGE, observe())
    assert plan.pending == (PendingPod(WEB, name_of(HUGE, "web", 0), "0/3 nodes: 3 insufficient memory"),)
    assert moves(plan) == [("create-pod", "n1", name_of(HUGE, "cache", 0))]
    assert plan.blocked == (Blocked(API, (WEB,)),)


def test_pending_reasons_are_counted_per_node() -> None:
    nodes = cluster_nodes(cordoned=["n3"])
    plan = run(HUGE, observe(), nodes)
    assert [p.reason for p in plan.pending] == ["0/3 nodes: 2 insufficient memory, 1 cordoned"]


def test_stuck_is_the_pending_workload_and_what_waits_on_it() -> None:
    plan = run(HUGE, observe())
    assert stuck_workloads(plan) == {WEB, API}
    assert workload_keys(HUGE) == {WEB, API, key_of("cache")}


def test_stuck_follows_chains_of_waiting() -> None:
    plan = Plan(
        pending=(PendingPod(DB, "db-x", "0/1 nodes: 1 insufficient cpu"),),
        blocked=(Blocked(WEB, (API,)), Blocked(API, (DB,)), Blocked(key_of("other"), (key_of("free"),))),
    )
    assert stuck_workloads(plan) == {DB, API, WEB}


def test_waiting_on_something_that_can_still_progress_is_not_stuck() -> None:
    plan = Plan(pending=(PendingPod(DB, "db-x", "r"),), blocked=(Blocked(API, (DB, key_of("cache"))),))
    assert stuck_workloads(plan) == {DB}


def test_ready_counts_only_the_slots_the_deployment_keeps() -> None:
    """db scaled 3 -> 2: slot 0 is down, slots 1 and 2 run; slot 2 is being removed, so db is not ready."""
    d = desired(deployment("db", replicas=2), deployment("api", depends_on=["deployment/db"]))
    observed = observe(
        observed_pod(d, "db", 0, "n1", status="Exited"), observed_pod(d, "db", 1, "n2"), observed_pod(d, "db", 2, "n3")
    )
    plan = run(d, observed)
    assert DB not in plan.ready
    assert plan.blocked == (Blocked(API, (DB,)),)  # today api is created beside a half-down db
