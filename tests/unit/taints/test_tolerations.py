"""Toleration matching, taint text and eviction times, as Kubernetes has them."""

from __future__ import annotations

import pytest

from sshorch.taints import (
    DAEMON_TOLERATIONS,
    UNSCHEDULABLE,
    Taint,
    TaintChange,
    TaintError,
    Toleration,
    change_taints,
    eviction_time,
    merge_taints,
    parse_taint,
    parse_taint_change,
    tolerates,
    untolerated,
)

DB = Taint("dedicated", "NoSchedule", "db")


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (Toleration("dedicated", "Equal", "db", "NoSchedule"), DB, True),
        (Toleration("dedicated", "Equal", "web", "NoSchedule"), DB, False),
        (Toleration("dedicated", "Exists", effect="NoSchedule"), DB, True),
        (Toleration("dedicated", "Exists"), DB, True),  # no effect: every effect
        (Toleration("dedicated", "Equal", "db"), Taint("dedicated", "NoExecute", "db"), True),
        (Toleration("dedicated", "Equal", "db", "NoExecute"), DB, False),
        (Toleration("", "Exists"), DB, True),  # empty key with Exists: everything
        (Toleration("", "Exists", effect="NoExecute"), DB, False),
        (Toleration("other", "Exists"), DB, False),
        (Toleration("gpu", "Equal", ""), Taint("gpu", "NoSchedule"), True),  # no value equals no value
        (Toleration("gpu", "Equal", "yes"), Taint("gpu", "NoSchedule"), False),
    ],
)
def test_toleration_matching(toleration: Toleration, taint: Taint, expected: bool) -> None:
    assert tolerates(toleration, taint) is expected


def test_untolerated_keeps_only_the_asked_effects() -> None:
    taints = [DB, Taint("slow", "PreferNoSchedule"), Taint("gone", "NoExecute")]
    assert untolerated(taints, [], ("NoSchedule", "NoExecute")) == [DB, Taint("gone", "NoExecute")]
    assert untolerated(taints, [Toleration("dedicated", "Exists")], ("NoSchedule",)) == []


def test_daemon_pods_tolerate_cordon() -> None:
    assert untolerated([Taint(UNSCHEDULABLE, "NoSchedule")], DAEMON_TOLERATIONS, ("NoSchedule",)) == []
    assert untolerated([DB], DAEMON_TOLERATIONS, ("NoSchedule",)) == [DB]


@pytest.mark.parametrize(
    ("text", "taint"),
    [
        ("dedicated=db:NoSchedule", DB),
        ("gpu:NoExecute", Taint("gpu", "NoExecute")),
        ("example.com/slow=yes:PreferNoSchedule", Taint("example.com/slow", "PreferNoSchedule", "yes")),
        ("k=:NoSchedule", Taint("k", "NoSchedule")),
    ],
)
def test_parse_taint(text: str, taint: Taint) -> None:
    assert parse_taint(text) == taint
    assert str(parse_taint(text)) == text.replace("=:", ":")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dedicated=db", "is not a taint"),
        ("dedicated=db:Never", "the effect must be one of"),
        (":NoSchedule", "is not a taint"),
        ("bad key:NoSchedule", "key must be a label key"),
        ("k=bad value:NoSchedule", "value must be a label value"),
    ],
)
def test_bad_taints_say_what_is_allowed(text: str, problem: str) -> None:
    with pytest.raises(TaintError, match=problem):
        parse_taint(text)


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("dedicated=db:NoSchedule", TaintChange("dedicated", False, "NoSchedule", "db")),
        ("dedicated=db:NoSchedule-", TaintChange("dedicated", True, "NoSchedule", "db")),
        ("dedicated:NoSchedule-", TaintChange("dedicated", True, "NoSchedule")),
        ("dedicated-", TaintChange("dedicated", True)),
    ],
)
def test_parse_taint_change(text: str, change: TaintChange) -> None:
    assert parse_taint_change(text) == change


def test_bad_removal_is_an_error() -> None:
    with pytest.raises(TaintError):
        parse_taint_change("-")
    with pytest.raises(TaintError):
        parse_taint_change("bad key-")


def test_change_taints_adds_replaces_and_removes() -> None:
    added = change_taints((), parse_taint_change("dedicated=db:NoSchedule"), 10.0)
    assert added == (Taint("dedicated", "NoSchedule", "db", 10.0),)
    replaced = change_taints(added, parse_taint_change("dedicated=web:NoSchedule"), 20.0)
    assert replaced == (Taint("dedicated", "NoSchedule", "web", 20.0),)
    both = change_taints(replaced, parse_taint_change("dedicated:NoExecute"), 30.0)
    assert len(both) == 2
    assert change_taints(both, parse_taint_change("dedicated:NoExecute-"), 40.0) == replaced
    assert change_taints(both, parse_taint_change("dedicated-"), 40.0) == ()
    with pytest.raises(TaintError, match="not found"):
        change_taints((), parse_taint_change("dedicated-"), 40.0)


def test_merge_keeps_one_taint_per_key_and_effect() -> None:
    merged = merge_taints([Taint("a", "NoSchedule", "1", 5.0)], [Taint("a", "NoSchedule", "2"), Taint("a", "NoExecute")])
    assert merged == (Taint("a", "NoSchedule", "2", 5.0), Taint("a", "NoExecute"))


GONE = Taint("gone", "NoExecute", "", 100.0)


@pytest.mark.parametrize(
    ("tolerations", "started", "due"),
    [
        ((), None, 0.0),  # not tolerated: at once
        ((Toleration("gone", "Exists"),), None, None),  # tolerated, no seconds: stays
        ((Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=30),), None, 130.0),
        ((Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=30),), 200.0, 230.0),  # counts from a later start
        ((Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=0),), None, 0.0),
        ((Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=-5),), None, 0.0),
        # Several matching: the shortest seconds win; one without seconds does not lift them.
        ((Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=60),
          Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=30),
          Toleration("", "Exists")), None, 130.0),
    ],
)
def test_eviction_time(tolerations: tuple[Toleration, ...], started: float | None, due: float | None) -> None:
    assert eviction_time([GONE, DB], tolerations, started) == due


def test_no_execute_taint_without_time_counts_from_the_start() -> None:
    seconds = (Toleration("gone", "Exists", effect="NoExecute", toleration_seconds=30),)
    assert eviction_time([Taint("gone", "NoExecute")], seconds, 50.0) == 80.0
    assert eviction_time([Taint("gone", "NoExecute")], seconds, None) == 30.0
