"""What sshorch owns on a node: pods, containers, volumes, config dirs.

Facts only: commands plus pure parsers of their real output, gathered in the
same single exec as the node facts. Ownership is by label (house rule 4):
every runtime query filters on `sshorch.io/cluster`, so nothing else on the
node is ever seen, let alone touched.

Each runtime process costs the node tens of ms of CPU on every pass, so the
facts use as few as possible: on podman one `container inspect` of the
labelled containers gives everything, pods included (see `_group_podman`).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from sshorch.labels import (
    CLUSTER_LABEL,
    INFRA_LABEL,
    INIT_LABEL,
    KIND_LABEL,
    NAMESPACE_LABEL,
    OWNER_LABEL,
    POD_LABEL,
    REVISION_LABEL,
    SLOT_LABEL,
)
from sshorch.nodefiles import LEGACY_CONFIG_ROOTS, LEGACY_POD_ROOTS, config_roots, is_file_dir, is_pod_dir, pod_roots
from sshorch.observe.facts import Fact, bounded_runtime_call
from sshorch.observe.listing import Listing, listing_command, parse_listing
from sshorch.runtime.model import PortBinding


# Labels the locally built pause image brings along; not the pod's.
PAUSE_IMAGE_LABELS = ("io.buildah.", "org.opencontainers.")


# How far the kernel log's clock may be off the node's (seconds): an exit later than
# this after an out-of-memory kill was not that kill.
OOM_CLOCK_SLACK = 30.0
ASSUMED_STATUS = "Unknown"  # a pod remembered from a node that does not answer
STATES = frozenset({"running", "exited", "created", "stopped", "paused"})
# Runtime states folded into the few the planner reasons about.
_STATE_ALIASES = {
    "configured": "created",
    "initialized": "created",
    "restarting": "exited",  # docker: waiting out the restart delay after a crash
    "dead": "exited",
    "stopping": "stopped",
    "removing": "stopped",
}

R = TypeVar("R")


@dataclass(frozen=True)
class ObservedContainer:
    """A container sshorch owns, as gathered; `infra` marks a pod's infra container."""

    name: str
    id: str
    image: str
    image_id: str
    state: str
    exit_code: int
    started_at: float | None
    restarts: int
    labels: Mapping[str, str]
    infra: bool
    finished_at: float | None = None  # when it last exited (None while it never did)
    oom_kills: int = 0  # processes the kernel killed in it for running out of memory (observe/oomkills.py)
    last_oom_kill: float | None = None

    @property
    def failed(self) -> bool:
        return self.state == "exited" and self.exit_code != 0

    @property
    def oom_killed(self) -> bool:
        """Its last exit was an out-of-memory kill (or it has not exited since one): no exit after the last kill."""
        if not self.oom_kills:
            return False
        if self.last_oom_kill is None or self.finished_at is None:
            return True
        # The kill's time is read off the kernel log's boot-relative clock: allow for drift.
        return self.finished_at <= self.last_oom_kill + OOM_CLOCK_SLACK

    @property
    def init(self) -> bool:
        """One of its pod's init containers: run to completion by the plan, not kept running."""
        return self.labels.get(INIT_LABEL) == "true"


