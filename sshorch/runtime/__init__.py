"""Container runtimes: what a runtime runs (model), what every runtime offers (base),
podman and docker, and the registry that finds a node's runtime by name.

Only the model is imported here: the runtimes read their facts through sshorch.observe,
which itself uses the model."""

from __future__ import annotations

from sshorch.runtime.model import ContainerRun, Mount, PodRun, PortBinding

__all__ = ["ContainerRun", "Mount", "PodRun", "PortBinding"]
