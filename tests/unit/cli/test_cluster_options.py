"""The cluster options reach a command as one typed value, built once from its click parameters."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from sshorch.cli.options import ClusterOptions, cluster_options, node_options
from sshorch.transport.session import DEFAULT_FORKS


def test_a_cluster_command_gets_its_options_typed_and_keeps_its_own_parameters() -> None:
    seen: list[tuple[ClusterOptions, str, int]] = []

    @click.command()
    @cluster_options
    @click.argument("name")
    @click.option("--count", type=int, default=1)
    def probe(cluster: ClusterOptions, name: str, count: int) -> None:
        seen.append((cluster, name, count))

    done = CliRunner().invoke(probe, [
        "-i", "inv.yml", "--vault-password-file", "pw", "-l", "web,db", "--known-hosts", "kh",
        "--accept-new-host-keys", "--connect-timeout", "2.5", "--forks", "7", "--state", "sqlite:///s.db",
        "node1", "--count", "3",
    ], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert seen == [(
        ClusterOptions(
            inventory_path=Path("inv.yml"), vault_password_file=Path("pw"), limit="web,db", known_hosts=Path("kh"),
            accept_new_host_keys=True, connect_timeout=2.5, forks=7, state_path="sqlite:///s.db",
        ),
        "node1",
        3,
    )]


def test_defaults_and_a_command_without_state() -> None:
    seen: list[ClusterOptions] = []

    @click.command()
    @node_options
    def probe(cluster: ClusterOptions) -> None:
        seen.append(cluster)

    done = CliRunner().invoke(probe, ["-i", "inv.yml"], catch_exceptions=False, env={"ANSIBLE_VAULT_PASSWORD_FILE": None})
    assert done.exit_code == 0, done.output
    assert seen == [ClusterOptions(
        inventory_path=Path("inv.yml"), vault_password_file=None, limit=None, known_hosts=None,
        accept_new_host_keys=False, connect_timeout=5.0, forks=DEFAULT_FORKS, state_path=None,
    )]
    assert "--state" not in CliRunner().invoke(probe, ["--help"]).output
