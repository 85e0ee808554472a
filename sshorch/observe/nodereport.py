"""`sshorch nodes`: each node's facts, gathered in one exec (run.gather), decide Ready / NotReady. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sshorch.ipfamily import IPV4
from sshorch.forwarding import Forwarding
from sshorch.observe.facts import OPTIONAL_TOOLS, ParsedFacts
from sshorch.transport.model import NodeOutcome, SshTarget

READY = "Ready"
NOT_READY = "NotReady"
# A node that does not answer its gather within this is NotReady for the pass.
GATHER_TIMEOUT = 6.0


@dataclass(frozen=True)
class NodeReport:
    """One node in `sshorch nodes`: Ready or NotReady (and why), with its gathered facts."""

    name: str
    address: str
    status: str
    reason: str = ""
    runtime: str = ""
    runtime_version: str = ""
    cpus: int | None = None
    memory_bytes: int | None = None
    memory_available_bytes: int | None = None
    kernel: str = ""
    arch: str = ""
    hostname: str = ""
    addresses: tuple[str, ...] = ()
    disk_free_bytes: int | None = None
    fact_errors: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # what works worse on this node, and why

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "status": self.status,
            "reason": self.reason or None,
            "runtime": self.runtime or None,
            "runtime_version": self.runtime_version or None,
            "cpus": self.cpus,
            "memory_bytes": self.memory_bytes,
            "memory_available_bytes": self.memory_available_bytes,
            "kernel": self.kernel or None,
            "arch": self.arch or None,
            "hostname": self.hostname or None,
            "addresses": list(self.addresses),
            "disk_free_bytes": self.disk_free_bytes,
            "fact_errors": self.fact_errors,
            "warnings": list(self.warnings),
        }


def build_node_report(target: SshTarget, expected_runtime: str, outcome: NodeOutcome[ParsedFacts]) -> NodeReport:
    """Pure: a node is Ready when it answered and its container runtime is there."""
    if not outcome.ok or outcome.value is None:
        return NodeReport(target.name, target.address, NOT_READY, reason=outcome.error or "no answer")
    facts = outcome.value
    values = facts.values
    runtime = values.get("runtime") or {}
    meminfo = values.get("meminfo") or {}
    reason = ""
    if "runtime" in facts.errors:
        reason = f"container runtime {expected_runtime} not usable: {facts.errors['runtime']}"
    return NodeReport(
        name=target.name,
        address=target.address,
        status=NOT_READY if reason else READY,
        reason=reason,
        runtime=runtime.get("runtime", ""),
        runtime_version=runtime.get("version", ""),
        cpus=values.get("cpus"),
        memory_bytes=meminfo.get("MemTotal"),
        memory_available_bytes=meminfo.get("MemAvailable"),
        kernel=values.get("kernel", ""),
        arch=values.get("arch", ""),
        hostname=values.get("hostname", ""),
        addresses=tuple(a["address"] for a in values.get("addresses", [])),
        disk_free_bytes=values.get("disk"),
        fact_errors={k: v for k, v in facts.errors.items() if k != "runtime"},
        warnings=(
            *(f"{tool} missing: {OPTIONAL_TOOLS.get(tool, 'not found')}" for tool in values.get("missing_tools", [])),
            *_forwarding_warnings(values.get("forwarding")),
        ),
    )


def _forwarding_warnings(forwarding: Forwarding | None) -> tuple[str, ...]:
    if forwarding is None or forwarding.on:
        return ()
    name = IPV4.forwarding_name
    if forwarding.settable:
        return (f"packet forwarding off ({name} = 0): the next rules write turns it on",)
    return (f"packet forwarding off ({name} = 0) and cannot be turned on (read-only): "
            "NodePorts answer here only for pods on this node",)
