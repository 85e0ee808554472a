"""The downward API in env: `valueFrom.fieldRef` and `valueFrom.resourceFieldRef`.

What a pod knows of itself when it is built: its name, namespace, labels and
annotations, its node and the node's address, and its containers' resources;
its own address is read on the node once the pod's network exists, before its
containers are made.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

from .fields import Fields, Report, describe
from .model import Container, DownwardAPIVolume, FieldRef, ResourceFieldRef, Volume
from .quantity import QuantityError, parse_quantity

# The pod's own address, read on the node when its containers are made (runtime/podaddress.py).
POD_ADDRESS_FIELDS = ("status.podIP", "status.podIPs")
FIELD_PATHS = ("metadata.name", "metadata.namespace", "spec.nodeName", "status.hostIP", "status.hostIPs", *POD_ADDRESS_FIELDS)
# metadata.labels['key'] and metadata.annotations['key'], as Kubernetes writes them.
_KEYED = re.compile(r"metadata\.(labels|annotations)\['([^']+)'\]")
_LATER = {
    "metadata.uid": "pods have no API object uid here; metadata.name (SSHORCH_POD) names the pod",
    "spec.serviceAccountName": "there is no API server, so no service account (see serviceAccountName)",
}
RESOURCES = ("limits.cpu", "limits.memory", "limits.ephemeral-storage",
             "requests.cpu", "requests.memory", "requests.ephemeral-storage")  # fmt: skip


def is_field_path(path: str, paths: Sequence[str] = FIELD_PATHS) -> bool:
    return path in paths or _KEYED.fullmatch(path) is not None


def keyed_field(path: str) -> tuple[str, str] | None:
    """("labels" | "annotations", key) for metadata.labels['key'] and the like."""
    match = _KEYED.fullmatch(path)
    return (match[1], match[2]) if match else None


def parse_field_ref(fields: Fields, paths: Sequence[str] = FIELD_PATHS) -> FieldRef | None:
    """`paths`: the fields allowed besides keyed labels and annotations (env's by default)."""
    path = fields.required_str("fieldPath")
    version = fields.get_str("apiVersion", "v1")
    if version != "v1":
        fields.fail("apiVersion", f"must be v1, got {describe(version)}")
    if not path:
        return None
    if path in _LATER:
        fields.fail("fieldPath", f"{path}: not supported: {_LATER[path]}")
        return None
    if not is_field_path(path, paths):
        supported = ", ".join((*paths, "metadata.labels['KEY']", "metadata.annotations['KEY']"))
        fields.fail("fieldPath", f"must be one of {supported}, got {describe(path)}")
        return None
    return FieldRef(path)


def parse_resource_field_ref(fields: Fields, container: str) -> ResourceFieldRef | None:
    """`container`: the container whose env this is (containerName defaults to it)."""
    name = fields.get_str("containerName", container)
    resource = fields.required_str("resource")
    if resource and resource not in RESOURCES:
        fields.fail("resource", f"must be one of {', '.join(RESOURCES)}, got {describe(resource)}")
        return None
    divisor = fields.raw("divisor")
    if divisor is not None:
        try:
            amount = divisor_of(divisor)
        except QuantityError as error:
            fields.fail("divisor", f"{error}, got {describe(divisor)}")
            return None
        if amount == 0:
            fields.fail("divisor", "must not be 0")
            return None
    return ResourceFieldRef(name, resource, "1" if divisor is None else str(divisor)) if resource else None


def divisor_of(text: object) -> Fraction:
    return parse_quantity(text, "must be a quantity such as 1, 1m, 1Mi")[0]


def resource_value(resource: str, amount: int | None, divisor: str) -> str:
    """The variable's value, as Kubernetes computes it: the amount (CPU in millicores,
    the rest in bytes) divided by the divisor, rounded up; "" when not known."""
    if amount is None:
        return ""
    whole = Fraction(amount, 1000) if resource.endswith(".cpu") else Fraction(amount)
    return str(math.ceil(whole / divisor_of(divisor)))


def check_resource_refs(
    report: Report, path: str, containers: Sequence[Container], init_containers: Sequence[Container] = (),
    volumes: Sequence[Volume] = (),
) -> None:
    """A resourceFieldRef's containerName names a container of the pod (an init container's
    too), in env and in downwardAPI volumes."""
    names = {c.name for c in (*init_containers, *containers)}
    refs = [
        (f"{path}.{field_name}[{i}].env[{j}].valueFrom.resourceFieldRef.containerName", var.value_from)
        for field_name, group in (("initContainers", init_containers), ("containers", containers))
        for i, container in enumerate(group)
        for j, var in enumerate(container.env)
    ]
    refs += [
        (f"{path}.volumes[{i}].downwardAPI.items[{j}].resourceFieldRef.containerName", item.ref)
        for i, volume in enumerate(volumes) if isinstance(volume.source, DownwardAPIVolume)
        for j, item in enumerate(volume.source.items)
    ]  # fmt: skip
    for where, ref in refs:
        if isinstance(ref, ResourceFieldRef) and ref.container and ref.container not in names:
            report.add(where, f"must name a container of the pod ({', '.join(sorted(names))}), got {describe(ref.container)}")
