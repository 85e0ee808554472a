"""pods.build_pod: a pod template to the exact runtime input, files and preparation steps."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sshorch.nodefiles import cluster_data_dir, cluster_run_dir, is_file_dir
from sshorch.plan.model import FileUpload, Step
from sshorch.plan.naming import PodIdentity, pod_labels
from sshorch.plan.podbuild import _HOST_PATH_CHECK as HOST_PATH_CHECK
from sshorch.plan.podbuild import _SUB_PATH_CHECK as SUB_PATH_CHECK
from sshorch.plan.podbuild import BuiltPod, NodeTarget, PortKey, _projection, build_pod, item_mode
from sshorch.runtime import ContainerRun, Mount, PodRun, PortBinding
from sshorch.runtime.registry import runtime_for
from sshorch.spec.model import Desired, KeyToPath, Secret, SecretBytes, SecretVolume

from .helpers import CLUSTER, config_map, container, deployment, desired, revision_of, secret, workload_of

NODE = NodeTarget("n1", "10.0.0.1", "podman", allowed_host_paths=("/srv",))
HEX = "[0-9a-f]{10}"
RUN = cluster_run_dir(CLUSTER)  # /run/sshorch/clusters/test
DATA = cluster_data_dir(CLUSTER)
VOLUME = f"{CLUSTER}.default.data"


def build(d: Desired, ports: dict[PortKey, int] | None = None, node: NodeTarget = NODE, slot: str = "0") -> BuiltPod:
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(d, "web"), slot)
    return build_pod(identity, workload_of(d, "web").template, d, node, ports or {})


def web(**fields: Any) -> dict[str, Any]:
    return deployment("web", **fields)


FULL = desired(
    config_map("settings", LEVEL="info", **{"app.conf": "a=1"}),
    secret("creds", pw="hunter2", token="t0k"),
    web(
        ports=[8080],
        env=[
            {"name": "MODE", "value": "prod"},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}},
        ],
        volumes=[
            {"name": "cfg", "configMap": {"name": "settings", "items": [{"key": "app.conf", "path": "conf/app.conf"}]}},
            {"name": "creds", "secret": {"secretName": "creds"}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "host", "hostPath": {"path": "/srv/web", "type": "DirectoryOrCreate"}},
        ],
        volume_mounts=[
            {"name": "cfg", "mountPath": "/etc/web"},
            {"name": "creds", "mountPath": "/etc/creds"},
            {"name": "scratch", "mountPath": "/scratch"},
            {"name": "data", "mountPath": "/data"},
            {"name": "host", "mountPath": "/host"},
        ],
    ),
)


def test_full_template_builds_the_exact_pod() -> None:
    built = build(FULL, {("main", 8080, "TCP"): 20000})
    identity = built.identity
    pod = identity.name
    config_dir, secret_dir, env_dir = built.file_dirs
    assert re.fullmatch(f"{RUN}/configs/default/settings-{HEX}", config_dir)
    assert re.fullmatch(f"{RUN}/secrets/default/creds-{HEX}", secret_dir)
    assert re.fullmatch(f"{RUN}/secrets/default/env-{re.escape(pod)}-{HEX}", env_dir)

    assert built.files == (
        FileUpload(f"{config_dir}/conf/app.conf", b"a=1", 0o644),
        FileUpload(f"{secret_dir}/pw", SecretBytes(b"hunter2"), 0o400),
        FileUpload(f"{secret_dir}/token", SecretBytes(b"t0k"), 0o400),
        FileUpload(f"{env_dir}/main.env", SecretBytes(b"export PW='hunter2'\n"), 0o400),
    )
    assert all(isinstance(f.content, SecretBytes) for f in built.files if f.path.startswith(f"{RUN}/secrets/"))

    labels = ("--label", f"sshorch.io/cluster={CLUSTER}", "--label", "sshorch.io/namespace=default", "--label",
              "sshorch.io/volume=data")
    filters = tuple(a.replace("--label", "--filter") if a == "--label" else f"label={a}" for a in labels)
    assert built.prepare == (
        Step(("mkdir", "-p", f"{DATA}/pods/{pod}/scratch")),
        Step(
            ("podman", "volume", "create", *labels, VOLUME),
            unless=("sh", "-c", '"$@" | grep -qxF -- "$0"', VOLUME, "podman", "volume", "ls", "-q", *filters),
        ),
        Step(("sh", "-c", HOST_PATH_CHECK, "sh", "/srv/web", "/srv")),
        Step(("mkdir", "-p", "/srv/web")),
        Step(("mkdir", "-p", "-m", "0755", config_dir)),
        Step(("mkdir", "-p", "-m", "0700", f"{RUN}/secrets", f"{RUN}/secrets/default")),
        Step(("mkdir", "-p", "-m", "0755", secret_dir)),
        Step(("mkdir", "-p", "-m", "0700", f"{RUN}/secrets", f"{RUN}/secrets/default")),
        Step(("mkdir", "-p", "-m", "0755", env_dir)),
    )
    relative = tuple(d.removeprefix("/run/sshorch/") for d in (config_dir, secret_dir, env_dir))
    assert all(r.startswith(f"clusters/{CLUSTER}/") for r in relative)
    assert built.run == PodRun(
        name=pod,
        hostname=pod,
        labels=pod_labels(identity, relative) + (("app", "web"),),
        containers=(
            ContainerRun(
                name=f"{pod}-main",
                image="localhost/web:v1",
                env=(("LEVEL", "info"), ("MODE", "prod"),
                     ("SSHORCH_NODE", "n1"), ("SSHORCH_POD", pod), ("SSHORCH_NAMESPACE", "default")),
                secret_env="/run/sshorch/env",
                mounts=(
                    Mount("bind", "/run/sshorch/env", f"{env_dir}/main.env", True),
                    Mount("bind", "/etc/web", config_dir, True),
                    Mount("bind", "/etc/creds", secret_dir, True),
                    Mount("bind", "/scratch", f"{DATA}/pods/{pod}/scratch", False),
                    Mount("volume", "/data", VOLUME, False),
                    Mount("bind", "/host", "/srv/web", False),
                ),
                labels=pod_labels(identity) + (("sshorch.io/container", "main"),),
                restart_policy="always",
                pull="missing",
            ),
        ),
        ports=(PortBinding("10.0.0.1", 20000, 8080, "tcp"),),
    )
    assert dict(built.run.labels)["sshorch.io/files"] == ",".join(relative)
    assert built.node == "n1" and built.host_ports == {("main", 8080, "TCP"): 20000}


def test_secret_values_are_never_in_the_commands() -> None:
    built = build(FULL, {("main", 8080, "TCP"): 20000})
    argv = [a for cmd in runtime_for("podman").create_pod(built.run) for a in cmd]
    text = " ".join(argv) + repr(built)
    assert "hunter2" not in text and "t0k" not in text
    assert "info" in text  # a ConfigMap value is not secret: plain --env


def test_env_from_with_prefix_then_env_wins() -> None:
    d = desired(
        config_map("settings", LEVEL="info", COLOR="blue"),
        secret("creds", PW="s3cret", LEVEL="from-secret"),
        web(
            env_from=[{"configMapRef": {"name": "settings"}, "prefix": "APP_"}, {"secretRef": {"name": "creds"}}],
            env=[{"name": "PW", "value": "plain-now"}, {"name": "APP_COLOR", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "LEVEL"}}}],
        ),
    )
    built = build(d)
    (container,) = built.run.containers
    plain = dict(container.env[:-3])
    assert plain == {"APP_LEVEL": "info", "PW": "plain-now"}
    (env_file,) = [f for f in built.files if f.path.endswith("/main.env")]
    assert env_file.data() == b"export APP_COLOR='from-secret'\nexport LEVEL='from-secret'\n"
    assert env_file.mode == 0o400 and env_file.secret


def test_items_modes_and_default_mode() -> None:
    d = desired(
        secret("creds", pw="x", token="y"),
        web(volumes=[{"name": "s", "secret": {"secretName": "creds", "defaultMode": 0o440,
                                               "items": [{"key": "pw", "path": "a/pw", "mode": 0o600}, {"key": "token", "path": "t"}]}}],
            volume_mounts=[{"name": "s", "mountPath": "/s"}]),
    )
    built = build(d)
    (directory,) = built.file_dirs
    assert [(f.path, f.mode) for f in built.files] == [(f"{directory}/a/pw", 0o600), (f"{directory}/t", 0o440)]


@pytest.mark.parametrize(
    ("volume", "items", "modes"),
    [
        # Kubernetes' defaultMode 0644 for a configMap; sshorch keeps secrets 0400 unless told.
        ({"configMap": {"name": "settings"}}, None, [0o644]),
        ({"secret": {"secretName": "creds"}}, None, [0o400]),
        ({"secret": {"secretName": "creds", "defaultMode": 0o444}}, None, [0o444]),
        ({"configMap": {"name": "settings", "defaultMode": 0o600}}, [{"key": "LEVEL", "path": "l"}], [0o600]),
        # An item's mode wins over defaultMode, 0 included (before, 0 fell back to the default).
        ({"secret": {"secretName": "creds", "defaultMode": 0o440}}, [{"key": "pw", "path": "p", "mode": 0}], [0]),
        ({"configMap": {"name": "settings"}}, [{"key": "LEVEL", "path": "l", "mode": 0o755}], [0o755]),
    ],
)
def test_file_modes_as_kubernetes_sets_them(volume: dict[str, Any], items: list[dict[str, Any]] | None, modes: list[int]) -> None:
    source = dict(volume)
    kind = next(iter(source))
    if items is not None:
        source[kind] = {**source[kind], "items": items}
    d = desired(config_map("settings", LEVEL="info"), secret("creds", pw="x"),
                web(volumes=[{"name": "v", **source}], volume_mounts=[{"name": "v", "mountPath": "/v"}]))
    assert [f.mode for f in build(d).files] == modes


def test_fs_group_seam_gives_the_group_the_files_and_read_access() -> None:
    """The pod's securityContext.fsGroup is not in the spec yet; the projection takes it already."""
    creds = desired(secret("creds", pw="x")).get("Secret", "creds", "default")
    assert isinstance(creds, Secret)
    volume = SecretVolume("creds", items=(KeyToPath("pw", "pw", 0o400),))
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", "0123456789", "0")
    _, (upload,) = _projection(identity, creds, volume, b"key", fs_group=2000)
    assert (upload.mode, upload.gid) == (0o440, 2000)
    assert item_mode(KeyToPath("pw", "pw"), SecretVolume("creds")) == 0o400
    assert item_mode(KeyToPath("pw", "pw"), SecretVolume("creds"), fs_group=0) == 0o440