@dataclass(frozen=True)
class ObservedPod:
    """A pod sshorch owns on a node, as gathered; its workload, revision and slot come from its labels."""

    name: str
    node: str
    labels: Mapping[str, str]
    status: str
    containers: tuple[ObservedContainer, ...]
    ports: tuple[PortBinding, ...]
    ip: str = ""  # the pod's address on the node's pod bridge ("" when unknown)
    # Its init containers, apart: an init container that exited is done, not a pod that stopped.
    init_containers: tuple[ObservedContainer, ...] = ()
    started_at: float | None = None  # when its infra container last started: the pod's start

    @property
    def kind(self) -> str:
        return self.labels.get(KIND_LABEL, "")

    @property
    def namespace(self) -> str:
        return self.labels.get(NAMESPACE_LABEL, "")

    @property
    def owner(self) -> str:
        return self.labels.get(OWNER_LABEL, "")

    @property
    def revision(self) -> str:
        return self.labels.get(REVISION_LABEL, "")

    @property
    def slot(self) -> str:
        return self.labels.get(SLOT_LABEL, "")

    @property
    def owner_key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.owner)

    @property
    def running(self) -> bool:
        return bool(self.containers) and all(c.state == "running" for c in self.containers)

    @property
    def failed_containers(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.containers if c.failed)

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers)

    @property
    def assumed(self) -> bool:
        """Last seen on a node that does not answer now: what it runs is not known."""
        return self.status == ASSUMED_STATUS


@dataclass(frozen=True)
class ObservedVolume:
    """A named volume sshorch owns on a node, with its labels."""

    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Owned:
    """Everything the cluster owns on one node: pods, containers of no pod, volumes, config and pod dirs."""

    pods: tuple[ObservedPod, ...]
    stray_containers: tuple[ObservedContainer, ...]
    volumes: tuple[ObservedVolume, ...]  # () unless the gather asked for them
    file_dirs: frozenset[str]
    # Not gathered (nothing reads it yet, and listing images costs a runtime process a pass): always empty.
    images: Mapping[str, str]


# Fact values: what one command's output says, before the facts are joined up.


@dataclass(frozen=True)
class ContainerRecord:
    """A container as the runtime reports it; `pod` is the pod's id (podman) or name (docker), "" if none.
    `runtime_state` is the runtime's own word for the state, which podman's pod status is computed from."""

    container: ObservedContainer
    pod: str
    ports: tuple[PortBinding, ...]
    runtime_state: str = ""
    ip: str = ""


@dataclass(frozen=True)
class InspectRecord:
    """From docker `inspect`: what docker `ps` does not show."""

    restarts: int
    exit_code: int
    started_at: float | None
    image_id: str
    finished_at: float | None = None


# Commands.

# `podman container inspect` fields (podman 4.3 Go names), each printed with `json`
# so that any name or label value keeps the line one valid JSON object.
_PODMAN_INSPECT_FIELDS = (
    ("Id", ".ID"),
    ("Name", ".Name"),
    ("ImageName", ".ImageName"),
    ("Image", ".Image"),
    ("Status", ".State.Status"),
    ("ExitCode", ".State.ExitCode"),
    ("StartedAt", ".State.StartedAt"),
    ("FinishedAt", ".State.FinishedAt"),
    ("RestartCount", ".RestartCount"),
    ("Labels", ".Config.Labels"),
    ("Pod", ".Pod"),
    ("IsInfra", ".IsInfra"),
    ("PortBindings", ".HostConfig.PortBindings"),
    ("IPAddress", ".NetworkSettings.IPAddress"),
)


def render_podman_inspect_template() -> str:
    """A Go template printing one JSON line per container."""
    return "{" + ",".join(f'"{key}":{{{{json {field}}}}}' for key, field in _PODMAN_INSPECT_FIELDS) + "}"


_DOCKER_INSPECT_TEMPLATE = "{{.Name}} {{.RestartCount}} {{.State.ExitCode}} {{.State.StartedAt}} {{.Image}} {{.State.FinishedAt}}"


def _label_filter(cluster: str) -> str:
    return "--filter " + shlex.quote(f"label={CLUSTER_LABEL}={cluster}")


def _files_command(cluster: str) -> str:
    # Config/secret dirs sit two levels down (<namespace>/<dir>), pod dirs one: the
    # cluster's own, and those of the layout before directories were scoped by cluster.
    configs = " ".join((*config_roots(cluster), *LEGACY_CONFIG_ROOTS))
    pods = " ".join((*pod_roots(cluster), *LEGACY_POD_ROOTS))
    return (
        f"find {configs} -mindepth 2 -maxdepth 2 -type d 2>/dev/null; "
        f"find {pods} -mindepth 1 -maxdepth 1 -type d 2>/dev/null; true"
    )


