"""What sshorch owns on a node: pods, containers, volumes, config dirs, images.

Facts only: commands plus pure parsers of their real output, gathered in the
same single exec as the node facts. Ownership is by label (house rule 4):
every runtime query filters on `sshorch.io/cluster`, so nothing else on the
node is ever seen, let alone touched.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from sshorch.observe.facts import Fact
from sshorch.runtime.model import PortBinding

CLUSTER_LABEL = "sshorch.io/cluster"
NAMESPACE_LABEL = "sshorch.io/namespace"
KIND_LABEL = "sshorch.io/kind"
OWNER_LABEL = "sshorch.io/owner"
REVISION_LABEL = "sshorch.io/revision"
POD_LABEL = "sshorch.io/pod"
SLOT_LABEL = "sshorch.io/slot"
CONTAINER_LABEL = "sshorch.io/container"
INFRA_LABEL = "sshorch.io/infra"

CONFIG_ROOTS = ("/run/sshorch/configs", "/run/sshorch/secrets")
POD_ROOTS = ("/var/lib/sshorch/pods", "/run/sshorch/pods")

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

    @property
    def failed(self) -> bool:
        return self.state == "exited" and self.exit_code != 0


@dataclass(frozen=True)
class ObservedPod:
    name: str
    node: str
    labels: Mapping[str, str]
    status: str
    containers: tuple[ObservedContainer, ...]
    ports: tuple[PortBinding, ...]

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


@dataclass(frozen=True)
class ObservedVolume:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Owned:
    pods: tuple[ObservedPod, ...]
    stray_containers: tuple[ObservedContainer, ...]
    volumes: tuple[ObservedVolume, ...]
    file_dirs: frozenset[str]
    images: Mapping[str, str]


# Fact values: what one command's output says, before the facts are joined up.


@dataclass(frozen=True)
class PodRecord:
    """A podman pod as `podman pod ps` lists it."""

    id: str
    name: str
    status: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ContainerRecord:
    """A container as `ps` lists it; `pod` is the pod's id (podman) or name (docker), "" if none."""

    container: ObservedContainer
    pod: str
    ports: tuple[PortBinding, ...]


@dataclass(frozen=True)
class InspectRecord:
    """From `inspect`: what `ps` does not show. docker also gives exit code, start time and image id."""

    restarts: int
    exit_code: int | None = None
    started_at: float | None = None
    image_id: str = ""


# Commands.


def _label_filter(cluster: str) -> str:
    return "--filter " + shlex.quote(f"label={CLUSTER_LABEL}={cluster}")


def _files_command() -> str:
    # Config/secret dirs sit two levels down (<namespace>/<dir>), pod dirs one.
    configs = " ".join(CONFIG_ROOTS)
    pods = " ".join(POD_ROOTS)
    return (
        f"find {configs} -mindepth 2 -maxdepth 2 -type d 2>/dev/null; "
        f"find {pods} -mindepth 1 -maxdepth 1 -type d 2>/dev/null; true"
    )


def _restarts_command(runtime: str, cluster: str, template: str) -> str:
    # A container removed between the two commands makes inspect fail for it alone;
    # `|| true` keeps the others (the parser skips the error line).
    return (
        f"ids=$({runtime} ps -aq {_label_filter(cluster)}); "
        f"[ -z \"$ids\" ] || {runtime} container inspect --format {shlex.quote(template)} $ids || true"
    )


def _images_command(runtime: str) -> str:
    return f"{runtime} images --no-trunc --format {shlex.quote('{{.Repository}}:{{.Tag}} {{.ID}}')}"


def _podman_facts(cluster: str) -> tuple[Fact, ...]:
    label = _label_filter(cluster)
    return (
        Fact("pods", f"podman pod ps {label} --format json", parse_podman_pods),
        Fact("containers", f"podman ps -a {label} --format json", parse_podman_containers),
        # podman 4.3's `ps` has no restart count.
        Fact("restarts", _restarts_command("podman", cluster, "{{.Name}} {{.RestartCount}}"), parse_inspect),
        Fact("volumes", f"podman volume ls {label} --format json", parse_podman_volumes),
        Fact("files", _files_command(), parse_dirs),
        Fact("images", _images_command("podman"), parse_images),
    )


