"""`sshorch taint`: kubectl's syntax; a bad argument is one line, exit 1, and changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sshorch.run.nodetaints import TAINTS, StoredTaints
from sshorch.state import open_store
from sshorch.taints import Taint

INVENTORY = "all:\n  hosts:\n    web1:\n      ansible_host: 198.18.0.2\n      sshorch_taints: ['fixed=yes:NoSchedule']\n"


def taint(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inv.yml"
    inventory.write_text(INVENTORY)
    return subprocess.run(
        [sys.executable, "-m", "sshorch", "taint", "-i", str(inventory), "--state", str(tmp_path / "state.db"), *args],
        capture_output=True, text=True, timeout=60,
    )


def stored(tmp_path: Path) -> StoredTaints:
    with open_store(tmp_path / "state.db") as store:
        return store.load(TAINTS)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("web1", "dedicated=db"), "node web1: 'dedicated=db' is not a taint"),
        (("web1", "dedicated=db:Never"), "the effect must be one of NoSchedule, PreferNoSchedule, NoExecute"),
        (("web1", "bad key:NoSchedule"), "key must be a label key"),
        (("web1", "ok:NoSchedule", "nope-"), "node web1: taint 'nope' not found"),
        (("web1", "fixed-"), "node web1: taint 'fixed' is set by the inventory's sshorch_taints: remove it there"),
        (("web9", "ok:NoSchedule"), "no host named 'web9'"),
    ],
)
def test_bad_arguments_are_one_line_and_change_nothing(tmp_path: Path, args: tuple[str, ...], problem: str) -> None:
    done = taint(tmp_path, *args)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0], done.stderr
    if (tmp_path / "state.db").exists():
        assert stored(tmp_path).set_by_command.get("web1", ()) == ()


def test_taints_are_added_and_removed_in_the_state(tmp_path: Path) -> None:
    done = taint(tmp_path, "web1", "dedicated=db:NoSchedule", "gone:NoExecute")
    assert done.returncode == 0 and done.stdout.strip() == "node/web1 tainted", done.stderr
    taints = stored(tmp_path).set_by_command["web1"]
    assert [(t.key, t.value, t.effect) for t in taints] == [("dedicated", "db", "NoSchedule"), ("gone", "", "NoExecute")]
    assert all(isinstance(t, Taint) and t.added for t in taints)  # NoExecute's tolerationSeconds count from it
    done = taint(tmp_path, "web1", "dedicated-")
    assert done.returncode == 0 and done.stdout.strip() == "node/web1 untainted", done.stderr
    assert [t.key for t in stored(tmp_path).set_by_command["web1"]] == ["gone"]
