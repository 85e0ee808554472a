"""Typed, validated manifest objects: the Desired side of every decision.

Only what sshorch implements is here; the loader rejects every other field.
Quantities are normalised on load: CPU in millicores, memory in bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Union

from sshorch.inventory.model import FrozenMap
from sshorch.taints import Toleration

from .notices import Notice
from .security import ContainerSecurity, PodSecurity

DEFAULT_NAMESPACE = "default"

# Metadata of a field added after revisions were recorded: revision hashes leave it out
# while it has its default, so adding the field restarts no running pod.
ADDED_FIELD = {"revision": "omit at default"}
# Metadata of a field resolved at load from other objects (a pod's priority from its
# PriorityClass, as Kubernetes' admission sets it on the pod): not the template as written,
# so revision hashes leave it out.
RESOLVED_FIELD = {"revision": "omit"}


class SecretBytes:
    """A secret value: usable as bytes, never shown by str() or repr()."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "SecretBytes(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretBytes) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Source:
    """Where an object came from, for error messages: file and document index."""

    file: str
    document: int = 0


@dataclass(frozen=True)
class ObjectMeta:
    """An object's kind and metadata (name, namespace, labels, annotations), and where it was read."""

    kind: str
    name: str
    namespace: str = DEFAULT_NAMESPACE
    labels: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    annotations: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    source: Source = field(default=Source("<memory>"), compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def ref(self) -> str:
        """kubectl-style reference: deployment/web (namespace shown when not default)."""
        base = f"{self.kind.lower()}/{self.name}"
        return base if self.namespace == DEFAULT_NAMESPACE else f"{self.namespace}/{base}"


# --- pods -----------------------------------------------------------------


@dataclass(frozen=True)
class KeyRef:
    """configMapKeyRef / secretKeyRef."""

    kind: Literal["ConfigMap", "Secret"]
    name: str
    key: str
    optional: bool = False


@dataclass(frozen=True)
class FieldRef:
    """valueFrom.fieldRef: a field of the pod (spec/downward.py says which)."""

    field_path: str


@dataclass(frozen=True)
class ResourceFieldRef:
    """valueFrom.resourceFieldRef: a container's request or limit, divided by `divisor`."""

    container: str
    resource: str  # limits.cpu, requests.memory, ...
    divisor: str = "1"  # a quantity, checked when read (spec/downward.py)


@dataclass(frozen=True)
class EnvVar:
    """An env entry: a literal value, or valueFrom a ConfigMap or Secret key, or the pod (downward API)."""

    name: str
    value: str | None = None
    value_from: KeyRef | FieldRef | ResourceFieldRef | None = None


@dataclass(frozen=True)
class EnvFrom:
    """An envFrom entry: every key of a ConfigMap or Secret as a variable, with an optional prefix."""

    kind: Literal["ConfigMap", "Secret"]
    name: str
    prefix: str = ""
    optional: bool = False


@dataclass(frozen=True)
class ContainerPort:
    """A container port (containerPort, name, hostPort, protocol)."""

    container_port: int
    name: str | None = None
    host_port: int | None = None
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass(frozen=True)
class Resources:
    """A container's resources: requests and limits, CPU in millicores and memory in bytes."""

    cpu_request_millis: int = 0
    memory_request_bytes: int = 0
    cpu_limit_millis: int | None = None
    memory_limit_bytes: int | None = None
    ephemeral_storage_request_bytes: int = field(default=0, metadata=ADDED_FIELD)
    ephemeral_storage_limit_bytes: int | None = field(default=None, metadata=ADDED_FIELD)


@dataclass(frozen=True)
class VolumeMount:
    """A container's volumeMount (name, mountPath, readOnly, subPath, mountPropagation)."""

    name: str
    mount_path: str
    read_only: bool = False
    sub_path: str | None = None
    mount_propagation: Literal["None", "HostToContainer", "Bidirectional"] = field(default="None", metadata=ADDED_FIELD)


@dataclass(frozen=True)
class ExecAction:
    """A probe's exec action: the command run in the container."""

    command: tuple[str, ...]


@dataclass(frozen=True)
class HttpGetAction:
    """A probe's httpGet action (port, path, scheme, host, httpHeaders)."""

    port: int | str  # number, or a container port name
    path: str = "/"
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    host: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TcpSocketAction:
    """A probe's tcpSocket action: the port, a number or a container port name."""

    port: int | str


@dataclass(frozen=True)
class GrpcAction:
    """A probe's grpc action: grpc.health.v1.Health/Check for `service` ("" when not given) on a port number."""

    port: int
    service: str = ""


ProbeAction = Union[ExecAction, HttpGetAction, TcpSocketAction, GrpcAction]


@dataclass(frozen=True)
class Probe:
    """A liveness, readiness or startup probe: its action and timing (delay, period, timeout, thresholds)."""

    action: ProbeAction
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True)
class Container:
    """One of a pod spec's containers."""

    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    working_dir: str | None = None
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFrom, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    resources: Resources = Resources()
    volume_mounts: tuple[VolumeMount, ...] = ()
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    security: ContainerSecurity = field(default=ContainerSecurity(), metadata=ADDED_FIELD)
    # An init container with restartPolicy: Always (a native sidecar): started before the
    # app containers and kept running beside them; never set on an app container.
    sidecar: bool = field(default=False, metadata=ADDED_FIELD)