def test_memory_empty_dir_sub_path_read_only_and_file_or_create() -> None:
    d = desired(web(
        volumes=[{"name": "m", "emptyDir": {"medium": "Memory"}},
                 {"name": "sock", "hostPath": {"path": "/run/app.sock", "type": "FileOrCreate"}},
                 {"name": "plain", "hostPath": {"path": "/srv"}}],
        volume_mounts=[{"name": "m", "mountPath": "/m", "subPath": "sub"},
                       {"name": "sock", "mountPath": "/sock", "readOnly": True},
                       {"name": "plain", "mountPath": "/srv"}],
    ))
    built = build(d, node=NodeTarget("n1", "10.0.0.1", "podman", allowed_host_paths=("/run/app.sock", "/srv")))
    pod = built.identity.name
    assert built.prepare == (
        Step(("mkdir", "-p", f"{RUN}/pods/{pod}/m")),
        Step(("sh", "-c", HOST_PATH_CHECK, "sh", "/run/app.sock", "/run/app.sock", "/srv")),
        Step(("touch", "/run/app.sock")),
        Step(("sh", "-c", HOST_PATH_CHECK, "sh", "/srv", "/run/app.sock", "/srv")),
        Step(("sh", "-c", SUB_PATH_CHECK, "sh", f"{RUN}/pods/{pod}/m", "sub")),
    )
    assert built.run.containers[0].mounts == (
        Mount("bind", "/m", f"{RUN}/pods/{pod}/m/sub", False),
        Mount("bind", "/sock", "/run/app.sock", True),
        Mount("bind", "/srv", "/srv", False),
    )
    assert built.files == () and built.file_dirs == ()
    assert "sshorch.io/files" not in dict(built.run.labels)


