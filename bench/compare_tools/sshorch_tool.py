"""sshorch's side of bench/compare: the same application as the other tools, as manifests."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("svc-a", "svc-b", "svc-c")

# One Deployment per service, a replica on every node (spread), published on a
# host port, and its environment from a ConfigMap, as the env file of the others.
MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}-env}}
data: {{MODE: bench, SERVICE: {name}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          ports: [{{containerPort: 8080}}]
          envFrom: [{{configMapRef: {{name: {name}-env}}}}]
"""


@dataclass(frozen=True)
class RunResult:
    wall: float  # seconds
    cpu: float  # controller CPU seconds of the tool's processes
    returncode: int
    changed: int | None
    output_tail: str


def write_manifests(directory: Path, replicas: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        (directory / f"{name}.yaml").write_text(MANIFEST.format(name=name, replicas=replicas))
    return directory


def timed(argv: list[str], env: dict[str, str] | None = None) -> RunResult:
    """Wall time and the CPU time of the process and its children, as `time` would show."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return RunResult(wall, cpu, done.returncode, None, (done.stdout + done.stderr)[-2000:])


class Sshorch:
    name = "sshorch"

    def __init__(self, inventory: Path, manifests: Path, state: Path) -> None:
        self.inventory, self.manifests = inventory, manifests
        self.env = {**os.environ, "SSHORCH_STATE": str(state), "SSHORCH_SECRET_KEY_FILE": str(state.with_suffix(".key"))}

    def version(self) -> str:
        from sshorch import __version__

        return __version__

    def deploy(self) -> RunResult:
        """`apply`: returns once every pod runs (the others return once containers are started)."""
        return timed([sys.executable, "-m", "sshorch", "apply", "-i", str(self.inventory), "-f", str(self.manifests), "--yes"], self.env)

    def converge(self) -> RunResult:
        return timed([sys.executable, "-m", "sshorch", "converge", "-i", str(self.inventory)], self.env)

    def reset(self) -> None:
        Path(self.env["SSHORCH_STATE"]).unlink(missing_ok=True)

    def container_to_delete(self) -> str:
        """A shell command for node1 that deletes one of this tool's containers, as an operator's mistake."""
        return "podman rm -f $(podman ps -q --filter label=sshorch.io/owner=svc-a --filter label=sshorch.io/container=web | head -1)"
