"""Services (ClusterIP, NodePort, LoadBalancer) and HorizontalPodAutoscalers."""

from __future__ import annotations

from typing import Literal

from .fields import Fields, describe
from .limits import MAX_REPLICAS
from .loadbalancer import LOAD_BALANCER_FIELDS, parse_external_traffic
from .model import (
    HorizontalPodAutoscaler,
    MetricTarget,
    ObjectMeta,
    ScalingBehavior,
    ScalingPolicy,
    ScalingRules,
    Service,
    ServicePort,
)
from .names import check_address, check_dns1123_label, check_label_key, check_label_value
from .ports import PROTOCOLS, parse_port_or_name
from .quantity import QuantityError, parse_cpu_millis, parse_memory_bytes

_SERVICE_TYPES: tuple[Literal["ClusterIP", "NodePort", "LoadBalancer"], ...] = ("ClusterIP", "NodePort", "LoadBalancer")
_RESOURCES: tuple[Literal["cpu", "memory"], ...] = ("cpu", "memory")
_TARGET_KINDS: tuple[Literal["Deployment"], ...] = ("Deployment",)
_TARGET_TYPES = ("Utilization", "AverageValue")
_POLICY_TYPES: tuple[Literal["Pods", "Percent"], ...] = ("Pods", "Percent")
_SELECT_POLICIES: tuple[Literal["Max", "Min", "Disabled"], ...] = ("Max", "Min", "Disabled")
_RULES_FIELDS = ("stabilizationWindowSeconds", "selectPolicy", "policies")


def _parse_service_port(fields: Fields, service_type: str) -> ServicePort:
    port = fields.required_int("port", 1, 65535) or 0
    target = parse_port_or_name(fields, "targetPort") if fields.has("targetPort") else port
    node_port = fields.optional_int("nodePort", 1, 65535)
    if node_port is not None and service_type not in ("NodePort", "LoadBalancer"):
        fields.fail("nodePort", f"is only allowed when type is NodePort or LoadBalancer, got type {service_type}")
    return ServicePort(
        port=port,
        target_port=target,
        name=fields.optional_str("name", check_dns1123_label),
        protocol=fields.get_choice("protocol", PROTOCOLS, "TCP"),
        node_port=node_port,
    )


def _check_service_ports(spec: Fields, ports: list[ServicePort]) -> None:
    names: set[str] = set()
    numbers: set[tuple[int, str]] = set()
    unnamed = [i for i, port in enumerate(ports) if port.name is None and not spec.report.has_problems_under(f"{spec.at('ports')}[{i}]")]
    if len(ports) > 1 and unnamed:
        spec.fail("ports", "every port must have a name when a Service has more than one")
    for i, port in enumerate(ports):
        path = f"{spec.at('ports')}[{i}]"
        if port.name and port.name in names:
            spec.report.add(f"{path}.name", f"must be unique in the Service, got {describe(port.name)} twice")
        if port.port and (port.port, port.protocol) in numbers:
            spec.report.add(f"{path}.port", f"must be unique in the Service per protocol, got {port.port}/{port.protocol} twice")
        names.add(port.name or "")
        numbers.add((port.port, port.protocol))


def parse_service(top: Fields, meta: ObjectMeta) -> Service:
    spec = top.sub("spec", ("type", "selector", "ports", "clusterIP", *LOAD_BALANCER_FIELDS), required=True)
    service_type = spec.get_choice("type", _SERVICE_TYPES, "ClusterIP")
    cluster_ip = spec.optional_str("clusterIP")
    if cluster_ip == "None":
        spec.fail("clusterIP", "headless Services (clusterIP: None) are not supported; omit clusterIP or give an IPv4 address")
        cluster_ip = None
    elif cluster_ip == "":
        cluster_ip = None  # allocate one, as Kubernetes does for ""
    elif cluster_ip is not None and (rule := check_address(cluster_ip)) is not None:
        spec.fail("clusterIP", f"{rule}, got {describe(cluster_ip)}")
        cluster_ip = None
    selector = spec.str_map("selector", check_label_key, check_label_value)
    if not spec.raw("selector"):
        spec.missing("selector", "is required: sshorch has no manual Endpoints")
    ports = []
    for path, value in spec.items("ports", required=True):
        fields = Fields(spec.report, value, path, ("name", "port", "targetPort", "protocol", "nodePort"))
        ports.append(_parse_service_port(fields, service_type))
    _check_service_ports(spec, ports)
    external = parse_external_traffic(spec, service_type)
    return Service(
        meta=meta, ports=tuple(ports), selector=selector, type=service_type, cluster_ip=cluster_ip,
        external_traffic_policy=external.policy, load_balancer_source_ranges=external.source_ranges,
        allocate_load_balancer_node_ports=external.allocate_node_ports,
    )


