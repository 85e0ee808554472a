"""Options shared by the commands that talk to nodes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sshorch.cli.output import OUTPUT_FORMATS
from sshorch.inventory import Inventory, load_inventory
from sshorch.secrets.vault import vault_decrypter
from sshorch.transport.session import DEFAULT_FORKS

F = TypeVar("F", bound=Callable[..., Any])


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
