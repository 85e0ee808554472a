"""apply and plan: validate everything first, record the desired state, converge.

Nothing reaches a node before the manifests, the graph and the inventory are
valid, so bad input changes nothing.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sshorch.errors import SshorchError
from sshorch.plan.graph import check_desired_acyclic, object_key
from sshorch.plan.nodehealth import DEFAULT_EVICTION_TIMEOUT
from sshorch.inventory import Inventory
from sshorch.plan.cronruns import schedule_cronjobs, with_runs
from sshorch.spec.workloadkinds import workload_kind, workload_template, workloads
from sshorch.plan.services import (
    DEFAULT_HOST_PORTS,
    DEFAULT_NODE_PORTS,
    DEFAULT_SERVICE_CIDR,
    LOAD_BALANCER_ADDRESSES_VARIABLE,
    ServiceConfig,
    allocate,
    parse_load_balancer_addresses,
    parse_range,
)
from sshorch.plan.hpa import autoscale, cpu_rates
from sshorch.run.memory import AUTOSCALE, CRON, add_plan_events, load_allocations
from sshorch.spec.edits import pod_template_of, with_replicas, with_template
from sshorch.spec.applysets import ObjectId, default_applyset, legacy_records, object_id
from sshorch.secrets.atrest import decrypt_documents, encrypt_documents, open_to_others
from sshorch.secrets.inventory_vars import template_variables
from sshorch.secrets.resolve import SecretSources, resolve_secrets
from sshorch.secrets.kept import secret_hash_key, secret_key
from sshorch.spec import load_documents, parse_documents
from sshorch.spec.hostpaths import VARIABLE as HOST_PATHS_VARIABLE, check_host_paths, parse_allowed_host_paths
from sshorch.spec.privilege import check_privilege
from sshorch.spec.securitynotes import security_notices
from sshorch.plan.revision import content_hash, workload_revision
from sshorch.spec.model import (
    ConfigMap, Desired, HorizontalPodAutoscaler, NamedVolume, Secret, Source,
)
from sshorch.run.passes import Outcome, RunContext, gather, run_passes
from sshorch.observe.cluster import GatherScope, Observed
from sshorch.observe.owned import ObservedContainer
from sshorch.plan.model import ActionKind
from sshorch.plan.naming import split_workload_key
from sshorch.run.progress import Notice
from sshorch.spec import AUTO_ROLLBACK
from sshorch.state import (
    EVENT_NORMAL,
    EVENT_WARNING,
    REVISION_COMPLETE,
    REVISION_FAILED,
    Event,
    LockHolder,
    StateStore,
    default_state_location,
    open_store,
    state_file,
)

DEFAULT_CLUSTER = "default"


class LockHeld(SshorchError):
    exit_code = 3


def cluster_name(inventory: Inventory) -> str:
    return str(inventory.cluster_vars.get("sshorch_cluster") or DEFAULT_CLUSTER)


def file_documents(
    inventory: Inventory,
    paths: Sequence[Path],
    set_values: Sequence[str],
    values_files: Sequence[Path],
    secrets: SecretSources,
    warn: Callable[[str], None],
) -> list[tuple[Source, dict[str, Any]]]:
    """The files' documents, rendered with the inventory's `all` variables, Secret values resolved."""
    # Vault values are decrypted (or refused with the reason) before templates see them.
    variables = template_variables(inventory, secrets.vault_password)
    documents = load_documents(paths, variables=variables, set_values=set_values, values_files=values_files)
    documents, warnings = resolve_secrets(documents, secrets)
    for warning in warnings:
        warn(warning)
    return list(documents)


def validated(
    inventory: Inventory, documents: Sequence[tuple[Source, dict[str, Any]]], warn: Callable[[str], None], hash_key: bytes,
) -> Desired:
    """The documents as one desired state: validated, checked against the inventory and for cycles."""
    desired = replace(parse_documents(documents), hash_key=hash_key)
    for warning in security_notices(desired):
        warn(warning)
    check_host_paths(desired, allowed_host_paths(inventory))
    check_privilege(desired, any(host.allow_privileged for host in inventory.hosts))
    check_desired_acyclic(desired)
    return desired


def allowed_host_paths(inventory: Inventory) -> tuple[str, ...]:
    """The inventory's `sshorch_allowed_host_paths` on `all`: where hostPath volumes may be."""
    return parse_allowed_host_paths(inventory.cluster_vars.get(HOST_PATHS_VARIABLE), str(inventory.sources[0]))


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
        load_balancer_addresses=parse_load_balancer_addresses(variables.get(LOAD_BALANCER_ADDRESSES_VARIABLE)),
    )


