"""What runs remember between them: JSON values in the state's metadata, one key each.

Every value is read the same way: missing means empty, and a damaged value
(a hand edit, an older layout) is forgotten rather than stopping the run — it
is memory, and the next pass rebuilds it from the cluster.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sshorch.run.progress import Notice, Progress
from sshorch.autoscaling import AutoscaleMemory
from sshorch.health import Health
from sshorch.nodehealth import NodeMemory
from sshorch.observe.listing import KeptListing
from sshorch.plan.cronjobs import CronState
from sshorch.plan.cronruns import CronRecord
from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import PlanEvent
from sshorch.plan.services import Allocations
from sshorch.probes import records_from_json, records_to_json
from sshorch.state import EVENT_NORMAL, EVENT_WARNING, Event, SqliteStore

T = TypeVar("T")

DRAINING_KEY = "draining"
EVACUATING_KEY = "evacuating-nodes"
PROBES_KEY = "probes"
JOBS_KEY = "jobs"
CRON_KEY = "cronjobs"
AUTOSCALE_KEY = "autoscale"
NODES_KEY = "nodes"
LISTINGS_KEY = "container-listings"
WARNING_REASONS = frozenset({"Failed", "PodFailed", "PodRestarted", "TooManyMissedTimes"})


def _read(store: SqliteStore, key: str, decode: Callable[[Any], T], empty: Callable[[], T]) -> T:
    text = store.get_meta(key)
    if not text:
        return empty()
    try:
        return decode(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        return empty()


def _write(store: SqliteStore, key: str, value: Any) -> None:
    store.set_meta(key, json.dumps(value, sort_keys=True))


def load_draining(store: SqliteStore) -> frozenset[str]:
    """Pods an interrupted run took out of service: the next run stops them."""
    return _read(store, DRAINING_KEY, frozenset, frozenset)


def save_draining(store: SqliteStore, pods: frozenset[str]) -> None:
    _write(store, DRAINING_KEY, sorted(pods))


def load_evacuating(store: SqliteStore) -> frozenset[str]:
    """Nodes being drained."""
    return _read(store, EVACUATING_KEY, frozenset, frozenset)


def save_evacuating(store: SqliteStore, nodes: frozenset[str]) -> None:
    _write(store, EVACUATING_KEY, sorted(nodes))


def load_health(store: SqliteStore) -> Health:
    """Probe records of earlier runs: failure counts carry over."""
    return Health(records=_read(store, PROBES_KEY, lambda raw: dict(records_from_json(raw)), dict))


def save_health(store: SqliteStore, health: Health) -> None:
    _write(store, PROBES_KEY, records_to_json(health.records))


def _job_record(value: Mapping[str, Any]) -> JobRecord:
    return JobRecord(**{**value, "succeeded": tuple(value["succeeded"]), "failed": tuple(value["failed"])})


def load_jobs(store: SqliteStore) -> dict[str, JobRecord]:
    """Each Job's progress: counts, back-off and outcome span runs."""
    return _read(store, JOBS_KEY, lambda raw: {key: _job_record(value) for key, value in raw.items()}, dict)


def save_jobs(store: SqliteStore, jobs: Mapping[str, JobRecord]) -> None:
    _write(store, JOBS_KEY, {key: dataclasses.asdict(record) for key, record in jobs.items()})


def add_plan_events(store: SqliteStore, events: Sequence[PlanEvent], progress: Progress) -> None:
    """Job, CronJob and autoscaler events: into `sshorch events`, and shown as progress."""
    now = time.time()
    store.add_events([
        Event(now, EVENT_WARNING if e.reason in WARNING_REASONS else EVENT_NORMAL, e.reason, e.object, e.message)
        for e in events
    ])
    for event in events:
        progress(Notice(f"{event.object}: {event.message}", warning=event.reason in WARNING_REASONS))


def _cron_record(value: Mapping[str, Any]) -> CronRecord:
    state = CronState(value["last_schedule"], value["created"])
    return CronRecord(state, tuple((name, at) for name, at in value["runs"]), value.get("next_run"))


def load_cron(store: SqliteStore) -> dict[str, CronRecord]:
    return _read(store, CRON_KEY, lambda raw: {key: _cron_record(value) for key, value in raw.items()}, dict)


def save_cron(store: SqliteStore, records: Mapping[str, CronRecord]) -> None:
    _write(store, CRON_KEY, {
        key: {"last_schedule": r.state.last_schedule, "created": r.state.created, "runs": [list(x) for x in r.runs],
              "next_run": r.next_run}
        for key, r in records.items()
    })


def load_autoscale(store: SqliteStore) -> AutoscaleMemory:
    return _read(store, AUTOSCALE_KEY, AutoscaleMemory.from_json, AutoscaleMemory)


def save_autoscale(store: SqliteStore, memory: AutoscaleMemory) -> None:
    _write(store, AUTOSCALE_KEY, memory.to_json())


def load_nodes(store: SqliteStore) -> NodeMemory:
    """When nodes stopped answering and what they ran: eviction spans runs."""
    return _read(store, NODES_KEY, NodeMemory.from_json, NodeMemory)


def save_nodes(store: SqliteStore, memory: NodeMemory) -> None:
    _write(store, NODES_KEY, memory.to_json())


def load_listings(store: SqliteStore) -> dict[str, KeptListing]:
    """Each node's last container listing, reused while the node's podman state is unchanged."""
    return _read(store, LISTINGS_KEY, lambda value: {n: KeptListing.from_json(v) for n, v in value.items()}, dict)


def save_listings(store: SqliteStore, listings: Mapping[str, KeptListing]) -> None:
    _write(store, LISTINGS_KEY, {name: kept.to_json() for name, kept in listings.items()})


def cordoned_nodes(store: SqliteStore) -> frozenset[str]:
    return frozenset(name for name, health in store.node_health().items() if health.cordoned)


def load_allocations(store: SqliteStore) -> Allocations:
    return Allocations(
        vips=store.allocations("vip"),
        node_ports={k: int(v) for k, v in store.allocations("nodeport").items()},
    )


def save_allocations(store: SqliteStore, allocations: Allocations) -> None:
    store.replace_allocations("vip", dict(allocations.vips))
    store.replace_allocations("nodeport", {k: str(v) for k, v in allocations.node_ports.items()})
