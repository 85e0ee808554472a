"""Every command and subcommand answers --help: usage, a description, and no traceback."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from sshorch.cli import cli


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
    return paths


PATHS = command_paths(cli)


def test_the_tree_has_the_documented_commands() -> None:
    names = {path[0] for path in PATHS}
    assert {"apply", "plan", "status", "nodes", "graph", "converge", "sandbox", "secret", "cron", "rollout"} <= names
    assert ("sandbox", "up") in PATHS and ("rollout", "undo") in PATHS


@pytest.mark.parametrize("path", [(), *PATHS], ids=lambda p: " ".join(p) or "sshorch")
def test_help_answers(path: tuple[str, ...]) -> None:
    done = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Usage: "), done.output
    description = done.output.split("\n\n", 2)[1].strip()
    assert len(description) > 20, f"{' '.join(path)}: --help has no description"
    assert "Traceback" not in done.output
