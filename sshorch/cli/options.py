"""Options shared by the commands that talk to nodes, and the typed value they make."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from sshorch.cli.output import OUTPUT_FORMATS
from sshorch.inventory import Inventory, load_inventory
from sshorch.secrets.vault import vault_decrypter
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options
from sshorch.transport.session import DEFAULT_FORKS

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


@dataclass(frozen=True)
class ClusterOptions:
    """What a cluster command was told on the command line: -i, the connection options, --state."""

    inventory_path: Path
    vault_password_file: Path | None
    limit: str | None
    known_hosts: Path | None
    accept_new_host_keys: bool
    connect_timeout: float
    forks: int
    state_path: str | None  # None: the cluster's default state file

    @classmethod
    def take(cls, params: dict[str, Any]) -> ClusterOptions:
        """Takes its parameters out of a command's click parameters; the command keeps the rest."""
        return cls(
            inventory_path=params.pop("inventory_path"),
            vault_password_file=params.pop("vault_password_file"),
            limit=params.pop("limit"),
            known_hosts=params.pop("known_hosts"),
            accept_new_host_keys=params.pop("accept_new_host_keys"),
            connect_timeout=params.pop("connect_timeout"),
            forks=params.pop("forks"),
            state_path=params.pop("state_path", None),
        )


def cluster_options(func: Callable[..., R]) -> Callable[..., R]:
    """-i, the connection options and --state, handed to the command as one `cluster: ClusterOptions`."""
    return node_options(state_option(func))


def node_options(func: Callable[..., R]) -> Callable[..., R]:
    """As cluster_options, without --state: for a command that reads no state (`nodes`)."""

    @functools.wraps(func)
    def command(**params: Any) -> R:
        return func(cluster=ClusterOptions.take(params), **params)

    return inventory_option(connection_options(command))


def state_option(func: F) -> F:
    return click.option(
        "--state", "state_path", type=click.Path(path_type=str), envvar="SSHORCH_STATE", default=None,
        help="State file or URL, e.g. sqlite:///PATH (env SSHORCH_STATE) [default: ~/.local/state/sshorch/CLUSTER.db].",
    )(func)


def inventory_option(func: F) -> F:
    """-i, and the Ansible Vault password for what the inventory (and Secrets) encrypt."""
    func = click.option(
        "--vault-password-file", type=click.Path(path_type=Path), envvar="ANSIBLE_VAULT_PASSWORD_FILE", default=None,
        help="Ansible Vault password: for encrypted inventory files and values, and vault values in Secrets"
        " (env ANSIBLE_VAULT_PASSWORD_FILE).",
    )(func)
    return click.option(
        "-i", "--inventory", "inventory_path", required=True, envvar="SSHORCH_INVENTORY",
        type=click.Path(path_type=Path),
        help="Ansible inventory: an INI or YAML file, or a directory of them (env SSHORCH_INVENTORY).",
    )(func)


def load_cli_inventory(inventory_path: Path, vault_password_file: Path | None) -> Inventory:
    """The inventory of -i, its vault values opened with --vault-password-file where needed."""
    return load_inventory(inventory_path, decrypt=vault_decrypter(vault_password_file))


def load(cluster: ClusterOptions) -> Inventory:
    return load_cli_inventory(cluster.inventory_path, cluster.vault_password_file)


def open_session(inventory: Inventory, cluster: ClusterOptions) -> Session:
    options = connect_options(
        inventory,
        known_hosts=cluster.known_hosts,
        accept_new_host_keys=cluster.accept_new_host_keys,
        connect_timeout=cluster.connect_timeout,
    )
    return Session(options, forks=cluster.forks)


def output_option(func: F) -> F:
    return click.option(
        "-o", "--output", type=click.Choice(OUTPUT_FORMATS), default="table", show_default=True,
        help="table for people, json for scripts.",
    )(func)


def connection_options(func: F) -> F:
    options = [
        click.option("--forks", type=click.IntRange(1, 1024), default=DEFAULT_FORKS, show_default=True,
                     help="How many nodes to work on at once."),
        click.option("--connect-timeout", type=click.FloatRange(0.1, 300), default=5.0, show_default=True,
                     help="Seconds to wait for a node's SSH connection (retries included)."),
        click.option("--known-hosts", type=click.Path(path_type=Path), default=None,
                     help="known_hosts file [default: the inventory's sshorch_known_hosts, else ~/.ssh/known_hosts]."),
        click.option("--accept-new-host-keys", is_flag=True,
                     help="Trust and record host keys not yet in known_hosts. A CHANGED key is always refused."),
        click.option("-l", "--limit", default=None,
                     help="Only these hosts: a host or group name, or several joined with ','."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
