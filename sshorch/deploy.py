"""apply and plan: validate everything first, record the desired state, converge.

Nothing reaches a node before the manifests, the graph and the inventory are
valid, so bad input changes nothing.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sshorch.errors import SshorchError
from sshorch.graph import build_graph, check_acyclic, object_key
from sshorch.inventory import Inventory
from sshorch.plan.reconcile import workload_revision
from sshorch.plan.services import (
    DEFAULT_HOST_PORTS,
    DEFAULT_NODE_PORTS,
    DEFAULT_SERVICE_CIDR,
    Allocations,
    ServiceConfig,
    allocate,
    parse_range,
)
from sshorch.plan.revision import canonical
from sshorch.secrets.atrest import decrypt_documents, default_key_path, encrypt_documents, load_or_create_key
from sshorch.spec import load_desired, parse_documents
from sshorch.spec.model import DaemonSet, Deployment, Desired, Source
from sshorch.converge import Outcome
from sshorch.state import EVENT_NORMAL, EVENT_WARNING, Event, LockHolder, SqliteStore, default_state_path

DEFAULT_CLUSTER = "default"


class LockHeld(SshorchError):
    exit_code = 3


def cluster_name(inventory: Inventory) -> str:
    return str(inventory.cluster_vars.get("sshorch_cluster") or DEFAULT_CLUSTER)


def load_manifests(
    inventory: Inventory, paths: Sequence[Path], set_values: Sequence[str] = (), values_files: Sequence[Path] = ()
) -> Desired:
    """Manifests rendered with the inventory's `all` variables, validated, and checked for cycles."""
    desired = load_desired(paths, variables=dict(inventory.cluster_vars), set_values=set_values, values_files=values_files)
    check_acyclic(build_graph(desired))
    return desired


def service_config(inventory: Inventory) -> ServiceConfig:
    """The inventory's `all` settings for service addresses and ports."""
    variables = inventory.cluster_vars
    cidr = str(variables.get("sshorch_service_cidr") or DEFAULT_SERVICE_CIDR)
    try:
        ipaddress.IPv4Network(cidr)
    except ValueError:
        raise SshorchError(f"{inventory.sources[0]}: sshorch_service_cidr {cidr!r} is not an IPv4 network") from None
    return ServiceConfig(
        cidr=cidr,
        node_ports=parse_range(variables.get("sshorch_nodeport_range"), DEFAULT_NODE_PORTS, "sshorch_nodeport_range"),
        host_ports=parse_range(variables.get("sshorch_hostport_range"), DEFAULT_HOST_PORTS, "sshorch_hostport_range"),
    )


def load_allocations(store: SqliteStore) -> Allocations:
    return Allocations(
        vips=store.allocations("vip"),
        node_ports={k: int(v) for k, v in store.allocations("nodeport").items()},
    )


def save_allocations(store: SqliteStore, allocations: Allocations) -> None:
    store.replace_allocations("vip", dict(allocations.vips))
    store.replace_allocations("nodeport", {k: str(v) for k, v in allocations.node_ports.items()})


def open_state(inventory: Inventory, path: Path | None) -> SqliteStore:
    cluster = cluster_name(inventory)
    store = SqliteStore.open(path or default_state_path(cluster))
    store.check_cluster(cluster)
    return store


@contextmanager
def run_lock(store: SqliteStore, command: str) -> Iterator[None]:
    """One run at a time per state file; a second one fails at once saying who holds it."""
    me = LockHolder(pid=os.getpid(), host=socket.gethostname(), command=command, since=time.time())
    holder = store.acquire_lock(me, now=me.since)
    if holder is not None:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.since))
        raise LockHeld(f"another run holds the lock: pid {holder.pid} on {holder.host} ({holder.command}) since {since}")
    try:
        yield
    finally:
        store.release_lock(me)


def check_allocations(desired: Desired, store: SqliteStore, config: ServiceConfig) -> None:
    """Manifest clusterIPs and nodePorts that clash are errors before anything is touched."""
    allocate(desired, load_allocations(store), config)


def recorded_desired(store: SqliteStore) -> Desired | None:
    """The desired state of the last apply, secrets decrypted in memory only."""
    record = store.desired()
    if record is None:
        return None
    documents = decrypt_documents(record.documents, load_or_create_key(default_key_path()))
    return parse_documents([(Source(f"state:{record.source}", i), d) for i, d in enumerate(documents)])


def record_apply(store: SqliteStore, desired: Desired, source: str, now: float) -> list[str]:
    """Record the documents (secrets encrypted) and a revision per workload; return the workloads with a new revision."""
    key = load_or_create_key(default_key_path())
    store.record_desired(encrypt_documents(desired.documents, key), now=now, source=source)
    changed = []
    for obj in desired.objects:
        if isinstance(obj, (Deployment, DaemonSet)):
            workload = object_key(obj)
            before = store.current_revision(workload)
            revision_hash = workload_revision(obj, desired)
            template: Mapping[str, Any] = canonical(obj.template)
            revision = store.record_revision(workload, revision_hash, dict(template), now=now, cause=source)
            if before is None or before.template_hash != revision.template_hash:
                changed.append(workload)
    return changed


ACTION_REASONS = {
    "create-pod": "Created",
    "remove-pod": "Removed",
    "start-pod": "Started",
    "remove-container": "RemovedStray",
    "remove-files": "CleanedFiles",
}


def outcome_events(outcome: Outcome, now: float) -> list[Event]:
    """What a run did and what it could not do, as events for `sshorch events`."""
    events = []
    for report in outcome.reports:
        for node in report.nodes:
            if node.error:
                events.append(Event(now, EVENT_WARNING, "Unreachable", f"node/{node.node}", node.error, node.node))
            for result in node.results:
                action = result.action
                reason = ACTION_REASONS.get(action.kind, action.kind) if result.ok else "Failed"
                message = action.reason if result.ok else f"{action.describe()}: {result.error_line()}"
                kind = EVENT_NORMAL if result.ok else EVENT_WARNING
                events.append(Event(now, kind, reason, f"pod/{action.target}", message, action.node))
    for pending in outcome.last_plan.pending:
        events.append(Event(now, EVENT_WARNING, "FailedScheduling", f"pod/{pending.pod}", pending.reason))
    return events


def command_line() -> str:
    return " ".join(["sshorch", *sys.argv[1:]])[:200]
