"""A pod with init containers as observed, turned into what plan/initsteps.py decides on. Pure.

Neither runtime counts a start it did not make itself (podman and docker leave RestartCount
at 0 when a stopped container is started by hand), and a label cannot change: how many
times an init container failed is read from the clock instead. Each start after a failure
waits out its back-off, so the time from its first start to its last holds as many
back-offs as failures before it. Time spent running, or a pass late to start it, makes the
count higher, never lower: the back-off only reaches its 5 min ceiling sooner.
"""

from __future__ import annotations

from sshorch.labels import CONTAINER_LABEL
from sshorch.observe.owned import ObservedContainer, ObservedPod
from sshorch.plan.initsteps import BACKOFF_MAX, ContainerState, InitStep, backoff, init_step
from sshorch.spec.model import PodTemplate


def failures_by(first_start: float | None, last_start: float | None) -> int:
    """How many times a container has failed when it last exited with a failure: one more
    than the back-offs that fit between its first start and its last."""
    if first_start is None or last_start is None:
        return 1
    elapsed, count, waited = last_start - first_start, 1, 0.0
    while backoff(count) < BACKOFF_MAX:
        if waited + backoff(count) > elapsed:
            return count
        waited += backoff(count)
        count += 1
    return count + int((elapsed - waited) // BACKOFF_MAX)


def _state(container: ObservedContainer, first_start: float | None) -> ContainerState:
    if container.state == "created":
        return ContainerState("created")
    if container.state in ("running", "paused"):
        return ContainerState("running")
    failures = failures_by(first_start, container.started_at) if container.failed else 0
    return ContainerState("exited", container.exit_code, container.finished_at, failures)


def _states(pod: ObservedPod, template: PodTemplate) -> dict[str, ContainerState]:
    by_spec = {c.labels.get(CONTAINER_LABEL, c.name): c for c in (*pod.init_containers, *pod.containers)}
    states = {name: _state(c, pod.started_at) for name, c in by_spec.items()}
    # An init container first starts when the one before it has finished (the first one with the pod).
    first_start = pod.started_at
    for init in template.spec.init_containers:
        container = by_spec.get(init.name)
        if container is None:
            break
        states[init.name] = _state(container, first_start)
        if not init.sidecar and container.finished_at is not None:
            first_start = container.finished_at
    return states


def pod_init_step(pod: ObservedPod, template: PodTemplate, now: float) -> InitStep | None:
    """What the pod needs next; None when its template has no init containers or what it
    runs is not known (a pod assumed on a node that does not answer)."""
    spec = template.spec
    if not spec.init_containers or pod.assumed:
        return None
    return init_step(spec.init_containers, [c.name for c in spec.containers], spec.restart_policy, _states(pod, template), now)


def runtime_names(pod: ObservedPod, names: tuple[str, ...]) -> tuple[str, ...]:
    """The runtime names of the pod's containers named `names` in its spec, in that order."""
    by_spec = {c.labels.get(CONTAINER_LABEL, c.name): c.name for c in (*pod.init_containers, *pod.containers)}
    return tuple(by_spec[name] for name in names if name in by_spec)
