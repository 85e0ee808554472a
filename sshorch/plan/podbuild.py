"""From a pod template to concrete runtime input: names, mounts, env, ports, files. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sshorch.labels import CLUSTER_LABEL, CONTAINER_LABEL, INIT_LABEL, NAMESPACE_LABEL, VOLUME_LABEL
from sshorch.nodefiles import (
    LEGACY_CONFIG_ROOTS, LEGACY_POD_ROOTS, RUN_DIR, SECRET_ENV_PATH, config_roots, in_secrets, pod_roots,
)
from sshorch.plan.model import FileUpload, Step
from sshorch.plan.naming import PodIdentity, pod_labels
from sshorch.plan.podsecurity import container_security, container_uid
from sshorch.plan.registryauth import PullSecretError, pull_secrets, registry_auth_dir, registry_auth_upload
from sshorch.plan.revision import content_hash, digest
from sshorch.runtime import ContainerRun, Mount, PodRun, PortBinding
from sshorch.runtime.registry import runtime_for
from sshorch.runtime.secretenv import SecretEnvNameError, env_script
from sshorch.spec.model import (
    ConfigMap,
    ConfigMapVolume,
    Container,
    Desired,
    DownwardAPIFile,
    DownwardAPIVolume,
    EmptyDirVolume,
    FieldRef,
    HostPathVolume,
    KeyToPath,
    NamedVolume,
    ObjectMeta,
    PodSpec,
    PodTemplate,
    ResourceFieldRef,
    Secret,
    SecretBytes,
    SecretVolume,
    Volume,
)
from sshorch.spec.downward import POD_ADDRESS_FIELDS, keyed_field, resource_value
from sshorch.spec.downwardvolume import WHOLE_MAPS, format_map
from sshorch.spec.propagation import LINUX_PROPAGATION
from sshorch.spec.privilege import VARIABLE as PRIVILEGE_VARIABLE, needs_privilege
from sshorch.spec.security import ContainerSecurity, PodSecurity

RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
PULL = {"Always": "always", "IfNotPresent": "missing", "Never": "never"}
PortKey = tuple[str, int, str]  # (container, containerPort, protocol)
Downward = Callable[[FieldRef | ResourceFieldRef], str]  # a downward API field's value for one pod


class PodBuildError(ValueError):
    """The pod cannot be run as specified; the reason is shown as Pending."""


@dataclass(frozen=True)
class NodeTarget:
    """The node a pod is built for: its name, the address pods publish ports on, its
    runtime, the host paths the inventory allows, whether it allows privileged pods, and
    its named volumes by (namespace, claim)."""

    name: str
    address: str
    runtime: str  # the inventory's sshorch_runtime
    allowed_host_paths: tuple[str, ...] = ()
    allow_privileged: bool = False  # the inventory's sshorch_allow_privileged
    volumes: Mapping[tuple[str, str], str] = field(default_factory=dict, hash=False, compare=False)
    capacity: tuple[int, int] | None = None  # (CPU millicores, memory bytes) the scheduler counts; None: not known


# Checks the node makes right before a pod's mounts, after resolving symlinks: a hostPath
# lies under an allowed path; a subPath stays inside its volume (a container may have
# made a symlink there, CVE-2017-1002101), and is made if missing.
_HOST_PATH_CHECK = (
    'p=$(realpath -m -- "$1") || exit 1; shift; '
    'for a; do r=$(realpath -m -- "$a"); case "$p/" in "${r%/}"/*) exit 0;; esac; done; '
    'echo "hostPath resolves to $p, which is not under sshorch_allowed_host_paths" >&2; exit 1'
)
_SUB_PATH_CHECK = (
    'r=$(realpath -e -- "$1") && p=$(realpath -m -- "$1/$2") || exit 1; '
    'case "$p/" in "${r%/}"/*) ;; *) echo "subPath $2 resolves to $p, outside its volume" >&2; exit 1;; esac; '
    '[ -e "$p" ] || mkdir -p -- "$p"'
)


def volume_name(cluster: str, namespace: str, claim: str) -> str:
    """A claim's runtime volume on a node: one per cluster and namespace (names are DNS
    labels, so the dots cannot be mistaken)."""
    return f"{cluster}.{namespace}.{claim}"


@dataclass(frozen=True)
class BuiltPod:
    """A pod ready to create on its node: the runtime input, the files to upload, the steps to run first."""

    identity: PodIdentity
    node: str
    run: PodRun
    files: tuple[FileUpload, ...]
    file_dirs: tuple[str, ...]  # config/secret directories this pod uses
    prepare: tuple[Step, ...]  # volumes and directories to create first
    host_ports: Mapping[PortKey, int]


class _Files:
    """Collects the config/secret directories and files a pod needs."""

    def __init__(self) -> None:
        self.uploads: dict[str, FileUpload] = {}
        self.dirs: list[str] = []

    def add_dir(self, directory: str, files: list[FileUpload]) -> str:
        if directory not in self.dirs:
            self.dirs.append(directory)
            for upload in files:
                self.uploads[upload.path] = upload
        return directory


def item_mode(
    item: KeyToPath | DownwardAPIFile, volume: ConfigMapVolume | SecretVolume | DownwardAPIVolume, fs_group: int | None = None,
) -> int:
    """A volume file's mode, as Kubernetes sets it: the item's `mode` (0 included), else the
    volume's `defaultMode`. With an fsGroup the kubelet also lets the group read
    (pkg/volume/volume_linux.go: read-only volumes get mode | 0440)."""
    mode = item.mode if item.mode is not None else volume.default_mode
    return mode | 0o440 if fs_group is not None else mode


def _file_roots(identity: PodIdentity) -> tuple[str, str]:
    return LEGACY_CONFIG_ROOTS if identity.legacy_dirs else config_roots(identity.cluster)


def _projection(identity: PodIdentity, obj: ConfigMap | Secret, volume: ConfigMapVolume | SecretVolume,
                key: bytes | None, fs_group: int | None = None) -> tuple[str, list[FileUpload]]:  # fmt: skip
    """The directory of one configMap/secret volume: content, item selection and the pod's
    fsGroup fix its name. With an fsGroup the files belong to that group, which may read
    them, as in Kubernetes."""
    configs, secrets = _file_roots(identity)
    if isinstance(obj, ConfigMap):
        values: dict[str, bytes | SecretBytes] = {k: v.encode() for k, v in obj.data.items()}
        values.update(obj.binary_data)
        base = configs
    else:
        values = dict(obj.data)
        base = secrets
    items = volume.items or tuple(KeyToPath(name, name) for name in sorted(values))
    # Without an fsGroup the name is what it was before pods had one.
    group = [] if fs_group is None else [fs_group]
    name = f"{obj.meta.name}-{digest([content_hash(obj, key), volume.items, volume.default_mode, *group], 10)}"
    directory = f"{base}/{identity.namespace}/{name}"
    uploads = [
        FileUpload(f"{directory}/{item.path}", values[item.key], item_mode(item, volume, fs_group), fs_group or 0)
        for item in items
        if item.key in values
    ]
    return directory, uploads


def _downward_files(identity: PodIdentity, volume: Volume, source: DownwardAPIVolume, downward: Downward,
                    fs_group: int | None) -> tuple[str, list[FileUpload]]:  # fmt: skip
    """The directory of one downwardAPI volume: the pod's own, named after it and the volume
    (an underscore, which no ConfigMap name has), so that a repair rewrites it in place."""
    directory = f"{_file_roots(identity)[0]}/{identity.namespace}/{identity.name}_{volume.name}"
    uploads = [
        FileUpload(f"{directory}/{item.path}", downward(item.ref).encode(), item_mode(item, source, fs_group), fs_group or 0)
        for item in source.items
    ]
    return directory, uploads


def _empty_dir_access(path: str, spec: PodSpec) -> tuple[Step, ...]:
    """A pod with a securityContext (its own or a container's) gets Kubernetes' emptyDir: mode
    0777, and with an fsGroup that group and setgid, so files made there stay the group's.
    Other pods keep root's 0755, as before."""
    if spec.security.fs_group is not None:
        return Step(("chgrp", str(spec.security.fs_group), path)), Step(("chmod", "2777", path))
    if spec.security != PodSecurity() or any(c.security != ContainerSecurity() for c in spec.containers):
        return (Step(("chmod", "0777", path)),)
    return ()


def _volume_mount_source(
    volume: Volume, identity: PodIdentity, desired: Desired, files: _Files, prepare: list[Step], node: NodeTarget,
    spec: PodSpec, downward: Downward,
) -> tuple[str, str]:
    """(mount kind, source) for one pod volume; records files and preparation steps."""
    source = volume.source
    ns = identity.namespace
    key = desired.hash_key_for(identity.workload)
    if isinstance(source, DownwardAPIVolume):
        return "bind", files.add_dir(*_downward_files(identity, volume, source, downward, spec.security.fs_group))
    if isinstance(source, ConfigMapVolume):
        obj = desired.get("ConfigMap", source.name, ns)
        if not isinstance(obj, ConfigMap):
            obj = ConfigMap(meta=ObjectMeta(kind="ConfigMap", name=source.name, namespace=ns))  # optional, absent
        return "bind", files.add_dir(*_projection(identity, obj, source, key, spec.security.fs_group))
    if isinstance(source, SecretVolume):
        secret = desired.get("Secret", source.secret_name, ns)
        if not isinstance(secret, Secret):
            secret = Secret(meta=ObjectMeta(kind="Secret", name=source.secret_name, namespace=ns))
        return "bind", files.add_dir(*_projection(identity, secret, source, key, spec.security.fs_group))
    if isinstance(source, EmptyDirVolume):
        disk, memory = LEGACY_POD_ROOTS if identity.legacy_dirs else pod_roots(identity.cluster)
        path = f"{memory if source.medium == 'Memory' else disk}/{identity.name}/{volume.name}"
        prepare.append(Step(("mkdir", "-p", path)))
        prepare += _empty_dir_access(path, spec)
        return "bind", path
    if isinstance(source, HostPathVolume):
        prepare.append(Step(("sh", "-c", _HOST_PATH_CHECK, "sh", source.path, *node.allowed_host_paths)))
        if source.type == "DirectoryOrCreate":
            prepare.append(Step(("mkdir", "-p", source.path)))
        elif source.type == "FileOrCreate":
            prepare.append(Step(("touch", source.path)))
        return "bind", source.path
    assert isinstance(source, NamedVolume)
    name = node.volumes.get((ns, source.claim_name)) or volume_name(identity.cluster, ns, source.claim_name)
    labels = ((CLUSTER_LABEL, identity.cluster), (NAMESPACE_LABEL, ns), (VOLUME_LABEL, source.claim_name))
    exists, create = runtime_for(node.runtime).ensure_volume(name, labels)
    prepare.append(Step(tuple(create), unless=tuple(exists)))
    return "volume", name


def _env(
    container: Container, desired: Desired, namespace: str, downward: Downward, host_network: bool,
) -> tuple[list[tuple[str, str]], list[tuple[str, SecretBytes]], list[str]]:
    """Plain variables (command line), secret ones (a sourced file) and those that take the
    pod's address (read on the node), Kubernetes order: envFrom first, then env, later names
    winning. `downward`: a field's value (downward API); with `host_network` the pod's address
    is the node's."""
    plain: dict[str, str] = {}
    secret: dict[str, SecretBytes] = {}
    addressed: dict[str, None] = {}
    for source in container.env_from:
        obj = desired.get(source.kind, source.name, namespace)
        if isinstance(obj, ConfigMap):
            for key, value in obj.data.items():
                plain[source.prefix + key] = value
        elif isinstance(obj, Secret):
            for key, secret_value in obj.data.items():
                secret[source.prefix + key] = secret_value
    for var in container.env:
        ref = var.value_from
        addressed.pop(var.name, None)
        if isinstance(ref, FieldRef) and ref.field_path in POD_ADDRESS_FIELDS and not host_network:
            addressed[var.name] = None
            plain.pop(var.name, None)
            secret.pop(var.name, None)
            continue
        if ref is None or isinstance(ref, (FieldRef, ResourceFieldRef)):
            plain[var.name] = (var.value or "") if ref is None else downward(ref)
            secret.pop(var.name, None)
            continue
        obj = desired.get(ref.kind, ref.name, namespace)
        if isinstance(obj, ConfigMap) and ref.key in obj.data:
            plain[var.name] = obj.data[ref.key]
            secret.pop(var.name, None)
        elif isinstance(obj, Secret) and ref.key in obj.data:
            secret[var.name] = obj.data[ref.key]
            plain.pop(var.name, None)
    return sorted(plain.items()), sorted(secret.items()), sorted(addressed)


def _downward(identity: PodIdentity, template: PodTemplate, node: NodeTarget) -> Downward:
    """The downward API's values for this pod on this node (spec/downward.py), for env and
    downwardAPI volumes (spec/downwardvolume.py: whole labels and annotations)."""
    fields = {"metadata.name": identity.name, "metadata.namespace": identity.namespace,
              "spec.nodeName": node.name, "status.hostIP": node.address, "status.hostIPs": node.address,
              # Only asked for with hostNetwork, where the pod's address is its node's (see _env).
              "status.podIP": node.address, "status.podIPs": node.address}  # fmt: skip
    containers = {c.name: c for c in (*template.spec.init_containers, *template.spec.containers)}

    def value(ref: FieldRef | ResourceFieldRef) -> str:
        if isinstance(ref, FieldRef):
            if ref.field_path in WHOLE_MAPS:
                return format_map(template.labels if ref.field_path == "metadata.labels" else template.annotations)
            keyed = keyed_field(ref.field_path)
            if keyed is not None:
                source = template.labels if keyed[0] == "labels" else template.annotations
                return source.get(keyed[1], "")
            return fields[ref.field_path]
        resources = containers[ref.container].resources
        amounts = {
            "requests.cpu": resources.cpu_request_millis, "requests.memory": resources.memory_request_bytes,
            "limits.cpu": resources.cpu_limit_millis, "limits.memory": resources.memory_limit_bytes,
            "requests.ephemeral-storage": resources.ephemeral_storage_request_bytes,
            "limits.ephemeral-storage": resources.ephemeral_storage_limit_bytes,
        }  # fmt: skip
        amount = amounts[ref.resource]
        if amount is None and ref.resource.startswith("limits.") and node.capacity is not None:
            # As Kubernetes: a limit not set is the node's allocatable amount.
            amount = {"limits.cpu": node.capacity[0], "limits.memory": node.capacity[1]}.get(ref.resource)
        return resource_value(ref.resource, amount, ref.divisor)

    return value


def _env_script(variables: list[tuple[str, SecretBytes]]) -> SecretBytes:
    try:
        return SecretBytes(env_script([(key, value.reveal()) for key, value in variables]))
    except SecretEnvNameError as error:  # refused at load; a recorded state from before is Pending, not a crash
        raise PodBuildError(str(error)) from None


def file_dir_steps(directory: str) -> tuple[Step, ...]:
    """Make a config or secret volume's directory. Its own mode is 0755, so that a container
    user who is not root reaches the files their modes let it read; the secrets root and its
    namespace directories above it stay 0700, so no one but root on the node reaches them."""
    steps = []
    if in_secrets(directory):
        namespace_dir = directory.rsplit("/", 1)[0]
        steps.append(Step(("mkdir", "-p", "-m", "0700", namespace_dir.rsplit("/", 1)[0], namespace_dir)))
    return (*steps, Step(("mkdir", "-p", "-m", "0755", directory)))


def build_pod(
    identity: PodIdentity,
    template: PodTemplate,
    desired: Desired,
    node: NodeTarget,
    host_ports: Mapping[PortKey, int],
    hosts: tuple[tuple[str, str], ...] = (),
    extra_env: tuple[tuple[str, str], ...] = (),
) -> BuiltPod:
    spec = template.spec
    if needs_privilege(spec) and not node.allow_privileged:
        raise PodBuildError(f"node {node.name} does not allow privileged pods ({PRIVILEGE_VARIABLE})")
    files = _Files()
    prepare: list[Step] = []
    downward = _downward(identity, template, node)
    sources = {
        v.name: _volume_mount_source(v, identity, desired, files, prepare, node, spec, downward) for v in spec.volumes
    }
    registry_auth = ""
    if spec.image_pull_secrets:
        try:
            secrets = pull_secrets(desired, identity.namespace, spec.image_pull_secrets)
            directory = registry_auth_dir(_file_roots(identity)[1], identity.namespace, identity.name)
            registry_auth = files.add_dir(directory, [registry_auth_upload(directory, secrets)])
        except PullSecretError as error:
            raise PodBuildError(str(error)) from None
    # Node directories: a container can write into them, and so plant a symlink in; mounts beneath them propagate.
    writable = {v.name for v in spec.volumes if isinstance(v.source, (EmptyDirVolume, HostPathVolume))}
    sub_path_checks: list[Step] = []
    read_only_kinds = {
        v.name for v in spec.volumes
        if isinstance(v.source, (ConfigMapVolume, SecretVolume, DownwardAPIVolume))
        or isinstance(v.source, NamedVolume) and v.source.read_only
    }
    injected = (("SSHORCH_NODE", node.name), ("SSHORCH_POD", identity.name), ("SSHORCH_NAMESPACE", identity.namespace))
    containers = []
    ports = []
    # Init containers first: the plan starts them, never the runtime on its own (plan/initsteps.py).
    for index, container in enumerate((*spec.init_containers, *spec.containers)):
        plain, secret, addressed = _env(container, desired, identity.namespace, downward, spec.security.host_network)
        own = {name for name, _ in (*plain, *secret)} | set(addressed)
        mounts = []
        if secret:
            directory = f"{_file_roots(identity)[1]}/{identity.namespace}/env-{identity.name}-{digest(secret, 10, desired.hash_key_for(identity.workload))}"
            path = f"{directory}/{container.name}.env"
            # Readable by the container's user only (root, unless the manifest says).
            files.add_dir(directory, [FileUpload(path, _env_script(secret), 0o400, uid=container_uid(spec.security, container))])
            mounts.append(Mount("bind", SECRET_ENV_PATH, path, read_only=True))
        for mount in container.volume_mounts:
            kind, source = sources[mount.name]
            if mount.sub_path:
                if kind != "bind":
                    raise PodBuildError(f"volumeMounts {mount.name}: subPath of a persistentVolumeClaim is not supported yet")
                check = Step(("sh", "-c", _SUB_PATH_CHECK, "sh", source, mount.sub_path))
                if mount.name in writable and check not in sub_path_checks:
                    sub_path_checks.append(check)
                source = f"{source}/{mount.sub_path}"
            read_only = mount.read_only or mount.name in read_only_kinds
            # Delivered files and named volumes have no mounts beneath them to propagate (spec/propagation.py).
            propagation = LINUX_PROPAGATION[mount.mount_propagation] if mount.name in writable else ""
            mounts.append(Mount(kind, mount.mount_path, source, read_only, propagation))  # type: ignore[arg-type]
        for port in container.ports:
            key = (container.name, port.container_port, port.protocol)
            ports.append(PortBinding(node.address, host_ports[key], port.container_port, port.protocol.lower()))  # type: ignore[arg-type]
        init = index < len(spec.init_containers)
        labels = pod_labels(identity) + ((CONTAINER_LABEL, container.name),) + (((INIT_LABEL, "true"),) if init else ())
        containers.append(
            ContainerRun(
                name=f"{identity.name}-{container.name}",
                image=container.image,
                command=container.command,
                args=container.args,
                # A container's own variable wins over a Service's, as in Kubernetes.
                env=tuple(plain) + tuple(v for v in extra_env if v[0] not in own) + injected,
                secret_env=SECRET_ENV_PATH if secret else "",
                pod_address_env=tuple(addressed),
                mounts=tuple(mounts),
                working_dir=container.working_dir,
                cpu_limit_millis=container.resources.cpu_limit_millis,
                memory_limit_bytes=container.resources.memory_limit_bytes,
                labels=labels,
                restart_policy="no" if init else RESTART[spec.restart_policy],  # type: ignore[arg-type]
                pull=PULL[container.image_pull_policy],  # type: ignore[arg-type]
                security=container_security(spec.security, container, identity.name),
            )
        )
    file_dirs = tuple(files.dirs)
    # Made even when empty (an empty or absent optional ConfigMap): a bind mount needs its source.
    prepare += [step for d in file_dirs for step in file_dir_steps(d)]
    prepare += sub_path_checks
    run = PodRun(
        name=identity.name,
        hostname=spec.hostname or identity.name[:63],
        # The template's own labels too: Services select pods by them.
        labels=pod_labels(identity, tuple(d.removeprefix(RUN_DIR + "/") for d in file_dirs))
        + tuple(sorted(template.labels.items())),
        init_containers=tuple(containers[: len(spec.init_containers)]),
        containers=tuple(containers[len(spec.init_containers) :]),
        ports=tuple(ports),
        hosts=hosts,
        sysctls=spec.security.sysctls,
        host_network=spec.security.host_network,
        host_pid=spec.security.host_pid,
        host_ipc=spec.security.host_ipc,
        registry_auth=registry_auth,
    )
    return BuiltPod(identity, node.name, run, tuple(files.uploads.values()), file_dirs, tuple(prepare), dict(host_ports))
