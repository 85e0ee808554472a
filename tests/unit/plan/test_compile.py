"""compile as a table: one intent in, the node action execute runs out (kind, target, reason,
argv, files, undo), for each runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from sshorch.plan.compile import Target, compile_intent, compile_intents, compile_plan
from sshorch.plan.intents import (
    CreatePod,
    Decision,
    DrainPod,
    Intent,
    RemoveDirs,
    RemovePod,
    RemoveStray,
    StartPod,
    SyncRules,
    WriteFiles,
)
from sshorch.plan.model import ActionKind, Argv, Blocked, FileUpload, PendingPod, PlanEvent, Step
from sshorch.plan.naming import PodIdentity
from sshorch.plan.podbuild import BuiltPod, NodeTarget, build_pod
from sshorch.runtime.registry import UnknownRuntimeError, runtime_for
from sshorch.spec.model import Deployment

from .helpers import CLUSTER, deployment, desired, key_of, revision_of

WEB = key_of("web")
FILE = FileUpload("/run/sshorch/clusters/test/config/web/app.conf", b"x=1\n")
PODMAN = Target(CLUSTER, {"n1": "podman"})
DOCKER = Target(CLUSTER, {"n1": "docker"})
POD_DIRS = ("/var/lib/sshorch/clusters/test/pods/p", "/run/sshorch/clusters/test/pods/p",
            "/var/lib/sshorch/pods/p", "/run/sshorch/pods/p")


@dataclass
class Row:
    intent: Intent
    target: Target
    kind: ActionKind
    argv: list[Argv]
    reason: str
    files: tuple[FileUpload, ...] = ()
    workload: str = ""
    undo: list[Argv] = field(default_factory=list)


def remove_podman() -> Row:
    return Row(RemovePod("n1", "p", ("p-main",), "scaled to 0", 10, WEB), PODMAN, ActionKind.REMOVE_POD, [
        ("podman", "pod", "stop", "--ignore", "-t", "10", "p"),
        ("podman", "pod", "rm", "--ignore", "-f", "p"),
        ("rm", "-rf", "--", *POD_DIRS),
    ], "scaled to 0", workload=WEB)


def remove_docker() -> Row:
    return Row(RemovePod("n1", "p", ("p-main",), "scaled to 0", 10, WEB), DOCKER, ActionKind.REMOVE_POD, [
        ("docker", "stop", "-t", "10", "p-main"),
        ("docker", "rm", "-f", "p-main", "p"),
        ("rm", "-rf", "--", *POD_DIRS),
    ], "scaled to 0", workload=WEB)


def remove_before_creates_compiles_the_same() -> Row:
    row = remove_podman()
    row.intent = RemovePod("n1", "p", ("p-main",), "scaled to 0", 10, WEB, before_creates=True)
    return row


def start_podman() -> Row:
    return Row(StartPod("n1", "p", ("p-main",), "pod is exited", WEB), PODMAN, ActionKind.START_POD,
               [("podman", "pod", "start", "p")], "pod is exited", workload=WEB)


def start_docker() -> Row:
    return Row(StartPod("n1", "p", ("p-main",), "pod is exited", WEB), DOCKER, ActionKind.START_POD,
               [("docker", "start", "p", "p-main")], "pod is exited", workload=WEB)


def write_files() -> Row:
    return Row(WriteFiles("n1", "p", (FILE,), WEB), PODMAN, ActionKind.WRITE_FILES, [],
               "1 config/secret files changed or missing", files=(FILE,), workload=WEB)


def stray_podman() -> Row:
    return Row(RemoveStray("n1", "c1"), PODMAN, ActionKind.REMOVE_CONTAINER,
               [("podman", "rm", "--ignore", "-f", "-t", "0", "c1")], "labelled ours but in no pod of ours")


def stray_docker() -> Row:
    return Row(RemoveStray("n1", "c1"), DOCKER, ActionKind.REMOVE_CONTAINER,
               [("docker", "rm", "-f", "c1")], "labelled ours but in no pod of ours")


def unused_dirs() -> Row:
    dirs = ("/run/sshorch/clusters/test/config/a", "/var/lib/sshorch/clusters/test/pods/b")
    return Row(RemoveDirs("n1", dirs), PODMAN, ActionKind.REMOVE_FILES, [("rm", "-rf", "--", *dirs)], "no pod uses them")


ROWS: list[Callable[[], Row]] = [
    remove_podman, remove_docker, remove_before_creates_compiles_the_same, start_podman, start_docker,
    write_files, stray_podman, stray_docker, unused_dirs,
]


@pytest.mark.parametrize("build", ROWS, ids=[f.__name__ for f in ROWS])
def test_compile(build: Callable[[], Row]) -> None:
    row = build()
    action = compile_intent(row.intent, row.target)
    assert (action.kind, action.node, action.target) == (row.kind, row.intent.node, row.intent.target)
    assert action.kind == row.intent.kind
    assert [s.argv for s in action.steps] == row.argv
    assert action.reason == row.reason == row.intent.reason
    assert action.files == row.files
    assert action.workload == row.workload
    assert [s.argv for s in action.undo] == row.undo


def built_web(node: str = "n1") -> BuiltPod:
    d = desired(deployment("web", containers=[
        {"name": "app", "image": "localhost/web:v2"}, {"name": "side", "image": "docker.io/library/busybox:1.36"},
    ]))
    web = d.get("Deployment", "web", "default")
    assert isinstance(web, Deployment)
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(d, "web"), "0")
    return build_pod(identity, web.template, d, NodeTarget(node, "192.0.2.1", "podman"), {})


@pytest.mark.parametrize("runtime", ["podman", "docker"])
def test_create_pod_runs_the_runtime_commands_after_the_prepare_steps(runtime: str) -> None:
    built = built_web()
    action = compile_intent(CreatePod(built, (FILE,)), Target(CLUSTER, {"n1": runtime}))
    assert (action.kind, action.node, action.target) == (ActionKind.CREATE_POD, "n1", built.identity.name)
    assert action.reason == f"new pod of {WEB} (revision {built.identity.revision})"
    assert action.steps[:len(built.prepare)] == built.prepare
    assert action.steps[len(built.prepare):] == tuple(Step(tuple(a)) for a in runtime_for(runtime).create_pod(built.run))
    assert {s.argv[0] for s in action.steps[len(built.prepare):]} == {runtime}
    # The files the intent carries (those the node lacks), not every file of the pod.
    assert action.files == (FILE,)
    assert action.workload == WEB and action.uses == built.file_dirs
    assert action.images == ("docker.io/library/busybox:1.36", "localhost/web:v2")


def test_create_pod_undoes_only_a_pod_of_its_own_identity() -> None:
    built = built_web()
    action = compile_intent(CreatePod(built), PODMAN)
    name = built.identity.name
    assert [s.argv for s in action.undo] == [
        ("podman", "pod", "stop", "--ignore", "-t", "0", name),
        ("podman", "pod", "rm", "--ignore", "-f", name),
    ]
    mine = ("sh", "-c", '"$@" | grep -q .', "sh", "podman", "ps", "-a", "-q",
            "--filter", f"label=sshorch.io/cluster={CLUSTER}", "--filter", "label=sshorch.io/namespace=default",
            "--filter", f"label=sshorch.io/pod={name}")
    assert all(s.ignore_errors and s.when == mine for s in action.undo)


def test_a_node_whose_runtime_is_not_known_is_an_error_not_podman() -> None:
    with pytest.raises(UnknownRuntimeError, match="n9: its container runtime is not known"):
        compile_intent(StartPod("n9", "p", ("p-main",), "pod is exited", WEB), PODMAN)


def test_sync_rules_is_the_write_proxy_renders() -> None:
    from sshorch.proxy.sync import rules_action, rules_due
    from tests.unit.proxy.samples import WEB, node_rules

    wanted = node_rules(WEB)
    due = rules_due("n1", wanted, None)
    assert due is not None and (due.node, due.served, due.reason) == ("n1", "1 service", "service rules changed")
    action = compile_intent(SyncRules(due), PODMAN)
    assert action == rules_action("n1", wanted, None)
    assert (action.kind, action.node, action.target) == (ActionKind.SYNC_RULES, "n1", "1 service")


def test_intents_compile_in_their_order() -> None:
    intents: list[Intent] = [RemoveStray("n1", "c1"), StartPod("n1", "p", (), "pod is exited", WEB), RemoveDirs("n1", ("/d",))]
    assert [a.kind for a in compile_intents(intents, PODMAN)] == [
        ActionKind.REMOVE_CONTAINER, ActionKind.START_POD, ActionKind.REMOVE_FILES,
    ]


def test_a_decision_compiles_into_a_plan_that_keeps_what_it_records() -> None:
    decision = Decision(
        intents=(RemoveStray("n1", "c1"),),
        draining=(DrainPod("n2", "web-b", "scaled to 1"), DrainPod("n1", "web-a", "node n1 is being drained")),
        pending=(PendingPod(WEB, "web-c", "0/3 nodes"),),
        blocked=(Blocked(key_of("api"), (WEB,)),),
        unreachable=("n3",),
        ready=frozenset({WEB}),
        events=(PlanEvent("job/default/once", "Completed", "done"),),
        retry_at=12.5,
    )
    plan = compile_plan(decision, PODMAN)
    assert plan.actions == compile_intents(decision.intents, PODMAN)
    # Sorted by pod, as state records them.
    assert plan.draining == (("web-a", "node n1 is being drained"), ("web-b", "scaled to 1"))
    assert (plan.pending, plan.blocked, plan.unreachable, plan.ready) == (
        decision.pending, decision.blocked, decision.unreachable, decision.ready
    )
    assert (plan.events, plan.retry_at, plan.jobs, plan.allocations) == (decision.events, 12.5, {}, None)