def _docker_facts(cluster: str) -> tuple[Fact, ...]:
    # No "pods" fact: on docker a pod is its infra container, already in "containers".
    label = _label_filter(cluster)
    json_lines = "--format '{{json .}}'"
    inspect = "{{.Name}} {{.RestartCount}} {{.State.ExitCode}} {{.State.StartedAt}} {{.Image}}"
    return (
        # `{{json .}}` uses .Size, which would make the daemon compute every container's disk use.
        Fact("containers", f"docker ps -a --no-trunc --size=false {label} {json_lines}", parse_docker_containers),
        Fact("restarts", _restarts_command("docker", cluster, inspect), parse_inspect),
        Fact("volumes", f"docker volume ls {label} {json_lines}", parse_docker_volumes),
        Fact("files", _files_command(), parse_dirs),
        Fact("images", _images_command("docker"), parse_images),
    )


def owned_facts(runtime: str, cluster: str) -> tuple[Fact, ...]:
    """The facts that read what `cluster` owns on a node running `runtime` (podman | docker)."""
    return _docker_facts(cluster) if runtime == "docker" else _podman_facts(cluster)


def owned_fact_names(runtime: str) -> tuple[str, ...]:
    return tuple(fact.name for fact in owned_facts(runtime, ""))


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
    """podman ps gives bare hex, `images --no-trunc` and docker inspect give sha256:hex."""
    return image_id.removeprefix("sha256:")


def _epoch(value: Any) -> float | None:
    # podman writes Go's zero time (year 1) as a large negative number.
    if value is None or int(value) <= 0:
        return None
    return float(value)


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_timestamp(text: str) -> float | None:
    """RFC 3339 with up to nanoseconds (docker inspect) -> epoch seconds; Go's zero time -> None."""
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


def _podman_ports(entries: Iterable[Mapping[str, Any]]) -> tuple[PortBinding, ...]:
    bindings = []
    for entry in entries:
        protocol = _protocol(str(entry["protocol"]))
        if protocol is None:
            continue
        for offset in range(int(entry.get("range") or 1)):
            bindings.append(
                PortBinding(str(entry["host_ip"]), int(entry["host_port"]) + offset,
                            int(entry["container_port"]) + offset, protocol)
            )
    return tuple(bindings)


