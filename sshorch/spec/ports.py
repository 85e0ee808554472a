"""Port numbers and port names: container ports, and the int-or-name references to them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from .fields import Fields, Report, describe
from .model import ContainerPort
from .names import check_port_name

PROTOCOLS: tuple[Literal["TCP", "UDP"], ...] = ("TCP", "UDP")
PORT_RULE = "must be a port number 1-65535 or a port name"


def parse_port_or_name(fields: Fields, key: str, *, names: Collection[str] | None = None) -> int | str:
    """A port number, or a port name (one of ``names`` when given); 0 when missing or invalid (reported)."""
    value = fields.raw(key)
    if value is None:
        fields.missing(key)
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= 65535:
            return value
        fields.fail(key, f"{PORT_RULE}, got {describe(value)}")
        return 0
    if not isinstance(value, str):
        fields.fail(key, f"{PORT_RULE}, got {describe(value)}")
        return 0
    if (rule := check_port_name(value)) is not None:
        fields.fail(key, f"{PORT_RULE}; a name {rule}, got {describe(value)}")
        return 0
    if names is not None and value not in names:
        known = f" ({', '.join(sorted(names))})" if names else " (it has none)"
        fields.fail(key, f"must be a port number or the name of one of the container's ports{known}, got {describe(value)}")
        return 0
    return value


def parse_container_port(report: Report, path: str, value: object) -> ContainerPort:
    fields = Fields(report, value, path, ("containerPort", "name", "hostPort", "protocol"))
    return ContainerPort(
        container_port=fields.required_int("containerPort", 1, 65535) or 0,
        name=fields.optional_str("name", check_port_name),
        host_port=fields.optional_int("hostPort", 1, 65535),
        protocol=fields.get_choice("protocol", PROTOCOLS, "TCP"),
    )
