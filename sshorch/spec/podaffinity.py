"""A pod spec's `affinity.podAffinity`, `affinity.podAntiAffinity` and
`topologySpreadConstraints`, validated as Kubernetes validates them."""

from __future__ import annotations

from typing import Literal

from .fields import Fields, Report, describe
from .meta import parse_label_selector
from .model import LabelSelector, PodAffinityRules, PodAffinityTerm, TopologySpreadConstraint, WeightedPodAffinityTerm
from .names import check_dns1123_label, check_label_key

_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
_TERM_FIELDS = ("labelSelector", "namespaces", "namespaceSelector", "topologyKey", "matchLabelKeys", "mismatchLabelKeys")
_SPREAD_FIELDS = (
    "maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector", "minDomains",
    "nodeAffinityPolicy", "nodeTaintsPolicy", "matchLabelKeys",
)  # fmt: skip
_WHEN: tuple[Literal["DoNotSchedule", "ScheduleAnyway"], ...] = ("DoNotSchedule", "ScheduleAnyway")
_POLICIES: tuple[Literal["Honor", "Ignore"], ...] = ("Honor", "Ignore")


def _selector(fields: Fields) -> LabelSelector | None:
    """None when absent (it matches no pod); {} matches every pod, as in Kubernetes."""
    value = fields.raw("labelSelector")
    if value is None:
        return None
    if value == {}:
        return LabelSelector()
    return parse_label_selector(fields.report, value, fields.at("labelSelector"))


def _label_keys(fields: Fields, key: str, selector: LabelSelector | None) -> tuple[str, ...]:
    """matchLabelKeys or mismatchLabelKeys: label keys, only beside a labelSelector that has not got them."""
    keys = fields.str_list(key)
    for i, label in enumerate(keys):
        where = f"{fields.at(key)}[{i}]"
        if (rule := check_label_key(label)) is not None:
            fields.report.add(where, f"{rule}, got {describe(label)}")
        elif selector is None:
            fields.report.add(where, "needs a labelSelector, as in Kubernetes")
        elif label in selector.match_labels or any(r.key == label for r in selector.match_expressions):
            fields.report.add(where, f"must not also be a key of labelSelector, got {describe(label)}")
    return keys


def _parse_term(fields: Fields) -> PodAffinityTerm:
    report = fields.report
    namespaces = fields.str_list("namespaces")
    for i, name in enumerate(namespaces):
        if (rule := check_dns1123_label(name)) is not None:
            report.add(f"{fields.at('namespaces')}[{i}]", f"{rule}, got {describe(name)}")
    # Namespaces carry no labels here: only the empty selector (every namespace) has a meaning.
    everywhere = fields.raw("namespaceSelector")
    if everywhere not in (None, {}):
        fields.fail("namespaceSelector", "must be {} (every namespace) here: list the namespaces under namespaces instead")
    selector = _selector(fields)
    match = _label_keys(fields, "matchLabelKeys", selector)
    mismatch = _label_keys(fields, "mismatchLabelKeys", selector)
    for i, label in enumerate(mismatch):
        if label in match:
            report.add(f"{fields.at('mismatchLabelKeys')}[{i}]", f"must not also be in matchLabelKeys, got {describe(label)}")
    return PodAffinityTerm(
        selector=selector,
        topology_key=fields.required_str("topologyKey", check_label_key),
        namespaces=namespaces,
        all_namespaces=everywhere == {},
        match_label_keys=match,
        mismatch_label_keys=mismatch,
    )


def _parse_weighted(report: Report, path: str, value: object) -> WeightedPodAffinityTerm:
    fields = Fields(report, value, path, ("weight", "podAffinityTerm"))
    weight = fields.required_int("weight", 1, 100) or 0
    return WeightedPodAffinityTerm(weight, _parse_term(fields.sub("podAffinityTerm", _TERM_FIELDS, required=True)))


def parse_pod_affinity(affinity: Fields, key: str) -> PodAffinityRules:
    """``affinity[key]``: podAffinity or podAntiAffinity."""
    rules = affinity.sub(key, (_REQUIRED, _PREFERRED))
    return PodAffinityRules(
        required=tuple(_parse_term(Fields(rules.report, v, p, _TERM_FIELDS)) for p, v in rules.items(_REQUIRED)),
        preferred=tuple(_parse_weighted(rules.report, p, v) for p, v in rules.items(_PREFERRED)),
    )


def _parse_constraint(report: Report, path: str, value: object) -> TopologySpreadConstraint:
    fields = Fields(report, value, path, _SPREAD_FIELDS)
    when = fields.get_choice("whenUnsatisfiable", _WHEN, "DoNotSchedule")
    if not fields.has("whenUnsatisfiable"):
        fields.missing("whenUnsatisfiable", "is required: DoNotSchedule or ScheduleAnyway")
    min_domains = fields.optional_int("minDomains", 1)
    if min_domains is not None and when != "DoNotSchedule":
        fields.fail("minDomains", "is only allowed with whenUnsatisfiable DoNotSchedule")
    selector = _selector(fields)
    keys = _label_keys(fields, "matchLabelKeys", selector)
    return TopologySpreadConstraint(
        max_skew=fields.required_int("maxSkew", 1) or 1,
        topology_key=fields.required_str("topologyKey", check_label_key),
        when_unsatisfiable=when,
        selector=selector,
        min_domains=min_domains,
        node_affinity_policy=fields.get_choice("nodeAffinityPolicy", _POLICIES, "Honor"),
        node_taints_policy=fields.get_choice("nodeTaintsPolicy", _POLICIES, "Ignore"),
        match_label_keys=keys,
    )


def parse_topology_spread(fields: Fields) -> tuple[TopologySpreadConstraint, ...]:
    """A pod spec's topologySpreadConstraints; one (topologyKey, whenUnsatisfiable) pair at most once."""
    constraints = []
    seen: set[tuple[str, str]] = set()
    for path, item in fields.items("topologySpreadConstraints"):
        constraint = _parse_constraint(fields.report, path, item)
        pair = (constraint.topology_key, constraint.when_unsatisfiable)
        if constraint.topology_key and pair in seen:
            fields.report.add(path, f"must not repeat topologyKey {constraint.topology_key!r} with {constraint.when_unsatisfiable}")
        seen.add(pair)
        constraints.append(constraint)
    return tuple(constraints)
