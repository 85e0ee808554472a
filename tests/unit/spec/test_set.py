"""Checks across the whole set: duplicates, references, ports and addresses shared between objects."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec import ManifestError, parse_documents
from sshorch.spec.model import Source

from .manifests import autoscaler, changed, config_map, deployment, parse, problems, secret, service

C = "spec.template.spec.containers[0]"
POD = "spec.template.spec"


def lines(*documents: tuple[str, dict[str, Any]]) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        parse_documents([(Source(file, i), doc) for i, (file, doc) in enumerate(documents)])
    return [str(problem) for problem in raised.value.problems]


def test_duplicate_objects_name_both_files() -> None:
    assert lines(("a.yaml", deployment()), ("b.yaml", deployment())) == [
        "b.yaml: Deployment/web: is defined more than once: also in a.yaml"
    ]
    assert problems(config_map(), config_map()) == ["web.yaml: ConfigMap/settings: is defined more than once: also in web.yaml (document 1)"]


def test_same_name_in_another_kind_or_namespace_is_another_object() -> None:
    other_namespace = changed(deployment(), "metadata.namespace", "staging")
    assert len(parse(deployment(), other_namespace, service()).objects) == 3


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (f"{POD}.volumes", [{"name": "c", "configMap": {"name": "missing"}}],
         f"{POD}.volumes[0].configMap.name: ConfigMap 'missing' is not defined in the manifests"),
        (f"{POD}.volumes", [{"name": "c", "secret": {"secretName": "missing"}}],
         f"{POD}.volumes[0].secret.secretName: Secret 'missing' is not defined in the manifests"),
        (f"{C}.envFrom", [{"configMapRef": {"name": "missing"}}], f"{C}.envFrom[0].configMapRef.name: ConfigMap 'missing' is not defined in the manifests"),
        (f"{C}.envFrom", [{"secretRef": {"name": "missing"}}], f"{C}.envFrom[0].secretRef.name: Secret 'missing' is not defined in the manifests"),
        (f"{C}.env", [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "missing", "key": "a"}}}],
         f"{C}.env[0].valueFrom.configMapKeyRef.name: ConfigMap 'missing' is not defined in the manifests"),
        (f"{C}.env", [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "a"}}}],
         f"{C}.env[0].valueFrom.secretKeyRef.name: Secret 'missing' is not defined in the manifests"),
        (f"{C}.env", [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "NOPE"}}}],
         f"{C}.env[0].valueFrom.configMapKeyRef.name: ConfigMap 'settings' has no key 'NOPE'; its keys: LEVEL"),
        (f"{POD}.volumes", [{"name": "c", "configMap": {"name": "settings", "items": [{"key": "NOPE", "path": "x"}]}}],
         f"{POD}.volumes[0].configMap.items[0].key: ConfigMap 'settings' has no key 'NOPE'; its keys: LEVEL"),
        ("metadata.annotations", {"sshorch.io/depends-on": "job/migrate"},
         "metadata.annotations[sshorch.io/depends-on]: Job 'migrate' is not defined in the manifests"),
    ],
)  # fmt: skip
def test_dangling_references(path: str, value: Any, expected: str) -> None:
    assert problems(changed(deployment(), path, value), config_map(), secret()) == [f"web.yaml: Deployment/web: {expected}"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{POD}.volumes", [{"name": "c", "configMap": {"name": "missing", "optional": True}}]),
        (f"{POD}.volumes", [{"name": "c", "secret": {"secretName": "missing", "optional": True}}]),
        (f"{C}.envFrom", [{"configMapRef": {"name": "missing", "optional": True}}]),
        (f"{C}.env", [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "a", "optional": True}}}]),
        (f"{C}.env", [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "NOPE", "optional": True}}}]),
    ],
)
def test_optional_references_may_dangle(path: str, value: Any) -> None:
    parse(changed(deployment(), path, value), config_map())


def test_references_stay_in_their_namespace() -> None:
    web = changed(changed(deployment(), "metadata.namespace", "shop"), f"{C}.envFrom", [{"configMapRef": {"name": "settings"}}])
    assert problems(web, config_map()) == [
        f"web.yaml: Deployment/web: {C}.envFrom[0].configMapRef.name: ConfigMap 'settings' is not defined in the manifests (namespace 'shop')"
    ]


def test_a_missing_object_is_reported_once_per_referring_object() -> None:
    web = changed(deployment(), f"{C}.envFrom", [{"configMapRef": {"name": "missing"}}])
    web = changed(web, f"{POD}.volumes", [{"name": "c", "configMap": {"name": "missing"}}])
    assert problems(web) == [f"web.yaml: Deployment/web: {C}.envFrom[0].configMapRef.name: ConfigMap 'missing' is not defined in the manifests"]


def test_an_invalid_name_is_not_also_a_dangling_reference() -> None:
    web = changed(deployment(), f"{C}.envFrom", [{"configMapRef": {"name": "Settings"}}])
    (line,) = problems(web)
    assert line.startswith(f"web.yaml: Deployment/web: {C}.envFrom[0].configMapRef.name: must be a DNS-1123 label")


def test_a_reference_to_an_object_with_problems_is_not_dangling() -> None:
    settings = changed(config_map(), "data", {"LEVEL": 1})
    web = changed(deployment(), f"{C}.env", [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "OTHER"}}}])
    assert problems(web, settings) == ["web.yaml: ConfigMap/settings: data[LEVEL]: must be a string, got 1"]


def test_autoscaler_targets() -> None:
    assert problems(autoscaler()) == [
        "web.yaml: HorizontalPodAutoscaler/web: spec.scaleTargetRef.name: Deployment 'web' is not defined in the manifests"
    ]
    assert problems(deployment(), autoscaler(), autoscaler("web-2")) == [
        "web.yaml: HorizontalPodAutoscaler/web-2: spec.scaleTargetRef.name: Deployment 'web' is already scaled by HorizontalPodAutoscaler 'web'"
    ]


def test_node_ports_and_cluster_ips_are_unique() -> None:
    web = changed(changed(service(), "spec.type", "NodePort"), "spec.ports[0].nodePort", 30080)
    api = changed(changed(service("api"), "spec.type", "NodePort"), "spec.ports[0].nodePort", 30080)
    assert problems(web, api) == ["web.yaml: Service/api: spec.ports[0].nodePort: must be unique, got 30080/TCP which Service default/web uses too"]
    web = changed(service(), "spec.clusterIP", "10.96.0.10")
    api = changed(service("api"), "spec.clusterIP", "10.96.0.10")
    assert problems(web, api) == ["web.yaml: Service/api: spec.clusterIP: must be unique, got 10.96.0.10 which Service default/web uses too"]
