"""The connection and sshorch settings of a host, read from its merged variables.

Each problem names the file that supplied the offending value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sshorch.errors import InventoryError
from sshorch.taints import TAINT_FORM, Taint, TaintError, parse_taint

from .hostnames import HOST_NAME_RULE, is_valid_host_name
from .vaulted import Decrypt, Vaulted, reveal

__all__ = ["HostSettings", "check_cluster_settings", "parse_bool", "parse_host_settings"]

RUNTIMES = ("podman", "docker")
DEFAULT_PORT = 22
DEFAULT_USER = "root"

# Ansible's boolean(): strings are compared lower-cased and stripped.
_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})
_FALSE = frozenset({"n", "no", "off", "0", "false", "f"})
_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.@-]*")
# A DNS-1123 label: the cluster name goes into labels, file names and the crontab line.
_CLUSTER = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
CAPACITY_KEYS = ("cpu", "memory")


@dataclass(frozen=True)
class HostSettings:
    """A host's validated settings: connection from ``ansible_*`` variables, the rest from ``sshorch_*``."""

    address: str
    port: int
    user: str
    private_key_file: str | None
    become: bool
    labels: dict[str, str]
    runtime: str
    capacity: dict[str, Any]
    allow_privileged: bool = False
    taints: tuple[Taint, ...] = ()


