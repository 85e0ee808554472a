"""spec.behavior of a HorizontalPodAutoscaler: Kubernetes' defaults, field by field, and validation."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.model import HorizontalPodAutoscaler, ScalingBehavior, ScalingPolicy, ScalingRules

from .manifests import autoscaler, changed, deployment, parse, problems

KUBERNETES_UP = ScalingRules(0, (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)), "Max")
KUBERNETES_DOWN = ScalingRules(300, (ScalingPolicy("Percent", 100, 15),), "Max")


def behavior_of(document: dict[str, Any]) -> ScalingBehavior:
    hpa = parse(document, deployment()).get("HorizontalPodAutoscaler", "web")
    assert isinstance(hpa, HorizontalPodAutoscaler)
    return hpa.behavior


def with_behavior(behavior: Any) -> dict[str, Any]:
    return changed(autoscaler(), "spec.behavior", behavior)


def test_defaults_are_kubernetes_defaults() -> None:
    assert ScalingBehavior() == ScalingBehavior(KUBERNETES_UP, KUBERNETES_DOWN)
    assert behavior_of(autoscaler()) == ScalingBehavior(KUBERNETES_UP, KUBERNETES_DOWN)
    assert behavior_of(with_behavior({})) == ScalingBehavior()
    assert behavior_of(with_behavior(None)) == ScalingBehavior()


def test_full_behavior() -> None:
    behavior = behavior_of(
        with_behavior(
            {
                "scaleUp": {
                    "stabilizationWindowSeconds": 30,
                    "selectPolicy": "Min",
                    "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}, {"type": "Percent", "value": 50, "periodSeconds": 60}],
                },
                "scaleDown": {"stabilizationWindowSeconds": 10, "selectPolicy": "Disabled", "policies": [{"type": "Pods", "value": 1, "periodSeconds": 1800}]},
            }
        )
    )
    assert behavior.scale_up == ScalingRules(30, (ScalingPolicy("Pods", 2, 60), ScalingPolicy("Percent", 50, 60)), "Min")
    assert behavior.scale_down == ScalingRules(10, (ScalingPolicy("Pods", 1, 1800),), "Disabled")


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [
        ({"scaleDown": {"stabilizationWindowSeconds": 60}}, ScalingBehavior(KUBERNETES_UP, ScalingRules(60, KUBERNETES_DOWN.policies))),
        ({"scaleDown": {"selectPolicy": "Disabled"}}, ScalingBehavior(KUBERNETES_UP, ScalingRules(300, KUBERNETES_DOWN.policies, "Disabled"))),
        ({"scaleUp": {"stabilizationWindowSeconds": 3600}}, ScalingBehavior(ScalingRules(3600, KUBERNETES_UP.policies), KUBERNETES_DOWN)),
        # Policies given replace the default policies; the window stays the default.
        ({"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 1}]}},
         ScalingBehavior(ScalingRules(0, (ScalingPolicy("Pods", 1, 1),)), KUBERNETES_DOWN)),
        ({"scaleUp": None, "scaleDown": {}}, ScalingBehavior()),
    ],
)  # fmt: skip
def test_partly_given_behavior_takes_the_defaults_for_the_rest(behavior: dict[str, Any], expected: ScalingBehavior) -> None:
    assert behavior_of(with_behavior(behavior)) == expected


H = "web.yaml: HorizontalPodAutoscaler/web: spec.behavior"


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [
        ("fast", f"{H}: must be a mapping, got 'fast'"),
        ({"scaleSideways": {}}, f"{H}.scaleSideways: unsupported field; supported here: scaleUp, scaleDown"),
        ({"scaleUp": []}, f"{H}.scaleUp: must be a mapping, got a list"),
        ({"scaleUp": {"tolerance": 0.05}},
         f"{H}.scaleUp.tolerance: unsupported field; supported here: stabilizationWindowSeconds, selectPolicy, policies"),
        ({"scaleDown": {"stabilizationWindowSeconds": 3601}}, f"{H}.scaleDown.stabilizationWindowSeconds: must be an integer 0-3600, got 3601"),
        ({"scaleDown": {"stabilizationWindowSeconds": -1}}, f"{H}.scaleDown.stabilizationWindowSeconds: must be an integer 0-3600, got -1"),
        ({"scaleDown": {"stabilizationWindowSeconds": "5m"}}, f"{H}.scaleDown.stabilizationWindowSeconds: must be an integer 0-3600, got '5m'"),
        ({"scaleUp": {"selectPolicy": "Maximum"}}, f"{H}.scaleUp.selectPolicy: must be Max, Min or Disabled, got 'Maximum'"),
        ({"scaleUp": {"policies": []}}, f"{H}.scaleUp.policies: must have at least one policy; omit policies for the defaults"),
        ({"scaleUp": {"policies": {"type": "Pods"}}}, f"{H}.scaleUp.policies: must be a list, got a mapping"),
        ({"scaleUp": {"policies": [{"type": "Replicas", "value": 1, "periodSeconds": 15}]}},
         f"{H}.scaleUp.policies[0].type: must be Pods or Percent, got 'Replicas'"),
        ({"scaleUp": {"policies": [{"value": 1, "periodSeconds": 15}]}}, f"{H}.scaleUp.policies[0].type: is required: Pods or Percent"),
        ({"scaleDown": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}]}},
         f"{H}.scaleDown.policies[0].value: must be an integer >= 1, got 0"),
        ({"scaleDown": {"policies": [{"type": "Percent", "periodSeconds": 15}]}}, f"{H}.scaleDown.policies[0].value: is required"),
        ({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 1801}]}},
         f"{H}.scaleDown.policies[0].periodSeconds: must be an integer 1-1800, got 1801"),
        ({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 0}]}},
         f"{H}.scaleDown.policies[0].periodSeconds: must be an integer 1-1800, got 0"),
        ({"scaleDown": {"policies": [{"type": "Pods", "value": 1}]}}, f"{H}.scaleDown.policies[0].periodSeconds: is required"),
        ({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 15, "period": 15}]}},
         f"{H}.scaleDown.policies[0].period: unsupported field; supported here: type, value, periodSeconds"),
        ({"scaleDown": {"policies": ["Pods 1 per 15s"]}}, f"{H}.scaleDown.policies[0]: must be a mapping, got 'Pods 1 per 15s'"),
    ],
)  # fmt: skip
def test_one_bad_field_gives_one_line(behavior: Any, expected: str) -> None:
    assert problems(with_behavior(behavior), deployment()) == [expected]


def test_every_bad_policy_is_reported() -> None:
    bad = {
        "scaleUp": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}, {"type": "Percent", "value": 10, "periodSeconds": 2000}]},
        "scaleDown": {"stabilizationWindowSeconds": 7200},
    }
    assert problems(with_behavior(bad), deployment()) == [
        f"{H}.scaleUp.policies[0].value: must be an integer >= 1, got 0",
        f"{H}.scaleUp.policies[1].periodSeconds: must be an integer 1-1800, got 2000",
        f"{H}.scaleDown.stabilizationWindowSeconds: must be an integer 0-3600, got 7200",
    ]
