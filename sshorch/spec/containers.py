"""One container of a pod: image, command, environment, ports, resources, mounts, probes."""

from __future__ import annotations

from typing import Literal

from .fields import Fields, Ref, Report, describe
from .downward import parse_field_ref, parse_resource_field_ref
from .model import Container, EnvFrom, EnvVar, FieldRef, KeyRef, Resources, ResourceFieldRef, VolumeMount
from .names import (
    SECRET_ENV_RULE,
    check_absolute_path,
    check_config_key,
    check_dns1123_label,
    check_env_prefix,
    check_env_var_name,
    check_image,
    check_relative_path,
    image_has_fixed_tag,
    is_shell_name,
)
from .ports import parse_container_port
from .probes import parse_probe
from .propagation import check_mount_propagation, parse_mount_propagation
from .securitycontext import parse_container_security
from .quantity import QuantityError, format_cpu, format_memory, parse_cpu_millis, parse_memory_bytes

_CONTAINER_FIELDS = (
    "name", "image", "command", "args", "workingDir", "env", "envFrom", "ports", "resources",
    "volumeMounts", "livenessProbe", "readinessProbe", "startupProbe", "imagePullPolicy", "securityContext",
)  # fmt: skip
_PULL_POLICIES: tuple[Literal["Always", "IfNotPresent", "Never"], ...] = ("Always", "IfNotPresent", "Never")
_KEY_REFS: dict[str, Literal["ConfigMap", "Secret"]] = {"configMapKeyRef": "ConfigMap", "secretKeyRef": "Secret"}
_SOURCE_REFS: dict[str, Literal["ConfigMap", "Secret"]] = {"configMapRef": "ConfigMap", "secretRef": "Secret"}


def _parse_key_ref(fields: Fields) -> KeyRef | None:
    chosen = fields.exactly_one(tuple(_KEY_REFS))
    if chosen is None:
        return None
    ref = fields.sub(chosen, ("name", "key", "optional"))
    kind = _KEY_REFS[chosen]
    key_ref = KeyRef(
        kind=kind,
        name=ref.required_str("name", check_dns1123_label),
        key=ref.required_str("key", check_config_key),
        optional=ref.get_bool("optional", False),
    )
    fields.report.refer(Ref(kind, key_ref.name, ref.at("name"), key_ref.optional, key_ref.key or None))
    return key_ref


def _parse_value_from(fields: Fields, container: str) -> KeyRef | FieldRef | ResourceFieldRef | None:
    refs = (*_KEY_REFS, "fieldRef", "resourceFieldRef")
    chosen = fields.exactly_one(refs)
    if chosen == "fieldRef":
        return parse_field_ref(fields.sub(chosen, ("fieldPath", "apiVersion")))
    if chosen == "resourceFieldRef":
        return parse_resource_field_ref(fields.sub(chosen, ("containerName", "resource", "divisor")), container)
    return _parse_key_ref(fields) if chosen is not None else None


def _parse_env_var(report: Report, path: str, value: object, container: str) -> EnvVar:
    fields = Fields(report, value, path, ("name", "value", "valueFrom"))
    name = fields.required_str("name", check_env_var_name)
    if fields.has("value") and fields.has("valueFrom"):
        fields.fail("valueFrom", "must not be set together with value")
        return EnvVar(name)
    value_from = None
    if fields.has("valueFrom"):
        value_from = _parse_value_from(fields.sub("valueFrom", (*_KEY_REFS, "fieldRef", "resourceFieldRef")), container)
    if isinstance(value_from, KeyRef) and value_from.kind == "Secret" and name and not is_shell_name(name):
        fields.fail("name", f"{SECRET_ENV_RULE}, got {describe(name)}")
    return EnvVar(name=name, value=fields.optional_str("value"), value_from=value_from)


def _parse_env_from(report: Report, path: str, value: object) -> EnvFrom:
    fields = Fields(report, value, path, ("prefix", *_SOURCE_REFS))
    prefix = fields.get_str("prefix", "", check_env_prefix)
    chosen = fields.exactly_one(tuple(_SOURCE_REFS))
    if chosen is None:
        return EnvFrom("ConfigMap", "", prefix)
    source = fields.sub(chosen, ("name", "optional"))
    kind = _SOURCE_REFS[chosen]
    env_from = EnvFrom(kind, source.required_str("name", check_dns1123_label), prefix, source.get_bool("optional", False))
    # A Secret's keys (with the prefix) become secret variables: checked against the Secret in the set.
    report.refer(Ref(kind, env_from.name, source.at("name"), env_from.optional, env_prefix=prefix if kind == "Secret" else None))
    return env_from


_RESOURCE_KEYS = ("cpu", "memory", "ephemeral-storage")


def _parse_amounts(fields: Fields) -> dict[str, int]:
    amounts = {}
    for key, parse in (("cpu", parse_cpu_millis), ("memory", parse_memory_bytes), ("ephemeral-storage", parse_memory_bytes)):
        if fields.has(key):
            try:
                amounts[key] = parse(fields.raw(key))
            except QuantityError as exc:
                fields.fail(key, f"{exc}, got {describe(fields.raw(key))}")
    return amounts


