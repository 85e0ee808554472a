"""The cyclic garbage collector across a command: off while modules import, then on,
with the imported modules set aside (frozen) so that it never walks them again."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import click

from sshorch.cli import cli


def test_loading_a_command_freezes_what_was_imported_and_turns_collection_back_on() -> None:
    gc.disable()
    try:
        command = cli.get_command(click.Context(cli), "nodes")
        assert command is not None
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_command_runs_with_the_collector_on(tmp_path: Path) -> None:
    # `converge --watch` and other long commands must still collect what they make.
    (tmp_path / "probe_command.py").write_text(
        "import click, gc\n"
        "@click.command()\n"
        "def probe():\n"
        "    print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    run = "import sys; from sshorch.cli import COMMANDS, main; COMMANDS['probe'] = 'probe_command:probe'; sys.argv[1:] = ['probe']; main()"
    done = subprocess.run(
        [sys.executable, "-c", run], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.stdout.split() == ["True", "True"], done.stderr
