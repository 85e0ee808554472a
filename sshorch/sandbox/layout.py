"""Names, addresses and paths of a sandbox: pure functions of its name and size.

Nodes of all sandboxes on a machine share 198.18.0.0/25, each sandbox taking an
aligned block of it; the upper half, 198.18.0.128/25, is the pod bridge inside
every node's own network namespace, so it never collides with a node address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from sshorch.errors import SandboxError

NODE_RANGE = ipaddress.IPv4Network("198.18.0.0/25")
POD_SUBNET = ipaddress.IPv4Network("198.18.0.128/25")
SERVICE_CIDR = ipaddress.IPv4Network("198.19.0.0/16")
# While any sandbox exists, these ranges are unreachable from the host except
# through a sandbox bridge (whose routes are more specific): an address of the
# range that no node has, or a service VIP, never follows the default route.
GUARD_ROUTES = ("198.18.0.0/24", str(SERVICE_CIDR))
MIN_PREFIX = 28
DEFAULT_ROOT = Path("/var/lib/sshorch-sandboxes")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise SandboxError(
            f"sandbox name {name!r}: use 1-32 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return name


def short_id(name: str) -> str:
    """Six hex digits: keeps interface names under the kernel's 15 characters."""
    return hashlib.sha256(name.encode()).hexdigest()[:6]


BRIDGE_PREFIX = "ssb-"


def bridge_name(name: str) -> str:
    return f"{BRIDGE_PREFIX}{short_id(name)}"


def veth_name(name: str, index: int) -> str:
    return f"ssv{short_id(name)}-{index}"


def netns_name(name: str, node: str) -> str:
    return f"sshorch-{name}-{node}"


def node_name(index: int) -> str:
    return f"node{index}"


def block_prefix(nodes: int) -> int:
    """Smallest aligned block holding network, host, broadcast and the nodes."""
    if nodes < 1:
        raise SandboxError("--nodes must be at least 1")
    needed = nodes + 3
    prefix = 32 - (needed - 1).bit_length()
    prefix = min(prefix, MIN_PREFIX)
    if prefix < NODE_RANGE.prefixlen:
        raise SandboxError(f"--nodes {nodes}: at most {NODE_RANGE.num_addresses - 3} nodes fit in {NODE_RANGE}")
    return prefix


def allocate_block(nodes: int, taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """First block of NODE_RANGE big enough for `nodes` that no other sandbox uses."""
    for block in NODE_RANGE.subnets(new_prefix=block_prefix(nodes)):
        if not any(block.overlaps(other) for other in taken):
            return block
    raise SandboxError(
        f"no room for {nodes} more nodes in {NODE_RANGE}: other sandboxes use "
        f"{', '.join(str(t) for t in taken)}; remove one with 'sshorch sandbox down --name NAME'"
    )


@dataclass(frozen=True)
class NodeLayout:
    """One sandbox node: its name, address, network namespace, veth and directory."""

    name: str
    index: int
    address: str
    netns: str
    veth: str
    directory: Path

    @property
    def mount_ns(self) -> Path:
        return self.directory / "ns" / "mnt"

    @property
    def uts_ns(self) -> Path:
        return self.directory / "ns" / "uts"

    @property
    def host_key(self) -> Path:
        return self.directory / "ssh_host_ed25519_key"

    @property
    def sshd_config(self) -> Path:
        return self.directory / "sshd_config"


@dataclass(frozen=True)
class SandboxLayout:
    """A sandbox's name, directory, address block and nodes, and the paths derived from them."""

    name: str
    directory: Path
    block: ipaddress.IPv4Network
    nodes: tuple[NodeLayout, ...]

    @property
    def bridge(self) -> str:
        return bridge_name(self.name)

    @property
    def host_address(self) -> str:
        return str(self.block.network_address + 1)

    @property
    def inventory(self) -> Path:
        return self.directory / "inventory.yml"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    @property
    def client_key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def record(self) -> Path:
        return self.directory / "sandbox.json"

    def node(self, name: str) -> NodeLayout:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise SandboxError(f"sandbox {self.name!r} has no node {name!r} (nodes: {known})")


def build_layout(name: str, root: Path, block: ipaddress.IPv4Network, count: int) -> SandboxLayout:
    directory = root / name
    first = block.network_address + 2
    nodes = tuple(
        NodeLayout(
            name=node_name(i),
            index=i,
            address=str(first + i - 1),
            netns=netns_name(name, node_name(i)),
            veth=veth_name(name, i),
            directory=directory / "nodes" / node_name(i),
        )
        for i in range(1, count + 1)
    )
    return SandboxLayout(name=name, directory=directory, block=block, nodes=nodes)
