"""HorizontalPodAutoscaler arithmetic (autoscaling/v2, CPU utilisation). Pure.

Follows Kubernetes' pod autoscaler controller (pkg/controller/podautoscaler):

- `usage_ratio` is `GetResourceUtilizationRatio`: total usage over total
  requests, as a whole percent (truncated, as Kubernetes does), over the target.
- `desired_replicas` is the simple form of `GetResourceReplicas`. Kubernetes
  counts only *ready* pods and, when some pods are unready or have no metrics,
  recomputes the ratio assuming those use 0% (on a scale-up) or 100% (on a
  scale-down) of their request. Here the ratio is over the pods that have
  metrics and is multiplied by the current replica count: a simplification
  that can overshoot while new pods start (their usage is not yet known).
- `decide_scale` is `reconcileAutoscaler` with `normalizeDesiredReplicasWithBehaviors`:
  stabilization windows over the recent recommendations, then rate limits from
  the policies over the recent scale events, then [minReplicas, maxReplicas].

Kubernetes keeps the recommendations and scale events in the controller's
memory; here the caller keeps them in state and passes them back each pass.
Times are UNIX seconds. A time is inside a window of W seconds when it is
strictly after ``now - W``, as in Kubernetes (`timestamp.After(cutoff)`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sshorch.spec.model import HorizontalPodAutoscaler, ScalingPolicy, ScalingRules

DEFAULT_TOLERANCE = 0.1  # kube-controller-manager --horizontal-pod-autoscaler-tolerance


@dataclass(frozen=True)
class Recommendation:
    """A replica count the metrics asked for (before stabilization and limits)."""

    time: float
    replicas: int


@dataclass(frozen=True)
class ScaleEvent:
    """A change of the replica count made by the autoscaler: positive up, negative down."""

    time: float
    change: int


@dataclass(frozen=True)
class ScaleDecision:
    """What one autoscaler pass settles on: the replica count, why, and the history to keep."""

    replicas: int
    reason: str  # one line for an event, e.g. "cpu 180% of 50% target: 2 -> 4 (limited by Pods 4 per 15s)"
    recommendations: tuple[Recommendation, ...]  # history to keep for the next pass
    events: tuple[ScaleEvent, ...]  # history to keep for the next pass


def usage_ratio(usages_millicores: Sequence[float], requests_millicores: Sequence[int], target_percent: int) -> float | None:
    """Utilisation (percent of requests) over the target, for the pods that have metrics.

    ``usages_millicores[i]`` and ``requests_millicores[i]`` are pod i's CPU usage
    and CPU request (the sum over its containers). None when it cannot be told:
    no pod, or a pod without a CPU request (Kubernetes: "missing request for
    cpu"; the HPA does not act). The utilisation is a whole percent, truncated,
    as Kubernetes computes it.
    """
    if len(usages_millicores) != len(requests_millicores):
        raise ValueError(f"{len(usages_millicores)} usages for {len(requests_millicores)} requests")
    if target_percent <= 0:
        raise ValueError(f"target must be a positive percent, got {target_percent}")
    if not requests_millicores or any(request <= 0 for request in requests_millicores):
        return None
    utilization = math.floor(sum(usages_millicores) * 100 / sum(requests_millicores))
    return utilization / target_percent


def desired_replicas(current: int, ratio: float, tolerance: float = DEFAULT_TOLERANCE) -> int:
    """The replica count the metric asks for: unchanged within the tolerance, else ceil(current * ratio).

    Kubernetes multiplies by the number of *ready* pods and treats pods without
    metrics specially (see the module docstring); this is the simple form.
    """
    if abs(ratio - 1.0) <= tolerance:
        return current
    return math.ceil(current * ratio)


def cpu_target_percent(hpa: HorizontalPodAutoscaler) -> int | None:
    """The CPU utilisation target of an HPA, if it has one."""
    for metric in hpa.metrics:
        if metric.resource == "cpu" and metric.average_utilization is not None:
            return metric.average_utilization
    return None


def _describe_policy(policy: ScalingPolicy) -> str:
    """As in the manifest: "Pods 4 per 15s", "Percent 100 per 15s"."""
    return f"{policy.type} {policy.value} per {policy.period_seconds}s"


def _changed_within(events: Sequence[ScaleEvent], period_seconds: int, now: float) -> int:
    """`getReplicasChangePerPeriod`, both directions at once: pods added minus pods removed."""
    cutoff = now - period_seconds
    return sum(event.change for event in events if event.time > cutoff)


def _select(proposals: list[tuple[int, ScalingPolicy]], pick_most: bool) -> tuple[int, ScalingPolicy]:
    """The proposal with the most (or fewest) replicas; the first one on a tie."""
    chosen = proposals[0]
    for proposal in proposals[1:]:
        if (proposal[0] > chosen[0]) if pick_most else (proposal[0] < chosen[0]):
            chosen = proposal
    return chosen


def _scale_up_limit(current: int, events: Sequence[ScaleEvent], rules: ScalingRules, now: float) -> tuple[int, ScalingPolicy | None]:
    """`calculateScaleUpLimitWithScalingRules`: the most replicas allowed now, and the policy that allows it."""
    if rules.select_policy == "Disabled":
        return current, None
    proposals = []
    for policy in rules.policies:
        period_start = current - _changed_within(events, policy.period_seconds, now)
        if policy.type == "Pods":
            proposals.append((period_start + policy.value, policy))
        else:  # rounded up, else a small deployment might never grow
            proposals.append((math.ceil(period_start * (1 + policy.value / 100)), policy))
    # Max: the policy allowing the biggest change; Min: the smallest.
    return _select(proposals, pick_most=rules.select_policy == "Max")


def _scale_down_limit(current: int, events: Sequence[ScaleEvent], rules: ScalingRules, now: float) -> tuple[int, ScalingPolicy | None]:
    """`calculateScaleDownLimitWithBehaviors`: the fewest replicas allowed now, and the policy that allows it."""
    if rules.select_policy == "Disabled":
        return current, None
    proposals = []
    for policy in rules.policies:
        period_start = current - _changed_within(events, policy.period_seconds, now)
        if policy.type == "Pods":
            proposals.append((period_start - policy.value, policy))
        else:  # truncated, as Kubernetes' int32() conversion
            proposals.append((int(period_start * (1 - policy.value / 100)), policy))
    # Max: the biggest change, so the fewest replicas; Min: the smallest change.
    return _select(proposals, pick_most=rules.select_policy == "Min")


def _stabilize(
    current: int, desired: int, recommendations: Sequence[Recommendation], up: ScalingRules, down: ScalingRules, now: float
) -> int:
    """`stabilizeRecommendationWithBehaviors`: a scale-up goes only as far as the lowest
    recommendation of the scale-up window, a scale-down only as far as the highest of
    the scale-down window; both windows include the new recommendation."""
    up_cutoff = now - up.stabilization_window_seconds
    down_cutoff = now - down.stabilization_window_seconds
    up_to = min([desired] + [r.replicas for r in recommendations if r.time > up_cutoff])
    down_to = max([desired] + [r.replicas for r in recommendations if r.time > down_cutoff])
    return min(max(current, up_to), down_to)


def _keep_recommendations(recommendations: Sequence[Recommendation], hpa: HorizontalPodAutoscaler, now: float) -> tuple[Recommendation, ...]:
    behavior = hpa.behavior
    longest = max(behavior.scale_up.stabilization_window_seconds, behavior.scale_down.stabilization_window_seconds)
    return tuple(r for r in recommendations if r.time > now - longest)


def _keep_events(events: Sequence[ScaleEvent], hpa: HorizontalPodAutoscaler, now: float) -> tuple[ScaleEvent, ...]:
    behavior = hpa.behavior
    longest = max(p.period_seconds for p in behavior.scale_up.policies + behavior.scale_down.policies)
    return tuple(e for e in events if e.time > now - longest)


def decide_scale(
    hpa: HorizontalPodAutoscaler,
    current: int,
    ratio: float | None,
    recommendations: Sequence[Recommendation],
    events: Sequence[ScaleEvent],
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ScaleDecision:
    """The replica count for the HPA's target now, why, and the history to keep.

    As Kubernetes' `reconcileAutoscaler`:

    - a target scaled to 0 by hand is left alone (autoscaling is off);
    - a current count outside [minReplicas, maxReplicas] goes straight to the
      nearest bound, without stabilization or rate limits;
    - without a usable metric (``ratio`` None) nothing changes;
    - else the metric's recommendation is stabilized, then limited by the
      policies of its direction, then clamped to [minReplicas, maxReplicas].

    A first pass (no recommendations yet) counts the current count as a
    recommendation made now, as Kubernetes does when it first sees an HPA
    (`maybeInitScaleDownStabilizationWindow`): a new HPA does not scale down
    before its scale-down window has passed.

    The returned histories include this pass (a recommendation when the metric
    was used, an event when the count changes) and drop what no window or
    period can count any more.
    """
    up, down = hpa.behavior.scale_up, hpa.behavior.scale_down
    lo, hi = hpa.min_replicas, hpa.max_replicas
    target = cpu_target_percent(hpa)

    def finish(replicas: int, reason: str, history: Sequence[Recommendation]) -> ScaleDecision:
        new_events = list(events)
        if replicas != current:
            new_events.append(ScaleEvent(now, replicas - current))
        return ScaleDecision(
            replicas=replicas,
            reason=reason,
            recommendations=_keep_recommendations(history, hpa, now),
            events=_keep_events(new_events, hpa, now),
        )

    if current == 0:
        return finish(0, "target scaled to 0: autoscaling is off until it has replicas", recommendations)
    if current > hi:
        return finish(hi, f"{current} replicas is above maxReplicas {hi}: {current} -> {hi}", recommendations)
    if current < lo:
        return finish(lo, f"{current} replicas is below minReplicas {lo}: {current} -> {lo}", recommendations)
    if ratio is None:
        return finish(current, f"no cpu metrics (a pod without a cpu request, or no usage reported): keeping {current}", recommendations)

    if target is not None:
        metric = f"cpu {round(ratio * target)}% of {target}% target"
    else:
        metric = f"usage {ratio:.2f}x target"
    wanted = desired_replicas(current, ratio, tolerance)
    history = list(recommendations) or [Recommendation(now, current)]
    stabilized = _stabilize(current, wanted, history, up, down, now)
    history.append(Recommendation(now, wanted))

    notes: list[str] = []
    if stabilized != wanted:
        if wanted > current:
            notes.append(f"wants {wanted}, held at {stabilized} by the {up.stabilization_window_seconds}s scale-up stabilization window")
        else:
            notes.append(f"wants {wanted}, held at {stabilized} by the {down.stabilization_window_seconds}s scale-down stabilization window")

    replicas = stabilized
    if stabilized > current:
        limit, policy = _scale_up_limit(current, events, up, now)
        limit = max(limit, current)  # events not yet expired: no further scale-up
        if limit < hi and stabilized > limit:
            replicas = limit
            notes.append("scale-up disabled by selectPolicy Disabled" if policy is None else f"limited by {_describe_policy(policy)}")
        elif stabilized > hi:
            replicas = hi
            notes.append(f"capped at maxReplicas {hi}")
    elif stabilized < current:
        limit, policy = _scale_down_limit(current, events, down, now)
        limit = min(limit, current)
        if limit > lo and stabilized < limit:
            replicas = limit
            notes.append("scale-down disabled by selectPolicy Disabled" if policy is None else f"limited by {_describe_policy(policy)}")
        elif stabilized < lo:
            replicas = lo
            notes.append(f"held at minReplicas {lo}")

    if wanted == current and replicas == current:
        reason = f"{metric}: within {round(tolerance * 100)}% tolerance, keeping {current}"
    elif replicas == current:
        reason = f"{metric}: keeping {current}"
    else:
        reason = f"{metric}: {current} -> {replicas}"
    if notes:
        reason += f" ({'; '.join(notes)})"
    return finish(replicas, reason, history)