def expand_cron(store: StateStore, desired: Desired) -> Desired:
    """The desired state with the CronJobs' recorded runs as Jobs (deciding nothing)."""
    return with_runs(desired, store.load(CRON))


def schedule_cron(ctx: RunContext, store: StateStore, desired: Desired, now: float) -> Desired:
    """This pass's CronJob decisions, recorded, and the desired state with the runs."""
    records, events = schedule_cronjobs(desired, store.load(CRON), ctx.memory.jobs, now)
    with store.transaction():
        store.save(CRON, records)
        add_plan_events(store, events, ctx.progress, now)
    return with_runs(desired, records)


def run_autoscalers(ctx: RunContext, store: StateStore, desired: Desired, observed: Observed, now: float) -> Desired:
    """The HPAs' decisions on this run's CPU readings: new replicas are recorded, as `scale` does."""
    changes, events, memory = autoscale(desired, observed, store.load(AUTOSCALE), now)
    with store.transaction():
        store.save(AUTOSCALE, memory)
        add_plan_events(store, events, ctx.progress, now)
    if not changes:
        return desired
    documents: list[dict[str, Any]] = [dict(d) for d in desired.documents]
    for key, replicas in sorted(changes.items()):
        kind, namespace, name = split_workload_key(key)
        documents = with_replicas(documents, "Deployment", namespace, name, replicas)
    return record_documents(store, documents, AUTOSCALE_SOURCE + ", ".join(f"{k}={v}" for k, v in sorted(changes.items())), now)


def remember_readings(store: StateStore, observed: Observed, now: float) -> None:
    """The run's last CPU readings, so the next run has a rate even for pods this one started."""
    memory = store.load(AUTOSCALE)
    store.save(AUTOSCALE, replace(memory, readings=cpu_rates(observed, memory, now)[1]))


def eviction_timeout(inventory: Inventory) -> float:
    value = inventory.cluster_vars.get("sshorch_eviction_timeout")
    if value is None:
        return DEFAULT_EVICTION_TIMEOUT
    from sshorch.durations import parse_duration

    return parse_duration(str(value))


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def open_state(inventory: Inventory, location: str | Path | None, warn: Callable[[str], None] = _warn_on_stderr) -> StateStore:
    """The cluster's store at `location` (--state: a file or a URL such as sqlite:///PATH), else its default file."""
    cluster = cluster_name(inventory)
    location = location or default_state_location(cluster)
    store = open_store(location)
    path = state_file(location)
    mode = open_to_others(path) if path is not None else None
    if mode is not None:
        # A warning, not a refusal: the values in it are encrypted, but not its names, keys and hash key.
        warn(f"{path}: the state file is open to group or others (mode {mode:04o}); "
             f"make it private: chmod 600 {shlex.quote(str(path))}")
    store.check_cluster(cluster)
    return store


@contextmanager
def run_lock(store: StateStore, command: str, now: float) -> Iterator[None]:
    """One run at a time per state file; a second one fails at once saying who holds it."""
    me = LockHolder(pid=os.getpid(), host=socket.gethostname(), command=command, since=now)
    holder = store.acquire_lock(me, now=me.since)
    if holder is not None:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.since))
        raise LockHeld(f"another run holds the lock: pid {holder.pid} on {holder.host} ({holder.command}) since {since}")
    try:
        yield
    finally:
        store.release_lock(me)


def check_allocations(desired: Desired, store: StateStore, config: ServiceConfig) -> None:
    """Manifest clusterIPs and nodePorts that clash are errors before anything is touched."""
    allocate(desired, load_allocations(store), config)


def recorded_desired(store: StateStore) -> Desired | None:
    """The desired state of the last apply, secrets decrypted in memory only."""
    record = store.desired()
    if record is None:
        return None
    documents = decrypt_documents(record.documents, secret_key)
    desired = parse_documents([(Source(f"state:{record.source}", i), d) for i, d in enumerate(documents)])
    return replace(desired, hash_key=secret_hash_key(store))


# Sources of records made by commands, not by `apply -f PATHS`.
SCALE_SOURCE, AUTOSCALE_SOURCE, ROLLBACK_SOURCE = "scale ", "autoscale: ", "rollback of "


