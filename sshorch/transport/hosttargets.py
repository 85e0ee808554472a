"""From inventory hosts to SSH targets and connection options."""

from __future__ import annotations

import socket
from pathlib import Path

from sshorch.errors import InventoryError
from sshorch.inventory import Host, Inventory
from sshorch.transport.connection import ConnectOptions, SshTarget
from sshorch.transport.sshconfig import DEFAULT_SSH_CONFIG, load_ssh_config

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
# ssh's ServerAliveCountMax default: a node is lost after this many unanswered keepalives.
_ALIVE_COUNT = 3


def target_for(host: Host) -> SshTarget:
    """How to reach ``host``; an InventoryError for a setting sshorch cannot honour,
    raised here, before anything runs on any node."""
    settings = host.connection
    if settings.problems:
        raise InventoryError(settings.problems[0])
    interval = settings.alive_interval
    return SshTarget(
        name=host.name,
        address=host.address,
        port=host.port,
        user=host.user,
        key_file=host.private_key_file,
        become=host.become,
        become_user=settings.become_user,
        become_password=settings.become_password,
        local=settings.kind == "local",
        proxy_jump=settings.proxy_jump,
        proxy_command=settings.proxy_command,
        known_hosts=Path(settings.known_hosts).expanduser() if settings.known_hosts else None,
        accept_new_host_keys=None if settings.strict_host_keys is None else settings.strict_host_keys == "accept-new",
        connect_timeout=settings.connect_timeout,
        keepalive_interval=interval,
        dead_after=settings.node_timeout or (interval * (settings.alive_count or _ALIVE_COUNT) if interval else None),
        config_may_set=frozenset({"port", "user", "key"} - settings.explicit)
        | (frozenset() if settings.proxy_jump or settings.proxy_command else frozenset({"proxy"})),
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
    ssh_config: Path | None = DEFAULT_SSH_CONFIG,
) -> ConnectOptions:
    """The run's connection options; ``ssh_config`` is read as ssh reads ~/.ssh/config."""
    return ConnectOptions(
        known_hosts=known_hosts_for(inventory, known_hosts),
        accept_new_host_keys=accept_new_host_keys,
        connect_timeout=connect_timeout,
        known_hosts_forced=known_hosts is not None,
        ssh_config=load_ssh_config(ssh_config),
    )
