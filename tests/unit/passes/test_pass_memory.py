"""What a pass leaves the next: next_memory decides it, save_memory writes it once, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest

from sshorch.observe.listing import KeptListing
from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import Plan, PlanEvent
from sshorch.plan.nodehealth import NodeMemory
from sshorch.plan.services import Allocations
from sshorch.probes.model import ProbeKey, ProbeRecord
from sshorch.run.memory import PassMemory, load_memory, save_memory
from sshorch.run.passes import next_memory
from sshorch.run.probing import Health
from sshorch.run.progress import quiet
from sshorch.state import StateStore, open_store
from tests.unit.state.counting import CountingStore

JOB = JobRecord("abc", 1.0, 1, ("migrate-0",))
FULL = PassMemory(
    allocations=Allocations({"default/web": "198.19.0.10"}, {"default/web:80": 30080}),
    draining=frozenset({"web-old-1"}),
    health=Health({ProbeKey("web-1", "web", "readiness"): ProbeRecord(2, 0, 10.0, True, "ok", 5.0)}),
    nodes=NodeMemory({"node2": 5.0}, {"node2": [{"name": "web-1"}]}, {"node2"}),
    jobs={"job/default/migrate": JOB},
    listings={"node1": KeptListing("fp", "listing", 7.0)},
)


@pytest.fixture
def store() -> Iterator[StateStore]:
    with open_store("memory://") as opened:
        yield opened


def save(store: StateStore, saved: PassMemory, memory: PassMemory, events: tuple[PlanEvent, ...] = ()) -> CountingStore:
    counting = CountingStore(store)
    save_memory(counting, saved, memory, events, quiet, 100.0)
    return counting


def test_a_pass_memory_round_trips_through_the_store(store: StateStore) -> None:
    assert load_memory(store) == PassMemory()
    save(store, PassMemory(), FULL)
    assert load_memory(store) == FULL


@dataclass(frozen=True)
class Change:
    name: str
    change: Callable[[PassMemory], PassMemory]
    events: tuple[PlanEvent, ...] = ()


CHANGES = [
    Change("allocations", lambda m: replace(m, allocations=Allocations({"default/api": "198.19.0.11"}, {}))),
    Change("draining", lambda m: replace(m, draining=frozenset())),
    Change("health", lambda m: replace(m, health=Health())),
    Change("nodes", lambda m: replace(m, nodes=NodeMemory())),
    Change("jobs", lambda m: replace(m, jobs={})),
    Change("listings", lambda m: replace(m, listings={"node2": KeptListing("fp2", "other", 8.0)})),
    Change("everything", lambda m: PassMemory()),
    Change("an event only", lambda m: m, (PlanEvent("job/default/migrate", "Completed", "Job completed"),)),
]


@pytest.mark.parametrize("row", CHANGES, ids=[c.name for c in CHANGES])
def test_what_a_pass_changed_is_written_in_one_transaction(store: StateStore, row: Change) -> None:
    save(store, PassMemory(), FULL)
    after = row.change(FULL)
    counting = save(store, FULL, after, row.events)
    assert counting.transactions == 1
    assert counting.outside == []
    assert load_memory(store) == after
    assert [e.reason for e in store.events()] == [e.reason for e in row.events]


def test_a_pass_that_changed_nothing_writes_nothing(store: StateStore) -> None:
    save(store, PassMemory(), FULL)
    counting = save(store, FULL, replace(FULL, health=Health(dict(FULL.health.records))))
    assert counting.calls == []


@dataclass(frozen=True)
class NextRow:
    name: str
    plan: Plan
    acting: bool
    draining: frozenset[str]
    allocations: Allocations


NEW = Allocations({"default/web": "198.19.0.12"}, {})
NEXT_ROWS = [
    NextRow("an acting pass drains what its plan drains", Plan(draining=(("web-2", "rolling update"),)), True,
            frozenset({"web-2"}), FULL.allocations),
    NextRow("an acting pass that drains nothing forgets the last drain", Plan(), True, frozenset(), FULL.allocations),
    NextRow("a waiting pass keeps the pods still to stop", Plan(), False, FULL.draining, FULL.allocations),
    NextRow("new allocations are kept", Plan(allocations=NEW), False, FULL.draining, NEW),
]


@pytest.mark.parametrize("row", NEXT_ROWS, ids=[r.name for r in NEXT_ROWS])
def test_next_memory(row: NextRow) -> None:
    plan = replace(row.plan, jobs={"job/default/other": JOB})
    after = next_memory(FULL, plan, row.acting)
    assert after.draining == row.draining
    assert after.allocations == row.allocations
    assert after.jobs == {"job/default/other": JOB}
    assert (after.health, after.nodes, after.listings) == (FULL.health, FULL.nodes, FULL.listings)