def _inspect_command(runtime: str, cluster: str, template: str) -> str:
    # A failed `ps` must fail the fact: an empty list would read as "owns nothing".
    # A container removed between the two commands makes inspect fail for it alone;
    # `|| true` keeps the others (the parser skips only that error's lines).
    listing = (
        f"ids=$({runtime} ps -aq {_label_filter(cluster)}) || exit; "
        f"[ -z \"$ids\" ] || {runtime} container inspect --format {shlex.quote(template)} $ids || true"
    )
    return bounded_runtime_call(runtime, listing)


def parse_checksums(output: str) -> dict[str, str]:
    """`sha256sum` lines -> {path: digest}."""
    sums = {}
    for line in output.splitlines():
        digest, _, path = line.strip().partition("  ")
        if len(digest) == 64 and path.startswith("/"):
            sums[path] = digest
    return sums


CHECKSUMS = "checksums"


def checksums_fact(cluster: str) -> Fact:
    """Content checks of delivered files, so a file edited or removed by hand is put back."""
    roots = " ".join((*config_roots(cluster), *LEGACY_CONFIG_ROOTS))
    return Fact(CHECKSUMS, f"find {roots} -type f -exec sha256sum {{}} + 2>/dev/null; true", parse_checksums)


VOLUMES = "volumes"


def podman_facts(cluster: str, known: str) -> tuple[Fact, ...]:
    # No "pods" fact: pods are read off their infra containers (podman 4.3's `ps` lacks restart
    # counts, so inspect is needed anyway, and it holds all the rest). The listing is
    # skipped while podman's state is as it was when `known` was read (observe/listing.py).
    listing = _inspect_command("podman", cluster, render_podman_inspect_template())
    return (
        Fact("containers", listing_command(listing, known), parse_podman_listing),
        Fact(VOLUMES, f"podman volume ls {_label_filter(cluster)} --format json", parse_podman_volumes),
        Fact("files", _files_command(cluster), parse_dirs),
    )


def docker_facts(cluster: str) -> tuple[Fact, ...]:
    # No "pods" fact: on docker a pod is its infra container, already in "containers".
    label = _label_filter(cluster)
    json_lines = "--format '{{json .}}'"
    return (
        # `{{json .}}` uses .Size, which would make the daemon compute every container's disk use.
        Fact("containers", f"docker ps -a --no-trunc --size=false {label} {json_lines}", parse_docker_containers),
        Fact("restarts", _inspect_command("docker", cluster, _DOCKER_INSPECT_TEMPLATE), parse_inspect),
        Fact(VOLUMES, f"docker volume ls {label} {json_lines}", parse_docker_volumes),
        Fact("files", _files_command(cluster), parse_dirs),
    )


# Parsers of single values.


def _strict(parse: Callable[[str], R]) -> Callable[[str], R]:
    """Output of an unexpected shape becomes a ValueError, which the gather reports as that fact's error."""

    @functools.wraps(parse)
    def checked(output: str) -> R:
        try:
            return parse(output)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"unexpected output shape ({type(error).__name__}: {error})") from error

    return checked


def parse_state(state: str) -> str:
    state = state.strip().lower()
    if state in STATES:
        return state
    return _STATE_ALIASES.get(state, "unknown")


def _bare_id(image_id: str) -> str:
    """podman inspect gives bare hex, docker inspect sha256:hex."""
    return image_id.removeprefix("sha256:")


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_timestamp(text: str) -> float | None:
    """RFC 3339 with up to nanoseconds (podman and docker inspect) -> epoch seconds; Go's zero time -> None."""
    match = _TIMESTAMP.match(text.strip())
    if not match:
        raise ValueError(f"not a timestamp: {text!r}")
    base, fraction, zone = match.groups()
    if base.startswith("0001-"):
        return None
    moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


