"""Every `sshorch ...` line of README.md's code blocks runs, as written, on a sandbox
that the README's own `sandbox up` makes: each exits as documented, with no traceback.

The sandbox name comes from SSHORCH_SANDBOX (which `--name` reads), and the README's
inventory paths point at that sandbox. Lines that cannot run here are listed in
NOT_RUN with the reason.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import sshorch

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DEFAULT_INVENTORY = "/var/lib/sshorch-sandboxes/default/inventory.yml"

# Lines that need what a test here does not have, by a word they contain.
NOT_RUN = {
    "inventories/vagrant.yml": "needs the Vagrant VMs (make vagrant-test runs them)",
}
# Exit statuses the README documents besides 0.
ALSO_DOCUMENTED = {"plan": {2}, "converge": {2}, "rollout status": {2}}
WATCH_SECONDS = 60


@dataclass(frozen=True)
class Line:
    """One command of a README code block, and the block's section."""

    section: str
    text: str

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)

    def here(self, inventory: str) -> str:
        """The line with the README's inventory paths pointing at this test's sandbox."""
        text = self.text.replace("$INV", inventory).replace(DEFAULT_INVENTORY, inventory)
        return re.sub(r"(?<=-i )inventory\.yml\b", inventory, text)


def readme_commands(text: str) -> list[Line]:
    """The sshorch commands of the README's shell blocks, in order; `A; B` is two commands."""
    found: list[Line] = []
    section = ""
    inside = False
    for raw in text.splitlines():
        if raw.startswith("#") and not inside:
            section = raw.lstrip("# ").strip()
        if raw.startswith("```"):
            inside = raw.strip() in ("```sh", "```bash", "```shell") if not inside else False
            continue
        if not inside:
            continue
        code = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        for part in code.split(";"):
            part = part.strip()
            if part.startswith("sshorch ") or " | sshorch " in part:
                found.append(Line(section, part))
    return found


def test_the_readme_has_commands_to_run() -> None:
    lines = readme_commands(README.read_text())
    verbs = {line.argv[1] for line in lines if line.argv[0] == "sshorch"}
    assert {"sandbox", "nodes", "graph", "plan", "apply", "status", "converge", "secret"} <= verbs


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory with the repository's examples, as a clone has them, and
    its own state, key and sandbox name."""
    work = tmp_path_factory.mktemp("readme")
    for name in ("examples", "templates", "inventories"):
        (work / name).symlink_to(REPO / name)
    (work / "db-password.txt").write_text("from-the-readme\n")
    name = f"readme-{os.getpid()}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSHORCH_SANDBOX", name)
        patch.setenv("SSHORCH_STATE", str(work / "state.db"))
        patch.setenv("SSHORCH_SECRET_KEY_FILE", str(work / "secret.key"))
        try:
            yield work
        finally:
            sshorch("cron", "remove", "-i", inventory_of(name), check=False)
            sshorch("sandbox", "down", "--name", name, check=False)


def inventory_of(name: str) -> str:
    return DEFAULT_INVENTORY.replace("/default/", f"/{name}/")


def as_run_here(line: Line) -> list[str]:
    """The command as this test runs it: this sandbox's inventory, this Python's sshorch;
    a pipeline into sshorch runs in the shell."""
    text = line.here(inventory_of(os.environ["SSHORCH_SANDBOX"]))
    if not text.startswith("sshorch "):
        return ["sh", "-c", text.replace("| sshorch ", f"| {shlex.quote(sys.executable)} -m sshorch ")]
    return [sys.executable, "-m", "sshorch", *shlex.split(text)[1:]]


def expected(argv: list[str]) -> set[int]:
    words = [a for a in argv[3:] if not a.startswith("-")]
    for verb, codes in ALSO_DOCUMENTED.items():
        if " ".join(words[: len(verb.split())]) == verb:
            return {0} | codes
    return {0}


def run_watch(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`converge --watch` runs until SIGTERM: it must finish a pass, then stop cleanly."""
    with subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + WATCH_SECONDS
        first = proc.stdout.readline()  # a pass's summary line
        assert first and time.monotonic() < deadline, "converge --watch printed no pass"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WATCH_SECONDS)
        return subprocess.CompletedProcess(argv, proc.returncode, first + out, err)


def in_run_order(lines: list[Line]) -> list[Line]:
    """The README's order, but `sandbox down` last: later sections use the sandbox too."""
    down = [line for line in lines if line.text.startswith("sshorch sandbox down")]
    return [line for line in lines if line not in down] + down


def test_every_readme_command_runs_as_documented(workspace: Path) -> None:
    ran, skipped = [], []
    for line in in_run_order(readme_commands(README.read_text())):
        reason = next((why for word, why in NOT_RUN.items() if word in line.text), None)
        if reason:
            skipped.append(f"{line.text}: {reason}")
            continue
        argv = as_run_here(line)
        if "--watch" in argv:
            done = run_watch(argv, workspace)
        else:
            done = subprocess.run(argv, cwd=workspace, capture_output=True, text=True, timeout=600)
        where = f"README ({line.section}): {line.text}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr, where
        assert done.returncode in expected(argv) if argv[0] != "sh" else done.returncode == 0, where
        ran.append(line.text)
    assert len(ran) >= 20, ran
    assert all("vagrant" in s for s in skipped), skipped
