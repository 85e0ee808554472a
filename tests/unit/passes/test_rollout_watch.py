"""RolloutWatch: when a Deployment's rollout has failed, pass after pass. Table tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest

from sshorch.plan.nodescript import ActionResult, NodeResult, Report
from sshorch.observe.owned import ObservedPod
from sshorch.plan.model import Action, ActionKind
from sshorch.plan.rolloutwatch import RolloutWatch
from tests.unit.plan.helpers import deployment, desired, observed_pod

V1 = desired(deployment("web", replicas=2))
V2 = desired(deployment("web", replicas=2, image="localhost/web:v2"))
KEY = "deployment/default/web"
DEADLINE = 600  # progressDeadlineSeconds' default


def new_pod(slot: int, restarts: int = 0) -> ObservedPod:
    pod = observed_pod(V2, "web", slot, f"n{slot + 1}")
    return replace(pod, containers=tuple(replace(c, restarts=restarts) for c in pod.containers))


@dataclass(frozen=True)
class Pass:
    now: float
    pods: Sequence[ObservedPod] = ()
    ready: Sequence[str] = ()
    complete: bool = False
    image_error: str = ""  # a failed create-pod's output on this pass


@dataclass(frozen=True)
class Row:
    name: str
    passes: Sequence[Pass]
    failed: dict[str, str]  # on the last pass


POD0, POD1 = new_pod(0), new_pod(1)
ROWS = [
    Row("a new rollout starts its clock", [Pass(0)], {}),
    Row("no available pod within the deadline", [Pass(0), Pass(DEADLINE + 1, [POD0])],
        {KEY: f"no progress for {DEADLINE}s (progressDeadlineSeconds)"}),
    Row("a pod that became available restarts the clock",
        [Pass(0, [POD0]), Pass(300, [POD0], [POD0.name]), Pass(DEADLINE + 1, [POD0, POD1], [POD0.name])], {}),
    Row("the clock restarts only on a new best",
        [Pass(0, [POD0]), Pass(300, [POD0], [POD0.name]), Pass(400, [POD0]), Pass(500, [POD0], [POD0.name]),
         Pass(300 + DEADLINE + 1, [POD0, POD1], [POD0.name])],
        {KEY: f"no progress for {DEADLINE}s (progressDeadlineSeconds)"}),
    Row("a complete rollout is no longer watched", [Pass(0), Pass(DEADLINE + 1, complete=True)], {}),
    Row("a new pod crash-looping fails it at once", [Pass(0, [new_pod(0, restarts=3)])],
        {KEY: f"pod {POD0.name} is crash-looping (3 restarts)"}),
    Row("two restarts are not yet a crash loop", [Pass(0, [new_pod(0, restarts=2)])], {}),
    Row("an image that cannot be pulled fails it at once",
        [Pass(0, image_error="Error: localhost/web:v2: image not known")],
        {KEY: "image cannot be started: Error: localhost/web:v2: image not known"}),
]


def report(error: str) -> Report:
    action = Action(ActionKind.CREATE_POD, "n1", POD0.name, "new pod", workload=KEY)
    return Report((NodeResult("n1", (ActionResult(action, False, error + "\n"),)),))


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_rollout_watch(row: Row) -> None:
    watch = RolloutWatch()
    for p in row.passes:
        reports = [report(p.image_error)] if p.image_error else []
        failed, watch = watch.failures(V2, p.pods, p.ready, [KEY] if p.complete else [], reports, p.now)
    assert failed == row.failed


def test_a_pod_of_the_old_revision_does_not_count() -> None:
    old = observed_pod(V1, "web", 0, "n1")
    _, watch = RolloutWatch().failures(V2, [old], [old.name], [], [], 0)
    assert watch.failures(V2, [old], [old.name], [], [], DEADLINE + 1)[0] == {
        KEY: f"no progress for {DEADLINE}s (progressDeadlineSeconds)"}