def last_applied_paths(sources: Sequence[str]) -> str:
    """The paths of the newest record made by `apply` (sources newest first), "" if none is kept."""
    commands = (SCALE_SOURCE, AUTOSCALE_SOURCE, ROLLBACK_SOURCE)
    return next((s for s in sources if not s.startswith(commands)), "")


def recorded_applysets(store: StateStore) -> dict[ObjectId, str]:
    """Each recorded object's apply set; a record from before sets is one set named after its paths."""
    record = store.desired()
    if record is None:
        return {}
    if record.applysets is None:
        legacy = legacy_records(record.documents, last_applied_paths(store.desired_sources()))
        return {object_id(r.document): r.applyset for r in legacy}
    return {object_id(d): s for d, s in zip(record.documents, record.applysets)}


def record_apply(store: StateStore, desired: Desired, source: str, now: float, applysets: Mapping[ObjectId, str]) -> list[str]:
    """Record the documents (secrets encrypted), each in its apply set (`applysets`; one not
    there in the set named after `source`), and a revision per workload, in one transaction;
    return the workloads with a new revision."""
    documents = encrypt_documents(desired.documents, secret_key)
    fallback = default_applyset(source.split(","))
    sets = [applysets.get(object_id(d), fallback) for d in desired.documents]
    with store.transaction():
        return _record_apply(store, desired, documents, sets, source, now)


def _record_apply(
    store: StateStore, desired: Desired, documents: Sequence[Mapping[str, Any]], applysets: Sequence[str], source: str, now: float,
) -> list[str]:
    store.record_desired(documents, now=now, source=source, applysets=applysets)
    changed = []
    wanted = set()
    for obj in workloads(desired.objects, lambda kind: kind.revisions):
        workload = object_key(obj)
        wanted.add(workload)
        before = store.current_revision(workload)
        revision_hash = workload_revision(obj, desired)
        if before is not None and before.template_hash == workload_revision(obj, replace(desired, plain_hashed=frozenset({workload}))):
            continue  # unchanged since its Secrets were hashed plain (Desired.plain_hashed)
        # The template as written, so `rollout undo` can put it back.
        template = pod_template_of(desired.documents, obj.meta.kind, obj.meta.namespace, obj.meta.name)
        revision = store.record_revision(workload, revision_hash, template, now=now, cause=source)
        if before is None or before.template_hash != revision.template_hash:
            changed.append(workload)
        history = workload_kind(obj).history_limit(obj)
        if history is not None:
            store.prune_revisions(workload, history)
    for workload in store.workloads_with_revisions():
        if workload not in wanted:
            store.forget_workload(workload)
    return changed


def outcome_events(outcome: Outcome, now: float) -> list[Event]:
    """What a run did and what it could not do, as events for `sshorch events`."""
    events = []
    for report in outcome.reports:
        for node in report.nodes:
            if node.error:
                events.append(Event(now, EVENT_WARNING, "Unreachable", f"node/{node.node}", node.error, node.node))
            for result in node.results:
                action = result.action
                reason = action.kind.reason if result.ok else "Failed"
                message = action.reason if result.ok else f"{action.describe()}: {result.error_line()}"
                if action.kind.subject == "node" and result.ok:  # the target says what on the node
                    message = f"{action.target}: {action.reason}"
                kind = EVENT_NORMAL if result.ok else EVENT_WARNING
                events.append(Event(now, kind, reason, action.subject, message, action.node))
    for pending in outcome.last_plan.pending:
        events.append(Event(now, EVENT_WARNING, "FailedScheduling", f"pod/{pending.pod}", pending.reason))
    return events