def _protocol(text: str) -> Literal["tcp", "udp"] | None:
    # sshorch publishes only tcp and udp; other protocols cannot be ours.
    if text == "tcp":
        return "tcp"
    return "udp" if text == "udp" else None


def parse_podman_port_bindings(bindings: Mapping[str, Any]) -> tuple[PortBinding, ...]:
    """inspect's HostConfig.PortBindings, `{"8080/tcp": [{"HostIp": ip, "HostPort": "20001"}]}`
    (podman lists a published range port by port) -> bindings in host port order."""
    found = []
    for target, hosts in bindings.items():
        container_port, _, protocol = str(target).partition("/")
        proto = _protocol(protocol or "tcp")
        for host in hosts or ():
            # No host port: not published on the node, so not one of ours.
            if proto is not None and host["HostPort"]:
                ip = parse_ip(host["HostIp"], f"port {target}: HostIp")
                found.append(PortBinding(ip, _port(host["HostPort"]), _port(container_port), proto))
    return tuple(sorted(found, key=lambda b: (b.host_port, b.protocol, b.container_port, b.host_ip)))


def _port(value: object) -> int:
    number = _integer(value, "port")
    if not 0 < number < 65536:
        raise ValueError(f"not a port: {_shown(value)}")
    return number


def _port_numbers(text: str) -> list[int]:
    first, _, last = text.partition("-")
    low, high = _port(first), _port(last or first)
    return list(range(low, high + 1))


def parse_docker_ports(text: str) -> tuple[PortBinding, ...]:
    """docker ps Ports: `1.2.3.4:80->8080/tcp, [::]:81-82->81-82/udp, 9000/tcp` (unpublished ports skipped)."""
    bindings = []
    for entry in (part.strip() for part in text.split(",")):
        host, arrow, target = entry.partition("->")
        if not arrow:
            continue
        container_ports, _, protocol = target.partition("/")
        host_ip, _, host_ports = host.rpartition(":")
        hosts, containers = _port_numbers(host_ports), _port_numbers(container_ports)
        if len(hosts) != len(containers):
            raise ValueError(f"port range sizes differ in {entry!r}")
        proto = _protocol(protocol)
        if proto is not None:
            bindings += [PortBinding(host_ip.strip("[]"), h, c, proto) for h, c in zip(hosts, containers)]
    return tuple(bindings)


def parse_docker_labels(text: str) -> dict[str, str]:
    """docker's `k=v,k=v`; a piece without `=` is the rest of a value that held a comma."""
    labels: dict[str, str] = {}
    last = ""
    for piece in text.split(",") if text else ():
        key, equals, value = piece.partition("=")
        if equals:
            labels[key] = value
            last = key
        elif last:
            labels[last] += "," + piece
    return labels


_STATUS_CODE = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")


def _docker_status_exit_code(status: str) -> int:
    match = _STATUS_CODE.match(status)
    return int(match.group(1)) if match else 0


def _docker_status_state(status: str) -> str:
    """Older docker has no State field; its Status text says the same."""
    if status.startswith("Up"):
        return "paused" if "(Paused)" in status else "running"
    for prefix, state in (("Exited", "exited"), ("Restarting", "exited"), ("Created", "created"), ("Dead", "exited")):
        if status.startswith(prefix):
            return state
    return "unknown"


# Fact parsers.


def _json_document(output: str) -> list[Any]:
    value = json.loads(output) if output.strip() else []
    if not isinstance(value, list):
        raise ValueError("expected a JSON list")
    return value


def _json_lines(output: str) -> list[Any]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# podman 4.3: "error inspecting object: no such container X" for each but the last missing one, then
# "Error: inspecting object: no such container X"; docker: "Error response from daemon: No such container: X".
_REMOVED_MEANWHILE = re.compile(r"^error\b.*\bno such (?:container|object)\b", re.I)


