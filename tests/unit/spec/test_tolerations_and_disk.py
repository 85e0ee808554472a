"""Pod `tolerations` and `ephemeral-storage` resources: read as Kubernetes reads them, one line per problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sshorch.plan.revision import canonical, revision_hash
from sshorch.spec.ephemeral import ephemeral_limit_notes
from sshorch.spec.load import load_desired
from sshorch.spec.model import Deployment, PodTemplate
from sshorch.spec.workloadkinds import workload_template
from sshorch.taints import Toleration

from .manifests import changed, deployment, parse, problems

POD = "spec.template.spec"
C = f"{POD}.containers[0]"


def template(document: dict[str, Any]) -> PodTemplate:
    (web,) = [o for o in parse(document).objects if isinstance(o, Deployment)]
    return web.template


def test_tolerations_are_read() -> None:
    tolerations = [
        {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"},
        {"key": "gone", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        {"operator": "Exists"},
        {"key": "gpu"},
    ]
    assert template(changed(deployment(), f"{POD}.tolerations", tolerations)).spec.tolerations == (
        Toleration("dedicated", "Equal", "db", "NoSchedule"),
        Toleration("gone", "Exists", "", "NoExecute", 30),
        Toleration("", "Exists"),
        Toleration("gpu", "Equal", ""),
    )


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "a", "operator": "In"}, f"{POD}.tolerations[0].operator: must be"),
        ({"key": "a", "effect": "Never"}, f"{POD}.tolerations[0].effect: must be"),
        ({"key": "a", "operator": "Exists", "value": "x"}, f"{POD}.tolerations[0].value: must be empty when operator is Exists"),
        ({"value": "x"}, f"{POD}.tolerations[0].operator: must be Exists when key is empty"),
        ({"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5}, f"{POD}.tolerations[0].tolerationSeconds: is only allowed with effect NoExecute"),
        ({"key": "bad key"}, f"{POD}.tolerations[0].key: must be a label key"),
        ({"key": "a", "value": "bad value"}, f"{POD}.tolerations[0].value: must be a label value"),
        ({"key": "a", "tolerations": 1}, f"{POD}.tolerations[0].tolerations: unsupported field"),
    ],
)
def test_bad_tolerations_are_one_line_each(toleration: dict[str, Any], expected: str) -> None:
    (problem,) = problems(changed(deployment(), f"{POD}.tolerations", [toleration]))
    assert problem.startswith(f"web.yaml: Deployment/web: {expected}"), problem


def test_ephemeral_storage_requests_and_limits() -> None:
    resources = {"requests": {"ephemeral-storage": "1Gi"}, "limits": {"ephemeral-storage": "2Gi"}}
    found = template(changed(deployment(), f"{C}.resources", resources)).spec.containers[0].resources
    assert (found.ephemeral_storage_request_bytes, found.ephemeral_storage_limit_bytes) == (1024**3, 2 * 1024**3)
    # A limit alone is the request too, as for cpu and memory.
    only_limit = template(changed(deployment(), f"{C}.resources", {"limits": {"ephemeral-storage": "500M"}}))
    assert only_limit.spec.containers[0].resources.ephemeral_storage_request_bytes == 500_000_000


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"requests": {"ephemeral-storage": "lots"}}, f"{C}.resources.requests.ephemeral-storage: must be a memory quantity"),
        ({"requests": {"ephemeral-storage": "2Gi"}, "limits": {"ephemeral-storage": "1Gi"}},
         f"{C}.resources.limits.ephemeral-storage: must not be below the request (2Gi), got 1Gi"),
    ],
)
def test_bad_ephemeral_storage_is_one_line(resources: dict[str, Any], expected: str) -> None:
    (problem,) = problems(changed(deployment(), f"{C}.resources", resources))
    assert problem.startswith(f"web.yaml: Deployment/web: {expected}"), problem


def test_revision_hashes_of_templates_without_the_new_fields_do_not_change() -> None:
    """Pods made before tolerations and ephemeral-storage existed keep their revision."""
    plain = template(deployment())
    shape = canonical(plain)
    assert "tolerations" not in shape["spec"]
    assert "ephemeral_storage_request_bytes" not in shape["spec"]["containers"][0]["resources"]
    tolerant = template(changed(deployment(), f"{POD}.tolerations", [{"operator": "Exists"}]))
    assert revision_hash(tolerant, {}) != revision_hash(plain, {})
    disk = template(changed(deployment(), f"{C}.resources", {"requests": {"ephemeral-storage": "1Gi"}}))
    assert revision_hash(disk, {}) != revision_hash(plain, {})


def test_an_ephemeral_storage_limit_is_said_once_per_apply() -> None:
    assert ephemeral_limit_notes(parse(deployment())) == ()
    limited = changed(deployment(), f"{C}.resources", {"limits": {"ephemeral-storage": "1Gi"}})
    second = changed(changed(deployment("api"), f"{C}.resources", {"limits": {"ephemeral-storage": "1Gi"}}), "metadata.name", "api")
    (note,) = ephemeral_limit_notes(parse(limited, second))
    assert note.startswith("Deployment/api, Deployment/web: resources.limits.ephemeral-storage is not enforced")


CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "realworld" / "k8s"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the real-world manifest corpus is not here")
@pytest.mark.parametrize(
    "name",
    [
        "kubernetes__website/content__en__examples__controllers__daemonset.yaml",
        "kubernetes__website/content__en__examples__controllers__fluentd-daemonset.yaml",
    ],
)
def test_real_world_daemon_sets_with_tolerations_load(name: str) -> None:
    (daemon_set,) = [o for o in load_desired([CORPUS / name]).objects if o.meta.kind == "DaemonSet"]
    template = workload_template(daemon_set)
    assert template is not None and template.spec.tolerations