HIDDEN = "***"


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as the run lock and events record it (others read it): `--set` values and
    whatever follows '=@' hidden, since template values may be secrets."""
    shown: list[str] = []
    hide_next = False
    for arg in sys.argv[1:] if argv is None else argv:
        if hide_next:
            shown.append(_hide_value(arg))
            hide_next = False
        elif arg == "--set":
            shown.append(arg)
            hide_next = True
        elif arg.startswith("--set="):
            shown.append("--set=" + _hide_value(arg.removeprefix("--set=")))
        elif "=@" in arg:
            shown.append(arg[: arg.index("=@") + 2] + HIDDEN)
        else:
            shown.append(arg)
    return " ".join(["sshorch", *shown])[:200]


def _hide_value(assignment: str) -> str:
    key, equals, _ = assignment.partition("=")
    return f"{key}={HIDDEN}" if equals else HIDDEN


def config_changes(old: Desired | None, new: Desired) -> list[str]:
    """ConfigMaps and Secrets whose content changed since the recorded state; a secret's value is never shown."""
    lines = []
    for obj in new.objects:
        if not isinstance(obj, (ConfigMap, Secret)):
            continue
        before = old.get(obj.meta.kind, obj.meta.name, obj.meta.namespace) if old else None
        if before is None or content_hash(before, old.hash_key if old else None) != content_hash(obj, new.hash_key):  # type: ignore[arg-type]
            word = "new" if before is None else "changed"
            hidden = " (value hidden)" if isinstance(obj, Secret) else ""
            lines.append(f"{obj.meta.ref} {word}{hidden}")
    return lines


def record_documents(store: StateStore, documents: Sequence[Mapping[str, Any]], source: str, now: float) -> Desired:
    """Validate edited documents and record them as the desired state."""
    desired = replace(parse_documents([(Source(source, i), dict(d)) for i, d in enumerate(documents)]), hash_key=secret_hash_key(store))
    record_apply(store, desired, source, now, recorded_applysets(store))
    return desired


def recorded_documents(store: StateStore) -> list[dict[str, Any]]:
    record = store.desired()
    if record is None:
        raise SshorchError("nothing applied yet: run 'sshorch apply -f FILES' first")
    return decrypt_documents(record.documents, secret_key)


def rollback(store: StateStore, workload: str, to_revision: int | None, reason: str, now: float) -> Desired:
    """Put back an earlier revision's template; it becomes the newest revision.

    Without `to_revision`: the newest revision that completed, else the one before the current."""
    kind, namespace, name = split_workload_key(workload)
    revisions = store.revisions(workload)
    current = store.current_revision(workload)
    if current is None or not revisions:
        raise SshorchError(f"{workload}: no revisions recorded")
    if to_revision is not None:
        target = next((r for r in revisions if r.number == to_revision), None)
        if target is None:
            known = ", ".join(str(r.number) for r in revisions)
            raise SshorchError(f"{workload}: no revision {to_revision} (known: {known})")
    else:
        earlier = [r for r in revisions if r.number < current.number]
        good = [r for r in earlier if r.status == REVISION_COMPLETE]
        if not earlier:
            raise SshorchError(f"{workload}: no earlier revision to go back to")
        target = (good or earlier)[-1]
    if reason:
        store.set_revision_status(workload, current.number, REVISION_FAILED, reason)
    documents = with_template(recorded_documents(store), kind, namespace, name, target.template)
    return record_documents(store, documents, f"{ROLLBACK_SOURCE}{workload} to revision {target.number}", now)


RESTARTS_PREFIX = "restarts/"


def count_restarts(store: StateStore, outcome: Outcome) -> None:
    """Restarts sshorch made (liveness): the runtime's own count does not include them."""
    for report in outcome.reports:
        for node in report.nodes:
            for result in node.results:
                if result.ok and result.action.kind == ActionKind.RESTART_CONTAINER:
                    key = RESTARTS_PREFIX + result.action.target
                    store.set_counter(key, store.counter(key) + 1)


SEEN_RESTARTS_PREFIX = "seen-restarts/"
SEEN_OOM_PREFIX = "seen-oom/"


def _oom_mark(container: ObservedContainer) -> int:
    """What tells one kill from the next: the last one's time in ms (the kernel log wraps, so counts
    stop growing in a crash loop), or the count where the log has no times."""
    return int(container.last_oom_kill * 1000) if container.last_oom_kill is not None else container.oom_kills


def _last_exit(container: ObservedContainer) -> str:
    # The runtime clears the exit code when it restarts a container; the kernel log keeps OOM kills.
    return "last killed for running out of memory" if container.oom_killed else f"last exit code {container.exit_code}"