def _parse_metric(fields: Fields) -> MetricTarget:
    fields.get_choice("type", ("Resource",), "Resource")
    if not fields.has("type"):
        fields.missing("type", "is required: Resource")
    resource = fields.sub("resource", ("name", "target"), required=True)
    name = resource.get_choice("name", _RESOURCES, "cpu")
    if not resource.has("name"):
        resource.missing("name", "is required: cpu or memory")
    target = resource.sub("target", ("type", "averageUtilization", "averageValue"), required=True)
    kind = target.get_choice("type", _TARGET_TYPES, "Utilization")
    if not target.has("type"):
        target.missing("type", "is required: Utilization or AverageValue")
    utilization = target.optional_int("averageUtilization", 1)
    value = None
    if target.has("averageValue"):
        try:
            value = (parse_cpu_millis if name == "cpu" else parse_memory_bytes)(target.raw("averageValue"))
        except QuantityError as exc:
            target.fail("averageValue", f"{exc}, got {describe(target.raw('averageValue'))}")
    wanted, unwanted = ("averageUtilization", "averageValue") if kind == "Utilization" else ("averageValue", "averageUtilization")
    if target.raw("type") == kind:
        if not target.has(wanted):
            target.missing(wanted, f"is required when type is {kind}")
        if target.has(unwanted):
            target.fail(unwanted, f"must not be set when type is {kind}")
    if value == 0:
        target.fail("averageValue", "must be greater than 0")
    return MetricTarget(name, average_utilization=utilization if kind == "Utilization" else None,
                        average_value=value if kind == "AverageValue" else None)  # fmt: skip


def _parse_policy(fields: Fields) -> ScalingPolicy | None:
    kind = fields.get_choice("type", _POLICY_TYPES, "Pods")
    if not fields.has("type"):
        fields.missing("type", "is required: Pods or Percent")
    value = fields.required_int("value", 1)
    period = fields.required_int("periodSeconds", 1, 1800)
    if value is None or period is None:
        return None
    return ScalingPolicy(kind, value, period)


def _parse_rules(fields: Fields, default: ScalingRules) -> ScalingRules:
    """scaleUp or scaleDown; what is not given is Kubernetes' default (each field on its own)."""
    window = fields.get_int("stabilizationWindowSeconds", default.stabilization_window_seconds, 0, 3600)
    select = fields.get_choice("selectPolicy", _SELECT_POLICIES, default.select_policy)
    policies = default.policies
    if fields.raw("policies") == []:
        fields.fail("policies", "must have at least one policy; omit policies for the defaults")
    elif fields.has("policies"):
        parsed = [_parse_policy(Fields(fields.report, v, p, ("type", "value", "periodSeconds"))) for p, v in fields.items("policies")]
        policies = tuple(policy for policy in parsed if policy is not None) or default.policies
    return ScalingRules(stabilization_window_seconds=window, policies=policies, select_policy=select)


def _parse_behavior(fields: Fields) -> ScalingBehavior:
    defaults = ScalingBehavior()
    return ScalingBehavior(
        scale_up=_parse_rules(fields.sub("scaleUp", _RULES_FIELDS), defaults.scale_up),
        scale_down=_parse_rules(fields.sub("scaleDown", _RULES_FIELDS), defaults.scale_down),
    )


def parse_autoscaler(top: Fields, meta: ObjectMeta) -> HorizontalPodAutoscaler:
    spec = top.sub("spec", ("scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior"), required=True)
    ref = spec.sub("scaleTargetRef", ("apiVersion", "kind", "name"), required=True)
    ref.get_choice("apiVersion", ("apps/v1",), "apps/v1")
    target_kind = ref.get_choice("kind", _TARGET_KINDS, "Deployment")
    if not ref.has("kind"):
        ref.missing("kind", "is required: Deployment")
    target_name = ref.required_str("name", check_dns1123_label)
    min_replicas = spec.get_int("minReplicas", 1, 1, MAX_REPLICAS)
    max_replicas = spec.required_int("maxReplicas", 1, MAX_REPLICAS)
    if max_replicas is not None and max_replicas < min_replicas:
        spec.fail("maxReplicas", f"must be at least minReplicas ({min_replicas}), got {max_replicas}")
    metrics = tuple(_parse_metric(Fields(spec.report, v, p, ("type", "resource"))) for p, v in spec.items("metrics"))
    return HorizontalPodAutoscaler(
        meta=meta,
        target_kind=target_kind,
        target_name=target_name,
        max_replicas=max_replicas or min_replicas,
        min_replicas=min_replicas,
        # autoscaling/v2 defaults to 80% CPU utilization.
        metrics=metrics or (MetricTarget("cpu", average_utilization=80),),
        behavior=_parse_behavior(spec.sub("behavior", ("scaleUp", "scaleDown"))),
    )