def parse_bool(value: Any) -> bool | None:
    """Ansible truthiness (``yes``/``no``/``on``/``1``/``true``/...); ``None`` if not a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


class _Reader:
    """Looks up variables and words errors as '<file>: host '<name>': <var> ...'."""

    def __init__(
        self, name: str, variables: Mapping[str, Any], origins: Mapping[str, str], fallback: str, decrypt: Decrypt | None
    ) -> None:
        self.name, self.variables, self.origins, self.fallback = name, variables, origins, fallback
        self.decrypt = decrypt

    def first(self, *keys: str) -> tuple[str, Any] | None:
        # Of Ansible's alias variables, the later name wins when both are set.
        for key in reversed(keys):
            if key in self.variables:
                value = self.variables[key]
                if isinstance(value, Vaulted):  # a vaulted setting is read as its plaintext, as in Ansible
                    value = reveal(value, self.decrypt, f"{self.origins.get(key, self.fallback)}: host {self.name!r}: {key}")
                return key, value
        return None

    def error(self, key: str, problem: str, value: Any) -> InventoryError:
        shown = repr(value) if isinstance(value, str) else _describe(value)
        hint = " (Jinja2 templates in inventory variables are not supported)" if "{{" in str(value) else ""
        where = self.origins.get(key.partition(".")[0], self.fallback)
        return InventoryError(f"{where}: host {self.name!r}: {key} {problem}, got {shown}{hint}")


def parse_host_settings(
    name: str, variables: Mapping[str, Any], origins: Mapping[str, str], fallback: str, decrypt: Decrypt | None = None
) -> HostSettings:
    """Validated settings of host ``name``; ``origins`` maps a variable to its file."""
    reader = _Reader(name, variables, origins, fallback, decrypt)
    return HostSettings(
        address=_address(reader),
        port=_port(reader),
        user=_user(reader),
        private_key_file=_key_file(reader),
        become=_become(reader),
        labels=_labels(reader),
        runtime=_runtime(reader),
        capacity=_capacity(reader),
        allow_privileged=_allow_privileged(reader),
        taints=_taints(reader),
    )


def _address(reader: _Reader) -> str:
    found = reader.first("ansible_host", "ansible_ssh_host")
    if found is None:
        return reader.name
    key, value = found
    if not isinstance(value, str) or not is_valid_host_name(value):
        raise reader.error(key, f"must be a host name or IP address ({HOST_NAME_RULE})", value)
    return value


def _port(reader: _Reader) -> int:
    found = reader.first("ansible_port", "ansible_ssh_port")
    if found is None:
        return DEFAULT_PORT
    key, value = found
    port: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        port = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        port = int(value)
    if port is None or not 1 <= port <= 65535:
        raise reader.error(key, "must be an integer 1-65535", value)
    return port


def _user(reader: _Reader) -> str:
    found = reader.first("ansible_user", "ansible_ssh_user")
    if found is None:
        return DEFAULT_USER
    key, value = found
    if not isinstance(value, str) or len(value) > 256 or not _USER.fullmatch(value):
        raise reader.error(key, "must be a user name (letters, digits, '.', '_', '-', '@')", value)
    return value


def _key_file(reader: _Reader) -> str | None:
    found = reader.first("ansible_private_key_file", "ansible_ssh_private_key_file")
    if found is None or found[1] is None:
        return None
    key, value = found
    if not isinstance(value, str) or not value.strip():
        raise reader.error(key, "must be a file path", value)
    return os.path.expanduser(value)


def _flag(reader: _Reader, *keys: str) -> bool:
    """A boolean variable (the first of `keys` set), as Ansible reads one; absent: false."""
    found = reader.first(*keys)
    if found is None:
        return False
    key, value = found
    parsed = parse_bool(value)
    if parsed is None:
        raise reader.error(key, "must be a boolean (true/false, yes/no, on/off, 1/0)", value)
    return parsed


def _become(reader: _Reader) -> bool:
    return _flag(reader, "ansible_become")


def _allow_privileged(reader: _Reader) -> bool:
    """sshorch_allow_privileged: the node runs privileged pods and pods in its namespaces."""
    return _flag(reader, "sshorch_allow_privileged")


def _labels(reader: _Reader) -> dict[str, str]:
    found = reader.first("sshorch_labels")
    if found is None or found[1] is None:
        return {}
    key, value = found
    if not isinstance(value, Mapping):
        raise reader.error(key, "must be a mapping of label names to values", value)
    labels: dict[str, str] = {}
    for label, text in value.items():
        if not isinstance(label, str) or not label or any(c.isspace() for c in label):
            raise reader.error(key, "must have non-empty label names without spaces", label)
        labels[label] = _label_value(reader, key, text)
    return labels


def _label_value(reader: _Reader, key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # YAML 'true' means the label text "true"
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    raise reader.error(key, "must have text, number or boolean label values", value)


def _runtime(reader: _Reader) -> str:
    found = reader.first("sshorch_runtime")
    if found is None:
        return RUNTIMES[0]
    key, value = found
    if value not in RUNTIMES:
        raise reader.error(key, "must be 'podman' or 'docker'", value)
    return str(value)


def _capacity(reader: _Reader) -> dict[str, Any]:
    from sshorch.spec.quantity import QuantityError, parse_cpu_millis, parse_memory_bytes

    found = reader.first("sshorch_capacity")
    if found is None or found[1] is None:
        return {}
    key, value = found
    if not isinstance(value, Mapping):
        raise reader.error(key, "must be a mapping such as {cpu: '2', memory: 4Gi}", value)
    for name, amount in value.items():
        if name not in CAPACITY_KEYS:
            raise reader.error(key, "may only set cpu and memory", name)
        try:
            (parse_cpu_millis if name == "cpu" else parse_memory_bytes)(amount)
        except QuantityError as exc:
            raise reader.error(f"{key}.{name}", str(exc), amount) from None
    return dict(value)


def _taints(reader: _Reader) -> tuple[Taint, ...]:
    found = reader.first("sshorch_taints")
    if found is None or found[1] is None:
        return ()
    key, value = found
    if not isinstance(value, list):
        raise reader.error(key, f"must be a list of taints ({TAINT_FORM})", value)
    taints: dict[tuple[str, str], Taint] = {}
    for item in value:
        try:
            taint = parse_taint(item) if isinstance(item, str) else None
        except TaintError as exc:
            raise reader.error(key, f"has a bad taint: {exc}", item) from None
        if taint is None:
            raise reader.error(key, f"must hold taints as text ({TAINT_FORM})", item)
        taints[taint.ident] = taint
    return tuple(taints.values())


def check_cluster_settings(variables: Mapping[str, Any], origins: Mapping[str, str], fallback: str) -> None:
    """The cluster-wide ``sshorch_*`` settings of group ``all`` that must be safe before any use."""
    value = variables.get("sshorch_cluster")
    if value is None:
        return
    if not isinstance(value, str) or not _CLUSTER.fullmatch(value):
        shown = repr(value) if isinstance(value, str) else _describe(value)
        raise InventoryError(
            f"{origins.get('sshorch_cluster', fallback)}: sshorch_cluster must be a DNS-1123 label"
            f" (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit), got {shown}"
        )


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
