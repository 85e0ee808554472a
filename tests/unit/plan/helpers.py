"""Builders for reconcile tables: manifests, observed pods and nodes, cluster nodes, and a pass.

Pod names and revisions always come from the real functions (pod_name,
workload_revision), so a test states *which* pod it means, never how it is named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sshorch.plan.graph import desired_dependencies
from sshorch.observe.cluster import NodeObservation, Observed
from sshorch.observe.nodereport import NOT_READY, READY, NodeReport
from sshorch.observe.owned import ObservedContainer, ObservedPod, ObservedVolume, Owned
from sshorch.plan.model import Action, Plan
from sshorch.plan.naming import PodIdentity, pod_labels, pod_name, workload_key
from sshorch.plan.podbuild import NodeTarget
from sshorch.plan.intents import Decision
from sshorch.plan.reconcile import ClusterNode, ReconcileInput, decide, reconcile
from sshorch.plan.revision import workload_revision
from sshorch.spec.workloadkinds import PodWorkload as Workload
from sshorch.runtime import PortBinding
from sshorch.plan.schedule import NodeInfo, Strategy
from sshorch.spec import parse_documents
from sshorch.spec.model import DaemonSet, Deployment, Desired, Source

CLUSTER = "test"
GiB = 1024**3
NODES = ("n1", "n2", "n3")
RUN_DIR = "/run/sshorch"

Doc = dict[str, Any]


# --- manifests ------------------------------------------------------------


# The cluster's key for hashes of Secret content (secrets.store.secret_hash_key), fixed for tests.
HASH_KEY = b"k" * 32


def desired(*docs: Doc) -> Desired:
    return replace(parse_documents([(Source("app.yaml", i), doc) for i, doc in enumerate(docs)]), hash_key=HASH_KEY)


def container(
    name: str = "main",
    image: str = "localhost/web:v1",
    ports: Sequence[int | Doc] = (),
    requests: Mapping[str, str] | None = None,
    env: Sequence[Doc] = (),
    env_from: Sequence[Doc] = (),
    volume_mounts: Sequence[Doc] = (),
) -> Doc:
    doc: Doc = {"name": name, "image": image}
    if ports:
        doc["ports"] = [{"containerPort": p} if isinstance(p, int) else dict(p) for p in ports]
    if requests:
        doc["resources"] = {"requests": dict(requests)}
    if env:
        doc["env"] = list(env)
    if env_from:
        doc["envFrom"] = list(env_from)
    if volume_mounts:
        doc["volumeMounts"] = list(volume_mounts)
    return doc


def deployment(
    name: str = "web",
    replicas: int = 1,
    image: str = "localhost/web:v1",
    depends_on: Sequence[str] = (),
    ports: Sequence[int | Doc] = (),
    requests: Mapping[str, str] | None = None,
    env: Sequence[Doc] = (),
    env_from: Sequence[Doc] = (),
    volumes: Sequence[Doc] = (),
    volume_mounts: Sequence[Doc] = (),
    node_selector: Mapping[str, str] | None = None,
    containers: Sequence[Doc] | None = None,
    kind: str = "Deployment",
    namespace: str | None = None,
) -> Doc:
    """A Deployment (or, with kind="DaemonSet", a DaemonSet) manifest; `ports` are containerPorts
    (an int) or whole port dicts (to give a hostPort)."""
    metadata: Doc = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if depends_on:
        metadata["annotations"] = {"sshorch.io/depends-on": ", ".join(depends_on)}
    pod_spec: Doc = {
        "containers": list(containers) if containers is not None else [
            container("main", image, ports, requests, env, env_from, volume_mounts)
        ]
    }
    if volumes:
        pod_spec["volumes"] = list(volumes)
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    spec: Doc = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
    }
    if kind == "Deployment":
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec}


def daemon_set(name: str = "agent", **fields: Any) -> Doc:
    return deployment(name, kind="DaemonSet", **fields)


def config_map(name: str = "settings", **data: str) -> Doc:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name: str = "creds", **string_data: str) -> Doc:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": string_data}


# --- what the workloads' pods are called -----------------------------------


def workload_of(d: Desired, name: str, kind: str = "Deployment", namespace: str = "default") -> Workload:
    obj = d.get(kind, name, namespace)
    assert isinstance(obj, (Deployment, DaemonSet)), f"no {kind}/{name} in the desired state"
    return obj


def revision_of(d: Desired, name: str, kind: str = "Deployment", namespace: str = "default") -> str:
    return workload_revision(workload_of(d, name, kind, namespace), d)


def name_of(d: Desired, name: str, slot: int | str, kind: str = "Deployment", namespace: str = "default") -> str:
    """The name the current revision gives to `slot` (a replica index, or a node for a DaemonSet)."""
    return pod_name(CLUSTER, namespace, name, revision_of(d, name, kind, namespace), str(slot))


def key_of(name: str, kind: str = "Deployment", namespace: str = "default") -> str:
    return workload_key(kind, namespace, name)


# --- observed ---------------------------------------------------------------


def observed_container(
    name: str, state: str = "running", exit_code: int = 0, labels: Mapping[str, str] | None = None
) -> ObservedContainer:
    return ObservedContainer(
        name=name,
        id=f"id-{name}",
        image="localhost/web:v1",
        image_id="0" * 64,
        state=state,
        exit_code=exit_code,
        started_at=1_700_000_000.0 if state == "running" else None,
        restarts=0,
        labels=dict(labels or {}),
        infra=False,
    )


def observed_pod(
    d: Desired,
    name: str,
    slot: int | str,
    node: str,
    *,
    kind: str = "Deployment",
    namespace: str = "default",
    revision: str | None = None,
    status: str = "Running",
    states: Sequence[str] | None = None,
    ports: Iterable[PortBinding | int] = (),
    files: Sequence[str] = (),
    containers: Sequence[str] = ("main",),
) -> ObservedPod:
    """A pod of workload `name` as the gather sees it. Its revision is the workload's current one
    unless `revision` is given; `states` are its containers' states (all "running" when the
    status is "Running", else "exited"); `ports` host ports (ints) or whole bindings; `files`
    the config/secret dirs its `sshorch.io/files` label names (relative to /run/sshorch)."""
    if revision is None:
        revision = revision_of(d, name, kind, namespace)
    identity = PodIdentity(CLUSTER, kind.lower(), namespace, name, revision, str(slot))
    if states is None:
        states = ["running" if status == "Running" else "exited"] * len(containers)
    return ObservedPod(
        name=identity.name,
        node=node,
        labels=dict(pod_labels(identity, tuple(files))),
        status=status,
        containers=tuple(
            observed_container(f"{identity.name}-{c}", state, labels={"sshorch.io/container": c})
            for c, state in zip(containers, states)
        ),
        ports=tuple(p if isinstance(p, PortBinding) else PortBinding(address_of(node), p, 8080) for p in ports),
    )


def address_of(node: str) -> str:
    """n1 -> 10.0.0.1, ...; any other name -> 10.0.0.99."""
    suffix = node.removeprefix("n")
    return f"10.0.0.{suffix}" if suffix.isdigit() else "10.0.0.99"


def node_observation(
    name: str,
    pods: Sequence[ObservedPod] = (),
    *,
    stray: Sequence[ObservedContainer] = (),
    file_dirs: Iterable[str] = (),
    volumes: Iterable[str] = (),
    reachable: bool = True,
) -> NodeObservation:
    address = address_of(name)
    if not reachable:
        reason = "unreachable: connection refused"
        return NodeObservation(name, address, False, reason, NodeReport(name, address, NOT_READY, reason=reason), None)
    report = NodeReport(name, address, READY, runtime="podman", runtime_version="4.3.1", cpus=2, memory_bytes=4 * GiB)
    labelled = tuple(
        ObservedVolume(v, {"sshorch.io/cluster": CLUSTER, "sshorch.io/namespace": "default", "sshorch.io/volume": v})
        for v in volumes
    )
    owned = Owned(pods=tuple(pods), stray_containers=tuple(stray), volumes=labelled, file_dirs=frozenset(file_dirs), images={})
    return NodeObservation(name, address, True, "", report, owned)


def observe(
    *pods: ObservedPod,
    nodes: Sequence[str] = NODES,
    unreachable: Sequence[str] = (),
    stray: Mapping[str, Sequence[ObservedContainer]] | None = None,
    file_dirs: Mapping[str, Iterable[str]] | None = None,
    volumes: Mapping[str, Iterable[str]] | None = None,
) -> Observed:
    """Every node of `nodes` gathered; each pod goes to the node it names."""
    stray = stray or {}
    file_dirs = file_dirs or {}
    volumes = volumes or {}
    return Observed(tuple(
        node_observation(
            n,
            [p for p in pods if p.node == n],
            stray=stray.get(n, ()),
            file_dirs=file_dirs.get(n, ()),
            volumes=volumes.get(n, ()),
            reachable=n not in unreachable,
        )
        for n in nodes
    ))


def cluster_nodes(
    *names: str,
    cpu: int = 2000,
    memory: int = 4 * GiB,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    not_ready: Sequence[str] = (),
    cordoned: Sequence[str] = (),
    runtime: str = "podman",
) -> tuple[ClusterNode, ...]:
    """The scheduler's view: n1, n2, n3 by default, 2 CPUs and 4 GiB each."""
    labels = labels or {}
    return tuple(
        ClusterNode(
            NodeTarget(n, address_of(n), runtime),
            NodeInfo(
                n,
                cpu,
                memory,
                labels={"kubernetes.io/hostname": n, **labels.get(n, {})},
                ready=n not in not_ready,
                cordoned=n in cordoned,
            ),
        )
        for n in (names or NODES)
    )