@dataclass(frozen=True)
class KeyToPath:
    """An items entry of a configMap or secret volume: a key and the file path it is written to."""

    key: str
    path: str
    mode: int | None = None


@dataclass(frozen=True)
class ConfigMapVolume:
    """A configMap volume source (name, items, defaultMode, optional)."""

    name: str
    items: tuple[KeyToPath, ...] = ()
    default_mode: int = 0o644
    optional: bool = False


@dataclass(frozen=True)
class SecretVolume:
    """A secret volume source (secretName, items, defaultMode, optional)."""

    secret_name: str
    items: tuple[KeyToPath, ...] = ()
    default_mode: int = 0o400
    optional: bool = False


@dataclass(frozen=True)
class EmptyDirVolume:
    """An emptyDir volume source (medium, sizeLimit): a fresh directory per pod, in memory with medium Memory."""

    medium: Literal["", "Memory"] = ""
    size_limit_bytes: int | None = None


@dataclass(frozen=True)
class HostPathVolume:
    """A hostPath volume source: a path on the node and the type it must have or be created as."""

    path: str
    type: str = ""  # "", Directory, DirectoryOrCreate, File, FileOrCreate, Socket


@dataclass(frozen=True)
class NamedVolume:
    """sshorch extension: a node-local volume that outlives its pods
    (written `persistentVolumeClaim: {claimName: NAME}`); a pod using one stays
    on the node that holds it."""

    claim_name: str
    read_only: bool = False


@dataclass(frozen=True)
class DownwardAPIFile:
    """An items entry of a downwardAPI volume: the file `path` holding a field of the pod or a container's resource."""

    path: str
    ref: FieldRef | ResourceFieldRef
    mode: int | None = None


@dataclass(frozen=True)
class DownwardAPIVolume:
    """A downwardAPI volume source (items, defaultMode): files holding the pod's own fields (spec/downwardvolume.py)."""

    items: tuple[DownwardAPIFile, ...] = ()
    default_mode: int = 0o644


VolumeSource = Union[ConfigMapVolume, SecretVolume, EmptyDirVolume, HostPathVolume, NamedVolume, DownwardAPIVolume]


@dataclass(frozen=True)
class Volume:
    """One of a pod spec's volumes: its name and its source."""

    name: str
    source: VolumeSource


@dataclass(frozen=True)
class NodeSelectorRequirement:
    """One matchExpressions entry of a nodeSelectorTerm: a node label key, an operator, values."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSelectorTerm:
    """All expressions of a term must match; a node matches if any term does."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = ()


