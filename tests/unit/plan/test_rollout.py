"""rollout_step as tables of (replicas, strategy, pods) -> (create, drain, remove, complete),
and as whole rollouts played out by a small simulator that checks the
availability floor and the surge ceiling after every step."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.plan.rolling import PodView, RolloutDecision, resolve_fenceposts, rollout_step
from sshorch.spec.model import DeploymentStrategy, IntOrPercent

Amount = int | str  # 1 or "25%"


def amount(value: Amount) -> IntOrPercent:
    if isinstance(value, str):
        return IntOrPercent(int(value.rstrip("%")), percent=True)
    return IntOrPercent(value)


def rolling(surge: Amount, unavailable: Amount) -> DeploymentStrategy:
    return DeploymentStrategy("RollingUpdate", amount(surge), amount(unavailable))


ROLL = DeploymentStrategy()  # 25 % / 25 %
RECREATE = DeploymentStrategy("Recreate")

STATES = ("available", "ready", "running", "stopped", "draining")


def pod(name: str, state: str = "available") -> PodView:
    """n<slot>… is a new-revision pod, o<slot>… an old one: n0, n0b, o3."""
    assert state in STATES
    slot = "".join(c for c in name[1:] if c.isdigit())
    up = STATES.index(state)
    # A draining pod keeps its flags: they must count for nothing.
    return PodView(
        name=name,
        slot=slot,
        new=name.startswith("n"),
        running=up <= 2 or state == "draining",
        ready=up <= 1 or state == "draining",
        available=up == 0 or state == "draining",
        draining=state == "draining",
    )


def pods(*names: str, state: str = "available") -> list[PodView]:
    return [pod(n, state) for n in names]


def outcome(decision: RolloutDecision) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]:
    return (decision.create, decision.drain, decision.remove, decision.complete)


# --- fenceposts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (1, "25%", "25%", (1, 0)),  # surge rounds up, unavailable down
        (3, "25%", "25%", (1, 0)),
        (4, "25%", "25%", (1, 1)),
        (10, "25%", "25%", (3, 2)),
        (3, "50%", "50%", (2, 1)),
        (3, "100%", 0, (3, 0)),
        (3, "0%", "0%", (0, 1)),  # both 0: one may be unavailable, or nothing could move
        (3, 0, 0, (0, 1)),
        (1, 0, "25%", (0, 1)),
        (2, 1, 5, (1, 2)),  # never more unavailable than there are replicas
        (0, "25%", "25%", (0, 0)),
    ],
)
def test_fenceposts_round_like_kubernetes(replicas: int, surge: Amount, unavailable: Amount, expected: tuple[int, int]) -> None:
    assert resolve_fenceposts(replicas, rolling(surge, unavailable)) == expected


# --- single steps ------------------------------------------------------------

NONE: tuple[str, ...] = ()

CASES = [
    # id, replicas, strategy, pods, create, drain, remove, complete
    ("fresh create", 3, ROLL, [], ("0", "1", "2"), NONE, NONE, False),
    ("all new and available", 3, ROLL, pods("n0", "n1", "n2"), NONE, NONE, NONE, True),
    ("new pods not available yet", 3, ROLL, [pod("n0"), pod("n1", "running"), pod("n2", "ready")], NONE, NONE, NONE, False),
    ("scale up ignores maxSurge", 5, rolling(0, 1), pods("n0", "n1"), ("2", "3", "4"), NONE, NONE, False),
    ("scale down drains highest slot first", 2, ROLL, pods("n0", "n1", "n2", "n3"), NONE, ("n3", "n2"), NONE, False),
    (
        "scale down: unavailable surplus is free",
        2, rolling(1, 0), [*pods("n0", "n1"), pod("n2", "running"), pod("n3", "stopped")],
        NONE, ("n3", "n2"), NONE, False,
    ),
    (
        "scale down keeps an available surplus pod while a slot is unavailable",
        2, rolling(1, 0), [pod("n0", "running"), *pods("n1", "n2", "n3")],
        NONE, ("n3",), NONE, False,
    ),
    (
        "scale to 0 drains everything",
        0, ROLL, [pod("n0"), pod("n1", "running"), pod("o2"), pod("o3", "stopped"), pod("n4", "draining")],
        NONE, ("n1", "n0", "o3", "o2"), ("n4",), False,
    ),
    ("scaled to 0 and nothing left", 0, ROLL, [], NONE, NONE, NONE, True),
    ("draining old pod counts for nothing", 2, ROLL, [pod("n0"), pod("o1", "draining")], ("1",), NONE, ("o1",), False),
    ("slot waits for its draining new pod", 2, ROLL, [pod("n0"), pod("n1", "draining")], NONE, NONE, ("n1",), False),
    (
        "duplicates: the best of a slot stays",
        2, ROLL, [pod("n0a", "running"), pod("n0b", "ready"), pod("n0c"), pod("n1")],
        NONE, ("n0a", "n0b"), NONE, False,
    ),
    ("duplicates: ties go by name", 1, ROLL, pods("n0b", "n0a"), NONE, ("n0b",), NONE, False),
    ("duplicates: an available one stays while below the floor", 2, rolling(1, 0), pods("n0a", "n0b"), ("1",), NONE, NONE, False),
    ("rolling: first step within surge and floor", 4, ROLL, pods("o0", "o1", "o2", "o3"), ("0", "1"), ("o0",), NONE, False),
    ("maxUnavailable 0: surge first", 3, rolling(1, 0), pods("o0", "o1", "o2"), ("0",), NONE, NONE, False),
    ("maxUnavailable 0: wait for the new pod", 3, rolling(1, 0), [*pods("o0", "o1", "o2"), pod("n0", "running")], NONE, NONE, NONE, False),
    (
        "unavailable old pod goes once a new one is available",
        3, rolling(1, 0), [pod("o0", "stopped"), *pods("o1", "o2", "n0")],
        ("1",), ("o0",), NONE, False,
    ),
    (
        "unavailable old pod stays while the new one is not available",
        3, rolling(1, 0), [pod("o0", "stopped"), *pods("o1", "o2"), pod("n0", "running")],
        NONE, NONE, NONE, False,
    ),
    (
        "old pods drain least useful first",
        3, rolling(1, 1), [pod("o0", "ready"), pod("o1", "stopped"), pod("o2", "running"), *pods("n0", "n1", "n2")],
        NONE, ("o1", "o2", "o0"), NONE, False,
    ),
    (
        "scale down during a rollout",
        2, ROLL, pods("o0", "o1", "o2", "o3", "n0"),
        ("1",), ("o0", "o1", "o2"), NONE, False,
    ),
    (
        "recreate drains every old pod first",
        3, RECREATE, [pod("o0"), pod("o1", "stopped"), pod("o2", "draining"), pod("n0")],
        NONE, ("o1", "o0"), ("o2",), False,
    ),
    ("recreate waits for draining old pods", 2, RECREATE, [pod("o0", "draining")], NONE, NONE, ("o0",), False),
    ("recreate creates every missing slot", 3, RECREATE, pods("n1"), ("0", "2"), NONE, NONE, False),
    ("recreate drains surplus at once", 1, RECREATE, pods("n0", "n1", "n2"), NONE, ("n2", "n1"), NONE, False),
]


@pytest.mark.parametrize(
    ("replicas", "strategy", "observed", "create", "drain", "remove", "complete"),
    [pytest.param(*case[1:], id=str(case[0])) for case in CASES],
)
def test_step(
    replicas: int,
    strategy: DeploymentStrategy,
    observed: list[PodView],
    create: tuple[str, ...],
    drain: tuple[str, ...],
    remove: tuple[str, ...],
    complete: bool,
) -> None:
    decision = rollout_step(replicas, strategy, observed)
    assert outcome(decision) == (create, drain, remove, complete)
    assert rollout_step(replicas, strategy, observed[::-1]) == decision  # input order does not matter


@pytest.mark.parametrize(
    ("replicas", "strategy", "observed", "reason"),
    [
        (3, rolling(1, 0), [*pods("o0", "o1", "o2"), pod("n0", "running")],
         "0 of 3 new pods available, 3 old pods left: waiting: maxUnavailable 0 and new pods not available yet"),
        (3, ROLL, [*pods("o0", "o1"), pod("n0"), pod("o2", "draining")],
         "1 of 3 new pods available, 2 old pods left: create 1 pod (slot 1); remove 1 drained pod"),
        (2, ROLL, [pod("n0"), pod("n1", "running")], "1 of 2 new pods available: waiting for 1 new pod to become available"),
        (2, RECREATE, [pod("o0", "draining")], "0 of 2 new pods available: remove 1 drained pod; waiting for 1 old pod to stop"),
        (2, ROLL, pods("n0", "n1"), "complete: 2 of 2 new pods available"),
    ],
)
def test_reason_says_what_happens(replicas: int, strategy: DeploymentStrategy, observed: list[PodView], reason: str) -> None:
    assert rollout_step(replicas, strategy, observed).reason == reason


def test_available_counts_new_and_old_but_not_draining() -> None:
    observed = [pod("n0"), pod("n1", "running"), pod("o2"), pod("o3", "draining")]
    assert rollout_step(3, ROLL, observed).available == 2


# --- whole rollouts ------------------------------------------------------------


@dataclass
class Cluster:
    """Applies decisions the way a convergence pass would: created pods start
    not ready and become available one pass later (unless `broken`), drained pods
    become draining and are gone once removed."""

    replicas: int
    strategy: DeploymentStrategy
    pods: list[PodView]
    broken: bool = False
    decisions: list[RolloutDecision] = field(default_factory=list)

    def step(self) -> RolloutDecision:
        decision = rollout_step(self.replicas, self.strategy, self.pods)
        self.decisions.append(decision)
        gone, drained = set(decision.remove), set(decision.drain)
        after = [replace(p, draining=True) if p.name in drained else p for p in self.pods if p.name not in gone]
        self.check(decision, after)
        if not self.broken:
            after = [replace(p, ready=True, available=True) if p.new and not p.draining else p for p in after]
        created = [PodView(f"n{slot}", slot, True, True, False, False, False) for slot in decision.create]
        assert not {p.name for p in created} & {p.name for p in after}, "a created pod would reuse a name"
        self.pods = after + created
        return decision

    def check(self, decision: RolloutDecision, after: list[PodView]) -> None:
        """At the worst moment of a step: drains done, no pod has become ready yet."""
        if self.strategy.type != "RollingUpdate":
            return
        surge, unavailable = resolve_fenceposts(self.replicas, self.strategy)
        active = [p for p in after if not p.draining]
        assert sum(p.available for p in active) >= min(decision.available, self.replicas - unavailable)
        if decision.create and any(not p.new for p in active):
            assert len(active) + len(decision.create) <= self.replicas + surge

    def run(self, steps: int) -> RolloutDecision:
        for _ in range(steps):
            decision = self.step()
            if decision.complete:
                return decision
        return decision

    @property
    def available(self) -> int:
        return sum(p.available and not p.draining for p in self.pods)


def old_pods(count: int) -> list[PodView]:
    return pods(*(f"o{i}" for i in range(count)))


SURGES: list[Amount] = [0, 1, "25%", "50%", "100%"]
UNAVAILABLES: list[Amount] = [0, 1, "25%", "50%"]
GRID = [(r, s, u) for r in range(1, 7) for s in SURGES for u in UNAVAILABLES]


@pytest.mark.parametrize(("replicas", "surge", "unavailable"), GRID)
def test_rolling_update_keeps_floor_and_ceiling_to_the_end(replicas: int, surge: Amount, unavailable: Amount) -> None:
    strategy = rolling(surge, unavailable)
    max_surge, max_unavailable = resolve_fenceposts(replicas, strategy)
    cluster = Cluster(replicas, strategy, old_pods(replicas))
    for _ in range(4 * replicas + 4):
        before = cluster.available
        cluster.step()
        assert before >= replicas - max_unavailable  # checked again after every drain in Cluster.check
        assert sum(not p.draining for p in cluster.pods) <= replicas + max_surge
        if cluster.decisions[-1].complete:
            break
    assert cluster.decisions[-1].complete
    assert sorted(p.name for p in cluster.pods) == sorted(f"n{i}" for i in range(replicas))


@pytest.mark.parametrize(("replicas", "surge", "unavailable"), GRID)
def test_broken_revision_stalls_above_the_floor(replicas: int, surge: Amount, unavailable: Amount) -> None:
    strategy = rolling(surge, unavailable)
    _, max_unavailable = resolve_fenceposts(replicas, strategy)
    cluster = Cluster(replicas, strategy, old_pods(replicas), broken=True)
    for _ in range(3 * replicas + 4):
        assert not cluster.step().complete
        assert cluster.available >= replicas - max_unavailable
    stalled = cluster.step()
    assert outcome(stalled) == ((), (), (), False)
    assert "waiting" in stalled.reason
    old_available = sum(p.available for p in cluster.pods if not p.new and not p.draining)
    assert old_available == cluster.available >= replicas - max_unavailable


def test_rolling_update_step_by_step() -> None:
    cluster = Cluster(3, rolling(1, 0), old_pods(3))
    steps = [outcome(cluster.step()) for _ in range(9)]
    assert steps == [
        (("0",), (), (), False),  # surge one new pod
        ((), (), (), False),  # it is not available yet
        (("1",), ("o0",), (), False),  # now an old one may go, and the next new one starts
        ((), (), ("o0",), False),
        (("2",), ("o1",), (), False),
        ((), (), ("o1",), False),
        ((), ("o2",), (), False),
        ((), (), ("o2",), False),
        ((), (), (), True),
    ]


def test_recreate_step_by_step() -> None:
    cluster = Cluster(3, RECREATE, [*old_pods(2), pod("o2", "stopped")])
    steps = [outcome(cluster.step()) for _ in range(5)]
    assert steps == [
        ((), ("o2", "o0", "o1"), (), False),  # every old pod, running or not
        ((), (), ("o0", "o1", "o2"), False),  # nothing new while an old pod is left
        (("0", "1", "2"), (), (), False),
        ((), (), (), False),
        ((), (), (), True),
    ]


def test_scale_up_then_down_without_a_new_revision() -> None:
    cluster = Cluster(2, ROLL, [])
    assert cluster.run(5).complete
    cluster.replicas = 5
    assert cluster.step().create == ("2", "3", "4")
    assert cluster.run(5).complete
    cluster.replicas = 1
    assert cluster.step().drain == ("n4", "n3", "n2", "n1")
    assert cluster.run(5).complete
    assert [p.name for p in cluster.pods] == ["n0"]


def test_scale_down_and_up_again_reuses_a_slot_only_once_its_pod_is_gone() -> None:
    cluster = Cluster(2, ROLL, pods("n0", "n1"))
    cluster.replicas = 1
    assert cluster.step().drain == ("n1",)
    cluster.replicas = 2
    assert outcome(cluster.step()) == ((), (), ("n1",), False)
    assert cluster.step().create == ("1",)


# --- properties over arbitrary pod sets -------------------------------------

pod_sets = st.lists(
    st.tuples(st.integers(0, 7), st.booleans(), st.sampled_from(STATES)), max_size=10
).map(lambda rows: [replace(pod(f"{'n' if new else 'o'}{i}", state), slot=str(slot)) for i, (slot, new, state) in enumerate(rows)])
strategies = st.one_of(
    st.just(RECREATE),
    st.builds(rolling, st.sampled_from(SURGES), st.sampled_from(UNAVAILABLES)),
)


@settings(max_examples=300, deadline=None)
@given(replicas=st.integers(0, 6), strategy=strategies, observed=pod_sets)
def test_any_step_respects_the_rules(replicas: int, strategy: DeploymentStrategy, observed: list[PodView]) -> None:
    decision = rollout_step(replicas, strategy, observed)
    draining = [p for p in observed if p.draining]
    active = [p for p in observed if not p.draining]
    assert decision.remove == tuple(sorted(p.name for p in draining))
    assert len(set(decision.drain)) == len(decision.drain)
    assert set(decision.drain) <= {p.name for p in active}
    taken = {p.slot for p in observed if p.new}
    assert set(decision.create) <= {str(i) for i in range(replicas)} - taken
    assert list(decision.create) == sorted(decision.create, key=int)
    assert rollout_step(replicas, strategy, observed[::-1]) == decision
    if replicas == 0:
        assert set(decision.drain) == {p.name for p in active}
    old_left = any(not p.new for p in observed)
    if strategy.type == "Recreate":
        assert not (decision.create and old_left)
        return
    surge, unavailable = resolve_fenceposts(replicas, strategy)
    kept = sum(p.available for p in active if p.name not in decision.drain)
    assert kept >= min(decision.available, replicas - unavailable)
    if decision.create and any(not p.new for p in active):
        assert len(active) - len(decision.drain) + len(decision.create) <= replicas + surge


@settings(max_examples=150, deadline=None)
@given(
    replicas=st.integers(0, 6),
    strategy=strategies,
    start=st.lists(st.sampled_from(("available", "running", "stopped")), max_size=8),
)
def test_any_rollout_finishes(replicas: int, strategy: DeploymentStrategy, start: list[str]) -> None:
    """From old pods in any state and number (a rollout and a scale at once)."""
    cluster = Cluster(replicas, strategy, [pod(f"o{i}", state) for i, state in enumerate(start)])
    assert cluster.run(4 * (replicas + len(start)) + 6).complete
