"""Opening an SSH client to a target: straight over TCP, through ProxyJump hosts
(each next hop reached over a direct-tcpip channel of the one before), or through
a ProxyCommand; ``~/.ssh/config`` applied first, as ssh does."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import paramiko

from sshorch.errors import TransportError
from sshorch.transport.hostkeys import AcceptNew, RefuseUnknown
from sshorch.transport.model import KEEPALIVE_INTERVAL, ConnectOptions, SshTarget
from sshorch.transport.sshconfig import Hop, Settable, config_changes, expand_proxy_command, parse_jumps
from sshorch.transport.tcp import open_tcp

LoadKey = Callable[[str], paramiko.PKey]
Sock = socket.socket | paramiko.Channel | paramiko.ProxyCommand


def resolve(target: SshTarget, options: ConnectOptions) -> SshTarget:
    """The target as ssh would reach it: HostName, and what the inventory left open, from ~/.ssh/config."""
    settable = Settable(**{name: name in target.config_may_set for name in ("port", "user", "key", "proxy")})
    has_proxy = target.proxy_jump is not None or target.proxy_command is not None
    changes = config_changes(options.ssh_config, target.name, target.address, settable, has_proxy)
    return replace(target, **changes) if changes else target  # type: ignore[arg-type]


def open_client(
    target: SshTarget, options: ConnectOptions, pkey: paramiko.PKey | None, timeout: float, load_key: LoadKey
) -> tuple[paramiko.SSHClient, list[paramiko.SSHClient]]:
    """A connected client to ``target`` (already resolved) and the jump clients under it, first hop first."""
    jumps: list[paramiko.SSHClient] = []
    try:
        sock = _first_socket(target, options, pkey, timeout, load_key, jumps)
        return _client_over(target, options, pkey, timeout, sock), jumps
    except BaseException:
        for client in reversed(jumps):
            client.close()
        raise


def _first_socket(
    target: SshTarget,
    options: ConnectOptions,
    pkey: paramiko.PKey | None,
    timeout: float,
    load_key: LoadKey,
    jumps: list[paramiko.SSHClient],
) -> Sock:
    _, _, _, dead_after = options.for_target(target)
    if target.proxy_command is not None:
        command = expand_proxy_command(target.proxy_command, target.address, target.port, target.user, target.name)
        try:
            return paramiko.ProxyCommand(command)
        except paramiko.SSHException as exc:
            raise TransportError(f"{target.name}: ProxyCommand {command!r}: {exc}") from None
    if target.proxy_jump is None:
        return open_tcp(target.address, target.port, timeout, dead_after)
    hops = [_hop_target(target, hop, options) for hop in parse_jumps(target.proxy_jump, target.name)]
    sock: Sock = open_tcp(hops[0].address, hops[0].port, timeout, dead_after)
    for index, hop in enumerate(hops):
        hop_key = load_key(hop.key_file) if hop.key_file else pkey
        client = _client_over(hop, options, hop_key, timeout, sock)
        jumps.append(client)
        after = hops[index + 1] if index + 1 < len(hops) else target
        transport = client.get_transport()
        assert transport is not None
        try:
            sock = transport.open_channel("direct-tcpip", (after.address, after.port), ("127.0.0.1", 0), timeout=timeout)
        except paramiko.ChannelException as exc:
            raise TransportError(
                f"{target.name}: jump host {hop.address} cannot reach {after.address}:{after.port}: {exc.text}"
            ) from None
    return sock


def _hop_target(target: SshTarget, hop: Hop, options: ConnectOptions) -> SshTarget:
    """A jump host as a target: its own ~/.ssh/config entry, else the node's user and host key settings."""
    base = SshTarget(
        name=f"{target.name} (jump host {hop.host})",
        address=hop.host,
        port=hop.port or 22,
        user=hop.user or target.user,
        known_hosts=target.known_hosts,
        accept_new_host_keys=target.accept_new_host_keys,
        config_may_set=frozenset({"key"} | ({"port"} if hop.port is None else set()) | ({"user"} if hop.user is None else set())),
    )
    return resolve(base, options)


def _client_over(
    target: SshTarget, options: ConnectOptions, pkey: paramiko.PKey | None, timeout: float, sock: Sock
) -> paramiko.SSHClient:
    known_hosts, accept_new, _, _ = options.for_target(target)
    client = paramiko.SSHClient()
    if known_hosts.exists():
        client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(AcceptNew(known_hosts) if accept_new else RefuseUnknown(known_hosts))
    try:
        client.connect(
            target.address,
            port=target.port,
            username=target.user,
            pkey=pkey,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            allow_agent=pkey is None,
            look_for_keys=pkey is None,
            sock=sock,
        )
    except BaseException:
        client.close()
        sock.close()
        raise
    transport = client.get_transport()
    if transport is not None:
        # Something to acknowledge while a command is silent: without it a dead
        # node is only noticed when we next send (see transport/tcp.py).
        transport.set_keepalive(max(1, int(target.keepalive_interval or KEEPALIVE_INTERVAL)))
    return client


def load_private_key(path: Path) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise TransportError(f"{path}: private key file not found (ansible_ssh_private_key_file)") from None
    except paramiko.PasswordRequiredException:
        raise TransportError(f"{path}: key is protected by a passphrase; load it into ssh-agent and leave ansible_ssh_private_key_file unset") from None
    except (paramiko.SSHException, ValueError, OSError) as error:
        raise TransportError(f"{path}: cannot read private key: {error}") from None
