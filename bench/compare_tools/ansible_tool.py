"""Ansible for bench/compare: install it, run ansible/site.yml, measure the run.

Ansible lives in its own virtualenv so that its pins never meet sshorch's.
The `ansible` PyPI package is used, not ansible-core + ansible-galaxy, because
it ships the containers.podman collection and Galaxy is not reachable here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# ansible 11 = ansible-core 2.18 (controller Python 3.11 to 3.13), with
# containers.podman 1.18.0.
ANSIBLE_VERSION = "11.13.0"
DEFAULT_VENV = Path("/var/lib/sshorch-bench/ansible-venv")
HERE = Path(__file__).resolve().parent / "ansible"
PLAYBOOK = HERE / "site.yml"
CONFIG = HERE / "ansible.cfg"
CONTAINERS = ("bench-svc-a", "bench-svc-b", "bench-svc-c")

# Runs ansible-playbook as a child subreaper: the ssh ControlPersist masters
# daemonize, so they would be orphaned to init and their CPU lost. Here they
# are reparented to this process, closed once Ansible is done (as a real run's
# would be, 60 s later) and reaped, so wait4() on this process counts them.
# Plain os and ctypes, run with -S: starts in a few milliseconds.
_REAPER = """
import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
control_dir, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
status = os.waitpid(pid, 0)[1]
for name in os.listdir(control_dir):
    os.spawnvp(os.P_WAIT, "ssh", ["ssh", "-q", "-o", "ControlPath=" + os.path.join(control_dir, name), "-O", "exit", "x"])
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""

_RECAP = re.compile(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)\s", re.MULTILINE)


@dataclass(frozen=True)
class RunResult:
    wall_seconds: float
    cpu_seconds: float  # user + system of the whole controller process tree
    returncode: int
    changed: int  # changed tasks summed over the hosts of the PLAY RECAP
    output: str


def install(venv: Path = DEFAULT_VENV) -> Path:
    """Create `venv` with ansible==ANSIBLE_VERSION (once); the ansible-playbook path."""
    python = venv / "bin" / "python"
    if _installed(python) != ANSIBLE_VERSION:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"ansible=={ANSIBLE_VERSION}"],
            check=True,
        )
    return venv / "bin" / "ansible-playbook"


def version(venv: Path = DEFAULT_VENV) -> str:
    """E.g. 'ansible 11.13.0 (ansible-core 2.18.19, containers.podman 1.18.0)'."""
    code = (
        "import importlib.metadata as m, json, ansible_collections.containers.podman as p, pathlib;"
        "print(m.version('ansible'), m.version('ansible-core'),"
        "json.loads((pathlib.Path(p.__path__[0]) / 'MANIFEST.json').read_text())['collection_info']['version'])"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True)
    ansible, core, podman = out.stdout.split()
    return f"ansible {ansible} (ansible-core {core}, containers.podman {podman})"


def run(
    playbook_bin: Path, inventory: Path, forks: int, *,
    extra_env: Mapping[str, str] | None = None, extra_args: Sequence[str] = (),
) -> RunResult:
    """One ansible-playbook run of site.yml on `inventory`, measured.

    For experiments: `extra_env` overrides settings, e.g. {"ANSIBLE_STRATEGY": "free"};
    `extra_args` go to ansible-playbook, e.g. ["-e", "env_dir=/etc/bench-x"].
    Each run gets its own ssh control directory, so it opens its own connections.
    """
    with tempfile.TemporaryDirectory(prefix="ansible-cp-") as control_dir, \
            tempfile.TemporaryFile(mode="w+") as out:
        env = {**os.environ, "ANSIBLE_CONFIG": str(CONFIG),
               "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir, **(extra_env or {})}
        argv = [sys.executable, "-S", "-c", _REAPER, control_dir,
                str(playbook_bin), "-i", str(inventory), "-f", str(forks), *extra_args, str(PLAYBOOK)]
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        # wait4, not getrusage(RUSAGE_CHILDREN) deltas: exact for this tree even
        # when the caller has other children finishing meanwhile.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
        out.seek(0)
        output = out.read()
    return RunResult(
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        returncode=proc.returncode,
        changed=sum(int(n) for n in _RECAP.findall(output)),
        output=output,
    )


def delete_one_container_command() -> str:
    """The recovery case's damage, run by the harness on node1."""
    return "podman rm -f bench-svc-a"


def _installed(python: Path) -> str | None:
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('ansible'))"],
        capture_output=True, text=True,
    )
    return out.stdout.strip() if out.returncode == 0 else None
