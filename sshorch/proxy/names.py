"""Chain names: our prefix plus a hash, so the same service gets the same chain every run."""

from __future__ import annotations

import base64
import hashlib
import re

from sshorch.proxy.model import Endpoint, ServicePort

PREFIX = "SSHORCH-"
MAX_CHAIN_LENGTH = 28  # iptables refuses longer chain names

SERVICES = "SSHORCH-SERVICES"
NODEPORTS = "SSHORCH-NODEPORTS"
MARK_MASQ = "SSHORCH-MARK-MASQ"
POSTROUTING = "SSHORCH-POSTROUTING"
FORWARD = "SSHORCH-FORWARD"
HOSTPORTS = "SSHORCH-HOSTPORTS"
CANARY = "SSHORCH-CANARY"

SVC_PREFIX = "SSHORCH-SVC-"
SEP_PREFIX = "SSHORCH-SEP-"

# A chain we may declare and delete: ours, and safe to write into restore text.
_OWNED = re.compile(r"^SSHORCH-[A-Za-z0-9_-]+$")


def chain_name(prefix: str, *parts: str) -> str:
    """prefix + base32(sha256(parts)), cut to iptables' limit; the same parts give the same name."""
    if not prefix.startswith(PREFIX) or len(prefix) > MAX_CHAIN_LENGTH - 8:
        raise ValueError(f"chain prefix {prefix!r}: must start with {PREFIX} and leave room for a hash")
    # Length-prefixed so ("a", "bc") and ("ab", "c") hash differently.
    data = "".join(f"{len(part)}:{part};" for part in parts).encode()
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode()
    return (prefix + digest)[:MAX_CHAIN_LENGTH]


def _port_parts(port: ServicePort) -> tuple[str, ...]:
    return (port.namespace, port.service, port.port_name, port.protocol)


def service_chain(port: ServicePort) -> str:
    return chain_name(SVC_PREFIX, *_port_parts(port))


def endpoint_chain(port: ServicePort, endpoint: Endpoint) -> str:
    return chain_name(SEP_PREFIX, *_port_parts(port), f"{endpoint.address}:{endpoint.port}")


def is_owned_chain(name: str) -> bool:
    return len(name) <= MAX_CHAIN_LENGTH and bool(_OWNED.match(name))
