"""Bad input gives one clear line naming the file and the problem, exit 1, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sshorch", *args], capture_output=True, text=True, timeout=60)


BROKEN = {
    "bad.yml": ("all:\n  hosts:\n    web1:\n   bad: [\n", "invalid YAML"),
    "children.ini": ("[web]\nweb1 ansible_host=198.18.0.2\n\n[app:children]\nweb\nnope\n", "nope"),
    "port.yml": ("all:\n  hosts:\n    web1:\n      ansible_port: abc\n", "ansible_port"),
    "port.ini": ("web1 ansible_port=70000\n", "ansible_port"),
}


@pytest.mark.parametrize("filename", sorted(BROKEN))
def test_broken_inventory_is_one_line_exit_1(tmp_path: Path, filename: str) -> None:
    text, problem = BROKEN[filename]
    path = tmp_path / filename
    path.write_text(text)
    done = run_cli("nodes", "-i", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert filename in lines[0] and problem in lines[0], lines[0]


def test_missing_inventory_file(tmp_path: Path) -> None:
    done = run_cli("nodes", "-i", str(tmp_path / "nowhere.yml"))
    assert done.returncode == 1
    assert "nowhere.yml" in done.stderr and "Traceback" not in done.stderr


def test_verbose_adds_the_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(BROKEN["bad.yml"][0])
    done = run_cli("--verbose", "nodes", "-i", str(path))
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_help_teaches_with_examples() -> None:
    done = run_cli("nodes", "--help")
    assert done.returncode == 0
    assert "Examples:" in done.stdout and "--forks" in done.stdout and "--accept-new-host-keys" in done.stdout


def test_unknown_sandbox_is_an_error_naming_it() -> None:
    done = run_cli("sandbox", "status", "--name", "no-such-sandbox-xyz")
    assert done.returncode == 1
    assert "no-such-sandbox-xyz" in done.stderr
