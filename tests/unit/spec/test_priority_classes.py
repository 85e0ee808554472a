"""PriorityClass and a pod's priorityClassName: read and resolved as Kubernetes' Priority admission does."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.plan.revision import revision_hash
from sshorch.spec.model import PodSpec
from sshorch.spec.workloadkinds import workload_template

from .manifests import DELETE, changed, cron_job, daemon_set, deployment, job, parse, problems

POD = "spec.template.spec"


def priority_class(name: str = "high", value: int = 1000, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value, **fields}


def named(document: dict[str, Any], name: str, path: str = POD) -> dict[str, Any]:
    return changed(document, f"{path}.priorityClassName", name)


def pod_spec(*documents: dict[str, Any]) -> PodSpec:
    """The pod spec of the one workload among `documents`."""
    (template,) = [t for t in map(workload_template, parse(*documents).objects) if t is not None]
    return template.spec


@pytest.mark.parametrize(
    ("documents", "priority", "policy"),
    [
        ([deployment()], 0, "PreemptLowerPriority"),
        ([priority_class(), named(deployment(), "high")], 1000, "PreemptLowerPriority"),
        ([priority_class(value=-5), named(deployment(), "high")], -5, "PreemptLowerPriority"),
        ([priority_class(preemptionPolicy="Never"), named(deployment(), "high")], 1000, "Never"),
        ([named(deployment(), "system-cluster-critical")], 2000000000, "PreemptLowerPriority"),
        ([named(daemon_set(), "system-node-critical")], 2000001000, "PreemptLowerPriority"),
        # A pod without a class gets the global default's value and policy.
        ([priority_class(globalDefault=True, preemptionPolicy="Never"), deployment()], 1000, "Never"),
        ([priority_class(globalDefault=True), priority_class("low", 1), named(deployment(), "low")], 1, "PreemptLowerPriority"),
        # The class may come after the pod that names it, in another file's order.
        ([named(job(), "high"), priority_class()], 1000, "PreemptLowerPriority"),
        ([named(cron_job(), "high", "spec.jobTemplate.spec.template.spec"), priority_class()], 1000, "PreemptLowerPriority"),
        # Written priority and policy equal to what the class gives are accepted, as admission does.
        ([priority_class(), changed(named(deployment(), "high"), f"{POD}.priority", 1000)], 1000, "PreemptLowerPriority"),
        ([changed(deployment(), f"{POD}.priority", 0)], 0, "PreemptLowerPriority"),
        ([changed(deployment(), f"{POD}.preemptionPolicy", "PreemptLowerPriority")], 0, "PreemptLowerPriority"),
        # A cluster-scoped kind: its namespace is ignored, and pods of any namespace use it.
        ([changed(priority_class(), "metadata.namespace", "other"), changed(named(deployment(), "high"), "metadata.namespace", "apps")],
         1000, "PreemptLowerPriority"),
        # The built-in classes may be written as they are.
        ([priority_class("system-node-critical", 2000001000), named(deployment(), "system-node-critical")], 2000001000, "PreemptLowerPriority"),
    ],
)
def test_pods_get_the_priority_of_their_class(documents: list[dict[str, Any]], priority: int, policy: str) -> None:
    spec = pod_spec(*documents)
    assert (spec.priority, spec.preemption_policy) == (priority, policy)


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ([named(deployment(), "nope")],
         f"Deployment/web: {POD}.priorityClassName: PriorityClass 'nope' is not defined in the manifests (built-in: system-cluster-critical, system-node-critical)"),
        ([named(cron_job(), "nope", "spec.jobTemplate.spec.template.spec")],
         "CronJob/report: spec.jobTemplate.spec.template.spec.priorityClassName: PriorityClass 'nope' is not defined in the manifests"),
        ([named(deployment(), "Bad_Name")], f"Deployment/web: {POD}.priorityClassName: must be a DNS-1123 subdomain"),
        ([changed(deployment(), f"{POD}.priority", 7)],
         f"Deployment/web: {POD}.priority: must be left out, or equal what admission would set (0: no priorityClassName and no global default), got 7"),
        ([priority_class(), changed(named(deployment(), "high"), f"{POD}.priority", 7)],
         f"Deployment/web: {POD}.priority: must be left out, or equal what admission would set (1000: PriorityClass 'high'), got 7"),
        ([priority_class(globalDefault=True), changed(deployment(), f"{POD}.priority", 0)],
         f"Deployment/web: {POD}.priority: must be left out, or equal what admission would set (1000: the global default PriorityClass 'high'), got 0"),
        ([priority_class(), changed(named(deployment(), "high"), f"{POD}.preemptionPolicy", "Never")],
         f"Deployment/web: {POD}.preemptionPolicy: must be left out, or equal what admission would set (PreemptLowerPriority: PriorityClass 'high'), got Never"),
        ([changed(deployment(), f"{POD}.preemptionPolicy", "Sometimes")], f"Deployment/web: {POD}.preemptionPolicy: must be PreemptLowerPriority or Never"),
        ([changed(deployment(), f"{POD}.priority", "high")], f"Deployment/web: {POD}.priority: must be an integer"),
        ([priority_class(value=1000000001)],
         "PriorityClass/high: value: must be at most 1000000000 (higher values are for system-cluster-critical, system-node-critical), got 1000000001"),
        ([priority_class(value=2**31)], "PriorityClass/high: value: must be an integer -2147483648-2147483647"),
        ([changed(priority_class(), "value", DELETE)], "PriorityClass/high: value: is required"),
        ([priority_class(value="1000")], "PriorityClass/high: value: must be an integer"),
        ([priority_class(preemptionPolicy="Always")], "PriorityClass/high: preemptionPolicy: must be PreemptLowerPriority or Never"),
        ([priority_class(globalDefault="yes")], "PriorityClass/high: globalDefault: must be true or false"),
        ([priority_class(weight=3)], "PriorityClass/high: weight: unsupported field"),
        ([changed(priority_class(), "apiVersion", "scheduling.k8s.io/v1beta1")],
         "PriorityClass/high: apiVersion: must be scheduling.k8s.io/v1 for PriorityClass, got 'scheduling.k8s.io/v1beta1'"),
        ([priority_class("system-mine", 5)], "PriorityClass/system-mine: metadata.name: names starting with 'system-' are Kubernetes' built-in classes"),
        ([priority_class("system-node-critical", 5)], "PriorityClass/system-node-critical: metadata.name: names starting with 'system-'"),
        ([priority_class("a", globalDefault=True), priority_class("b", globalDefault=True)],
         "PriorityClass/b: globalDefault: only one PriorityClass may be the global default, and 'a' is"),
        ([priority_class(), priority_class(value=5)], "PriorityClass/high: is defined more than once: also in web.yaml (document 1)"),
    ],
)
def test_bad_priorities_are_one_line_each(documents: list[dict[str, Any]], expected: str) -> None:
    (problem,) = problems(*documents)
    assert problem.startswith(f"web.yaml: {expected}"), problem


def test_the_resolved_priority_is_not_part_of_the_revision() -> None:
    """Adding a global default class (or any value a class gives) restarts no pod: Kubernetes
    sets the priority on pods at admission, not in the template. Naming a class is a change."""
    plain = workload_template(parse(deployment()).objects[0])
    defaulted = workload_template(parse(priority_class(globalDefault=True), deployment()).objects[0])
    classed = workload_template(parse(priority_class(), named(deployment(), "high")).objects[0])
    assert plain is not None and defaulted is not None and classed is not None
    assert defaulted.spec.priority == 1000
    assert revision_hash(defaulted, {}) == revision_hash(plain, {})
    assert revision_hash(classed, {}) != revision_hash(plain, {})


def test_priority_classes_are_not_kept() -> None:
    assert [o.meta.kind for o in parse(priority_class(), deployment()).objects] == ["Deployment"]
