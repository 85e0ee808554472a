"""Pulls with a pod's registry credentials (its imagePullSecrets).

The credentials are one file on the node, `<dir>/config.json` in docker's config.json
format (plan/registryauth.py writes it): podman reads it with `pull --authfile FILE`,
docker as its config directory (`docker --config DIR pull`). Each image of such a pod
is pulled first, as its container's pull policy says; the containers then pull no more
(`--pull never`), so neither the create command nor the scripts that read the image
before it (secretenv.py, nonroot.py) pull without the credentials.
"""

from __future__ import annotations

from dataclasses import replace

from sshorch.runtime.base import Argv, Runtime
from sshorch.runtime.model import ContainerRun, PodRun

AUTH_FILE = "config.json"

# $1 image, $2 pull policy (always or missing), then the pull command (its runtime first).
PULL = 'img=$1 pull=$2; shift 2; [ "$pull" = missing ] && "$1" image inspect "$img" >/dev/null 2>&1 && exit 0; exec "$@" >/dev/null'


def _pulls_no_more(containers: tuple[ContainerRun, ...]) -> tuple[ContainerRun, ...]:
    return tuple(replace(c, pull="never") for c in containers)


def registry_pulls(runtime: Runtime, pod: PodRun) -> tuple[list[Argv], PodRun]:
    """The pulls of a pod with registry credentials, each image once per policy, and the pod
    whose containers then pull no more; a pod without them as it is."""
    if not pod.registry_auth:
        return [], pod
    pulls: list[Argv] = []
    for container in (*pod.init_containers, *pod.containers):
        if container.pull == "never":
            continue
        pull = ["sh", "-c", PULL, "sshorch-pull", container.image, container.pull,
                *runtime.pull_with_auth(container.image, pod.registry_auth)]  # fmt: skip
        if pull not in pulls:
            pulls.append(pull)
    return pulls, replace(pod, init_containers=_pulls_no_more(pod.init_containers), containers=_pulls_no_more(pod.containers))
