"""What runs remember between them: typed records of the state store, and the helpers over its tables.

Each record names its value and its JSON shape (state.records); a missing or
damaged one reads as empty — it is memory, and the next pass rebuilds it from
the cluster. What passes carry from one to the next is one value, PassMemory:
loaded once per run, saved once per pass in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sshorch.plan.hpa import AutoscaleMemory
from sshorch.run.probing import Health
from sshorch.plan.nodehealth import NodeMemory
from sshorch.observe.listing import KeptListing
from sshorch.plan.cronjobs import CronState
from sshorch.plan.cronruns import CronRecord
from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import PlanEvent
from sshorch.plan.services import Allocations
from sshorch.probes import records_from_json, records_to_json
from sshorch.run.progress import Notice, Progress
from sshorch.state import EVENT_NORMAL, EVENT_WARNING, Event, Record, StateStore

WARNING_REASONS = frozenset({"Failed", "PodFailed", "PodRestarted", "TooManyMissedTimes"})


def _job_record(value: Mapping[str, Any]) -> JobRecord:
    return JobRecord(**{**value, "succeeded": tuple(value["succeeded"]), "failed": tuple(value["failed"])})


def _cron_record(value: Mapping[str, Any]) -> CronRecord:
    state = CronState(value["last_schedule"], value["created"])
    return CronRecord(state, tuple((name, at) for name, at in value["runs"]), value.get("next_run"))


def _cron_json(record: CronRecord) -> dict[str, Any]:
    return {"last_schedule": record.state.last_schedule, "created": record.state.created,
            "runs": [list(run) for run in record.runs], "next_run": record.next_run}


# Pods an interrupted run took out of service: the next run stops them.
DRAINING: Record[frozenset[str]] = Record("draining", sorted, frozenset, frozenset)
# Nodes being drained.
EVACUATING: Record[frozenset[str]] = Record("evacuating-nodes", sorted, frozenset, frozenset)
# Probe records of earlier runs: failure counts carry over.
HEALTH: Record[Health] = Record(
    "probes", lambda health: records_to_json(health.records), lambda raw: Health(dict(records_from_json(raw))), Health
)
# Each Job's progress: counts, back-off and outcome span runs.
JOBS: Record[Mapping[str, JobRecord]] = Record(
    "jobs",
    lambda jobs: {key: dataclasses.asdict(record) for key, record in jobs.items()},
    lambda raw: {key: _job_record(value) for key, value in raw.items()},
    dict,
)
CRON: Record[Mapping[str, CronRecord]] = Record(
    "cronjobs",
    lambda records: {key: _cron_json(record) for key, record in records.items()},
    lambda raw: {key: _cron_record(value) for key, value in raw.items()},
    dict,
)
AUTOSCALE: Record[AutoscaleMemory] = Record("autoscale", AutoscaleMemory.to_json, AutoscaleMemory.from_json, AutoscaleMemory)
# When nodes stopped answering and what they ran: eviction spans runs.
NODES: Record[NodeMemory] = Record("nodes", NodeMemory.to_json, NodeMemory.from_json, NodeMemory)
# Each node's last container listing, reused while the node's podman state is unchanged.
LISTINGS: Record[Mapping[str, KeptListing]] = Record(
    "container-listings",
    lambda listings: {name: kept.to_json() for name, kept in listings.items()},
    lambda raw: {name: KeptListing.from_json(value) for name, value in raw.items()},
    dict,
)


def add_plan_events(store: StateStore, events: Sequence[PlanEvent], progress: Progress, now: float) -> None:
    """Job, CronJob and autoscaler events: into `sshorch events`, and shown as progress."""
    store.add_events([
        Event(now, EVENT_WARNING if e.reason in WARNING_REASONS else EVENT_NORMAL, e.reason, e.object, e.message)
        for e in events
    ])
    for event in events:
        progress(Notice(f"{event.object}: {event.message}", warning=event.reason in WARNING_REASONS))


def cordoned_nodes(store: StateStore) -> frozenset[str]:
    return frozenset(name for name, health in store.node_health().items() if health.cordoned)


@dataclass(frozen=True)
class PassMemory:
    """What a pass hands the next one (and a run the next run)."""

    allocations: Allocations = Allocations({}, {})  # VIPs and node ports given to services
    draining: frozenset[str] = frozenset()  # pods out of the service rules since the last pass, to be stopped now
    health: Health = Health()
    nodes: NodeMemory = field(default_factory=NodeMemory)
    jobs: Mapping[str, JobRecord] = field(default_factory=dict)
    listings: Mapping[str, KeptListing] = field(default_factory=dict)  # by node, from earlier gathers


# PassMemory's fields kept as records (allocations have their own table).
_PASS_RECORDS: tuple[tuple[str, Record[Any]], ...] = (
    ("draining", DRAINING), ("health", HEALTH), ("nodes", NODES), ("jobs", JOBS), ("listings", LISTINGS),
)


def load_allocations(store: StateStore) -> Allocations:
    return Allocations(
        vips=store.allocations("vip"),
        node_ports={k: int(v) for k, v in store.allocations("nodeport").items()},
    )


def load_memory(store: StateStore) -> PassMemory:
    return PassMemory(load_allocations(store), **{name: store.load(record) for name, record in _PASS_RECORDS})


def save_memory(
    store: StateStore, saved: PassMemory, memory: PassMemory, events: Sequence[PlanEvent], progress: Progress, now: float,
) -> None:
    """In one transaction, what changed since `saved` and the pass's events; nothing when neither."""
    changed = [(record, getattr(memory, name)) for name, record in _PASS_RECORDS if getattr(saved, name) != getattr(memory, name)]
    if not changed and saved.allocations == memory.allocations and not events:
        return
    with store.transaction():
        for record, value in changed:
            store.save(record, value)
        if saved.allocations != memory.allocations:
            store.replace_allocations("vip", dict(memory.allocations.vips))
            store.replace_allocations("nodeport", {k: str(v) for k, v in memory.allocations.node_ports.items()})
        add_plan_events(store, events, progress, now)
