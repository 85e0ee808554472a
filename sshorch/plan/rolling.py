"""One step of a Deployment rollout or scale, as Kubernetes' deployment controller takes it (DESIGN.md section 7).

Pure: the caller observes the pods of one Deployment, asks `rollout_step` what
to do now, does it, and asks again on the next pass.

A pod is identified by (revision, slot); slots are "0".."replicas-1". Pods of
the current revision are "new", every other revision is "old". Removal takes
two passes: a pod is first *drained* (taken out of the service rules) and
stopped on a later pass, when it comes back here as `draining` and is returned
in `remove`. Draining pods count for nothing: not toward the total, not as
available.

How this maps onto Kubernetes, and where it had to choose:

- maxSurge rounds up and maxUnavailable down (`ResolveFenceposts`); when both
  come to 0, maxUnavailable is 1; maxUnavailable is capped at `replicas`.
- RollingUpdate with old pods: new pods are created while the total of
  non-draining pods stays within `replicas + maxSurge`; old pods are drained
  while availability stays at or above `replicas - maxUnavailable`. Kubernetes
  does the scale-up and the scale-down in separate syncs; this does both in one
  step, counting pods drained in the same step as gone (they leave the total
  at once, as terminating pods do in Kubernetes). Neither bound can be broken
  by that, because new pods are never available when created.
- Old pods that are not available are drained first and do not use the
  availability budget, but, as in Kubernetes' `cleanupUnhealthyReplicas`,
  only as many as `old + available new - floor`: when the new revision is
  not available either, old pods that may still recover are kept instead of
  being swapped for new pods that may never work.
- Without old pods it is plain scaling, as Kubernetes sets the new ReplicaSet's
  replicas directly: every missing slot is created at once (maxSurge does not
  apply) and surplus slots (>= replicas) are drained at once, highest slot
  first. The one limit kept: an *available* surplus pod is not drained while
  that would take availability below the floor. Kubernetes would delete a
  not-ready pod instead, but slots here are fixed, so the surplus pod stays
  until the in-range pods are available.
- Only new-revision pods are ever created: when replicas grow during a
  rollout, Kubernetes scales old and new ReplicaSets proportionally; here the
  growth goes to the new revision (within maxSurge while old pods remain).
- Recreate drains every old pod, waits until none is left (draining ones
  included), then creates every missing slot. Surplus new pods go at once.
- A slot whose new-revision pod is still draining is not recreated until that
  pod is removed: the replacement would have the same name.
- Duplicate new pods of one slot: the best is kept (available, ready, running,
  then name) and the others are drained like surplus pods: at once unless
  that would take availability below the floor (with RollingUpdate; Recreate
  drains them at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sshorch.spec.model import DeploymentStrategy, IntOrPercent


@dataclass(frozen=True)
class PodView:
    """One pod of a Deployment as `rollout_step` sees it."""

    name: str
    slot: str
    new: bool  # of the current revision
    running: bool
    ready: bool  # passes readiness (running and ready)
    available: bool  # ready for at least minReadySeconds
    draining: bool  # already out of the service rules, waiting to be stopped


@dataclass(frozen=True)
class RolloutDecision:
    """What one rollout step does now: the pods to create, drain and remove, and whether it is complete."""

    create: tuple[str, ...]  # slots to create new-revision pods in, now
    drain: tuple[str, ...]  # pod names to take out of service now
    remove: tuple[str, ...]  # pod names that were draining: stop and remove now
    complete: bool  # every slot has an available new pod and nothing else is left
    available: int  # available pods (new + old, not draining)
    reason: str  # what this step does or waits for


def resolve_fenceposts(replicas: int, strategy: DeploymentStrategy) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as pod counts for `replicas`, Kubernetes' way."""
    surge = resolve_int_or_percent(strategy.max_surge, replicas, round_up=True)
    unavailable = resolve_int_or_percent(strategy.max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # otherwise a rollout could never make progress
    return surge, min(unavailable, replicas)


def resolve_int_or_percent(value: IntOrPercent, total: int, round_up: bool) -> int:
    """Kubernetes' rounding: maxSurge and DaemonSet maxUnavailable round up, Deployment maxUnavailable down."""
    if not value.percent:
        return value.value
    scaled = value.value * total
    return -(-scaled // 100) if round_up else scaled // 100


@dataclass(frozen=True)
class _Split:
    """The pods of one Deployment, sorted into what each rule looks at."""

    kept: dict[str, PodView]  # in-range slot -> its best new pod
    surplus: tuple[PodView, ...]  # best new pod of each slot >= replicas, highest slot first
    duplicates: tuple[PodView, ...]  # the other new pods of a slot
    old: tuple[PodView, ...]  # non-draining old pods, in the order they are drained
    draining: tuple[PodView, ...]  # by name
    missing: tuple[str, ...]  # in-range slots without a new pod, lowest first
    blocked: tuple[str, ...]  # missing slots whose new pod is still draining

    @property
    def active(self) -> int:
        return len(self.kept) + len(self.surplus) + len(self.duplicates) + len(self.old)

    @property
    def available(self) -> int:
        pods = (*self.kept.values(), *self.surplus, *self.duplicates, *self.old)
        return sum(1 for p in pods if p.available)

    @property
    def new_available(self) -> int:
        return sum(1 for p in self.kept.values() if p.available)

    @property
    def old_draining(self) -> int:
        return sum(1 for p in self.draining if not p.new)


def _split(replicas: int, pods: Sequence[PodView]) -> _Split:
    slots = [str(i) for i in range(replicas)]
    draining = tuple(sorted((p for p in pods if p.draining), key=lambda p: p.name))
    by_slot: dict[str, list[PodView]] = {}
    for pod in pods:
        if pod.new and not pod.draining:
            by_slot.setdefault(pod.slot, []).append(pod)
    best = {slot: sorted(same, key=_best_first) for slot, same in by_slot.items()}
    in_range = set(slots)
    surplus = [same[0] for slot, same in best.items() if slot not in in_range]
    held = {p.slot for p in draining if p.new}
    free = [s for s in slots if s not in best]
    return _Split(
        kept={s: best[s][0] for s in slots if s in best},
        surplus=tuple(sorted(surplus, key=_highest_slot_first)),
        duplicates=tuple(sorted((p for same in best.values() for p in same[1:]), key=lambda p: p.name)),
        old=tuple(sorted((p for p in pods if not p.new and not p.draining), key=_drain_order)),
        draining=draining,
        missing=tuple(s for s in free if s not in held),
        blocked=tuple(s for s in free if s in held),
    )


def _best_first(pod: PodView) -> tuple[bool, bool, bool, str]:
    return (not pod.available, not pod.ready, not pod.running, pod.name)


def _drain_order(pod: PodView) -> tuple[bool, bool, bool, str]:
    # Kubernetes deletes the least useful pods first: not running, not ready, not available.
    return (pod.available, pod.ready, pod.running, pod.name)


def _highest_slot_first(pod: PodView) -> tuple[int, str]:
    number = int(pod.slot) if pod.slot.isdigit() else -1
    return (-number, pod.name)


@dataclass
class _Budget:
    """How many available pods may still be drained without going below the floor."""

    available: int
    floor: int

    def take(self, pods: Iterable[PodView]) -> list[PodView]:
        """Drain every pod that is not available, and available ones while above the floor."""
        taken = []
        for pod in pods:
            if pod.available:
                if self.available <= self.floor:
                    continue
                self.available -= 1
            taken.append(pod)
        return taken


def rollout_step(replicas: int, strategy: DeploymentStrategy, pods: Sequence[PodView]) -> RolloutDecision:
    """What to create, drain and remove now for `replicas` pods under `strategy`."""
    split = _split(replicas, pods)
    if strategy.type == "Recreate":
        create, drain, waiting = _recreate(split)
    else:
        create, drain, waiting = _rolling(replicas, strategy, split)
    remove = tuple(p.name for p in split.draining)
    complete = _complete(replicas, split)
    return RolloutDecision(
        create=create,
        drain=drain,
        remove=remove,
        complete=complete,
        available=split.available,
        reason=_describe(replicas, split, create, drain, remove, "" if complete else waiting),
    )


def _complete(replicas: int, split: _Split) -> bool:
    leftovers = split.surplus or split.duplicates or split.old or split.draining
    return not leftovers and split.new_available == replicas


def _rolling(replicas: int, strategy: DeploymentStrategy, split: _Split) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    surge, unavailable = resolve_fenceposts(replicas, strategy)
    floor = replicas - unavailable
    budget = _Budget(split.available, floor)
    drained = budget.take((*split.duplicates, *split.surplus))
    drained += _drain_old(split, budget, drained)
    create = split.missing
    if split.old:
        room = replicas + surge - (split.active - len(drained))
        create = create[: max(0, room)]
    return create, tuple(p.name for p in drained), _rolling_wait(split, unavailable)


def _drain_old(split: _Split, budget: _Budget, drained: Sequence[PodView]) -> list[PodView]:
    gone = {p.name for p in drained}
    new_available = sum(1 for p in (*split.kept.values(), *split.surplus) if p.available and p.name not in gone)
    unhealthy_room = len(split.old) + new_available - budget.floor
    unhealthy = [p for p in split.old if not p.available][: max(0, unhealthy_room)]
    healthy = [p for p in split.old if p.available]
    return [*unhealthy, *budget.take(healthy)]


def _rolling_wait(split: _Split, unavailable: int) -> str:
    if split.blocked:
        return "waiting for drained pods to stop"
    if not split.old:
        waiting = sum(1 for p in split.kept.values() if not p.available)
        return f"waiting for {_pods(waiting, 'new pod')} to become available"
    if unavailable == 0:
        return "waiting: maxUnavailable 0 and new pods not available yet"
    return f"waiting: maxUnavailable {unavailable} reached and new pods not available yet"


def _recreate(split: _Split) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    drained = (*split.duplicates, *split.surplus, *split.old)
    old_left = len(split.old) + split.old_draining
    create = () if old_left else split.missing
    if old_left:
        waiting = f"waiting for {_pods(old_left, 'old pod')} to stop"
    elif split.blocked:
        waiting = "waiting for drained pods to stop"
    else:
        waiting = "waiting for new pods to become available"
    return create, tuple(p.name for p in drained), waiting


def _describe(
    replicas: int, split: _Split, create: Sequence[str], drain: Sequence[str], remove: Sequence[str], waiting: str
) -> str:
    text = f"{split.new_available} of {replicas} new pods available"
    if split.old:
        text += f", {_pods(len(split.old), 'old pod')} left"
    if not (create or drain or remove or waiting):
        return f"complete: {text}"
    steps = []
    if create:
        label = "slot" if len(create) == 1 else "slots"
        steps.append(f"create {_pods(len(create), 'pod')} ({label} {', '.join(create)})")
    if drain:
        steps.append(f"drain {_pods(len(drain), 'pod')}")
    if remove:
        steps.append(f"remove {_pods(len(remove), 'drained pod')}")
    if waiting and not (create or drain):
        steps.append(waiting)
    return f"{text}: {'; '.join(steps)}"


def _pods(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