@dataclass(frozen=True)
class PodAffinityTerm:
    """Pods matching `selector` (None: no pod) in `namespaces` (empty: the pod's own;
    `all_namespaces`: namespaceSelector {}), counted per value of the node label `topology_key`.
    `match_label_keys`/`mismatch_label_keys`: the pod's own values for them join the selector."""

    selector: LabelSelector | None
    topology_key: str
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    match_label_keys: tuple[str, ...] = ()
    mismatch_label_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeightedPodAffinityTerm:
    weight: int
    term: PodAffinityTerm


@dataclass(frozen=True)
class PodAffinityRules:
    """affinity.podAffinity or affinity.podAntiAffinity: required terms filter, preferred ones score."""

    required: tuple[PodAffinityTerm, ...] = ()
    preferred: tuple[WeightedPodAffinityTerm, ...] = ()


@dataclass(frozen=True)
class TopologySpreadConstraint:
    """One of topologySpreadConstraints, with Kubernetes' defaults for the policies."""

    max_skew: int
    topology_key: str
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    selector: LabelSelector | None = None
    min_domains: int | None = None
    node_affinity_policy: Literal["Honor", "Ignore"] = "Honor"
    node_taints_policy: Literal["Honor", "Ignore"] = "Ignore"
    match_label_keys: tuple[str, ...] = ()


PreemptionPolicy = Literal["PreemptLowerPriority", "Never"]


@dataclass(frozen=True)
class PodSpec:
    """A pod spec; `required_node_affinity` is nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."""

    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...] = ()
    node_selector: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    required_node_affinity: tuple[NodeSelectorTerm, ...] = ()
    restart_policy: Literal["Always", "OnFailure", "Never"] = "Always"
    termination_grace_period_seconds: int = 30
    hostname: str | None = None
    security: PodSecurity = field(default=PodSecurity(), metadata=ADDED_FIELD)
    tolerations: tuple[Toleration, ...] = field(default=(), metadata=ADDED_FIELD)
    init_containers: tuple[Container, ...] = field(default=(), metadata=ADDED_FIELD)
    pod_affinity: PodAffinityRules = field(default=PodAffinityRules(), metadata=ADDED_FIELD)
    pod_anti_affinity: PodAffinityRules = field(default=PodAffinityRules(), metadata=ADDED_FIELD)
    topology_spread: tuple[TopologySpreadConstraint, ...] = field(default=(), metadata=ADDED_FIELD)
    # Secret names, in order (spec/pullsecrets.py); their content is no part of the revision.
    image_pull_secrets: tuple[str, ...] = field(default=(), metadata=ADDED_FIELD)
    # enableServiceLinks: the <SVC>_SERVICE_HOST variables of the Services there when the pod is made.
    enable_service_links: bool = field(default=True, metadata=ADDED_FIELD)
    priority_class_name: str = field(default="", metadata=ADDED_FIELD)
    # From the PriorityClass (spec/priorityclasses.py): scheduling order and preemption.
    priority: int = field(default=0, metadata=RESOLVED_FIELD)
    preemption_policy: PreemptionPolicy = field(default="PreemptLowerPriority", metadata=RESOLVED_FIELD)


@dataclass(frozen=True)
class PodTemplate:
    """A pod template: the labels and annotations of its metadata, and its spec."""

    labels: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    annotations: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    spec: PodSpec = field(default_factory=lambda: PodSpec(containers=()))


@dataclass(frozen=True)
class LabelSelectorRequirement:
    """One matchExpressions entry of a label selector: a label key, an operator, values."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSelector:
    """A workload's selector (matchLabels, matchExpressions)."""

    match_labels: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()


# --- objects --------------------------------------------------------------


@dataclass(frozen=True)
class IntOrPercent:
    """maxSurge / maxUnavailable: an absolute number or a percentage."""

    value: int
    percent: bool = False


