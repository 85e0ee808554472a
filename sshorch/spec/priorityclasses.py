"""PriorityClass, and each pod's priority resolved from it as Kubernetes' Priority admission does.

A pod's priorityClassName names a PriorityClass of the manifests or one of Kubernetes'
built-in classes; a pod without one gets the value of the globalDefault class, else 0.
There is no admission step here, so the value and the class's preemptionPolicy are set on
the pod spec at load (PodSpec.priority, .preemption_policy). `priority` and
`preemptionPolicy` written in a pod spec are accepted only when they equal what the class
gives, as admission requires. The classes themselves are then not kept: nothing else reads
them (Kubernetes forbids changing a class's value; a pod keeps what it got).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from .fields import Fields, Report, describe
from .limits import INT32_MAX
from .meta import parse_object_meta
from .model import CronJob, DaemonSet, Deployment, Job, ManifestObject, ObjectMeta, PodTemplate, PreemptionPolicy, PriorityClass, Source
from .names import is_dns1123_subdomain
from .workloadkinds import kind_of

KIND = "PriorityClass"
API_VERSION = "scheduling.k8s.io/v1"
# Kubernetes' built-in classes, which every cluster has.
SYSTEM_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}
# Above this, values are for the built-in classes only (Kubernetes' HighestUserDefinablePriority).
HIGHEST_USER_PRIORITY = 1_000_000_000
PREEMPTION_POLICIES: tuple[PreemptionPolicy, ...] = ("PreemptLowerPriority", "Never")
# A pod spec's fields that this module reads.
POD_PRIORITY_FIELDS = ("priorityClassName", "priority", "preemptionPolicy")
_CLASS_FIELDS = ("value", "globalDefault", "preemptionPolicy", "description")
_SUBDOMAIN_RULE = "must be a DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)"
_BUILT_IN = ", ".join(SYSTEM_CLASSES)


def _check_name(value: str) -> str | None:
    return None if is_dns1123_subdomain(value) else _SUBDOMAIN_RULE


def is_priority_class(document: object) -> bool:
    return isinstance(document, dict) and document.get("kind") == KIND


def parse_priority_class(report: Report, source: Source, document: dict[Any, Any]) -> PriorityClass | None:
    """A PriorityClass document (its metadata.namespace is ignored: the kind is cluster-scoped,
    as the API server ignores it)."""
    api_version = document.get("apiVersion")
    if api_version != API_VERSION:
        got = "" if api_version is None else f", got {describe(api_version)}"
        report.add("apiVersion", f"must be {API_VERSION} for {KIND}{got}")
        return None
    body = {k: v for k, v in document.items() if k != "status"}
    top = Fields(report, body, "", ("apiVersion", "kind", "metadata", *_CLASS_FIELDS))
    meta = parse_object_meta(report, top.raw("metadata"), kind=KIND, source=source, name_check=_check_name)
    value = top.required_int("value", -INT32_MAX - 1, INT32_MAX)
    global_default = top.get_bool("globalDefault", False)
    policy = top.get_choice("preemptionPolicy", PREEMPTION_POLICIES, "PreemptLowerPriority")
    description = top.get_str("description", "")
    if value is None:
        return None
    if meta.name.startswith("system-"):
        if SYSTEM_CLASSES.get(meta.name) != value or global_default:
            report.add("metadata.name", f"names starting with 'system-' are Kubernetes' built-in classes ({_BUILT_IN}), "
                       "which exist already with their own value; choose another name")  # fmt: skip
    elif value > HIGHEST_USER_PRIORITY:
        top.fail("value", f"must be at most {HIGHEST_USER_PRIORITY} (higher values are for {_BUILT_IN}), got {value}")
    return PriorityClass(meta, value, global_default, policy, description)


def read_pod_priority(fields: Fields) -> str:
    """A pod spec's priority fields, checked as values (against the classes in resolve_priorities);
    its priorityClassName."""
    fields.optional_int("priority", -INT32_MAX - 1, INT32_MAX)
    fields.get_choice("preemptionPolicy", PREEMPTION_POLICIES, "PreemptLowerPriority")
    return fields.get_str("priorityClassName", "", _check_name)


def _where(source: Source, other: Source) -> str:
    return f"{other.file} (document {other.document + 1})" if source.file == other.file else other.file


def _classes(reports: Sequence[Report], classes: Sequence[PriorityClass | None]) -> tuple[dict[str, PriorityClass], PriorityClass | None]:
    """The classes by name, built-in ones included, and the global default; a second
    definition of a name and a second global default are problems."""
    found: dict[str, PriorityClass] = {}
    default: PriorityClass | None = None
    for report, pc in zip(reports, classes):
        if pc is None or not pc.meta.name:
            continue
        if pc.meta.name in found:
            report.add(None, f"is defined more than once: also in {_where(pc.meta.source, found[pc.meta.name].meta.source)}")
            continue
        found[pc.meta.name] = pc
        if pc.global_default and default is not None:
            report.add("globalDefault", f"only one PriorityClass may be the global default, and {default.meta.name!r} is")
        elif pc.global_default:
            default = pc
    for name, value in SYSTEM_CLASSES.items():
        if name not in found:
            found[name] = PriorityClass(ObjectMeta(KIND, name, source=Source("<built-in>")), value)
    return found, default


def _written(document: object, path: str) -> dict[Any, Any]:
    """The pod spec at `path` (spec.template.spec) of a document, as written: whether `priority`
    was written at all is known only there (PodSpec keeps the resolved value)."""
    for key in path.split("."):
        document = document.get(key) if isinstance(document, dict) else None
    return document if isinstance(document, dict) else {}


def _with_template(obj: ManifestObject, template: PodTemplate) -> ManifestObject:
    if isinstance(obj, CronJob):
        return replace(obj, job=replace(obj.job, template=template))
    return replace(cast(Deployment | DaemonSet | Job, obj), template=template)


def resolve_priorities(
    reports: Sequence[Report], documents: Sequence[object], objects: Sequence[ManifestObject | None],
    classes: Sequence[PriorityClass | None],
) -> list[ManifestObject | None]:
    """`objects` with each pod template's priority and preemption policy set from its class;
    a class named nowhere, and a written priority or policy that differs, are problems."""
    by_name, default = _classes(reports, classes)
    resolved: list[ManifestObject | None] = []
    for report, document, obj in zip(reports, documents, objects):
        kind = kind_of(obj)
        if obj is None or kind is None:
            resolved.append(obj)
            continue
        template = kind.template_of(obj)
        spec, path = template.spec, kind.template_field
        name = spec.priority_class_name
        if name and name not in by_name:
            report.add(f"{path}.priorityClassName", f"PriorityClass {name!r} is not defined in the manifests (built-in: {_BUILT_IN})")
            resolved.append(obj)
            continue
        pc = by_name[name] if name else default
        value, policy = (pc.value, pc.preemption_policy) if pc is not None else (0, "PreemptLowerPriority")
        if pc is None:
            source = "no priorityClassName and no global default"
        else:
            source = f"{'' if name else 'the global default '}PriorityClass {pc.meta.name!r}"
        written = _written(document, path)
        given = written.get("priority")
        if isinstance(given, int) and not isinstance(given, bool) and given != value:
            report.add(f"{path}.priority", f"must be left out, or equal what admission would set ({value}: {source}), got {given}")
        given = written.get("preemptionPolicy")
        if given in PREEMPTION_POLICIES and given != policy:
            report.add(f"{path}.preemptionPolicy", f"must be left out, or equal what admission would set ({policy}: {source}), got {given}")
        if (value, policy) == (spec.priority, spec.preemption_policy):
            resolved.append(obj)
        else:
            resolved.append(_with_template(obj, replace(template, spec=replace(spec, priority=value, preemption_policy=policy))))
    return resolved