# --- one pass ---------------------------------------------------------------


def pass_input(
    d: Desired,
    observed: Observed | None = None,
    nodes: Sequence[ClusterNode] | None = None,
    deps: Mapping[str, tuple[str, ...]] | None = None,
    strategy: Strategy = "spread",
    **inputs: Any,
) -> ReconcileInput:
    """One pass's input; dependencies default to the desired state's graph,
    `inputs` are any other ReconcileInput fields (draining, allocations, ...)."""
    return ReconcileInput(
        cluster=CLUSTER,
        desired=d,
        nodes=tuple(nodes if nodes is not None else cluster_nodes()),
        observed=observed if observed is not None else observe(),
        dependencies=deps if deps is not None else desired_dependencies(d),
        strategy=strategy,
        **inputs,
    )


def run(
    d: Desired,
    observed: Observed | None = None,
    nodes: Sequence[ClusterNode] | None = None,
    deps: Mapping[str, tuple[str, ...]] | None = None,
    strategy: Strategy = "spread",
    **inputs: Any,
) -> Plan:
    """reconcile() on the given inputs (see pass_input)."""
    return reconcile(pass_input(d, observed, nodes, deps, strategy, **inputs))


def decided(
    d: Desired,
    observed: Observed | None = None,
    nodes: Sequence[ClusterNode] | None = None,
    deps: Mapping[str, tuple[str, ...]] | None = None,
    strategy: Strategy = "spread",
    **inputs: Any,
) -> Decision:
    """decide() on the given inputs (see pass_input): the intents, before any command is made."""
    return decide(pass_input(d, observed, nodes, deps, strategy, **inputs))


def moves(plan: Plan | Decision) -> list[tuple[str, str, str]]:
    """(kind, node, target) of every action, or every intent of a decision, in order."""
    steps = plan.actions if isinstance(plan, Plan) else plan.intents
    return [(a.kind, a.node, a.target) for a in steps]


def the_action(plan: Plan, kind: str, target: str) -> Action:
    found = [a for a in plan.actions if a.kind == kind and a.target == target]
    assert len(found) == 1, f"expected one {kind} {target}, got {moves(plan)}"
    return found[0]


def published(action: Action) -> list[str]:
    """The --publish values of a create-pod action's commands."""
    return [argv[i + 1] for argv in (s.argv for s in action.steps) for i, arg in enumerate(argv) if arg == "--publish"]
