"""HPA arithmetic, with numbers worked out from the Kubernetes docs
(tasks/run-application/horizontal-pod-autoscale, "Algorithm details" and
"Configurable scaling behavior")."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sshorch.plan.autoscale import (
    Recommendation,
    ScaleDecision,
    ScaleEvent,
    decide_scale,
    desired_replicas,
    usage_ratio,
)
from sshorch.spec.model import (
    HorizontalPodAutoscaler,
    MetricTarget,
    ObjectMeta,
    ScalingBehavior,
    ScalingPolicy,
    ScalingRules,
)

DEFAULT_UP = ScalingBehavior().scale_up
DEFAULT_DOWN = ScalingBehavior().scale_down
NO_WINDOW_DOWN = ScalingRules(0, DEFAULT_DOWN.policies)


def hpa(
    *,
    min_replicas: int = 1,
    max_replicas: int = 100,
    target: int = 50,
    up: ScalingRules = DEFAULT_UP,
    down: ScalingRules = DEFAULT_DOWN,
) -> HorizontalPodAutoscaler:
    return HorizontalPodAutoscaler(
        meta=ObjectMeta("HorizontalPodAutoscaler", "web"),
        target_kind="Deployment",
        target_name="web",
        max_replicas=max_replicas,
        min_replicas=min_replicas,
        metrics=(MetricTarget("cpu", average_utilization=target),),
        behavior=ScalingBehavior(scale_up=up, scale_down=down),
    )


def ratio_for(utilization: int, target: int = 50) -> float:
    return utilization / target


class Autoscaler:
    """Runs decide_scale pass after pass, keeping the history as a caller would."""

    def __init__(self, spec: HorizontalPodAutoscaler, replicas: int) -> None:
        self.spec = spec
        self.replicas = replicas
        self.recommendations: tuple[Recommendation, ...] = ()
        self.events: tuple[ScaleEvent, ...] = ()

    def run(self, now: float, ratio: float | None) -> ScaleDecision:
        decision = decide_scale(self.spec, self.replicas, ratio, self.recommendations, self.events, now)
        self.replicas = decision.replicas
        self.recommendations = decision.recommendations
        self.events = decision.events
        return decision


# --- usage_ratio ----------------------------------------------------------


def test_ratio_is_total_usage_over_total_requests_over_target() -> None:
    # Two pods requesting 200m, using 150m and 210m: 90% of requests, target 50% -> 1.8.
    assert usage_ratio([150, 210], [200, 200], 50) == pytest.approx(1.8)
    # The total, not the mean of per-pod ratios: requests weigh in.
    assert usage_ratio([100, 100], [100, 300], 50) == pytest.approx(1.0)


def test_ratio_utilization_is_a_truncated_whole_percent() -> None:
    # 100.9% -> 100% (Kubernetes: int32(metricsTotal * 100 / requestsTotal)).
    assert usage_ratio([100.9], [100], 50) == 2.0
    assert usage_ratio([49.99], [100], 50) == pytest.approx(49 / 50)


def test_ratio_none_when_a_pod_has_no_request() -> None:
    assert usage_ratio([10, 10], [0, 0], 50) is None
    assert usage_ratio([10, 10], [100, 0], 50) is None  # Kubernetes: "missing request for cpu"
    assert usage_ratio([], [], 50) is None


def test_ratio_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError):
        usage_ratio([10], [100, 100], 50)
    with pytest.raises(ValueError):
        usage_ratio([10], [100], 0)


# --- desired_replicas -----------------------------------------------------


@pytest.mark.parametrize(
    ("current", "ratio", "expected"),
    [
        (3, 1.08, 3),  # within the 10% tolerance: no change
        (3, 0.92, 3),
        (10, 1.09, 10),
        (1, 2.0, 2),  # docs: 200m used for a 100m target doubles
        (4, 0.5, 2),  # docs: 50m for 100m halves
        (3, 1.5, 5),  # ceil(4.5)
        (2, 3.6, 8),  # cpu 180% of 50%: ceil(7.2)
        (3, 0.25, 1),  # ceil(0.75)
        (4, 0.0, 0),  # nothing used: clamped to minReplicas later
    ],
)
def test_desired_replicas(current: int, ratio: float, expected: int) -> None:
    assert desired_replicas(current, ratio) == expected


def test_desired_replicas_tolerance_is_configurable() -> None:
    assert desired_replicas(10, 1.2, tolerance=0.25) == 10
    assert desired_replicas(10, 1.2, tolerance=0.0) == 12


# --- decide_scale: clamping and the simple cases --------------------------


def test_scale_up_capped_at_max_replicas() -> None:
    decision = decide_scale(hpa(max_replicas=5), 4, ratio_for(150), (), (), now=0)
    # ceil(4 * 3) = 12; the default policies would allow 8; maxReplicas 5.
    assert decision.replicas == 5
    assert decision.reason == "cpu 150% of 50% target: 4 -> 5 (capped at maxReplicas 5)"
    assert decision.events == (ScaleEvent(0, 1),)


def test_scale_down_held_at_min_replicas() -> None:
    decision = decide_scale(hpa(min_replicas=2, down=NO_WINDOW_DOWN), 3, ratio_for(5), (), (), now=0)
    assert decision.replicas == 2
    assert decision.reason == "cpu 5% of 50% target: 3 -> 2 (held at minReplicas 2)"


def test_current_outside_the_bounds_goes_to_the_bound_directly() -> None:
    decision = decide_scale(hpa(max_replicas=10), 25, ratio_for(100), (), (), now=0)
    assert decision.replicas == 10  # not limited by the scale-down policies or window
    assert decision.reason == "25 replicas is above maxReplicas 10: 25 -> 10"
    assert decision.events == (ScaleEvent(0, -15),)
    assert decision.recommendations == ()
    below = decide_scale(hpa(min_replicas=3), 1, None, (), (), now=0)
    assert (below.replicas, below.reason) == (3, "1 replicas is below minReplicas 3: 1 -> 3")


def test_no_metric_keeps_the_replicas() -> None:
    history = (Recommendation(-10, 4),)
    decision = decide_scale(hpa(), 4, None, history, (), now=0)
    assert decision.replicas == 4
    assert decision.reason.startswith("no cpu metrics")
    assert decision.recommendations == history  # no new recommendation
    assert decision.events == ()


def test_target_scaled_to_zero_is_left_alone() -> None:
    decision = decide_scale(hpa(min_replicas=1), 0, ratio_for(500), (), (), now=0)
    assert decision.replicas == 0
    assert "autoscaling is off" in decision.reason


def test_within_tolerance() -> None:
    decision = decide_scale(hpa(), 4, ratio_for(53), (), (), now=0)
    assert decision.replicas == 4
    assert decision.reason == "cpu 53% of 50% target: within 10% tolerance, keeping 4"
    assert decision.events == ()


# --- stabilization --------------------------------------------------------


def test_scale_down_held_by_the_300s_window_then_allowed() -> None:
    scaler = Autoscaler(hpa(), replicas=4)
    assert scaler.run(0, ratio_for(50)).replicas == 4  # steady: recommends 4
    for now in (15, 60, 150, 299, 299.9):
        decision = scaler.run(now, ratio_for(25))  # recommends ceil(4 * 0.5) = 2
        assert decision.replicas == 4, now
    assert decision.reason == "cpu 25% of 50% target: keeping 4 (wants 2, held at 4 by the 300s scale-down stabilization window)"
    # At 300 the recommendations of 0 are 300 s old: out (a window holds what is strictly younger).
    decision = scaler.run(300, ratio_for(25))
    assert decision.replicas == 2
    assert decision.reason == "cpu 25% of 50% target: 4 -> 2"
    assert min(r.time for r in decision.recommendations) == 15  # those of 0 are dropped
    assert decision.events == (ScaleEvent(300, -2),)


def test_scale_down_window_uses_the_highest_recent_recommendation() -> None:
    history = (Recommendation(-200, 9), Recommendation(-100, 6), Recommendation(-20, 5))
    decision = decide_scale(hpa(), 10, ratio_for(10), history, (), now=0)
    assert decision.replicas == 9  # wants 2; the highest within 300 s is 9


def test_short_scale_down_window() -> None:
    scaler = Autoscaler(hpa(down=ScalingRules(10, DEFAULT_DOWN.policies)), replicas=4)
    scaler.run(0, ratio_for(50))
    assert scaler.run(5, ratio_for(25)).replicas == 4
    assert scaler.run(9.9, ratio_for(25)).replicas == 4
    assert scaler.run(10, ratio_for(25)).replicas == 2  # the 4s of 0 are now outside the window


def test_a_new_hpa_does_not_scale_down_before_its_window() -> None:
    # No history: the current count counts as a recommendation made now (as Kubernetes does).
    scaler = Autoscaler(hpa(down=ScalingRules(60, DEFAULT_DOWN.policies)), replicas=6)
    assert scaler.run(0, ratio_for(10)).replicas == 6
    assert scaler.run(59, ratio_for(10)).replicas == 6
    assert scaler.run(61, ratio_for(10)).replicas == 2  # ceil(6 * 0.2) = 2 after the window


def test_scale_up_is_immediate_by_default_even_for_a_new_hpa() -> None:
    decision = decide_scale(hpa(), 2, ratio_for(100), (), (), now=0)
    assert decision.replicas == 4


def test_scale_up_window_uses_the_lowest_recent_recommendation() -> None:
    spec = hpa(up=ScalingRules(60, DEFAULT_UP.policies))
    history = (Recommendation(-90, 2), Recommendation(-50, 3), Recommendation(-10, 6))
    decision = decide_scale(spec, 2, ratio_for(150), history, (), now=0)
    # wants 6; the lowest within 60 s is 3.
    assert decision.replicas == 3
    assert decision.reason == "cpu 150% of 50% target: 2 -> 3 (wants 6, held at 3 by the 60s scale-up stabilization window)"
    assert decision.recommendations[-1] == Recommendation(0, 6)


# --- rate limits ----------------------------------------------------------


def test_scale_up_limited_by_4_pods_or_100_percent_per_15s() -> None:
    scaler = Autoscaler(hpa(), replicas=2)
    # cpu 500% of 50%: wants 20. Percent 100 allows 4, Pods 4 allows 6; Max picks 6.
    decision = scaler.run(0, ratio_for(500))
    assert decision.replicas == 6
    assert decision.reason == "cpu 500% of 50% target: 2 -> 6 (limited by Pods 4 per 15s)"
    # 5 s later: the period started at 2 replicas, so still at most 6.
    decision = scaler.run(5, ratio_for(170))  # wants ceil(6 * 3.4) = 21
    assert decision.replicas == 6
    assert decision.reason == "cpu 170% of 50% target: keeping 6 (limited by Pods 4 per 15s)"
    # 15 s after the first scale-up its event is out of the period: 100% of 6 beats 4 pods.
    decision = scaler.run(15, ratio_for(170))
    assert decision.replicas == 12
    assert decision.reason == "cpu 170% of 50% target: 6 -> 12 (limited by Percent 100 per 15s)"
    assert decision.events == (ScaleEvent(15, 6),)  # the event of 0 is older than every period


def test_select_policy_min_picks_the_smallest_change() -> None:
    up = ScalingRules(0, DEFAULT_UP.policies, "Min")
    decision = decide_scale(hpa(up=up), 10, ratio_for(150), (), (), now=0)
    # wants 30; Percent 100 allows 20, Pods 4 allows 14: Min picks 14.
    assert decision.replicas == 14
    assert decision.reason.endswith("(limited by Pods 4 per 15s)")
    assert decide_scale(hpa(), 10, ratio_for(150), (), (), now=0).replicas == 20  # Max


# The docs' scale-down example: 4 pods or 10% per minute.
DOCS_DOWN = (ScalingPolicy("Pods", 4, 60), ScalingPolicy("Percent", 10, 60))


def test_scale_down_policies_from_the_docs() -> None:
    scaler = Autoscaler(hpa(down=ScalingRules(0, DOCS_DOWN)), replicas=80)
    decision = scaler.run(0, ratio_for(5))  # wants 8
    assert decision.replicas == 72  # 10% of 80 = 8 beats 4 pods
    assert decision.reason == "cpu 5% of 50% target: 80 -> 72 (limited by Percent 10 per 60s)"
    assert scaler.run(30, ratio_for(5)).replicas == 72  # the period started at 80: nothing more
    assert scaler.run(60, ratio_for(5)).replicas == 64  # int(72 * 0.9) = 64: 8 more


def test_scale_down_select_policy_min() -> None:
    decision = decide_scale(hpa(down=ScalingRules(0, DOCS_DOWN, "Min")), 80, ratio_for(5), (), (), now=0)
    assert decision.replicas == 76
    assert decision.reason.endswith("(limited by Pods 4 per 60s)")


def test_select_policy_disabled_forbids_that_direction_only() -> None:
    spec = hpa(down=ScalingRules(0, DEFAULT_DOWN.policies, "Disabled"))
    decision = decide_scale(spec, 5, ratio_for(10), (), (), now=0)
    assert decision.replicas == 5
    assert decision.reason == "cpu 10% of 50% target: keeping 5 (scale-down disabled by selectPolicy Disabled)"
    assert decide_scale(spec, 5, ratio_for(100), (), (), now=0).replicas == 10

    spec = hpa(up=ScalingRules(0, DEFAULT_UP.policies, "Disabled"), down=NO_WINDOW_DOWN)
    decision = decide_scale(spec, 5, ratio_for(100), (), (), now=0)
    assert decision.replicas == 5
    assert "scale-up disabled" in decision.reason
    assert decide_scale(spec, 5, ratio_for(10), (), (), now=0).replicas == 1


def test_scale_down_events_count_against_a_following_scale_up() -> None:
    # 10 -> 6 five seconds ago; now up: the period started at 10, so Pods 4 allows 14, Percent 100 allows 20.
    events = (ScaleEvent(-5, -4),)
    decision = decide_scale(hpa(), 6, ratio_for(500), (), events, now=0)
    assert decision.replicas == 20
    assert decision.events == (ScaleEvent(-5, -4), ScaleEvent(0, 14))


def test_history_is_pruned_to_the_longest_window_and_period() -> None:
    spec = hpa(up=ScalingRules(0, (ScalingPolicy("Pods", 1, 30),)), down=ScalingRules(100, (ScalingPolicy("Pods", 1, 60),)))
    recommendations = (Recommendation(-150, 3), Recommendation(-100, 3), Recommendation(-99, 3))
    events = (ScaleEvent(-61, 1), ScaleEvent(-60, 1), ScaleEvent(-59, 1))
    decision = decide_scale(spec, 3, ratio_for(50), recommendations, events, now=0)
    assert decision.recommendations == (Recommendation(-99, 3), Recommendation(0, 3))
    assert decision.events == (ScaleEvent(-59, 1),)


def _sequence(spec: HorizontalPodAutoscaler, replicas: int, steps: Sequence[tuple[float, float]]) -> list[int]:
    scaler = Autoscaler(spec, replicas)
    return [scaler.run(now, ratio).replicas for now, ratio in steps]


def test_default_scale_up_from_one_replica() -> None:
    # Heavy load from 1 replica: +4 pods per 15 s beats +100% while small, then doubling takes over.
    steps = [(t * 15.0, 10.0) for t in range(4)]
    assert _sequence(hpa(max_replicas=100), 1, steps) == [5, 10, 20, 40]