@dataclass(frozen=True)
class DeploymentStrategy:
    """A Deployment's strategy: RollingUpdate (maxSurge, maxUnavailable) or Recreate."""

    type: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    max_surge: IntOrPercent = IntOrPercent(25, True)
    max_unavailable: IntOrPercent = IntOrPercent(25, True)


@dataclass(frozen=True)
class ConfigMap:
    """A ConfigMap: its data and binaryData."""

    meta: ObjectMeta
    data: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    binary_data: FrozenMap[str, bytes] = field(default_factory=FrozenMap, hash=False)


@dataclass(frozen=True)
class Secret:
    """A Secret: its values (data, with stringData written over it, decoded) and its type."""

    meta: ObjectMeta
    data: FrozenMap[str, SecretBytes] = field(default_factory=FrozenMap, hash=False)
    type: str = "Opaque"


@dataclass(frozen=True)
class Deployment:
    """A Deployment: `replicas` pods of its template, rolled out by its strategy."""

    meta: ObjectMeta
    selector: LabelSelector
    template: PodTemplate
    replicas: int = 1
    strategy: DeploymentStrategy = DeploymentStrategy()
    min_ready_seconds: int = 0
    progress_deadline_seconds: int = 600
    revision_history_limit: int = 10
    paused: bool = False


@dataclass(frozen=True)
class DaemonSet:
    """A DaemonSet: one pod of its template on every node it selects."""

    meta: ObjectMeta
    selector: LabelSelector
    template: PodTemplate
    max_unavailable: IntOrPercent = IntOrPercent(1)
    min_ready_seconds: int = 0
    revision_history_limit: int = 10


@dataclass(frozen=True)
class ServicePort:
    """A Service port (port, targetPort, name, protocol, nodePort)."""

    port: int
    target_port: int | str  # number, or a container port name
    name: str | None = None
    protocol: Literal["TCP", "UDP"] = "TCP"
    node_port: int | None = None


@dataclass(frozen=True)
class Service:
    """A Service: a cluster IP (and with NodePort or LoadBalancer, node ports) in front of the pods its selector matches."""

    meta: ObjectMeta
    ports: tuple[ServicePort, ...]
    selector: FrozenMap[str, str] = field(default_factory=FrozenMap, hash=False)
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    cluster_ip: str | None = None  # None: allocate; "None" is not supported
    # NodePort and LoadBalancer (sshorch.spec.loadbalancer): Local keeps outside traffic
    # on nodes with a ready endpoint of their own, with the client's address.
    external_traffic_policy: Literal["Cluster", "Local"] = "Cluster"
    load_balancer_source_ranges: tuple[str, ...] = ()  # networks; empty: any source
    allocate_load_balancer_node_ports: bool = True

    @property
    def allocates_node_ports(self) -> bool:
        """Whether its ports get node ports allocated (a manifest's nodePort is kept regardless)."""
        return self.type == "NodePort" or (self.type == "LoadBalancer" and self.allocate_load_balancer_node_ports)


@dataclass(frozen=True)
class Job:
    """A Job: pods of its template run to completion, retried up to backoffLimit."""

    meta: ObjectMeta
    template: PodTemplate  # restart_policy is OnFailure or Never
    completions: int = 1
    parallelism: int = 1
    backoff_limit: int = 6
    active_deadline_seconds: int | None = None
    ttl_seconds_after_finished: int | None = None


@dataclass(frozen=True)
class CronJob:
    """A CronJob: its jobTemplate run as a Job on a cron schedule."""

    meta: ObjectMeta
    schedule: str
    job: Job  # the jobTemplate; its meta names the CronJob
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Allow"
    suspend: bool = False
    starting_deadline_seconds: int | None = None
    successful_jobs_history_limit: int = 3
    failed_jobs_history_limit: int = 1
    time_zone: str | None = None


@dataclass(frozen=True)
class MetricTarget:
    """A Resource metric of an HPA: cpu or memory, with an averageUtilization or averageValue target."""

    resource: Literal["cpu", "memory"]
    average_utilization: int | None = None  # percent of requests
    average_value: int | None = None  # millicores for cpu, bytes for memory


