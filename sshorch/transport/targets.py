"""From inventory hosts to SSH targets and connection options."""

from __future__ import annotations

import socket
from pathlib import Path

from sshorch.inventory import Host, Inventory
from sshorch.transport.connection import ConnectOptions, SshTarget

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


def target_for(host: Host) -> SshTarget:
    return SshTarget(
        name=host.name,
        address=host.address,
        port=host.port,
        user=host.user,
        key_file=host.private_key_file,
        become=host.become,
    )


def local_address_for(address: str) -> str | None:
    """The address this machine uses to reach `address`, as the node sees us.

    A UDP socket's connect only asks the routing table: nothing is sent."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((address, 22))
            return str(probe.getsockname()[0])
    except OSError:
        return None


def known_hosts_for(inventory: Inventory, override: Path | None = None) -> Path:
    """--known-hosts, else the inventory's sshorch_known_hosts, else ~/.ssh/known_hosts."""
    if override is not None:
        return override.expanduser()
    configured = inventory.cluster_vars.get("sshorch_known_hosts")
    return Path(str(configured) if configured else DEFAULT_KNOWN_HOSTS).expanduser()


def connect_options(
    inventory: Inventory,
    *,
    known_hosts: Path | None = None,
    accept_new_host_keys: bool = False,
    connect_timeout: float = 5.0,
) -> ConnectOptions:
    return ConnectOptions(
        known_hosts=known_hosts_for(inventory, known_hosts),
        accept_new_host_keys=accept_new_host_keys,
        connect_timeout=connect_timeout,
    )
