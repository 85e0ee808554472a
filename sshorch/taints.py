"""Node taints and pod tolerations, with Kubernetes' matching rules. Shared by the inventory
(`sshorch_taints`), the `taint` command, manifests (`tolerations`) and the scheduler. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Effect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
EFFECTS: tuple[Effect, ...] = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# What `cordon` (and `drain`) put on a node, as Kubernetes shows it.
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"

_QUALIFIED_NAME = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
TAINT_KEY_RULE = "must be a label key such as dedicated or example.com/gpu (letters, digits, '-', '_', '.', one optional prefix/)"
TAINT_VALUE_RULE = "must be a label value (at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)"
TAINT_FORM = "key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute"


@dataclass(frozen=True)
class Taint:
    """A node taint. `added`: when it was put on the node (wall clock), what NoExecute's
    tolerationSeconds count from; None when unknown."""

    key: str
    effect: Effect
    value: str = ""
    added: float | None = None

    @property
    def ident(self) -> tuple[str, str]:
        """A node holds one taint per key and effect, as in Kubernetes."""
        return (self.key, self.effect)

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


@dataclass(frozen=True)
class Toleration:
    """A pod's toleration. Empty key with Exists tolerates every taint; no effect matches every effect."""

    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: Effect | None = None
    toleration_seconds: int | None = None  # NoExecute only: how long the pod stays once tainted


class TaintError(ValueError):
    """A taint's text is not valid; the message says what is allowed."""


def check_taint_key(key: str) -> str | None:
    if len(key) > 316 or not _QUALIFIED_NAME.fullmatch(key) or len(key.rpartition("/")[2]) > 63:
        return TAINT_KEY_RULE
    return None


def check_taint_value(value: str) -> str | None:
    return TAINT_VALUE_RULE if len(value) > 63 or not _LABEL_VALUE.fullmatch(value) else None


def parse_taint(text: str) -> Taint:
    """`key=value:Effect` or `key:Effect`, as `kubectl taint` writes them."""
    spec, colon, effect = text.rpartition(":")
    if not colon or not spec:
        raise TaintError(f"{text!r} is not a taint: write {TAINT_FORM}")
    if effect not in EFFECTS:
        raise TaintError(f"{text!r}: the effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
    key, _, value = spec.partition("=")
    for problem in (check_taint_key(key), check_taint_value(value)):
        if problem is not None:
            raise TaintError(f"{text!r}: {'key' if problem == TAINT_KEY_RULE else 'value'} {problem}")
    return Taint(key, effect, value)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Kubernetes' ToleratesTaint: effect (if set) and key (if set) equal, then Exists, or Equal values."""
    if toleration.effect is not None and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    return toleration.operator == "Exists" or toleration.value == taint.value


def untolerated(taints: Iterable[Taint], tolerations: Sequence[Toleration], effects: Sequence[Effect]) -> list[Taint]:
    """The taints of `effects` that no toleration tolerates."""
    return [t for t in taints if t.effect in effects and not any(tolerates(x, t) for x in tolerations)]


def merge_taints(*sources: Iterable[Taint]) -> tuple[Taint, ...]:
    """One taint per key and effect: a later source wins, keeping the earlier one's time added
    when it has none of its own."""
    merged: dict[tuple[str, str], Taint] = {}
    for source in sources:
        for taint in source:
            before = merged.get(taint.ident)
            if before is not None and taint.added is None:
                taint = Taint(taint.key, taint.effect, taint.value, before.added)
            merged[taint.ident] = taint
    return tuple(merged.values())


# Tolerations Kubernetes' DaemonSet controller adds to every daemon pod: it runs on cordoned
# and pressured nodes and is not evicted from a node that stops answering.
DAEMON_TOLERATIONS: tuple[Toleration, ...] = (
    Toleration("node.kubernetes.io/not-ready", "Exists", effect="NoExecute"),
    Toleration("node.kubernetes.io/unreachable", "Exists", effect="NoExecute"),
    Toleration("node.kubernetes.io/disk-pressure", "Exists", effect="NoSchedule"),
    Toleration("node.kubernetes.io/memory-pressure", "Exists", effect="NoSchedule"),
    Toleration("node.kubernetes.io/pid-pressure", "Exists", effect="NoSchedule"),
    Toleration(UNSCHEDULABLE, "Exists", effect="NoSchedule"),
)


def eviction_time(taints: Iterable[Taint], tolerations: Sequence[Toleration], started: float | None) -> float | None:
    """When a pod must leave its node for the node's NoExecute taints: None to stay, else the
    wall-clock time (0.0: at once). A tolerated taint with tolerationSeconds lets it stay that
    long after the taint was added (or after the pod started, if later); the shortest wins,
    as in Kubernetes' taint manager."""
    due: float | None = None
    for taint in taints:
        if taint.effect != "NoExecute":
            continue
        matching = [x for x in tolerations if tolerates(x, taint)]
        if not matching:
            return 0.0
        seconds = [x.toleration_seconds for x in matching if x.toleration_seconds is not None]
        if not seconds:  # tolerated for as long as the taint stays
            continue
        since = max(filter(None, (taint.added, started)), default=0.0)
        at = 0.0 if min(seconds) <= 0 else since + min(seconds)
        due = at if due is None else min(due, at)
    return due


@dataclass(frozen=True)
class TaintChange:
    """What one `sshorch taint` argument asks: add (or replace) a taint, or remove the taints
    of a key (of one effect, or of every effect when `effect` is None)."""

    key: str
    remove: bool
    effect: Effect | None = None
    value: str = ""


def parse_taint_change(text: str) -> TaintChange:
    """`key=value:Effect` adds; `key=value:Effect-`, `key:Effect-` and `key-` remove, as in kubectl."""
    if not text.endswith("-"):
        taint = parse_taint(text)
        return TaintChange(taint.key, False, taint.effect, taint.value)
    spec = text[:-1]
    if ":" not in spec:
        key = spec.partition("=")[0]
        if check_taint_key(key) is not None:
            raise TaintError(f"{text!r}: key {TAINT_KEY_RULE}")
        return TaintChange(key, True)
    taint = parse_taint(spec)
    return TaintChange(taint.key, True, taint.effect, taint.value)


def change_taints(taints: Sequence[Taint], change: TaintChange, now: float) -> tuple[Taint, ...]:
    """`taints` with the change made; an added taint replaces the one of its key and effect
    and is added at `now`. Removing what is not there is a TaintError."""
    if change.remove:
        kept = tuple(t for t in taints if not (t.key == change.key and change.effect in (None, t.effect)))
        if len(kept) == len(taints):
            shown = f"{change.key}:{change.effect}" if change.effect else change.key
            raise TaintError(f"taint {shown!r} not found")
        return kept
    assert change.effect is not None
    added = Taint(change.key, change.effect, change.value, now)
    return (*(t for t in taints if t.ident != added.ident), added)
