"""A pod spec's `tolerations`, validated as Kubernetes validates them."""

from __future__ import annotations

from typing import Literal

from sshorch.taints import EFFECTS, Effect, Toleration, check_taint_key, check_taint_value

from .fields import Fields, Report, describe

_FIELDS = ("key", "operator", "value", "effect", "tolerationSeconds")
_OPERATORS: tuple[Literal["Equal", "Exists"], ...] = ("Equal", "Exists")
# An absent or empty effect matches every effect.
_EFFECT_CHOICES: tuple[Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"], ...] = ("", *EFFECTS)
_INT64_MAX = 2**63 - 1


def parse_toleration(report: Report, path: str, value: object) -> Toleration:
    fields = Fields(report, value, path, _FIELDS)
    key = fields.get_str("key", "", lambda text: check_taint_key(text) if text else None)
    operator = fields.get_choice("operator", _OPERATORS, "Equal")
    if operator == "Exists":
        toleration_value = fields.get_str("value", "")
        if toleration_value:
            fields.fail("value", f"must be empty when operator is Exists, got {describe(toleration_value)}")
    else:
        toleration_value = fields.get_str("value", "", check_taint_value)
        if not fields.raw("key") and fields.raw("operator") in (None, "Equal"):
            fields.fail("operator", "must be Exists when key is empty (which tolerates every taint)")
    choice = fields.get_choice("effect", _EFFECT_CHOICES, "")
    effect: Effect | None = choice if choice else None
    seconds = fields.optional_int("tolerationSeconds", -_INT64_MAX, _INT64_MAX)
    if seconds is not None and effect != "NoExecute":
        fields.fail("tolerationSeconds", "is only allowed with effect NoExecute")
    return Toleration(key, operator, toleration_value, effect, seconds)


def parse_tolerations(fields: Fields) -> tuple[Toleration, ...]:
    return tuple(parse_toleration(fields.report, path, item) for path, item in fields.items("tolerations"))
