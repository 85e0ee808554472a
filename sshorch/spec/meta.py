"""Object metadata, labels, annotations and label selectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from sshorch.inventory.model import FrozenMap

from .annotations import DEPENDS_ON, KNOWN_ANNOTATIONS, POD_TEMPLATE, SSHORCH_PREFIX, check_annotation_placement, parse_depends_on
from .fields import Check, Fields, Ref, Report, describe, one_of
from .model import DEFAULT_NAMESPACE, LabelSelector, LabelSelectorRequirement, ObjectMeta, Source
from .names import check_dns1123_label, check_label_key, check_label_value

_SELECTOR_OPERATORS: tuple[Literal["In", "NotIn", "Exists", "DoesNotExist"], ...] = ("In", "NotIn", "Exists", "DoesNotExist")


def check_user_label_key(key: str) -> str | None:
    # sshorch finds what it owns by its sshorch.io/ labels (house rule 4).
    if key.startswith(SSHORCH_PREFIX):
        return "must not use the sshorch.io/ prefix, which is reserved for the labels sshorch sets"
    return check_label_key(key)


def parse_labels(fields: Fields, key: str = "labels") -> FrozenMap[str, str]:
    return fields.str_map(key, check_user_label_key, check_label_value)


def parse_annotations(fields: Fields, kind: str, key: str = "annotations") -> FrozenMap[str, str]:
    """Annotations of an object of ``kind`` (or a pod template); sshorch.io/ keys must be known ones."""
    annotations = fields.str_map(key, check_label_key)
    kept: dict[str, str] = {}
    for name, value in annotations.items():
        path = f"{fields.at(key)}[{name}]"
        if not name.startswith(SSHORCH_PREFIX):
            kept[name] = value
        elif (rule := check_annotation_placement(name, kind)) is not None:
            fields.report.add(path, rule)
        elif (rule := KNOWN_ANNOTATIONS[name].check(value)) is not None:
            fields.report.add(path, f"{rule}, got {describe(value)}")
        else:
            kept[name] = value
            if name == DEPENDS_ON:
                for ref_kind, ref_name in parse_depends_on(value):
                    fields.report.refer(Ref(ref_kind, ref_name, path))
    return FrozenMap(kept)


def _check_namespace(value: str) -> str | None:
    # An empty namespace is the default one, as kubectl reads it.
    return None if value == "" else check_dns1123_label(value)


def parse_object_meta(report: Report, value: object, *, kind: str, source: Source, name_check: Check) -> ObjectMeta:
    fields = Fields(report, value, "metadata", ("name", "namespace", "labels", "annotations"))
    if value is None:
        report.add("metadata", "is required")
        fields.broken = True
    return ObjectMeta(
        kind=kind,
        name=fields.required_str("name", name_check),
        namespace=fields.get_str("namespace", "", _check_namespace) or DEFAULT_NAMESPACE,
        labels=parse_labels(fields),
        annotations=parse_annotations(fields, kind),
        source=source,
    )


def parse_template_meta(fields: Fields, where: str = POD_TEMPLATE) -> tuple[FrozenMap[str, str], FrozenMap[str, str]]:
    """The labels and annotations of a pod or job template's ``metadata``."""
    meta = fields.sub("metadata", ("labels", "annotations"))
    return parse_labels(meta), parse_annotations(meta, where)


def _parse_requirement(report: Report, path: str, value: object) -> LabelSelectorRequirement | None:
    """One matchExpressions entry, or None when it is invalid (and reported)."""
    fields = Fields(report, value, path, ("key", "operator", "values"))
    key = fields.required_str("key", check_label_key)
    given = fields.raw("operator")
    operator = fields.get_choice("operator", _SELECTOR_OPERATORS, "Exists")
    if given is None:
        fields.missing("operator", f"is required: {one_of(_SELECTOR_OPERATORS)}")
    values = fields.str_list("values")
    for i, item in enumerate(values):
        if (rule := check_label_value(item)) is not None:
            report.add(f"{fields.at('values')}[{i}]", f"{rule}, got {describe(item)}")
    if given == operator:
        if operator in ("In", "NotIn") and not fields.raw("values"):
            fields.missing("values", f"must not be empty for operator {operator}")
        elif operator in ("Exists", "DoesNotExist") and fields.raw("values"):
            fields.fail("values", f"must be empty for operator {operator}")
    if not key or given != operator or fields.broken:
        return None
    return LabelSelectorRequirement(key=key, operator=operator, values=values)


def parse_label_selector(report: Report, value: object, path: str) -> LabelSelector:
    fields = Fields(report, value, path, ("matchLabels", "matchExpressions"))
    match_labels = fields.str_map("matchLabels", check_label_key, check_label_value)
    expressions = []
    for item_path, item in fields.items("matchExpressions"):
        requirement = _parse_requirement(report, item_path, item)
        if requirement is not None:
            expressions.append(requirement)
    if not fields.broken and not fields.raw("matchLabels") and not fields.raw("matchExpressions"):
        report.add(path, "must not be empty: give matchLabels or matchExpressions")
    return LabelSelector(match_labels=match_labels, match_expressions=tuple(expressions))


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.match_labels.items()):
        return False
    for requirement in selector.match_expressions:
        present = requirement.key in labels
        value = labels.get(requirement.key)
        if requirement.operator == "In" and value not in requirement.values:
            return False
        if requirement.operator == "NotIn" and present and value in requirement.values:
            return False
        if requirement.operator == "Exists" and not present:
            return False
        if requirement.operator == "DoesNotExist" and present:
            return False
    return True