def _port_numbers(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


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


@_strict
def parse_podman_pods(output: str) -> list[PodRecord]:
    return [PodRecord(p["Id"], p["Name"], p["Status"], dict(p.get("Labels") or {})) for p in _json_document(output)]


def _podman_container(item: Mapping[str, Any]) -> ContainerRecord:
    names = item["Names"]
    container = ObservedContainer(
        name=names[0] if names else item["Id"],
        id=item["Id"],
        image=item["Image"],
        image_id=_bare_id(item.get("ImageID") or ""),
        state=parse_state(item["State"]),
        exit_code=int(item.get("ExitCode") or 0),
        started_at=_epoch(item.get("StartedAt")),
        restarts=0,
        labels=dict(item.get("Labels") or {}),
        infra=bool(item.get("IsInfra")),
    )
    return ContainerRecord(container, item.get("Pod") or "", _podman_ports(item.get("Ports") or ()))


@_strict
def parse_podman_containers(output: str) -> list[ContainerRecord]:
    return [_podman_container(item) for item in _json_document(output)]


def _docker_container(item: Mapping[str, Any]) -> ContainerRecord:
    labels = parse_docker_labels(item.get("Labels") or "")
    name = item["Names"].split(",")[0]
    status = item.get("Status") or ""
    infra = labels.get(INFRA_LABEL) == "true"
    container = ObservedContainer(
        name=name,
        id=item["ID"],
        image=item["Image"],
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
    """`NAME RESTARTS` (podman) or `/NAME RESTARTS EXIT STARTED IMAGE` (docker) per line."""
    found: dict[str, InspectRecord] = {}
    for line in output.splitlines():
        if not line.strip() or line.startswith("Error"):
            continue  # a container removed since `ps -aq`
        fields = line.split()
        if len(fields) == 2:
            found[fields[0].lstrip("/")] = InspectRecord(int(fields[1]))
        elif len(fields) == 5:
            found[fields[0].lstrip("/")] = InspectRecord(
                int(fields[1]), int(fields[2]), parse_timestamp(fields[3]), _bare_id(fields[4])
            )
        else:
            raise ValueError(f"unexpected inspect line {line!r}")
    return found


@_strict
def parse_podman_volumes(output: str) -> list[ObservedVolume]:
    return [ObservedVolume(v["Name"], dict(v.get("Labels") or {})) for v in _json_document(output)]


@_strict
def parse_docker_volumes(output: str) -> list[ObservedVolume]:
    return [ObservedVolume(v["Name"], parse_docker_labels(v.get("Labels") or "")) for v in _json_lines(output)]


def parse_dirs(output: str) -> frozenset[str]:
    dirs = [line.strip() for line in output.splitlines() if line.strip()]
    for path in dirs:
        if not path.startswith("/"):
            raise ValueError(f"not an absolute path: {path!r}")
    return frozenset(dirs)


def parse_images(output: str) -> dict[str, str]:
    """`repo:tag id` lines -> {repo:tag: bare id}; untagged images (<none>) have no name to use."""
    images: dict[str, str] = {}
    for line in output.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"unexpected image line {line!r}")
        if "<none>" not in fields[0]:
            images[fields[0]] = _bare_id(fields[1])
    return images


# Joining the facts up.


def _with_inspect(record: ContainerRecord, inspected: InspectRecord | None) -> ContainerRecord:
    if inspected is None:
        return record
    changes: dict[str, Any] = {"restarts": inspected.restarts}
    if inspected.exit_code is not None:  # docker: inspect is the only source of these
        changes.update(exit_code=inspected.exit_code, started_at=inspected.started_at, image_id=inspected.image_id)
    return replace(record, container=replace(record.container, **changes))


def _build_pod(node: str, name: str, status: str, labels: Mapping[str, str],
               records: Sequence[ContainerRecord]) -> ObservedPod:
    infra = next((r for r in records if r.container.infra), None)
    apps = sorted((r.container for r in records if not r.container.infra), key=lambda c: c.name)
    return ObservedPod(name, node, dict(labels), status, tuple(apps), infra.ports if infra else ())


def _by_pod(records: Iterable[ContainerRecord]) -> dict[str, list[ContainerRecord]]:
    grouped: dict[str, list[ContainerRecord]] = defaultdict(list)
    for record in records:
        grouped[record.pod].append(record)
    return grouped


def _stray(groups: Iterable[list[ContainerRecord]]) -> tuple[ObservedContainer, ...]:
    # An infra container goes with its pod; only app containers can be left over.
    return tuple(sorted((r.container for g in groups for r in g if not r.container.infra), key=lambda c: c.name))


def _group_podman(node: str, pods: Sequence[PodRecord],
                  records: Sequence[ContainerRecord]) -> tuple[tuple[ObservedPod, ...], tuple[ObservedContainer, ...]]:
    groups = _by_pod(records)
    built = tuple(_build_pod(node, p.name, p.status, p.labels, groups.pop(p.id, [])) for p in pods)
    return built, _stray(groups.values())


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


def _group_docker(node: str,
                  records: Sequence[ContainerRecord]) -> tuple[tuple[ObservedPod, ...], tuple[ObservedContainer, ...]]:
    groups = _by_pod(records)
    infras = [r for r in records if r.container.infra]
    built = []
    for infra in infras:
        members = groups.pop(infra.pod, [])
        status = docker_pod_status([r.container for r in members])
        built.append(_build_pod(node, infra.pod, status, infra.container.labels, members))
    return tuple(built), _stray(groups.values())


def _require(values: Mapping[str, Any], names: Iterable[str]) -> None:
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"facts not read: {', '.join(missing)}")


def parse_owned(runtime: str, node: str, values: Mapping[str, Any]) -> Owned:
    """Join the owned facts' values (ParsedFacts.values) into what `node` holds for the cluster."""
    _require(values, owned_fact_names(runtime))
    inspected: Mapping[str, InspectRecord] = values["restarts"]
    records = [_with_inspect(r, inspected.get(r.container.name)) for r in values["containers"]]
    if runtime == "docker":
        pods, stray = _group_docker(node, records)
    else:
        pods, stray = _group_podman(node, values["pods"], records)
    return Owned(pods, stray, tuple(values["volumes"]), frozenset(values["files"]), dict(values["images"]))