def observation_events(store: StateStore, observed: Observed, now: float) -> list[Event]:
    """Events for what happened between runs: containers the runtime restarted, nodes that stopped answering."""
    events = []
    seen = store.counters(SEEN_RESTARTS_PREFIX)
    seen.update(store.counters(SEEN_OOM_PREFIX))
    current: dict[str, int] = {}
    for pod in observed.pods():
        for container in pod.containers:
            key = f"{SEEN_RESTARTS_PREFIX}{container.name}"
            current[key] = container.restarts
            before = seen.get(key, 0)
            if container.restarts > before:
                message = f"container {container.name} restarted {container.restarts - before} more times"
                message += f" (total {container.restarts}, {_last_exit(container)})"
                events.append(Event(now, EVENT_WARNING, "BackOff", f"pod/{pod.name}", message, pod.node))
            if container.restarts != before:
                store.set_counter(key, container.restarts)
        for container in (*pod.containers, *pod.init_containers):
            if not container.oom_kills:
                continue
            key, mark = f"{SEEN_OOM_PREFIX}{container.name}", _oom_mark(container)
            current[key] = mark
            if mark != seen.get(key, 0):
                message = f"container {container.name} was killed for using more memory than its limit"
                message += f" ({container.oom_kills} such kills in the node's kernel log)"
                events.append(Event(now, EVENT_WARNING, "OOMKilled", f"pod/{pod.name}", message, pod.node))
                store.set_counter(key, mark)
    for key in seen:
        if key not in current:
            store.clear_counters(key)
    health = store.node_health()
    for node in observed.nodes:
        status = "Ready" if node.reachable and node.report.status == "Ready" else "NotReady"
        previous = health.get(node.name)
        store.record_node_status(node.name, status, now=now, reason=node.report.reason)
        if previous is not None and previous.status != status:
            kind = EVENT_NORMAL if status == "Ready" else EVENT_WARNING
            events.append(Event(now, kind, f"Node{status}", f"node/{node.name}", node.report.reason or status, node.name))
    return events


def mark_complete(store: StateStore, ready: Iterable[str]) -> None:
    for workload in ready:
        current = store.current_revision(workload)
        if current is not None and current.status != REVISION_COMPLETE:
            store.set_revision_status(workload, current.number, REVISION_COMPLETE)


def auto_rollback(desired: Desired, workload: str) -> bool:
    kind, namespace, name = split_workload_key(workload)
    obj = desired.get(kind, name, namespace)
    return obj is None or obj.meta.annotations.get(AUTO_ROLLBACK, "true") != "false"


def gather_scope(desired: Desired) -> GatherScope:
    """What the gathers read beyond the basics: CPU time for autoscalers, named volumes
    for pods that mount one."""
    templates = [t for t in map(workload_template, desired.objects) if t is not None]
    return GatherScope(
        cpu=any(isinstance(o, HorizontalPodAutoscaler) for o in desired.objects),
        volumes=any(isinstance(v.source, NamedVolume) for t in templates for v in t.spec.volumes),
    )


def converge_to(ctx: RunContext, store: StateStore, desired: Desired, timeout: float, first: Observed | None = None) -> Outcome:
    """Passes until the cluster matches `desired`; failed rollouts roll back (or pause)."""

    def on_failed(workload: str, reason: str) -> Desired | None:
        current = store.current_revision(workload)
        first = current is not None and not any(r.number < current.number for r in store.revisions(workload))
        if not auto_rollback(desired, workload) or first:
            # A workload's first revision has nothing to go back to: it stays, failed, as kubectl leaves it.
            if current is not None:
                store.set_revision_status(workload, current.number, REVISION_FAILED, reason + " (paused)")
            return None
        rolled = rollback(store, workload, None, reason, ctx.wall_clock())
        ctx.progress(Notice(f"{workload}: rolled back: {reason}", warning=True))
        return expand_cron(store, rolled)

    ctx = replace(ctx, on_rollout_failed=on_failed, scope=gather_scope(desired))
    if ctx.scope.cpu:
        first = first if first is not None and any(n.cpu_seconds is not None for n in first.nodes) else gather(ctx)
        desired = run_autoscalers(ctx, store, desired, first, ctx.wall_clock())
    desired = schedule_cron(ctx, store, desired, ctx.wall_clock())
    outcome = run_passes(ctx, desired, timeout, first=first)
    with store.transaction():  # what the run learnt, recorded together
        if ctx.scope.cpu and outcome.observed is not None and outcome.observed is not first:
            remember_readings(store, outcome.observed, ctx.wall_clock())
        mark_complete(store, outcome.last_plan.ready)
        count_restarts(store, outcome)
        if outcome.observed is not None:
            store.add_events(observation_events(store, outcome.observed, ctx.wall_clock()))
        store.add_events(outcome_events(outcome, ctx.wall_clock()))
    return outcome
