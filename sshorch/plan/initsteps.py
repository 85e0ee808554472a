"""What a pod with init containers needs next, from its containers' observed states. Pure.

Kubernetes runs init containers in order, each to completion, before the app containers;
a sidecar (an init container with restartPolicy: Always) is started in its turn, not
waited for, and kept running. sshorch runs no agent and a node's exec must never wait on
a container, so this is decided again on every pass: which container to start now, if
any, and when a failed one may start again.

A failed init container starts again after Kubernetes' CrashLoopBackOff delay (10 s,
doubling, at most 5 min) unless the pod's restartPolicy is Never: then the pod failed.
A sidecar starts again whatever the pod's restartPolicy, after the same delay. A
sidecar's startupProbe is not waited for: started is enough for the next one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sshorch.spec.model import Container

BACKOFF_BASE = 10.0
BACKOFF_MAX = 300.0

RestartPolicy = Literal["Always", "OnFailure", "Never"]


@dataclass(frozen=True)
class ContainerState:
    """One of the pod's containers as gathered: its runtime state ("created" before it ever
    ran), exit code, when it last exited (None while it never did) and how many times it failed."""

    state: Literal["created", "running", "exited"]
    exit_code: int = 0
    finished_at: float | None = None
    failures: int = 0

    @property
    def succeeded(self) -> bool:
        return self.state == "exited" and self.exit_code == 0


@dataclass(frozen=True)
class InitStep:
    """What the pod needs now: `start` the named containers (in order), or nothing before
    `retry_at`; `failed` when it never will run (restartPolicy Never); `missing` when a
    container of its spec is not on the node (the pod must be made again). `status` is
    the pod's status as kubectl shows it while initialising ("" once its app containers run);
    `failures`, how many times the init container it waits on has failed."""

    start: tuple[str, ...] = ()
    retry_at: float | None = None
    failed: bool = False
    missing: tuple[str, ...] = ()
    status: str = ""
    failures: int = 0

    @property
    def restarts(self) -> int:
        """The kubelet's restartCount of that container: each failure but the last was followed by a start."""
        return max(0, self.failures - 1)


def backoff(failures: int) -> float:
    """The wait before a container that failed `failures` times starts again."""
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** max(0, failures - 1)))


def _restart_at(state: ContainerState) -> float:
    return (state.finished_at or 0.0) + backoff(max(1, state.failures))


def init_step(
    init: Sequence[Container],
    app: Sequence[str],
    restart_policy: RestartPolicy,
    states: Mapping[str, ContainerState],
    now: float,
) -> InitStep:
    """The next step of a pod whose init containers are `init` and app containers are named
    `app`; `states` by container name (as in the spec), `now` the controller's clock."""
    missing = tuple(name for name in (*(c.name for c in init), *app) if name not in states)
    if missing:
        return InitStep(missing=missing, status="Init:Unknown" if init else "")
    # Sidecars that stopped start again after their back-off; the walk goes on past them,
    # as they were started once.
    again: list[str] = []
    waits: list[float] = []
    for i, container in enumerate(init):
        state = states[container.name]
        progress = f"Init:{i}/{len(init)}"
        if state.state == "created":
            return _with(InitStep(start=(container.name,), status=progress), again, waits)
        if container.sidecar:
            if state.state == "exited":
                at = _restart_at(state)
                if now >= at:
                    again.append(container.name)
                else:
                    waits.append(at)
            continue
        if state.succeeded:
            continue
        if state.state == "running":
            return _with(InitStep(status=progress), again, waits)
        if restart_policy == "Never":
            return InitStep(failed=True, status="Init:Error")
        at = _restart_at(state)
        if now >= at:
            return _with(InitStep(start=(container.name,), status=progress), again, waits)
        return _with(InitStep(retry_at=at, status="Init:CrashLoopBackOff", failures=state.failures), again, waits)
    waiting = tuple(name for name in app if states[name].state == "created")
    return _with(InitStep(start=waiting, status="PodInitializing" if waiting else ""), again, waits)


def _with(step: InitStep, again: list[str], waits: list[float]) -> InitStep:
    """`step` with the sidecars to start again first, and the earliest back-off still running."""
    retry = min([*waits, *([step.retry_at] if step.retry_at is not None else [])], default=None)
    return replace(step, start=(*again, *step.start), retry_at=retry)
