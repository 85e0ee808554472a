"""The downward API in env (fieldRef, resourceFieldRef): what parses, and one line per bad field."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.model import Deployment, EnvVar, FieldRef, ResourceFieldRef

from .manifests import changed, deployment, parse, problems

C = "spec.template.spec.containers[0]"


def with_env(*env: Any) -> dict[str, Any]:
    return changed(deployment(), f"{C}.env", list(env))


@pytest.mark.parametrize(
    ("value_from", "expected"),
    [
        ({"fieldRef": {"fieldPath": "metadata.name"}}, FieldRef("metadata.name")),
        ({"fieldRef": {"fieldPath": "metadata.namespace", "apiVersion": "v1"}}, FieldRef("metadata.namespace")),
        ({"fieldRef": {"fieldPath": "spec.nodeName"}}, FieldRef("spec.nodeName")),
        ({"fieldRef": {"fieldPath": "status.hostIP"}}, FieldRef("status.hostIP")),
        ({"fieldRef": {"fieldPath": "status.podIP"}}, FieldRef("status.podIP")),
        ({"fieldRef": {"fieldPath": "metadata.labels['app']"}}, FieldRef("metadata.labels['app']")),
        ({"fieldRef": {"fieldPath": "metadata.annotations['team.io/owner']"}}, FieldRef("metadata.annotations['team.io/owner']")),
        ({"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}, ResourceFieldRef("web", "limits.memory", "1Mi")),
        ({"resourceFieldRef": {"containerName": "web", "resource": "requests.cpu", "divisor": "1m"}},
         ResourceFieldRef("web", "requests.cpu", "1m")),
        ({"resourceFieldRef": {"resource": "limits.cpu"}}, ResourceFieldRef("web", "limits.cpu", "1")),
    ],
)
def test_downward_env_parses(value_from: dict[str, Any], expected: Any) -> None:
    (web,) = parse(with_env({"name": "X", "valueFrom": value_from})).objects
    assert isinstance(web, Deployment)
    assert web.template.spec.containers[0].env == (EnvVar("X", value_from=expected),)


@pytest.mark.parametrize(
    ("value_from", "expected"),
    [
        ({"fieldRef": {"fieldPath": "spec.hostname"}},
         "env[0].valueFrom.fieldRef.fieldPath: must be one of metadata.name, metadata.namespace, spec.nodeName, "
         "status.hostIP, status.hostIPs, status.podIP, status.podIPs, metadata.labels['KEY'], metadata.annotations['KEY'], got 'spec.hostname'"),
        ({"fieldRef": {}}, "env[0].valueFrom.fieldRef.fieldPath: is required"),
        ({"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v2"}}, "env[0].valueFrom.fieldRef.apiVersion: must be v1, got 'v2'"),
        ({"resourceFieldRef": {"resource": "limits.gpu"}},
         "env[0].valueFrom.resourceFieldRef.resource: must be one of limits.cpu, limits.memory, limits.ephemeral-storage, "
         "requests.cpu, requests.memory, requests.ephemeral-storage, got 'limits.gpu'"),
        ({"resourceFieldRef": {"resource": "limits.cpu", "divisor": "0"}}, "env[0].valueFrom.resourceFieldRef.divisor: must not be 0"),
        ({"resourceFieldRef": {"resource": "limits.cpu", "divisor": "lots"}},
         "env[0].valueFrom.resourceFieldRef.divisor: must be a quantity such as 1, 1m, 1Mi, got 'lots'"),
        ({"fieldRef": {"fieldPath": "metadata.name"}, "secretKeyRef": {"name": "s", "key": "k"}},
         "env[0].valueFrom: must have exactly one of configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef"),
    ],
)
def test_bad_downward_env_gives_one_line(value_from: dict[str, Any], expected: str) -> None:
    assert problems(with_env({"name": "X", "valueFrom": value_from})) == [f"web.yaml: Deployment/web: {C}.{expected}"]


def test_a_resource_field_of_another_container_must_exist() -> None:
    document = with_env({"name": "X", "valueFrom": {"resourceFieldRef": {"containerName": "sidecar", "resource": "limits.cpu"}}})
    assert problems(document) == [
        "web.yaml: Deployment/web: spec.template.spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: "
        "must name a container of the pod (web), got 'sidecar'"
    ]


def test_an_init_containers_resource_field_must_name_a_container_of_the_pod() -> None:
    init = {"name": "setup", "image": "localhost/sshorch/web:v1",
            "env": [{"name": "X", "valueFrom": {"resourceFieldRef": {"containerName": "absent", "resource": "limits.cpu"}}}]}
    document = changed(deployment(), "spec.template.spec.initContainers", [init])
    assert problems(document) == [
        "web.yaml: Deployment/web: spec.template.spec.initContainers[0].env[0].valueFrom.resourceFieldRef.containerName: "
        "must name a container of the pod (setup, web), got 'absent'"
    ]
