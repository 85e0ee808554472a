"""The runtimes sshorch runs, by the name the inventory gives (sshorch_runtime)."""

from __future__ import annotations

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
