from __future__ import annotations

import pytest

from sshorch.plan.nodescript import ActionResult, NodeResult, Report
from sshorch.observe.cluster import Observed
from sshorch.plan.model import Action, ActionKind, Blocked, PendingPod, Plan
from sshorch.run.progress import fold_actions, fold_report, workload_progress
from sshorch.plan.overview import workload_statuses
from tests.unit.plan.helpers import deployment, desired, observe, observed_pod


def rollout_rows(plan: Plan = Plan()) -> list[str]:
    v1 = desired(deployment("web", replicas=2))
    v2 = desired(deployment("web", replicas=2, image="localhost/web:v2"), deployment("api", replicas=1))
    old = [observed_pod(v1, "web", 0, "n1"), observed_pod(v1, "web", 1, "n2")]
    new = [observed_pod(v2, "web", 0, "n1"), observed_pod(v2, "web", 1, "n3")]
    observed: Observed = observe(*old, *new)
    statuses = workload_statuses(v2, observed, (), ready=frozenset({new[0].name, old[0].name, old[1].name}))
    return [row.line() for row in workload_progress(statuses, plan).workloads]


def test_a_rolling_workload_shows_new_pods_ready_up_to_date_and_old_left() -> None:
    assert rollout_rows()[0] == "deployment/web: 1/2 ready, 2/2 up-to-date, 2 old left"


def test_what_holds_a_workload_back_is_on_its_line() -> None:
    plan = Plan(
        blocked=(Blocked("deployment/default/api", ("deployment/default/db", "job/prod/migrate")),),
        pending=(PendingPod("deployment/default/web", "web-x", "0/3 nodes: 3 insufficient memory"),),
    )
    web, api = rollout_rows(plan)
    assert api == "deployment/api: 0/1 ready, 0/1 up-to-date (waiting for deployment/db, job/prod/migrate)"
    assert web.endswith("(pending: 0/3 nodes: 3 insufficient memory)")


def action(kind: ActionKind, target: str, reason: str = "why", node: str = "node1") -> Action:
    return Action(kind, node, target, reason)


@pytest.mark.parametrize(
    ("actions", "lines"),
    [
        ([action(ActionKind.SYNC_RULES, "3 services")], ["sync-rules 3 services: why"]),
        (
            [action(ActionKind.CREATE_POD, f"web-{i}", "new pod of deployment/default/web") for i in range(2)]
            + [action(ActionKind.SYNC_RULES, "1 service", "service rules changed")],
            ["create-pod web-0, web-1: new pod of deployment/default/web", "sync-rules 1 service: service rules changed"],
        ),
        (
            [action(ActionKind.REMOVE_POD, f"web-{i}") for i in range(6)],
            ["remove-pod web-0, web-1, web-2 and 3 more: why"],
        ),
    ],
)
def test_a_plan_folds_actions_of_one_kind_and_reason(actions: list[Action], lines: list[str]) -> None:
    assert fold_actions(actions) == lines


def test_a_pass_is_a_line_per_node_nodes_alike_folded_and_a_line_per_failure() -> None:
    node1 = (
        ActionResult(action(ActionKind.CREATE_POD, "web-0"), True),
        ActionResult(action(ActionKind.CREATE_POD, "web-1"), False, "Error: image not known\n"),
        ActionResult(action(ActionKind.SYNC_RULES, "3 services"), True),
    )
    rules = (ActionResult(action(ActionKind.SYNC_RULES, "3 services"), True),)
    report = Report((
        NodeResult("node1", node1), NodeResult("node2", rules), NodeResult("node3", rules), NodeResult("node4", error="timed out"),
    ))
    assert fold_report(report) == [
        "node1: created pod web-0, rules synced: 3 services",
        "node2, node3: rules synced: 3 services",
        "node1: create-pod web-1: why FAILED: Error: image not known",
        "node4: FAILED: timed out",
    ]


def test_a_plan_shows_nodes_with_the_same_lines_under_one_heading() -> None:
    from sshorch.cli.deploy import render_plan

    rules = lambda node: Action(ActionKind.SYNC_RULES, node, "3 services", "service rules changed")  # noqa: E731
    plan = Plan(actions=[
        Action(ActionKind.CREATE_POD, "node1", "db-0", "new pod of deployment/db"),
        rules("node1"), rules("node2"), rules("node3"),
    ])
    assert render_plan(plan) == [
        "node1:",
        "  create-pod db-0: new pod of deployment/db",
        "  sync-rules 3 services: service rules changed",
        "node2, node3:",
        "  sync-rules 3 services: service rules changed",
    ]
