"""~/.ssh/config, read with paramiko's SSHConfig, under Ansible's precedence.

ssh looks the name it is given (``ansible_host``, else the inventory name)
up in its config: ``HostName`` maps it to the address to connect to, and
``User``, ``Port``, ``IdentityFile`` and ``ProxyJump``/``ProxyCommand`` apply
where the inventory said nothing (Ansible passes only what is set as ``-o``
options, and ssh's command line wins over its config).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import paramiko

from sshorch.errors import TransportError

__all__ = ["Hop", "Settable", "config_changes", "expand_proxy_command", "load_ssh_config", "parse_jumps"]

DEFAULT_SSH_CONFIG = Path("~/.ssh/config")


@dataclass(frozen=True)
class Settable:
    """Which settings of a target its ssh config may still supply."""

    port: bool = True
    user: bool = True
    key: bool = True
    proxy: bool = True


def load_ssh_config(path: Path | None) -> paramiko.SSHConfig | None:
    """The parsed config file, or None when there is none."""
    if path is None:
        return None
    path = path.expanduser()
    if not path.is_file():
        return None
    try:
        return paramiko.SSHConfig.from_path(str(path))
    except (OSError, paramiko.SSHException, ValueError, TypeError) as exc:
        raise TransportError(f"{path}: cannot read ssh config: {exc}") from None


@dataclass(frozen=True)
class Found:
    """What the config says about one name."""

    hostname: str | None = None
    port: int | None = None
    user: str | None = None
    key_file: str | None = None
    proxy_jump: str | None = None
    proxy_command: str | None = None


def lookup(config: paramiko.SSHConfig | None, name: str, where: str) -> Found:
    if config is None:
        return Found()
    try:
        found = config.lookup(name)
    except Exception as exc:  # paramiko raises several kinds (Match exec without invoke, bad tokens)
        raise TransportError(f"{where}: ~/.ssh/config for {name}: {exc}") from None
    port = found.get("port")
    keys = list(found.get("identityfile") or [])
    jump, command = found.get("proxyjump"), found.get("proxycommand")
    return Found(
        hostname=found.get("hostname"),
        port=int(port) if port is not None and str(port).isdigit() else None,
        user=found.get("user"),
        key_file=os.path.expanduser(keys[0]) if keys else None,
        proxy_jump=None if jump is None or jump.lower() == "none" else jump,
        proxy_command=None if command is None or command.lower() == "none" else command,
    )


def config_changes(
    config: paramiko.SSHConfig | None, name: str, address: str, settable: Settable, has_proxy: bool
) -> dict[str, object]:
    """The target fields the config supplies for ``address``, where the inventory left them open."""
    found = lookup(config, address, name)
    changes: dict[str, object] = {}
    if found.hostname and found.hostname != address:
        changes["address"] = found.hostname
    if settable.port and found.port:
        changes["port"] = found.port
    if settable.user and found.user:
        changes["user"] = found.user
    if settable.key and found.key_file:
        changes["key_file"] = found.key_file
    if settable.proxy and not has_proxy:
        if found.proxy_jump:
            changes["proxy_jump"] = found.proxy_jump
        elif found.proxy_command:
            changes["proxy_command"] = found.proxy_command
    return changes


@dataclass(frozen=True)
class Hop:
    """One ProxyJump host: ``[user@]host[:port]``."""

    host: str
    port: int | None = None
    user: str | None = None


_HOP = re.compile(r"(?:ssh://)?(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\s\[\]]+))(?::(?P<port>\d{1,5}))?")


def parse_jumps(spec: str, where: str) -> tuple[Hop, ...]:
    """The hops of a ProxyJump value, first one first."""
    hops = []
    for part in spec.split(","):
        match = _HOP.fullmatch(part.strip())
        port = int(match["port"]) if match and match["port"] else None
        if match is None or (port is not None and not 1 <= port <= 65535):
            raise TransportError(f"{where}: ProxyJump {spec!r}: {part.strip()!r} is not [user@]host[:port]")
        hops.append(Hop(match["v6"] or match["host"], port, match["user"]))
    return tuple(hops)


def expand_proxy_command(command: str, host: str, port: int, user: str, name: str) -> str:
    """ssh's tokens in a ProxyCommand: %h host, %p port, %r user, %n the name given, %% a '%'."""
    values = {"h": host, "p": str(port), "r": user, "n": name, "%": "%"}

    def one(match: re.Match[str]) -> str:
        token = match[1]
        if token not in values:
            raise TransportError(f"{name}: ProxyCommand {command!r}: token %{token} is not supported (%h %p %r %n %%)")
        return values[token]

    return re.sub(r"%(.)", one, command)