def test_docker_named_volume_uses_docker_commands() -> None:
    d = desired(web(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                    volume_mounts=[{"name": "data", "mountPath": "/data"}]))
    (step,) = build(d, node=NodeTarget("n1", "10.0.0.1", "docker")).prepare
    assert step.unless is not None and step.unless[3:7] == (VOLUME, "docker", "volume", "ls")
    assert step.argv[:3] == ("docker", "volume", "create") and step.argv[-1] == VOLUME


def test_a_claim_uses_the_volume_that_carries_its_labels_on_the_node() -> None:
    # One made before volume names were scoped has the claim's bare name: it is kept.
    d = desired(web(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                    volume_mounts=[{"name": "data", "mountPath": "/data"}]))
    built = build(d, node=NodeTarget("n1", "10.0.0.1", "podman", volumes={("default", "data"): "data"}))
    (mount,) = built.run.containers[0].mounts
    assert mount.source == "data" and built.prepare[0].argv[-1] == "data"


def test_pods_sharing_a_config_share_its_dir_but_not_their_env_file() -> None:
    a, b = build(FULL, {("main", 8080, "TCP"): 1}, slot="0"), build(FULL, {("main", 8080, "TCP"): 1}, slot="1")
    assert a.file_dirs[:2] == b.file_dirs[:2]
    assert a.file_dirs[2] != b.file_dirs[2]


