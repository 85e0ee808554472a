"""podAffinity, podAntiAffinity and topologySpreadConstraints: read as Kubernetes reads them, one line per problem."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.plan.revision import canonical, revision_hash
from sshorch.spec.model import (
    Deployment, LabelSelector, LabelSelectorRequirement, PodAffinityRules, PodAffinityTerm, PodTemplate,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
)  # fmt: skip

from .manifests import changed, deployment, parse, problems

POD = "spec.template.spec"
APP = {"matchLabels": {"app": "web"}}
HOST = "kubernetes.io/hostname"


def template(document: dict[str, Any]) -> PodTemplate:
    (web,) = [o for o in parse(document).objects if isinstance(o, Deployment)]
    return web.template


def test_pod_affinity_and_anti_affinity_are_read() -> None:
    affinity = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": APP, "topologyKey": "zone", "namespaces": ["shop"]},
        ]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 50, "podAffinityTerm": {
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]},
                "topologyKey": HOST, "namespaceSelector": {},
            }},
        ]},
    }  # fmt: skip
    spec = template(changed(deployment(), f"{POD}.affinity", affinity)).spec
    assert spec.pod_affinity == PodAffinityRules(required=(PodAffinityTerm(LabelSelector(APP["matchLabels"]), "zone", ("shop",)),))  # type: ignore[arg-type]
    db = LabelSelector(match_expressions=(LabelSelectorRequirement("app", "In", ("db",)),))
    assert spec.pod_anti_affinity == PodAffinityRules(preferred=(WeightedPodAffinityTerm(50, PodAffinityTerm(db, HOST, (), True)),))


def test_topology_spread_constraints_are_read_with_kubernetes_defaults() -> None:
    constraints = [
        {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": APP, "minDomains": 3},
        {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": APP,
         "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor", "matchLabelKeys": ["tier"]},
    ]  # fmt: skip
    spec = template(changed(deployment(), f"{POD}.topologySpreadConstraints", constraints)).spec
    selector = LabelSelector(APP["matchLabels"])  # type: ignore[arg-type]
    assert spec.topology_spread == (
        TopologySpreadConstraint(1, HOST, "DoNotSchedule", selector, 3, "Honor", "Ignore"),
        TopologySpreadConstraint(2, "zone", "ScheduleAnyway", selector, None, "Ignore", "Honor", ("tier",)),
    )


SPREAD = {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": APP}
TERM = {"labelSelector": APP, "topologyKey": HOST}
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
ANTI = f"{POD}.affinity.podAntiAffinity.{REQUIRED}"
PREFERRED = f"{POD}.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution"
TSC = f"{POD}.topologySpreadConstraints"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (ANTI, [{"labelSelector": APP}], f"{ANTI}[0].topologyKey: is required"),
        (ANTI, [{**TERM, "namespaceSelector": {"matchLabels": {"team": "a"}}}], f"{ANTI}[0].namespaceSelector: must be {{}} (every namespace) here"),
        (ANTI, [{**TERM, "namespaces": ["Bad_Name"]}], f"{ANTI}[0].namespaces[0]: must be a DNS-1123 label"),
        (ANTI, [{**TERM, "matchLabelKeys": ["x"], "mismatchLabelKeys": ["x"]}], f"{ANTI}[0].mismatchLabelKeys[0]: must not also be in matchLabelKeys"),
        (ANTI, [{"topologyKey": HOST, "mismatchLabelKeys": ["x"]}], f"{ANTI}[0].mismatchLabelKeys[0]: needs a labelSelector"),
        (ANTI, [{**TERM, "matchLabelKeys": ["app"]}], f"{ANTI}[0].matchLabelKeys[0]: must not also be a key of labelSelector"),
        (ANTI, [{**TERM, "matchFields": []}], f"{ANTI}[0].matchFields: unsupported field"),
        (PREFERRED, [{"weight": 0, "podAffinityTerm": TERM}], f"{PREFERRED}[0].weight: must be an integer 1-100, got 0"),
        (PREFERRED, [{"weight": 5}], f"{PREFERRED}[0].podAffinityTerm: is required"),
        (TSC, [{**SPREAD, "maxSkew": 0}], f"{TSC}[0].maxSkew: must be an integer >= 1, got 0"),
        (TSC, [{k: v for k, v in SPREAD.items() if k != "whenUnsatisfiable"}], f"{TSC}[0].whenUnsatisfiable: is required"),
        (TSC, [{**SPREAD, "whenUnsatisfiable": "Never"}], f"{TSC}[0].whenUnsatisfiable: must be"),
        (TSC, [{**SPREAD, "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2}], f"{TSC}[0].minDomains: is only allowed with whenUnsatisfiable DoNotSchedule"),
        (TSC, [{**SPREAD, "nodeTaintsPolicy": "Always"}], f"{TSC}[0].nodeTaintsPolicy: must be"),
        (TSC, [{**SPREAD, "matchLabelKeys": ["app"]}], f"{TSC}[0].matchLabelKeys[0]: must not also be a key of labelSelector"),
        (TSC, [{k: v for k, v in SPREAD.items() if k != "labelSelector"} | {"matchLabelKeys": ["tier"]}], f"{TSC}[0].matchLabelKeys[0]: needs a labelSelector"),
        (TSC, [SPREAD, {**SPREAD, "maxSkew": 2}], f"{TSC}[1]: must not repeat topologyKey"),
    ],
)
def test_bad_pod_affinity_and_spread_are_one_line_each(path: str, value: Any, expected: str) -> None:
    (problem,) = problems(changed(deployment(), path, value))
    assert problem.startswith(f"web.yaml: Deployment/web: {expected}"), problem


def test_revision_hashes_of_templates_without_the_new_fields_do_not_change() -> None:
    plain = template(deployment())
    shape = canonical(plain)
    assert not {"pod_affinity", "pod_anti_affinity", "topology_spread"} & set(shape["spec"])
    spread = template(changed(deployment(), f"{POD}.topologySpreadConstraints", [SPREAD]))
    assert revision_hash(spread, {}) != revision_hash(plain, {})
    anti = template(changed(deployment(), ANTI, [TERM]))
    assert revision_hash(anti, {}) != revision_hash(plain, {})
