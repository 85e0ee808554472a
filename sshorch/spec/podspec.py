"""Pod specs and pod templates, and the checks that span a pod's containers and volumes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .containers import parse_container
from .fields import Fields, Report, describe, one_of
from .initcontainers import parse_init_containers
from .limits import MAX_GRACE_PERIOD_SECONDS
from .meta import parse_template_meta
from .model import Container, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PodTemplate, Volume
from .tolerations import parse_tolerations
from .podaffinity import parse_pod_affinity, parse_topology_spread
from .pullsecrets import parse_image_pull_secrets
from .priorityclasses import POD_PRIORITY_FIELDS, read_pod_priority
from .names import check_dns1123_label, check_label_key, check_label_value
from .downward import check_resource_refs
from .serviceaccounts import SERVICE_ACCOUNT_FIELDS, read_service_account
from .securitycontext import check_pod_security, parse_pod_security, with_host_network_ports
from .volumes import parse_volume

_POD_FIELDS = (
    "containers", "volumes", "nodeSelector", "affinity", "restartPolicy", "terminationGracePeriodSeconds", "hostname",
    *SERVICE_ACCOUNT_FIELDS,
    "securityContext", "hostNetwork", "hostPID", "hostIPC",
    "tolerations", "topologySpreadConstraints",
    "initContainers", "imagePullSecrets", "enableServiceLinks",
    *POD_PRIORITY_FIELDS,
)  # fmt: skip
RestartPolicy = Literal["Always", "OnFailure", "Never"]
RESTART_POLICIES: tuple[RestartPolicy, ...] = ("Always", "OnFailure", "Never")
_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_NODE_OPERATORS: tuple[Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"], ...] = (
    "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt",
)  # fmt: skip


def _parse_node_requirement(report: Report, path: str, value: object) -> NodeSelectorRequirement:
    fields = Fields(report, value, path, ("key", "operator", "values"))
    key = fields.required_str("key", check_label_key)
    operator = fields.get_choice("operator", _NODE_OPERATORS, "Exists")
    if not fields.has("operator"):
        fields.missing("operator", f"is required: {one_of(_NODE_OPERATORS)}")
    values = fields.str_list("values")
    count = len(fields.raw("values") or ())
    if fields.raw("operator") == operator:
        if operator in ("In", "NotIn") and count == 0:
            fields.missing("values", f"must not be empty for operator {operator}")
        elif operator in ("Exists", "DoesNotExist") and count:
            fields.fail("values", f"must be empty for operator {operator}")
        elif operator in ("Gt", "Lt") and (count != 1 or not all(v.lstrip("-").isdigit() for v in values)):
            fields.fail("values", f"must be one integer for operator {operator}")
    for i, item in enumerate(values):
        if operator not in ("Gt", "Lt") and (rule := check_label_value(item)) is not None:
            report.add(f"{fields.at('values')}[{i}]", f"{rule}, got {describe(item)}")
    return NodeSelectorRequirement(key, operator, values)


def _parse_affinity(affinity: Fields) -> tuple[NodeSelectorTerm, ...]:
    node = affinity.sub("nodeAffinity", (_REQUIRED,))
    if not node.has(_REQUIRED):
        return ()
    required = node.sub(_REQUIRED, ("nodeSelectorTerms",))
    terms = []
    for path, value in required.items("nodeSelectorTerms", required=True):
        term = Fields(affinity.report, value, path, ("matchExpressions",))
        requirements = [_parse_node_requirement(affinity.report, p, item) for p, item in term.items("matchExpressions", required=True)]
        terms.append(NodeSelectorTerm(tuple(requirements)))
    return tuple(terms)


def _duplicates(fields: Fields, key: str, values: list[object]) -> Iterator[tuple[str, object]]:
    """(path, value) of each value seen before in the list; empty values (already reported) skipped."""
    seen: set[object] = set()
    for i, value in enumerate(values):
        if value and value in seen:
            yield f"{fields.at(key)}[{i}]", value
        seen.add(value)


def _check_pod(fields: Fields, containers: tuple[Container, ...], volumes: tuple[Volume, ...]) -> None:
    report = fields.report
    for path, name in _duplicates(fields, "containers", [c.name for c in containers]):
        report.add(f"{path}.name", f"must be unique in the pod, got {describe(name)} twice")
    for path, name in _duplicates(fields, "volumes", [v.name for v in volumes]):
        report.add(f"{path}.name", f"must be unique in the pod, got {describe(name)} twice")
    volume_names = sorted({v.name for v in volumes if v.name})
    seen_names: set[str] = set()
    seen_ports: set[tuple[int, str]] = set()
    seen_host_ports: set[tuple[int, str]] = set()
    for c, container in enumerate(containers):
        container_path = f"{fields.at('containers')}[{c}]"
        for m, mount in enumerate(container.volume_mounts):
            if mount.name and mount.name not in volume_names:
                known = f"one of the pod's volumes ({', '.join(volume_names)})" if volume_names else "a volume of the pod (it has none)"
                report.add(f"{container_path}.volumeMounts[{m}].name", f"must name {known}, got {describe(mount.name)}")
        for p, port in enumerate(container.ports):
            path = f"{container_path}.ports[{p}]"
            if port.name and port.name in seen_names:
                report.add(f"{path}.name", f"must be unique in the pod, got {describe(port.name)} twice")
            if port.container_port and (port.container_port, port.protocol) in seen_ports:
                report.add(f"{path}.containerPort", f"must be unique in the pod per protocol, got {port.container_port}/{port.protocol} twice")
            if port.host_port and (port.host_port, port.protocol) in seen_host_ports:
                report.add(f"{path}.hostPort", f"must be unique in the pod per protocol, got {port.host_port}/{port.protocol} twice")
            seen_names.add(port.name or "")
            seen_ports.add((port.container_port, port.protocol))
            seen_host_ports.add((port.host_port or 0, port.protocol))


def parse_pod_spec(fields: Fields, *, restart_policies: tuple[RestartPolicy, ...], kind: str) -> PodSpec:
    """A pod spec of a ``kind`` that allows ``restart_policies``."""
    report = fields.report
    containers = tuple(parse_container(report, p, item) for p, item in fields.items("containers", required=True))
    volumes = tuple(parse_volume(report, p, item) for p, item in fields.items("volumes"))
    security = parse_pod_security(fields)
    check_pod_security(report, fields.path, security, containers)
    if security.host_network:
        containers = with_host_network_ports(report, fields.path, containers)
    _check_pod(fields, containers, volumes)
    init_containers = parse_init_containers(fields, containers, volumes)
    read_service_account(fields, containers)
    check_resource_refs(report, fields.path, containers, init_containers, volumes)
    given = fields.raw("restartPolicy")
    # Kubernetes defaults an absent restartPolicy to Always, then rejects that for a Job.
    restart_policy = fields.get_choice("restartPolicy", RESTART_POLICIES, "Always")
    rule = f"must be {one_of(restart_policies)} for a {kind}"
    if given is None and restart_policy not in restart_policies:
        fields.missing("restartPolicy", rule)
    elif given == restart_policy and restart_policy not in restart_policies:
        fields.fail("restartPolicy", f"{rule}, got {describe(given)}")
    affinity = fields.sub("affinity", ("nodeAffinity", "podAffinity", "podAntiAffinity"))
    return PodSpec(
        containers=containers,
        volumes=volumes,
        node_selector=fields.str_map("nodeSelector", check_label_key, check_label_value),
        required_node_affinity=_parse_affinity(affinity),
        restart_policy=restart_policy,
        termination_grace_period_seconds=fields.get_int("terminationGracePeriodSeconds", 30, 0, MAX_GRACE_PERIOD_SECONDS),
        hostname=fields.optional_str("hostname", check_dns1123_label),
        security=security,
        tolerations=parse_tolerations(fields),
        init_containers=init_containers,
        pod_affinity=parse_pod_affinity(affinity, "podAffinity"),
        pod_anti_affinity=parse_pod_affinity(affinity, "podAntiAffinity"),
        topology_spread=parse_topology_spread(fields),
        image_pull_secrets=parse_image_pull_secrets(fields),
        enable_service_links=fields.get_bool("enableServiceLinks", True),
        priority_class_name=read_pod_priority(fields),
    )


def parse_pod_template(fields: Fields, key: str, *, restart_policies: tuple[RestartPolicy, ...], kind: str) -> PodTemplate:
    """``fields[key]``: a pod template with ``metadata`` (labels, annotations) and ``spec``."""
    template = fields.sub(key, ("metadata", "spec"), required=True)
    labels, annotations = parse_template_meta(template)
    spec_fields = template.sub("spec", _POD_FIELDS, required=True)
    spec = parse_pod_spec(spec_fields, restart_policies=restart_policies, kind=kind)
    return PodTemplate(labels=labels, annotations=annotations, spec=spec)