def test_restart_and_pull_policies_map_to_runtime_words() -> None:
    d = desired(deployment("web", containers=[{"name": "main", "image": "localhost/web:v1", "imagePullPolicy": "Always"}]))
    (container,) = build(d).run.containers
    assert (container.restart_policy, container.pull) == ("always", "always")


def test_an_empty_config_maps_volume_dir_is_still_created() -> None:
    d = desired(config_map("empty"), web(volumes=[{"name": "cfg", "configMap": {"name": "empty"}}],
                                         volume_mounts=[{"name": "cfg", "mountPath": "/etc/cfg"}]))
    built = build(d)
    (directory,) = built.file_dirs
    made = any(directory in step.argv for step in built.prepare) or any(f.path.startswith(directory + "/") for f in built.files)
    assert made


def test_a_read_only_claim_is_mounted_read_only() -> None:
    d = desired(web(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}}],
                    volume_mounts=[{"name": "data", "mountPath": "/data"}]))
    (mount,) = build(d).run.containers[0].mounts
    assert mount.read_only


def test_a_multi_line_secret_value_stays_one_variable() -> None:
    value = "line1\nEVIL=1'; touch /x; '"
    d = desired(secret("creds", KEY=value),
                web(env=[{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "KEY"}}}]))
    (env_file,) = [f for f in build(d).files if f.path.endswith("/main.env")]
    assert env_file.data() == b"export KEY='" + value.replace("'", "'\\''").encode() + b"'\n"


def test_the_downward_api_fills_env_from_the_pod_and_its_node() -> None:
    main = container(env=[
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {"name": "NONE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['absent']"}}},
        {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
        {"name": "CPU_M", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},  # 250m rounds up to 1
        {"name": "NODE_CPUS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},  # no limit: the node's
    ])
    main["resources"] = {"requests": {"cpu": "250m"}, "limits": {"memory": "96Mi"}}
    d = desired(web(containers=[main]))
    node = NodeTarget("n1", "10.0.0.1", "podman", capacity=(4000, 8 * 2**30))
    built = build(d, node=node)
    env = dict(built.run.containers[0].env)
    pod = built.identity.name
    assert {k: env[k] for k in ("POD", "NS", "NODE", "HOST_IP", "APP", "NONE", "MEM_MI", "CPU_M", "CPU", "NODE_CPUS")} == {
        "POD": pod, "NS": "default", "NODE": "n1", "HOST_IP": "10.0.0.1", "APP": "web", "NONE": "",
        "MEM_MI": "96", "CPU_M": "250", "CPU": "1", "NODE_CPUS": "4",
    }


@pytest.mark.parametrize(("host_network", "plain", "addressed"), [
    (False, {}, ("IPS", "POD_IP")),  # read on the node once the pod's network exists
    (True, {"POD_IP": "10.0.0.1", "IPS": "10.0.0.1"}, ()),  # the node's network: its address
])
def test_the_pods_own_address_is_read_on_the_node_unless_it_is_the_nodes(
    host_network: bool, plain: dict[str, str], addressed: tuple[str, ...]
) -> None:
    main = container(env=[
        {"name": "POD_IP", "value": "overridden"},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
    ])  # fmt: skip
    doc = web(containers=[main])
    doc["spec"]["template"]["spec"]["hostNetwork"] = host_network
    node = NodeTarget("n1", "10.0.0.1", "podman", allow_privileged=True)
    (run,) = build(desired(doc), node=node).run.containers
    assert {k: v for k, v in run.env if k in ("POD_IP", "IPS")} == plain
    assert run.pod_address_env == addressed


