"""The runtimes sshorch runs, by the name the inventory gives (sshorch_runtime)."""

from __future__ import annotations

from collections.abc import Mapping

from sshorch.errors import SshorchError
from sshorch.runtime.base import Runtime
from sshorch.runtime.docker import Docker
from sshorch.runtime.podman import Podman

PODMAN = Podman()
DOCKER = Docker()
RUNTIMES: dict[str, Runtime] = {runtime.name: runtime for runtime in (PODMAN, DOCKER)}


class UnknownRuntimeError(SshorchError):
    """A runtime name sshorch does not run: never guessed as another."""


def runtime_for(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise UnknownRuntimeError(f"unknown container runtime {name!r} (sshorch runs {' or '.join(RUNTIMES)})") from None


def node_runtime(runtimes: Mapping[str, str], node: str) -> Runtime:
    """`node`'s runtime, from the inventory's names by node: a node whose runtime is not
    known is an error, never taken for podman."""
    if node not in runtimes:
        raise UnknownRuntimeError(f"{node}: its container runtime is not known")
    return runtime_for(runtimes[node])
