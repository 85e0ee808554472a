"""pyinfra side of bench/compare: install it, write its inventory, run the deploy and time it.

The deploy is bench/compare_tools/pyinfra/deploy.py. Settings used by `run`, each for speed with
the same result: `--yes` (also skips pyinfra's separate change-check pass, so facts are read once,
at execution), `--parallel N` (one worker per node), `--no-wait` (a node goes on to its next
operation without waiting for the others: no step depends on another node) and `--json` (no progress
output; the results, with the count of changed operations, come as JSON on stdout).
"""

from __future__ import annotations

import json
import os
import pprint
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.compare_tools.sshorch_tool import RunResult
from sshorch.inventory import load_inventory

PYINFRA_VERSION = "3.10.0"
DEPLOY = Path(__file__).parent / "pyinfra" / "deploy.py"


def _clean_env() -> dict[str, str]:
    # The harness may run with PYTHONPATH at the repository: pyinfra's virtualenv must not see it.
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def install(venv: Path) -> Path:
    """A virtualenv at `venv` with pyinfra PYINFRA_VERSION from PyPI; its `pyinfra` executable."""
    pyinfra_bin = venv / "bin" / "pyinfra"
    if pyinfra_bin.exists() and version(pyinfra_bin) == PYINFRA_VERSION:
        return pyinfra_bin
    # A virtualenv of its own: pyinfra's pins (gevent, paramiko, click) must not meet sshorch's.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_clean_env())
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         f"pyinfra=={PYINFRA_VERSION}"],
        check=True, env=_clean_env(),
    )
    return pyinfra_bin


def version(pyinfra_bin: Path | None = None) -> str:
    """The version of the pyinfra at `pyinfra_bin` ("3.10.0"), or the pinned one without it."""
    if pyinfra_bin is None:
        return PYINFRA_VERSION
    out = subprocess.run([str(pyinfra_bin), "--version"], check=True, capture_output=True, text=True,
                         env=_clean_env())
    return out.stdout.strip().removeprefix("pyinfra: v")  # prints "pyinfra: v3.10.0"


def write_inventory(ansible_inventory: Path, out: Path) -> None:
    """Write a pyinfra inventory (Python) for the hosts of an Ansible inventory, group `nodes`."""
    inventory = load_inventory(str(ansible_inventory))
    hosts = []
    for h in inventory.hosts:
        known_hosts = h.vars.get("sshorch_known_hosts") or "~/.ssh/known_hosts"
        data: dict[str, object] = {
            "ssh_hostname": h.address,
            "ssh_port": h.port,
            "ssh_user": h.user,
            "ssh_known_hosts_file": str(known_hosts),
            # pyinfra's default is accept-new; an unknown or changed key must fail, as for the others.
            "ssh_strict_host_key_checking": "yes",
            # Only the inventory's key: no agent, no probing of ~/.ssh keys.
            "ssh_allow_agent": False,
            "ssh_look_for_keys": False,
        }
        if h.private_key_file:
            data["ssh_key"] = h.private_key_file
        hosts.append((h.name, data))
    out.write_text(
        f"# pyinfra inventory generated from {ansible_inventory} by bench/compare_tools/pyinfra_tool.py\n"
        f"nodes = {pprint.pformat(hosts, sort_dicts=False)}\n"
    )


def run(pyinfra_bin: Path, inventory_py: Path, deploy: Path, parallel: int,
        env_dir: str | None = None) -> RunResult:
    """Run `deploy` on every host of `inventory_py` once; time it and count what changed.

    `env_dir` replaces /etc/bench as the env files' directory (the sandbox nodes share /etc).
    """
    cmd = [str(pyinfra_bin), "--yes", "--parallel", str(parallel), "--no-wait", "--json"]
    if env_dir:
        cmd += ["--data", f"bench_env_dir={env_dir}"]
    cmd += [str(inventory_py.resolve()), str(deploy.resolve())]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                cwd=deploy.parent, env=_clean_env())
        # wait4 gives the rusage of exactly this process and the children it waited for.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out = stdout.read().decode(errors="replace")
        err = stderr.read().decode(errors="replace")
    changed: int | None
    try:
        changed = int(json.loads(out)["results"]["totals"]["success"])
        tail = err
    except (ValueError, KeyError, TypeError):
        changed = None
        tail = err + out
    return RunResult(wall, usage.ru_utime + usage.ru_stime, proc.returncode, changed,
                     "\n".join(tail.strip().splitlines()[-20:]))