def parse_resources(report: Report, value: object, path: str) -> Resources:
    fields = Fields(report, value, path, ("requests", "limits"))
    limits_fields = fields.sub("limits", _RESOURCE_KEYS)
    requests = _parse_amounts(fields.sub("requests", _RESOURCE_KEYS))
    limits = _parse_amounts(limits_fields)
    for key, show in (("cpu", format_cpu), ("memory", format_memory), ("ephemeral-storage", format_memory)):
        if key in limits and key in requests and limits[key] < requests[key]:
            limits_fields.fail(key, f"must not be below the request ({show(requests[key])}), got {show(limits[key])}")
    # A limit without a request also sets the request, as in Kubernetes.
    return Resources(
        cpu_request_millis=requests.get("cpu", limits.get("cpu", 0)),
        memory_request_bytes=requests.get("memory", limits.get("memory", 0)),
        cpu_limit_millis=limits.get("cpu"),
        memory_limit_bytes=limits.get("memory"),
        ephemeral_storage_request_bytes=requests.get("ephemeral-storage", limits.get("ephemeral-storage", 0)),
        ephemeral_storage_limit_bytes=limits.get("ephemeral-storage"),
    )


def _parse_mount(report: Report, path: str, value: object) -> VolumeMount:
    fields = Fields(report, value, path, ("name", "mountPath", "readOnly", "subPath", "mountPropagation"))
    return VolumeMount(
        name=fields.required_str("name", check_dns1123_label),
        mount_path=fields.required_str("mountPath", check_absolute_path),
        read_only=fields.get_bool("readOnly", False),
        sub_path=fields.optional_str("subPath", check_relative_path),
        mount_propagation=parse_mount_propagation(fields),
    )


def _check_unique_mount_paths(report: Report, fields: Fields, mounts: list[VolumeMount]) -> None:
    seen: set[str] = set()
    for i, mount in enumerate(mounts):
        if mount.mount_path and mount.mount_path.rstrip("/") in seen:
            report.add(f"{fields.at('volumeMounts')}[{i}].mountPath", f"must be unique in the container, got {describe(mount.mount_path)} twice")
        seen.add(mount.mount_path.rstrip("/"))


_PROBE_KEYS = ("livenessProbe", "readinessProbe", "startupProbe")
_INIT_PROBE_RULE = "must not be set on an init container unless its restartPolicy is Always (a sidecar)"


def parse_container(report: Report, path: str, value: object, *, init: bool = False) -> Container:
    """A container, or with `init` one of initContainers: that takes restartPolicy (only
    Always, which makes it a sidecar) and, unless a sidecar, no probes, as in Kubernetes."""
    fields = Fields(report, value, path, (*_CONTAINER_FIELDS, "restartPolicy") if init else _CONTAINER_FIELDS)
    if init:
        fields.get_choice("restartPolicy", ("Always",), "Always")  # reports any other value
    sidecar = init and fields.raw("restartPolicy") == "Always"
    name = fields.required_str("name", check_dns1123_label)
    image = fields.required_str("image", check_image)
    command, args = fields.str_list("command"), fields.str_list("args")
    working_dir = fields.optional_str("workingDir", check_absolute_path)
    env = tuple(_parse_env_var(report, p, item, name) for p, item in fields.items("env"))
    env_from = tuple(_parse_env_from(report, p, item) for p, item in fields.items("envFrom"))
    ports = tuple(parse_container_port(report, p, item) for p, item in fields.items("ports"))
    resources = parse_resources(report, fields.raw("resources"), fields.at("resources"))
    mounts = [_parse_mount(report, p, item) for p, item in fields.items("volumeMounts")]
    _check_unique_mount_paths(report, fields, mounts)
    port_names = {port.name for port in ports if port.name}
    if init and not sidecar:
        for key in _PROBE_KEYS:
            if fields.has(key):
                fields.fail(key, _INIT_PROBE_RULE)
    probes = {
        key: parse_probe(report, fields.raw(key), fields.at(key), port_names=port_names, startup_or_liveness=key != "readinessProbe")
        for key in _PROBE_KEYS
        if fields.has(key) and (sidecar or not init)
    }
    # Kubernetes pulls an image without a fixed tag every time.
    default_policy: Literal["Always", "IfNotPresent"] = "IfNotPresent" if image_has_fixed_tag(image) else "Always"
    pull_policy = fields.get_choice("imagePullPolicy", _PULL_POLICIES, default_policy)
    security = parse_container_security(fields)
    check_mount_propagation(fields, mounts, security)
    return Container(
        name=name,
        image=image,
        command=command,
        args=args,
        working_dir=working_dir,
        env=env,
        env_from=env_from,
        ports=ports,
        resources=resources,
        volume_mounts=tuple(mounts),
        liveness_probe=probes.get("livenessProbe"),
        readiness_probe=probes.get("readinessProbe"),
        startup_probe=probes.get("startupProbe"),
        image_pull_policy=pull_policy,
        security=security,
        sidecar=sidecar,
    )
