"""Each value runs remember goes through the store and back unchanged, and reads the layout earlier runs wrote."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sshorch.plan.hpa import AutoscaleMemory, Recommendation, ScaleEvent
from sshorch.run.probing import Health
from sshorch.run.memory import AUTOSCALE, CRON, DRAINING, EVACUATING, HEALTH, JOBS, LISTINGS, NODES
from sshorch.plan.nodehealth import NodeMemory
from sshorch.observe.listing import KeptListing
from sshorch.plan.cronjobs import CronState
from sshorch.plan.cronruns import CronRecord
from sshorch.plan.jobs import JobRecord
from sshorch.probes.model import ProbeKey, ProbeRecord
from sshorch.state import Record, StateStore, open_store

VALUES: list[tuple[Record[Any], Any]] = [
    (DRAINING, frozenset({"web-1", "web-2"})),
    (EVACUATING, frozenset({"node2"})),
    (HEALTH, Health({ProbeKey("web-1", "web", "readiness"): ProbeRecord(2, 0, 10.0, True, "ok", 5.0)})),
    (JOBS, {"job/default/migrate": JobRecord("abc", 1.0, 2, ("migrate-1",), ("migrate-0",), 1, 3.0, None, "", "", False)}),
    (CRON, {"cronjob/default/nightly": CronRecord(CronState(60.0, 1.0), (("nightly-1", 60.0),), 120.0)}),
    (AUTOSCALE, AutoscaleMemory({"web-1/web": (1.5, 10.0)}, {"hpa/default/web": (Recommendation(10.0, 3),)},
                                {"hpa/default/web": (ScaleEvent(10.0, 1),)})),
    (NODES, NodeMemory({"node2": 5.0}, {"node2": [{"name": "web-1"}]}, {"node2"})),
    (LISTINGS, {"node1": KeptListing("fp", "listing", 7.0)}),
]


@pytest.fixture
def store() -> Iterator[StateStore]:
    with open_store("memory://") as opened:
        yield opened


@pytest.mark.parametrize(("record", "value"), VALUES, ids=[record.name for record, _ in VALUES])
def test_a_record_round_trips(store: StateStore, record: Record[Any], value: Any) -> None:
    assert store.load(record) == record.empty()
    store.save(record, value)
    assert store.load(record) == value


def test_the_layout_earlier_runs_wrote_is_read() -> None:
    # As sshorch wrote them into the state file's meta table before records had a name.
    assert DRAINING.decode(json.loads('["web-1"]')) == {"web-1"}
    assert JOBS.decode(json.loads(
        '{"job/default/migrate": {"cleaned": false, "created": 1, "failed": [], "finished": null,'
        ' "last_failure": null, "outcome": "", "reason": "", "restarts": 0, "revision": "abc", "started": 1.0,'
        ' "succeeded": ["migrate-0"]}}'
    )) == {"job/default/migrate": JobRecord("abc", 1.0, 1, ("migrate-0",))}
    assert CRON.decode(json.loads(
        '{"cronjob/default/nightly": {"created": 1.0, "last_schedule": 60.0, "next_run": 120.0, "runs": [["nightly-1", 60.0]]}}'
    )) == {"cronjob/default/nightly": CronRecord(CronState(60.0, 1.0), (("nightly-1", 60.0),), 120.0)}
    assert LISTINGS.decode(json.loads('{"node1": ["fp", "listing", 7.0]}')) == {"node1": KeptListing("fp", "listing", 7.0)}


def test_a_damaged_record_reads_as_empty(store: StateStore) -> None:
    store.save(Record("jobs", lambda v: v, lambda raw: raw, dict), {"job/default/migrate": {"revision": "abc"}})
    assert store.load(JOBS) == {}