def _inspected_lines(output: str) -> list[str]:
    # Containers removed since `ps -aq` get an error line each; the others are still printed.
    # Any other error is left in, to fail the parse: it may have hidden every container.
    return [line for line in output.splitlines() if line.strip() and not _REMOVED_MEANWHILE.match(line)]


# What podman and docker accept as a container name; a node reporting anything else is not
# telling the truth, and nothing it says of that container is used.
_RUNTIME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}")


def _name(value: object) -> str:
    if not isinstance(value, str) or not _RUNTIME_NAME.fullmatch(value):
        raise ValueError(f"not a container name: {_shown(value)}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what}: not a line of text: {_shown(value)}")
    return value


def _labels(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{what}: labels must map text to text, got {_shown(value)}")
    return dict(value)


def _integer(value: object, what: str) -> int:
    if value is None or value == "":
        return 0
    number = int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if number is None or not -(2**31) <= number < 2**31:
        raise ValueError(f"{what}: not a small integer: {_shown(value)}")
    return number


def parse_ip(value: object, what: str) -> str:
    """An address a node reports ("" when it has none); anything else is that container's error."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise ValueError(f"{what}: not an IP address: {_shown(value)}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _podman_container(item: Mapping[str, Any]) -> ContainerRecord:
    name = _name(item["Name"])
    where = f"container {name}"
    state = _text(item["Status"], f"{where}: Status")
    container = ObservedContainer(
        name=name,
        id=_text(item["Id"], f"{where}: Id"),
        image=_text(item["ImageName"], f"{where}: ImageName"),
        image_id=_bare_id(_text(item["Image"] or "", f"{where}: Image")),
        state=parse_state(state),
        exit_code=_integer(item["ExitCode"], f"{where}: ExitCode"),
        started_at=parse_timestamp(_text(item["StartedAt"], f"{where}: StartedAt")),
        restarts=_integer(item["RestartCount"], f"{where}: RestartCount"),
        labels=_labels(item["Labels"], where),
        infra=bool(item["IsInfra"]),
        # Not in listings kept from before it was gathered.
        finished_at=parse_timestamp(_text(item.get("FinishedAt") or "0001-01-01T00:00:00Z", f"{where}: FinishedAt")),
    )
    ports = parse_podman_port_bindings(item["PortBindings"] or {})
    pod = _text(item["Pod"] or "", f"{where}: Pod")
    return ContainerRecord(container, pod, ports, state, parse_ip(item.get("IPAddress"), f"{where}: IPAddress"))


@_strict
def parse_podman_containers(output: str) -> list[ContainerRecord]:
    """`podman container inspect` with render_podman_inspect_template: one JSON object per line."""
    return [_podman_container(json.loads(line)) for line in _inspected_lines(output)]


@dataclass(frozen=True)
class ListedContainers:
    """The podman containers fact: its listing section, and the records read from it
    (None when the node said unchanged: the kept copy's records stand in)."""

    listing: Listing
    records: list[ContainerRecord] | None


def parse_podman_listing(output: str) -> ListedContainers:
    listing = parse_listing(output)
    return ListedContainers(listing, None if listing.body is None else parse_podman_containers(listing.body))


def _docker_container(item: Mapping[str, Any]) -> ContainerRecord:
    labels = parse_docker_labels(_text(item.get("Labels") or "", "Labels"))
    name = _name(_text(item["Names"], "Names").split(",")[0])
    status = _text(item.get("Status") or "", f"container {name}: Status")
    infra = labels.get(INFRA_LABEL) == "true"
    container = ObservedContainer(
        name=name,
        id=_text(item["ID"], f"container {name}: ID"),
        image=_text(item["Image"], f"container {name}: Image"),
        image_id="",  # not in docker ps; filled from inspect
        state=parse_state(item.get("State") or _docker_status_state(status)),
        exit_code=_docker_status_exit_code(status),
        started_at=None,
        restarts=0,
        labels=labels,
        infra=infra,
    )
    # The infra container is the pod and carries its name; app containers point to it by label.
    pod = name if infra else labels.get(POD_LABEL, "")
    return ContainerRecord(container, pod, parse_docker_ports(item.get("Ports") or ""))


@_strict
def parse_docker_containers(output: str) -> list[ContainerRecord]:
    return [_docker_container(item) for item in _json_lines(output)]


def parse_inspect(output: str) -> dict[str, InspectRecord]:
    """docker `inspect`: `/NAME RESTARTS EXIT STARTED IMAGE FINISHED` per line."""
    found: dict[str, InspectRecord] = {}
    for line in _inspected_lines(output):
        fields = line.split()
        if len(fields) != 6:
            raise ValueError(f"unexpected inspect line {line!r}")
        name = _name(fields[0].lstrip("/"))
        found[name] = InspectRecord(
            _integer(fields[1], f"container {name}: restarts"), _integer(fields[2], f"container {name}: exit code"),
            parse_timestamp(fields[3]), _bare_id(fields[4]), parse_timestamp(fields[5]),
        )
    return found


@_strict
def parse_podman_volumes(output: str) -> list[ObservedVolume]:
    return [ObservedVolume(_name(v["Name"]), _labels(v.get("Labels"), f"volume {v['Name']}")) for v in _json_document(output)]


@_strict
def parse_docker_volumes(output: str) -> list[ObservedVolume]:
    return [ObservedVolume(_name(v["Name"]), parse_docker_labels(_text(v.get("Labels") or "", "Labels"))) for v in _json_lines(output)]


def parse_dirs(output: str) -> frozenset[str]:
    """The directories of ours that `find` listed. A line that is not exactly such a
    path (a name with a newline in it, `..`, anything else) is left out: what this
    returns is what a clean-up may remove."""
    return frozenset(
        path for path in (line.strip() for line in output.splitlines())
        if is_file_dir(path) or is_pod_dir(path)
    )


# Joining the facts up.


def _with_inspect(record: ContainerRecord, inspected: InspectRecord | None) -> ContainerRecord:
    if inspected is None:
        return record
    # docker: inspect is the only source of these.
    container = replace(record.container, restarts=inspected.restarts, exit_code=inspected.exit_code,
                        started_at=inspected.started_at, image_id=inspected.image_id, finished_at=inspected.finished_at)
    return replace(record, container=container)


def _build_pod(node: str, name: str, status: str, labels: Mapping[str, str],
               records: Sequence[ContainerRecord]) -> ObservedPod:
    infra = next((r for r in records if r.container.infra), None)
    members = sorted((r.container for r in records if not r.container.infra), key=lambda c: c.name)
    apps = tuple(c for c in members if not c.init)
    init = tuple(c for c in members if c.init)
    if infra is None:
        return ObservedPod(name, node, dict(labels), status, apps, (), "", init)
    return ObservedPod(name, node, dict(labels), status, apps, infra.ports, infra.ip, init, infra.container.started_at)


def _by_pod(records: Iterable[ContainerRecord]) -> dict[str, list[ContainerRecord]]:
    grouped: dict[str, list[ContainerRecord]] = defaultdict(list)
    for record in records:
        grouped[record.pod].append(record)
    return grouped


def _stray(groups: Iterable[list[ContainerRecord]]) -> tuple[ObservedContainer, ...]:
    # An infra container goes with its pod; only app containers can be left over.
    return tuple(sorted((r.container for g in groups for r in g if not r.container.infra), key=lambda c: c.name))


# podman's container states counted per pod status bucket; any other state counts as an error.
_PODMAN_POD_BUCKETS = {
    "running": "running",
    "paused": "paused",
    "exited": "stopped",
    "stopped": "stopped",
    "created": "created",
    "configured": "created",
}


def podman_pod_status(states: Sequence[str]) -> str:
    """A pod's status from its containers' podman states, by podman's own rules (libpod's
    createPodStatusResults, which `podman pod ps` shows)."""
    buckets = Counter(_PODMAN_POD_BUCKETS.get(state.strip().lower(), "error") for state in states)
    total = len(states)
    if total and buckets["running"] == total:
        return "Running"
    if buckets["running"]:
        return "Degraded"
    if total and buckets["paused"] == total:
        return "Paused"
    if total and buckets["stopped"] == total:
        return "Exited"
    if buckets["stopped"]:
        return "Stopped"
    return "Error" if buckets["error"] else "Created"


def _pod_labels(infra: ObservedContainer) -> dict[str, str]:
    # podman copies the pod's labels (sshorch.io/ ones and the template's, which
    # Services select by) onto its infra container, next to the pause image's own.
    return {key: value for key, value in infra.labels.items() if not key.startswith(PAUSE_IMAGE_LABELS)}


def _podman_pod(node: str, pod_id: str, members: Sequence[ContainerRecord]) -> ObservedPod:
    infra = next(r.container for r in members if r.container.infra)
    labels = _pod_labels(infra)
    # inspect has the pod's id only; sshorch names the pod in its pod label (the id still addresses it).
    name = _name(labels.get(POD_LABEL) or pod_id)
    # Init containers run to completion: podman's status is of the pod's other containers.
    status = podman_pod_status([r.runtime_state for r in members if not r.container.init])
    return _build_pod(node, name, status, labels, members)


Grouped = tuple[tuple[ObservedPod, ...], tuple[ObservedContainer, ...]]  # a node's pods, and containers of no pod


def _group_podman(node: str, records: Sequence[ContainerRecord]) -> Grouped:
    groups = _by_pod(records)
    loose = groups.pop("", [])
    # A pod is known by its infra container: without it, a pod's app containers are stray.
    pods = {pod_id: members for pod_id, members in groups.items() if any(r.container.infra for r in members)}
    orphans = [members for pod_id, members in groups.items() if pod_id not in pods]
    built = sorted((_podman_pod(node, pod_id, members) for pod_id, members in pods.items()), key=lambda p: p.name)
    return tuple(built), _stray([loose, *orphans])


def docker_pod_status(containers: Sequence[ObservedContainer]) -> str:
    """A docker pod's status in podman's words, from its infra and app containers."""
    states = [c.state for c in containers]
    running = states.count("running")
    if running:
        return "Running" if running == len(states) else "Degraded"
    if states and all(s == "paused" for s in states):
        return "Paused"
    if "stopped" in states:
        return "Stopped"
    if "exited" in states:
        return "Exited"
    return "Created" if all(s == "created" for s in states) else "Error"


def _group_docker(node: str, records: Sequence[ContainerRecord]) -> Grouped:
    groups = _by_pod(records)
    infras = [r for r in records if r.container.infra]
    built = []
    for infra in infras:
        members = groups.pop(infra.pod, [])
        status = docker_pod_status([r.container for r in members if not r.container.init])
        built.append(_build_pod(node, infra.pod, status, infra.container.labels, members))
    return tuple(built), _stray(groups.values())


def require_facts(values: Mapping[str, Any], names: Iterable[str]) -> None:
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"facts not read: {', '.join(missing)}")


def join_podman(node: str, values: Mapping[str, Any]) -> Grouped:
    """podman's owned facts: pods are read off the inspected containers (see podman_facts)."""
    listed: ListedContainers = values["containers"]
    if listed.records is None:
        raise ValueError("containers: reported unchanged, and no copy of them is kept")
    return _group_podman(node, listed.records)


def join_docker(node: str, values: Mapping[str, Any]) -> Grouped:
    """docker's owned facts: `ps` records completed by `inspect`'s (see docker_facts)."""
    inspected: Mapping[str, InspectRecord] = values["restarts"]
    return _group_docker(node, [_with_inspect(r, inspected.get(r.container.name)) for r in values["containers"]])
