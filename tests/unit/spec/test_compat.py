"""Manifests written for Kubernetes: kinds and fields with no effect here, old apiVersions,
status stanzas, and errors that say what to write instead. One fixture file per case, in compat/."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshorch.spec import ManifestError, load_desired
from sshorch.spec.model import CronJob, HorizontalPodAutoscaler, MetricTarget
from sshorch.spec.notices import RBAC, SERVICE_ACCOUNTS, Notice, old_version
from sshorch.spec.problems import Problem, grouped_lines
from tests.unit.spec.test_rules import CONTAINER_FIELDS

FIXTURES = Path(__file__).parent / "compat"
HPA = "HorizontalPodAutoscaler"

ACCEPTED: list[tuple[str, list[str], tuple[Notice, ...]]] = [
    # fixture, the kinds kept, the info lines (once per family)
    ("service-account.yaml", ["Deployment", "Job"], (SERVICE_ACCOUNTS,)),
    ("service-account-alias.yaml", ["Deployment"], (SERVICE_ACCOUNTS,)),
    ("rbac.yaml", [], (RBAC,)),
    ("cronjob-v1beta1.yaml", ["CronJob"], (old_version("CronJob", "batch/v1beta1", "batch/v1"),)),
    ("hpa-v2beta2.yaml", ["Deployment", HPA], (old_version(HPA, "autoscaling/v2beta2", "autoscaling/v2"),)),
    ("hpa-v1.yaml", ["Deployment", HPA], (old_version(HPA, "autoscaling/v1", "autoscaling/v2"),)),
    ("hpa-v1-default.yaml", ["Deployment", HPA], (old_version(HPA, "autoscaling/v1", "autoscaling/v2"),)),
    ("status.yaml", ["Deployment"], ()),
]

REFUSED: list[tuple[str, list[str]]] = [
    # fixture, its error lines after the file name
    ("token-mount.yaml", ["Deployment/shop: spec.template.spec.containers[0].volumeMounts[0].mountPath: "
                          "no API server, so there is no service account token to mount; remove this mount"]),
    ("service-account-pull-secrets.yaml", ["ServiceAccount/shop: imagePullSecrets: a ServiceAccount's pull secrets are not "
                                           "given to its pods here; put them on the pod spec (spec.template.spec.imagePullSecrets)"]),
    ("hpa-v2beta1.yaml", [f"{HPA}/web: apiVersion: autoscaling/v2beta1 is not read (its metrics are written differently); "
                          "write autoscaling/v2, with metrics[].resource.target"]),
    ("hpa-v1-bad.yaml", [f"{HPA}/web: spec.metrics: unsupported field; supported here: scaleTargetRef, minReplicas, maxReplicas, "
                         "targetCPUUtilizationPercentage",
                         f"{HPA}/web: spec.targetCPUUtilizationPercentage: must be an integer, got '60%'"]),
    ("ingress.yaml", ["Ingress/web: kind: no HTTP routing yet; publish the Service as NodePort"]),
    ("statefulset.yaml", ["StatefulSet/db: kind: not yet; a Deployment with a persistentVolumeClaim volume runs on one node"]),
    ("pvc.yaml", ["PersistentVolumeClaim/data: kind: not needed; a pod's persistentVolumeClaim volume names a volume on its node, "
                  "made when first used"]),
    # One cause in three objects is one line; a cause in one object keeps its own line.
    ("grouped.yaml", ["3 objects (Deployment/a, Deployment/b, Deployment/c): spec.template.spec.containers[].notAField: "
                      f"unsupported field; supported here: {CONTAINER_FIELDS}",
                      "ConfigMap/settings: notAField: unsupported field; supported here: apiVersion, kind, metadata, data, binaryData"]),
]


@pytest.mark.parametrize(("fixture", "kinds", "notices"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_accepted_with_their_info_lines(fixture: str, kinds: list[str], notices: tuple[Notice, ...]) -> None:
    desired = load_desired([FIXTURES / fixture])
    assert [obj.meta.kind for obj in desired.objects] == kinds
    assert desired.notices == notices


@pytest.mark.parametrize(("fixture", "lines"), REFUSED, ids=[case[0] for case in REFUSED])
def test_refused_saying_what_to_do(fixture: str, lines: list[str]) -> None:
    with pytest.raises(ManifestError) as raised:
        load_desired([FIXTURES / fixture])
    assert str(raised.value).splitlines() == [f"{FIXTURES / fixture}: {line}" for line in lines]


def test_every_problem_is_kept_when_lines_are_grouped() -> None:
    with pytest.raises(ManifestError) as raised:
        load_desired([FIXTURES / "grouped.yaml"])
    assert [(p.obj, p.path) for p in raised.value.problems][:4] == [
        ("Deployment/a", "spec.template.spec.containers[0].notAField"),
        ("Deployment/b", "spec.template.spec.containers[0].notAField"),
        ("Deployment/b", "spec.template.spec.containers[1].notAField"),
        ("Deployment/c", "spec.template.spec.containers[0].notAField"),
    ]


def _autoscaler(fixture: str) -> HorizontalPodAutoscaler:
    (hpa,) = load_desired([FIXTURES / fixture]).of_kind(HPA)
    assert isinstance(hpa, HorizontalPodAutoscaler)
    return hpa


def test_autoscaling_v1_target_is_a_cpu_utilization_metric() -> None:
    hpa = _autoscaler("hpa-v1.yaml")
    assert (hpa.min_replicas, hpa.max_replicas, hpa.metrics) == (1, 4, (MetricTarget("cpu", average_utilization=60),))


def test_autoscaling_v1_without_a_target_means_80_percent_cpu() -> None:
    assert _autoscaler("hpa-v1-default.yaml").metrics == (MetricTarget("cpu", average_utilization=80),)


def test_autoscaling_v2beta2_reads_as_v2() -> None:
    hpa = _autoscaler("hpa-v2beta2.yaml")
    assert (hpa.min_replicas, hpa.max_replicas, hpa.metrics) == (2, 6, (MetricTarget("memory", average_utilization=70),))


def test_batch_v1beta1_cronjob_reads_as_v1() -> None:
    (cron,) = load_desired([FIXTURES / "cronjob-v1beta1.yaml"]).objects
    assert isinstance(cron, CronJob) and cron.schedule == "0 3 * * *"


def test_a_status_stanza_changes_nothing(tmp_path: Path) -> None:
    text = (FIXTURES / "status.yaml").read_text()
    (tmp_path / "web.yaml").write_text(text[: text.index("status:")])
    with_status = load_desired([FIXTURES / "status.yaml"])
    without = load_desired([tmp_path / "web.yaml"])
    assert with_status.objects == without.objects


def test_a_cause_in_one_object_keeps_a_line_per_place() -> None:
    problems = [
        Problem("a.yaml", "Deployment/web", "spec.template.spec.containers[0].x", "unsupported field"),
        Problem("a.yaml", "Deployment/web", "spec.template.spec.containers[1].x", "unsupported field"),
        Problem("b.yaml", "Deployment/api", "spec.template.spec.containers[0].x", "unsupported field"),
    ]
    assert grouped_lines(problems) == [str(problem) for problem in problems]
