"""Old apiVersions that differ from the current ones only in name, read as the current ones.

Each is read with an info line saying so. autoscaling/v1 has one field of its own
(targetCPUUtilizationPercentage), rewritten as the v2 CPU utilization metric it
means; autoscaling/v2beta1 writes its metrics differently and is refused.
"""

from __future__ import annotations

from typing import Any

from .fields import Fields, Report
from .notices import old_version

_HPA = "HorizontalPodAutoscaler"
_HPA_V1_SPEC = ("scaleTargetRef", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage")

# (kind, old apiVersion): the current apiVersion it is the same as.
_SAME: dict[tuple[str, str], str] = {
    ("CronJob", "batch/v1beta1"): "batch/v1",
    (_HPA, "autoscaling/v2beta2"): "autoscaling/v2",
    (_HPA, "autoscaling/v1"): "autoscaling/v2",
}
_REFUSED: dict[tuple[str, str], str] = {
    (_HPA, "autoscaling/v2beta1"): (
        "autoscaling/v2beta1 is not read (its metrics are written differently); write autoscaling/v2, "
        "with metrics[].resource.target"
    ),
}


def _hpa_v1_spec(report: Report, spec: object) -> object:
    """An autoscaling/v1 spec as the autoscaling/v2 spec it means."""
    if not isinstance(spec, dict):
        return spec  # the v2 parser reports it
    fields = Fields(report, spec, "spec", _HPA_V1_SPEC)
    current = {key: spec[key] for key in _HPA_V1_SPEC[:3] if key in spec}
    target = fields.optional_int("targetCPUUtilizationPercentage", 1)
    # Without it, v1 means 80% CPU, as v2 does without metrics.
    if target is not None:
        resource = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}
        current["metrics"] = [{"type": "Resource", "resource": resource}]
    return current


def current_version(report: Report, document: dict[Any, Any]) -> dict[Any, Any] | None:
    """``document`` in the current apiVersion of its kind: itself when it is written so (or in a
    version not known here, for the caller to report), a rewritten copy when its version is an old
    name for the current one (noted), None when its old version is not read (reported)."""
    kind, old = document.get("kind"), document.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(old, str):
        return document  # the caller reports it
    if (kind, old) in _REFUSED:
        report.add("apiVersion", _REFUSED[kind, old])
        return None
    current = _SAME.get((kind, old))
    if current is None:
        return document
    report.note(old_version(kind, old, current))
    rewritten = {**document, "apiVersion": current}
    if (kind, old) == (_HPA, "autoscaling/v1"):
        rewritten["spec"] = _hpa_v1_spec(report, document.get("spec"))
    return rewritten
