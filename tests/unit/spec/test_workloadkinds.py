"""The workload kinds registry: each kind's answers, and lookups by object and by name."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.workloadkinds import (
    CRON_JOB, DAEMON_SET, DEPLOYMENT, JOB, WorkloadKind, as_workload, job_makers, kind_named, kind_of, kind_of_key,
    workload_kind, workload_kinds, workload_template, workloads,
)
from sshorch.spec.model import CronJob, DaemonSet, Deployment, Desired, Job

from tests.unit.plan.helpers import config_map, daemon_set, deployment, desired

POD: dict[str, Any] = {"restartPolicy": "Never", "containers": [{"name": "main", "image": "localhost/task:v1"}]}


def job(name: str = "migrate", completions: int = 2) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"completions": completions, "template": {"spec": POD}}}


def cron_job(name: str = "nightly") -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": POD}}}}}


def manifests() -> Desired:
    web = deployment("web", replicas=3)
    web["spec"]["progressDeadlineSeconds"] = 120
    web["spec"]["revisionHistoryLimit"] = 4
    agent = daemon_set("agent")
    agent["spec"]["revisionHistoryLimit"] = 2
    return desired(config_map(), web, agent, job(), cron_job())


def the(d: Desired, kind: str, name: str) -> Any:
    obj = d.get(kind, name, "default")
    assert obj is not None
    return obj


# kind, name, model, prefix, template field, runs pods, makes, slot, revisions, update, rolls out, status, stays on drain
STATIC = [
    (DEPLOYMENT, "Deployment", Deployment, "deployment", "spec.template.spec", True, None, "replica", True,
     "RollingUpdate", True, "workloads", False),
    (DAEMON_SET, "DaemonSet", DaemonSet, "daemonset", "spec.template.spec", True, None, "node", True,
     "RollingUpdate", True, "workloads", True),
    (JOB, "Job", Job, "job", "spec.template.spec", True, None, "attempt", False,
     "PerRevision", False, "jobs", False),
    (CRON_JOB, "CronJob", CronJob, "cronjob", "spec.jobTemplate.spec.template.spec", False, "Job", "none", False,
     "None", False, "none", False),
]


@pytest.mark.parametrize(
    "kind, name, model, prefix, template_field, runs_pods, makes, slot, revisions, update, rolls_out, status, stays", STATIC
)
def test_what_each_kind_is(
    kind: WorkloadKind, name: str, model: type, prefix: str, template_field: str, runs_pods: bool, makes: str | None,
    slot: str, revisions: bool, update: str, rolls_out: bool, status: str, stays: bool,
) -> None:
    assert (kind.name, kind.model, kind.prefix, kind.template_field) == (name, model, prefix, template_field)
    assert (kind.runs_pods, kind.makes, kind.slot) == (runs_pods, makes, slot)
    assert (kind.revisions, kind.update, kind.rolls_out) == (revisions, update, rolls_out)
    assert (kind.status, kind.stays_on_drain) == (status, stays)
    assert kind.key("prod", "x") == f"{prefix}/prod/x"


# kind, object name, desired count, replicas, progress deadline, history limit
ANSWERS = [
    ("Deployment", "web", 3, 3, 120, 4),
    ("DaemonSet", "agent", None, None, None, 2),
    ("Job", "migrate", 2, None, None, None),
    ("CronJob", "nightly", None, None, None, None),
]


@pytest.mark.parametrize("name, obj_name, count, replicas, deadline, history", ANSWERS)
def test_what_each_kind_answers_of_an_object(
    name: str, obj_name: str, count: int | None, replicas: int | None, deadline: int | None, history: int | None
) -> None:
    d = manifests()
    obj = the(d, name, obj_name)
    kind = kind_of(obj)
    assert kind is not None and kind.name == name
    assert kind.desired_count(obj) == count
    assert (kind.replicas(obj) if kind.replicas is not None else None) == replicas
    assert kind.scalable == (replicas is not None)
    assert kind.progress_deadline(obj) == deadline
    assert kind.history_limit(obj) == history
    # A kind keeps a history exactly when it has revisions.
    assert (history is not None) == kind.revisions


def test_templates_are_the_pods_a_kind_runs() -> None:
    d = manifests()
    web, agent, task, nightly = (the(d, k, n) for k, n in (("Deployment", "web"), ("DaemonSet", "agent"),
                                                             ("Job", "migrate"), ("CronJob", "nightly")))
    assert workload_template(web) is web.template
    assert workload_template(agent) is agent.template
    assert workload_template(task) is task.template
    assert workload_template(nightly) is nightly.job.template
    assert workload_template(the(d, "ConfigMap", "settings")) is None


def test_lookups() -> None:
    d = manifests()
    assert workload_kinds() == (DEPLOYMENT, DAEMON_SET, JOB, CRON_JOB)
    assert [kind_named(k.name) for k in workload_kinds()] == list(workload_kinds())
    assert kind_named("deployment") is None and kind_named("Service") is None
    assert kind_of(the(d, "ConfigMap", "settings")) is None and kind_of(None) is None
    for obj in workloads(d.objects):
        assert workload_kind(obj) is kind_of(obj)
    assert [kind_of_key(k.key("default", "x")) for k in workload_kinds()] == list(workload_kinds())
    assert kind_of_key("service/default/web") is None and kind_of_key("configmap/default/settings") is None


def test_as_workload_is_an_object_with_pods_of_its_own() -> None:
    d = manifests()
    for kind, name in (("Deployment", "web"), ("DaemonSet", "agent"), ("Job", "migrate")):
        assert as_workload(the(d, kind, name)) is the(d, kind, name)
    assert as_workload(the(d, "CronJob", "nightly")) is None
    assert as_workload(the(d, "ConfigMap", "settings")) is None and as_workload(None) is None


def test_workloads_are_those_with_pods_of_their_own_in_order() -> None:
    d = manifests()
    assert [o.meta.name for o in workloads(d.objects)] == ["web", "agent", "migrate"]
    assert [o.meta.name for o in workloads(d.objects, lambda k: k.rolls_out)] == ["web", "agent"]
    assert [o.meta.name for o in workloads(d.objects, lambda k: k.status == "jobs")] == ["migrate"]
    assert [o.meta.name for o in job_makers(d.objects)] == ["nightly"]