@pytest.mark.parametrize(
    ("volume", "propagation", "expected"),
    [
        ({"hostPath": {"path": "/srv"}}, "HostToContainer", "rslave"),
        ({"hostPath": {"path": "/srv"}}, "Bidirectional", "rshared"),
        ({"hostPath": {"path": "/srv"}}, "None", ""),
        ({"emptyDir": {}}, "Bidirectional", "rshared"),
        # Files sshorch writes and named volumes have no mounts beneath them to propagate.
        ({"configMap": {"name": "settings"}}, "HostToContainer", ""),
        ({"persistentVolumeClaim": {"claimName": "data"}}, "HostToContainer", ""),
    ],
)
def test_mount_propagation_reaches_the_node_directories_a_pod_mounts(volume: dict[str, Any], propagation: str, expected: str) -> None:
    main = container(volume_mounts=[{"name": "v", "mountPath": "/v", "mountPropagation": propagation}])
    main["securityContext"] = {"privileged": True}
    d = desired(config_map("settings", LEVEL="info"), web(containers=[main], volumes=[{"name": "v", **volume}]))
    node = NodeTarget("n1", "10.0.0.1", "podman", allowed_host_paths=("/srv",), allow_privileged=True)
    (mount,) = build(d, node=node).run.containers[0].mounts
    assert mount.propagation == expected


def test_a_downward_api_volume_is_files_of_the_pods_own_fields_mounted_read_only() -> None:
    main = container(volume_mounts=[{"name": "info", "mountPath": "/etc/podinfo"}])
    main["resources"] = {"requests": {"cpu": "250m"}, "limits": {"memory": "96Mi"}}
    doc = web(containers=[main], volumes=[{"name": "info", "downwardAPI": {"defaultMode": 0o640, "items": [
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
        {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}, "mode": 0o444},
        {"path": "meta/labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "meta/annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
        {"path": "tier", "fieldRef": {"fieldPath": "metadata.labels['tier']"}},
        {"path": "mem", "resourceFieldRef": {"containerName": "main", "resource": "limits.memory", "divisor": "1Mi"}},
        {"path": "cpu", "resourceFieldRef": {"containerName": "main", "resource": "requests.cpu", "divisor": "1m"}},
        {"path": "cpus", "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu"}},
    ]}}])  # fmt: skip
    doc["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    doc["spec"]["template"]["metadata"]["annotations"] = {"note": 'say "hi"\n'}
    built = build(desired(doc), node=NodeTarget("n1", "10.0.0.1", "podman", capacity=(4000, 8 * 2**30)))
    pod = built.identity.name
    directory = f"{RUN}/configs/default/{pod}_info"
    assert built.file_dirs == (directory,) and is_file_dir(directory)  # removed with the pod's last use
    assert [(f.path.removeprefix(directory + "/"), f.data(), f.mode) for f in built.files] == [
        ("name", pod.encode(), 0o640),
        ("ns", b"default", 0o444),
        ("meta/labels", b'app="web"\ntier="front"', 0o640),
        ("meta/annotations", b'note="say \\"hi\\"\\n"', 0o640),
        ("tier", b"front", 0o640),
        ("mem", b"96", 0o640),
        ("cpu", b"250", 0o640),
        ("cpus", b"4", 0o640),  # no limit: the node's
    ]
    assert not any(f.secret for f in built.files)
    assert built.run.containers[0].mounts == (Mount("bind", "/etc/podinfo", directory, True),)
    assert ("sshorch.io/files", directory.removeprefix("/run/sshorch/")) in built.run.labels
    assert Step(("mkdir", "-p", "-m", "0755", directory)) in built.prepare


def test_downward_api_files_belong_to_the_fs_group_and_each_pod_has_its_own() -> None:
    doc = web(volumes=[{"name": "info", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}],
              volume_mounts=[{"name": "info", "mountPath": "/info"}])
    doc["spec"]["template"]["spec"]["securityContext"] = {"fsGroup": 2000}
    d = desired(doc)
    a, b = build(d, slot="0"), build(d, slot="1")
    (upload,) = a.files
    assert (upload.mode, upload.gid) == (0o644 | 0o440, 2000)
    assert a.file_dirs != b.file_dirs and b.files[0].data() == b.identity.name.encode()
