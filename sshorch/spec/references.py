"""Checks across the whole set of objects: duplicates, dangling references, clashing ports and addresses."""

from __future__ import annotations

from collections.abc import Sequence

from .fields import Report
from .model import ConfigMap, HorizontalPodAutoscaler, ManifestObject, Secret, Service, Source
from .names import SECRET_ENV_RULE, is_shell_name
from .pullsecrets import PULL_SECRET_RULE

Key = tuple[str, str, str]


def _where(source: Source, other: Source) -> str:
    if source.file == other.file:
        return f"{other.file} (document {other.document + 1})"
    return other.file


def _index(reports: Sequence[Report], objects: Sequence[ManifestObject | None]) -> dict[Key, int]:
    """Where each object is defined; a later definition of the same object is a problem."""
    index: dict[Key, int] = {}
    for i, (report, obj) in enumerate(zip(reports, objects)):
        if obj is None or not obj.meta.name or report.has_problems_under("metadata.namespace"):
            continue
        if obj.meta.key in index:
            first = objects[index[obj.meta.key]]
            assert first is not None
            report.add(None, f"is defined more than once: also in {_where(obj.meta.source, first.meta.source)}")
        else:
            index[obj.meta.key] = i
    return index


def _not_defined(kind: str, name: str, namespace: str) -> str:
    where = "" if namespace == "default" else f" (namespace {namespace!r})"
    return f"{kind} {name!r} is not defined in the manifests{where}"


def _check_refs(reports: Sequence[Report], objects: Sequence[ManifestObject | None], index: dict[Key, int]) -> None:
    for report, obj in zip(reports, objects):
        if obj is None:
            continue
        # One line per missing object, however often this object refers to it.
        reported: set[tuple[str, str]] = set()
        for ref in report.refs:
            target = index.get((ref.kind, obj.meta.namespace, ref.name))
            if target is None:
                if not ref.optional and (ref.kind, ref.name) not in reported:
                    report.add(ref.path, _not_defined(ref.kind, ref.name, obj.meta.namespace))
                    reported.add((ref.kind, ref.name))
                continue
            config = objects[target]
            if ref.types and isinstance(config, Secret) and config.type not in ref.types:
                report.add(ref.path, f"Secret {ref.name!r} is of type {config.type}; it {PULL_SECRET_RULE}")
                continue
            if ref.env_prefix is not None and isinstance(config, Secret):
                bad = sorted(ref.env_prefix + key for key in config.data if not is_shell_name(ref.env_prefix + key))
                if bad:
                    shown = ", ".join(repr(name) for name in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
                    report.add(ref.path, f"Secret {ref.name!r} would give the variables {shown}: each {SECRET_ENV_RULE.removeprefix('must be ')}")
            if ref.key and isinstance(config, ConfigMap) and not ref.optional and not reports[target].problems:
                keys = sorted({*config.data, *config.binary_data})
                if ref.key not in keys:
                    report.add(ref.path, f"ConfigMap {ref.name!r} has no key {ref.key!r}; its keys: {', '.join(keys) or 'none'}")


def _check_services(reports: Sequence[Report], objects: Sequence[ManifestObject | None]) -> None:
    node_ports: dict[tuple[int, str], str] = {}
    cluster_ips: dict[str, str] = {}
    for report, obj in zip(reports, objects):
        if not isinstance(obj, Service):
            continue
        name = f"Service {obj.meta.namespace}/{obj.meta.name}"
        if obj.cluster_ip:
            if obj.cluster_ip in cluster_ips:
                report.add("spec.clusterIP", f"must be unique, got {obj.cluster_ip} which {cluster_ips[obj.cluster_ip]} uses too")
            cluster_ips.setdefault(obj.cluster_ip, name)
        for i, port in enumerate(obj.ports):
            if port.node_port:
                key = (port.node_port, port.protocol)
                if key in node_ports:
                    report.add(f"spec.ports[{i}].nodePort", f"must be unique, got {port.node_port}/{port.protocol} which {node_ports[key]} uses too")
                node_ports.setdefault(key, name)


def _check_autoscalers(reports: Sequence[Report], objects: Sequence[ManifestObject | None]) -> None:
    targets: dict[Key, str] = {}
    for report, obj in zip(reports, objects):
        if isinstance(obj, HorizontalPodAutoscaler) and obj.target_name:
            key = (obj.target_kind, obj.meta.namespace, obj.target_name)
            if key in targets:
                report.add("spec.scaleTargetRef.name", f"{obj.target_kind} {obj.target_name!r} is already scaled by {targets[key]}")
            targets.setdefault(key, f"HorizontalPodAutoscaler {obj.meta.name!r}")


def check_set(reports: Sequence[Report], objects: Sequence[ManifestObject | None]) -> None:
    """Adds the problems of the set to the report of the document each is in."""
    index = _index(reports, objects)
    _check_refs(reports, objects, index)
    _check_services(reports, objects)
    _check_autoscalers(reports, objects)
