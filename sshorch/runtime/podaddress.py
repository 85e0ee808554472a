"""The downward API's `status.podIP`: the pod's address, read on the node as its containers are made.

The runtime gives a pod its address when the pod's network namespace is set up,
so the address is unknown to the controller when it builds the pod. A container
that wants it is created under a shell that reads the address from the runtime
and puts it in the environment; `--env NAME` (no value) then hands the runtime
client's value to the container, for podman and docker alike. The pod's network
is started first (runtime create_pod).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

Argv = list[str]

# `$0` is the pod (podman) or its infra container (docker).
_ADDRESS = {
    "podman": "podman inspect --format '{{.NetworkSettings.IPAddress}}' "
    "\"$(podman pod inspect --format '{{.InfraContainerID}}' \"$0\")\"",
    "docker": "docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' \"$0\"",
}


def with_pod_address(runtime: str, pod: str, names: Sequence[str], create: Argv) -> Argv:
    """`create`, run with each of `names` set to the pod's address; unchanged without names."""
    if not names:
        return create
    assigns = " ".join(f'{shlex.quote(name)}="$a"' for name in names)
    script = (
        f'a=$({_ADDRESS[runtime]}) && [ -n "$a" ] || {{ echo "pod $0 has no address yet" >&2; exit 1; }}; '
        f'exec env {assigns} "$@"'
    )
    return ["sh", "-c", script, pod, *create]


def address_options(names: Sequence[str]) -> Argv:
    """`--env NAME` for each: the runtime takes the value from its own environment."""
    return [arg for name in names for arg in ("--env", name)]