@dataclass(frozen=True)
class ScalingPolicy:
    """One rate limit of an HPA: at most ``value`` pods (or percent of the
    replicas at the start of the period) changed per ``period_seconds``."""

    type: Literal["Pods", "Percent"]
    value: int  # > 0
    period_seconds: int  # 1-1800


@dataclass(frozen=True)
class ScalingRules:
    """spec.behavior.scaleUp or .scaleDown of autoscaling/v2."""

    stabilization_window_seconds: int  # 0-3600
    policies: tuple[ScalingPolicy, ...]  # never empty
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"


@dataclass(frozen=True)
class ScalingBehavior:
    """spec.behavior, with the Kubernetes defaults for what is not given."""

    scale_up: ScalingRules = ScalingRules(0, (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)))
    scale_down: ScalingRules = ScalingRules(300, (ScalingPolicy("Percent", 100, 15),))


@dataclass(frozen=True)
class HorizontalPodAutoscaler:
    """A HorizontalPodAutoscaler (autoscaling/v2): scales a Deployment between minReplicas and maxReplicas."""

    meta: ObjectMeta
    target_kind: Literal["Deployment"]
    target_name: str
    max_replicas: int
    min_replicas: int = 1
    metrics: tuple[MetricTarget, ...] = ()
    behavior: ScalingBehavior = ScalingBehavior()


@dataclass(frozen=True)
class PriorityClass:
    """A PriorityClass (scheduling.k8s.io/v1, cluster-scoped): the priority of the pods that
    name it. Resolved into their pod specs at load, then not kept (spec/priorityclasses.py)."""

    meta: ObjectMeta
    value: int
    global_default: bool = False
    preemption_policy: PreemptionPolicy = "PreemptLowerPriority"
    description: str = ""


Workload = Union[Deployment, DaemonSet, Job, CronJob]
ManifestObject = Union[ConfigMap, Secret, Deployment, DaemonSet, Service, Job, CronJob, HorizontalPodAutoscaler]


# As a hash key: a Secret's values hashed with plain sha256, as before hashes were keyed.
PLAIN_HASH = b""


@dataclass(frozen=True)
class Desired:
    """Every object of an apply, validated together (no duplicates, no dangling references)."""

    objects: tuple[ManifestObject, ...]
    # The documents as parsed (after templating), recorded in state so that
    # `converge` can rebuild this without the files.
    documents: tuple[dict[str, Any], ...] = field(default=(), compare=False, hash=False)
    # The cluster's key for hashes of Secret content that show on nodes (revisions, pod names,
    # directory names): HMAC, so that a hash is no test of a guessed value. None: not keyed
    # (manifests only checked); hashing a Secret's content then is an error.
    hash_key: bytes | None = field(default=None, compare=False, hash=False, repr=False)
    # Workloads ("deployment/default/web") whose pods were made before Secret hashes were
    # keyed: hashed as they were then (PLAIN_HASH), so that the upgrade restarts nothing. A
    # workload's next real change gives it a keyed revision.
    plain_hashed: frozenset[str] = field(default=frozenset(), compare=False, hash=False)
    # What kinds and fields with no effect here mean, one line per family, for plan and apply to say.
    notices: tuple[Notice, ...] = field(default=(), compare=False, hash=False)

    def hash_key_for(self, workload: str) -> bytes | None:
        return PLAIN_HASH if workload in self.plain_hashed else self.hash_key

    @cached_property
    def _by_key(self) -> dict[tuple[str, str, str], ManifestObject]:
        return {obj.meta.key: obj for obj in reversed(self.objects)}

    def get(self, kind: str, name: str, namespace: str = DEFAULT_NAMESPACE) -> ManifestObject | None:
        return self._by_key.get((kind, namespace, name))

    def of_kind(self, kind: str) -> tuple[ManifestObject, ...]:
        return tuple(obj for obj in self.objects if obj.meta.kind == kind)
