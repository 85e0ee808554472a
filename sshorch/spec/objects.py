"""One document to one typed object: kind and apiVersion, metadata, then the kind's own fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .configs import parse_config_map, parse_secret
from .fields import Check, Fields, Ref, Report, describe
from .inertkinds import INERT_KINDS, read_inert
from .kindhints import unsupported_kind
from .kinds import API_VERSIONS, SUPPORTED
from .meta import parse_object_meta
from .model import HorizontalPodAutoscaler, ManifestObject, ObjectMeta, Source
from .names import check_dns1035_label, check_dns1123_label, check_max_length
from .oldversions import current_version
from .servicespec import parse_autoscaler, parse_service
from .workloads import parse_cron_job, parse_daemon_set, parse_deployment, parse_job

Parser = Callable[[Fields, ObjectMeta], ManifestObject]

_PARSERS: dict[str, tuple[tuple[str, ...], Parser]] = {
    "ConfigMap": (("data", "binaryData"), parse_config_map),
    "Secret": (("type", "data", "stringData"), parse_secret),
    "Deployment": (("spec",), parse_deployment),
    "DaemonSet": (("spec",), parse_daemon_set),
    "Service": (("spec",), parse_service),
    "Job": (("spec",), parse_job),
    "CronJob": (("spec",), parse_cron_job),
    "HorizontalPodAutoscaler": (("spec",), parse_autoscaler),
}
_NAME_CHECKS: dict[str, Check] = {
    # Service names become environment variable names and DNS names: DNS-1035, as in Kubernetes.
    "Service": check_dns1035_label,
    # A CronJob's Jobs get an 11-character suffix.
    "CronJob": check_max_length(52, check_dns1123_label),
}


def object_label(document: object) -> str | None:
    """``Kind/name`` for messages, from whatever the document holds."""
    if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
        return None
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{document['kind']}/{name}" if isinstance(name, str) and name else str(document["kind"])


def _check_kind(report: Report, document: dict[object, object]) -> str | None:
    kind, api_version = document.get("kind"), document.get("apiVersion")
    if kind is None:
        report.add("kind", f"is required; supported: {SUPPORTED}")
        return None
    if not isinstance(kind, str) or kind not in API_VERSIONS:
        report.add("kind", unsupported_kind(kind))
        return None
    if api_version != API_VERSIONS[kind]:
        got = "" if api_version is None else f", got {describe(api_version)}"
        report.add("apiVersion", f"must be {API_VERSIONS[kind]} for {kind}{got}")
        return None
    return kind


def without_status(document: dict[Any, Any]) -> dict[Any, Any]:
    """A status stanza is what a cluster reported, not a wish: ignored, as kubectl apply ignores it."""
    return {key: value for key, value in document.items() if key != "status"}


def parse_object(report: Report, source: Source, document: object) -> ManifestObject | None:
    """The typed object of one document, or None when its kind is unusable (reported)."""
    if not isinstance(document, dict):
        report.add(None, f"must be a mapping (a Kubernetes object), got {describe(document)}")
        return None
    if document.get("kind") in INERT_KINDS:
        read_inert(report, source, document, str(document["kind"]))
        return None
    current = current_version(report, document)
    kind = None if current is None else _check_kind(report, current)
    if current is None or kind is None:
        return None
    top_fields, parse = _PARSERS[kind]
    top = Fields(report, without_status(current), "", ("apiVersion", "kind", "metadata", *top_fields))
    name_check = _NAME_CHECKS.get(kind, check_dns1123_label)
    meta = parse_object_meta(report, top.raw("metadata"), kind=kind, source=source, name_check=name_check)
    obj = parse(top, meta)
    if isinstance(obj, HorizontalPodAutoscaler):
        report.refer(Ref(obj.target_kind, obj.target_name, "spec.scaleTargetRef.name"))
    return obj
