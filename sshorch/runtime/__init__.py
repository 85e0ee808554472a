"""Container runtime command builders: pure functions returning argv lists."""

from __future__ import annotations

from sshorch.runtime.docker import Docker
from sshorch.runtime.model import ContainerRun, Mount, PodRun, PortBinding
from sshorch.runtime.podman import Podman

Runtime = Podman | Docker


def runtime_for(name: str) -> Runtime:
    if name == "docker":
        return Docker()
    return Podman()


__all__ = ["ContainerRun", "Docker", "Mount", "PodRun", "Podman", "PortBinding", "Runtime", "runtime_for"]
