"""pyinfra deploy of the bench/compare application: svc-a, svc-b, svc-c, one container of each per node.

Run: `pyinfra --yes --parallel N --no-wait --json INVENTORY.py deploy.py` (see bench/compare_tools/pyinfra_tool.py).

pyinfra 3.x has podman facts (`PodmanPs`) but no podman operations; its `docker.container` runs
the `docker` CLI, and the nodes run podman with no docker daemon. So the containers use a small
operation defined here, in pyinfra's own style: it reads the `PodmanPs` fact and yields commands
only when the container is missing, stopped or made from another spec, so a no-op run reports no
changes.
"""

from __future__ import annotations

import hashlib
import io
import shlex
from collections.abc import Iterator

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.podman import PodmanPs
from pyinfra.operations import files

IMAGE = "localhost/sshorch/web:v1"
SERVICES = {"svc-a": 20001, "svc-b": 20002, "svc-c": 20003}
# `--data bench_env_dir=DIR` moves the env files: the sandbox nodes share the controller's /etc,
# so tools measured side by side need separate directories for their cold runs to be cold.
ENV_DIR = host.data.get("bench_env_dir") or "/etc/bench"
SPEC_LABEL = "bench.spec"


@operation()
def podman_container(container: str, run_args: list[str], spec_extra: str = "") -> Iterator[str]:
    """A running container created by `podman run -d --name CONTAINER RUN_ARGS...`.

    A hash of the arguments and `spec_extra` (content the container depends on, such as its env
    file) is kept as a label on the container, so any change to them recreates it.
    """
    spec = hashlib.sha256("\0".join([*run_args, spec_extra]).encode()).hexdigest()[:16]
    # With --yes the fact is read at execution time, after the earlier operations ran.
    found = next((c for c in host.get_fact(PodmanPs) if container in c.get("Names", [])), None)
    if found and (found.get("Labels") or {}).get(SPEC_LABEL) != spec:
        yield f"podman rm -f {shlex.quote(container)}"
        found = None
    if found is None:
        yield shlex.join(["podman", "run", "-d", "--name", container, "--label", f"{SPEC_LABEL}={spec}", *run_args])
    elif found.get("State") != "running":
        yield f"podman start {shlex.quote(container)}"


files.directory(name="env dir", path=ENV_DIR, mode="755")

address = host.data.get("ssh_hostname") or host.name
for service, port in SERVICES.items():
    env_file = f"{ENV_DIR}/{service}.env"
    env = f"MODE=bench\nSERVICE={service}\n"
    # create_remote_dir=False: files.directory above made it; saves a fact per file.
    files.put(name=f"{service} env", src=io.StringIO(env), dest=env_file, mode="644", create_remote_dir=False)
    podman_container(
        name=f"{service} container",
        container=f"bench-{service}",
        run_args=[
            "--restart", "always",
            "--pull", "never",  # the image is preloaded; never reach a registry
            "-p", f"{address}:{port}:8080",
            "--env-file", env_file,
            IMAGE,
        ],
        spec_extra=env,  # podman reads the env file only at creation: a new content needs a new container
    )
