"""Valid manifests parse into exact typed objects, Kubernetes defaults included."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sshorch.inventory.model import FrozenMap
from sshorch.spec.model import (
    ConfigMap,
    ConfigMapVolume,
    Container,
    ContainerPort,
    CronJob,
    DaemonSet,
    Deployment,
    DeploymentStrategy,
    EmptyDirVolume,
    EnvFrom,
    EnvVar,
    ExecAction,
    HorizontalPodAutoscaler,
    HostPathVolume,
    HttpGetAction,
    IntOrPercent,
    Job,
    KeyRef,
    KeyToPath,
    LabelSelector,
    LabelSelectorRequirement,
    MetricTarget,
    NamedVolume,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    ObjectMeta,
    PodSpec,
    PodTemplate,
    Probe,
    Resources,
    Secret,
    SecretBytes,
    SecretVolume,
    Service,
    ServicePort,
    Source,
    TcpSocketAction,
    Volume,
    VolumeMount,
)

from .manifests import autoscaler, changed, config_map, cron_job, daemon_set, deployment, job, parse, secret, service

WEB = Container(name="web", image="localhost/sshorch/web:v1")
APP = FrozenMap({"app": "web"})


def test_minimal_deployment_gets_kubernetes_defaults() -> None:
    (obj,) = parse(deployment()).objects
    assert obj == Deployment(
        meta=ObjectMeta("Deployment", "web"),
        selector=LabelSelector(match_labels=APP),
        template=PodTemplate(labels=APP, spec=PodSpec(containers=(WEB,))),
        replicas=1,
        strategy=DeploymentStrategy("RollingUpdate", IntOrPercent(25, True), IntOrPercent(25, True)),
        min_ready_seconds=0,
        progress_deadline_seconds=600,
        revision_history_limit=10,
        paused=False,
    )
    assert isinstance(obj, Deployment)
    assert obj.meta.source == Source("web.yaml", 0)
    assert obj.template.spec.restart_policy == "Always"
    assert obj.template.spec.containers[0].image_pull_policy == "IfNotPresent"


def test_full_deployment() -> None:
    doc: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "web", "tier": ""},
            "annotations": {"sshorch.io/auto-rollback": "false", "note": "any text; even $(this)"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "0%"}},
            "minReadySeconds": 5,
            "progressDeadlineSeconds": 120,
            "revisionHistoryLimit": 3,
            "paused": True,
            "template": {
                "metadata": {"labels": {"app": "web", "track": "stable"}, "annotations": {"team": "shop"}},
                "spec": {
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 10,
                    "hostname": "web",
                    "nodeSelector": {"disk": "ssd"},
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                                              {"key": "cores", "operator": "Gt", "values": ["2"]}]},
                    ]}}},  # fmt: skip
                    "volumes": [
                        {"name": "config", "configMap": {"name": "settings", "items": [{"key": "LEVEL", "path": "level.txt", "mode": 0o600}]}},
                        {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o440, "optional": True}},
                        {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                        {"name": "logs", "hostPath": {"path": "/var/log/web", "type": "DirectoryOrCreate"}},
                        {"name": "data", "persistentVolumeClaim": {"claimName": "web-data", "readOnly": True}},
                    ],
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.example.com:5000/shop/web:1.2.3",
                            "imagePullPolicy": "Always",
                            "command": ["/bin/web"],
                            "args": ["--port", "8080"],
                            "workingDir": "/srv",
                            "env": [
                                {"name": "MODE", "value": "production"},
                                {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}},
                                {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password", "optional": True}}},
                            ],
                            "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}, {"secretRef": {"name": "creds"}}],
                            "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090, "hostPort": 9090, "protocol": "UDP"}],
                            "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": 1, "memory": "128Mi"}},
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/web", "readOnly": True},
                                {"name": "data", "mountPath": "/data", "subPath": "web"},
                            ],
                            "livenessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 5, "failureThreshold": 5},
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTPS",
                                                           "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                                               "periodSeconds": 2, "timeoutSeconds": 2, "successThreshold": 2},  # fmt: skip
                            "startupProbe": {"exec": {"command": ["test", "-f", "/tmp/ready"]}},
                        }
                    ],
                },
            },
        },
    }
    shop = {"name": "settings", "namespace": "shop"}
    cm, sec = changed(config_map(), "metadata", shop), changed(secret(), "metadata", {**shop, "name": "creds"})
    (obj,) = parse(doc, cm, sec).objects[:1]
    assert obj == Deployment(
        meta=ObjectMeta(
            "Deployment", "web", "shop",
            labels=FrozenMap({"app.kubernetes.io/name": "web", "tier": ""}),
            annotations=FrozenMap({"sshorch.io/auto-rollback": "false", "note": "any text; even $(this)"}),
        ),  # fmt: skip
        selector=LabelSelector(APP, (LabelSelectorRequirement("track", "NotIn", ("canary",)),)),
        template=PodTemplate(
            labels=FrozenMap({"app": "web", "track": "stable"}),
            annotations=FrozenMap({"team": "shop"}),
            spec=PodSpec(
                containers=(
                    Container(
                        name="web",
                        image="registry.example.com:5000/shop/web:1.2.3",
                        command=("/bin/web",),
                        args=("--port", "8080"),
                        working_dir="/srv",
                        env=(
                            EnvVar("MODE", "production"),
                            EnvVar("LEVEL", value_from=KeyRef("ConfigMap", "settings", "LEVEL")),
                            EnvVar("PASSWORD", value_from=KeyRef("Secret", "creds", "password", optional=True)),
                        ),
                        env_from=(EnvFrom("ConfigMap", "settings", "CFG_"), EnvFrom("Secret", "creds")),
                        ports=(ContainerPort(8080, "http"), ContainerPort(9090, None, 9090, "UDP")),
                        resources=Resources(250, 64 * 2**20, 1000, 128 * 2**20),
                        volume_mounts=(VolumeMount("config", "/etc/web", True), VolumeMount("data", "/data", False, "web")),
                        liveness_probe=Probe(TcpSocketAction(8080), initial_delay_seconds=5, failure_threshold=5),
                        readiness_probe=Probe(
                            HttpGetAction("http", "/healthz", "HTTPS", headers=(("X-Probe", "1"),)),
                            period_seconds=2, timeout_seconds=2, success_threshold=2,
                        ),  # fmt: skip
                        startup_probe=Probe(ExecAction(("test", "-f", "/tmp/ready"))),
                        image_pull_policy="Always",
                    ),
                ),
                volumes=(
                    Volume("config", ConfigMapVolume("settings", (KeyToPath("LEVEL", "level.txt", 0o600),))),
                    Volume("creds", SecretVolume("creds", default_mode=0o440, optional=True)),
                    Volume("cache", EmptyDirVolume("Memory", 64 * 2**20)),
                    Volume("logs", HostPathVolume("/var/log/web", "DirectoryOrCreate")),
                    Volume("data", NamedVolume("web-data", read_only=True)),
                ),
                node_selector=FrozenMap({"disk": "ssd"}),
                required_node_affinity=(
                    NodeSelectorTerm((NodeSelectorRequirement("zone", "In", ("a", "b")), NodeSelectorRequirement("cores", "Gt", ("2",)))),
                ),
                restart_policy="Always",
                termination_grace_period_seconds=10,
                hostname="web",
            ),
        ),
        replicas=3,
        strategy=DeploymentStrategy("RollingUpdate", IntOrPercent(1), IntOrPercent(0, True)),
        min_ready_seconds=5,
        progress_deadline_seconds=120,
        revision_history_limit=3,
        paused=True,
    )


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("localhost:5000/nginx", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_defaults_like_kubernetes(image: str, policy: str) -> None:
    (obj,) = parse(changed(deployment(), "spec.template.spec.containers[0].image", image)).objects
    assert isinstance(obj, Deployment)
    assert obj.template.spec.containers[0].image_pull_policy == policy


def test_limit_without_request_sets_the_request() -> None:
    doc = changed(deployment(), "spec.template.spec.containers[0].resources", {"limits": {"cpu": "0.5", "memory": "1G"}})
    (obj,) = parse(doc).objects
    assert isinstance(obj, Deployment)
    assert obj.template.spec.containers[0].resources == Resources(500, 10**9, 500, 10**9)


def test_recreate_strategy() -> None:
    (obj,) = parse(changed(deployment(), "spec.strategy", {"type": "Recreate"})).objects
    assert isinstance(obj, Deployment)
    assert obj.strategy.type == "Recreate"


def test_daemon_set_defaults() -> None:
    (obj,) = parse(daemon_set()).objects
    agent = FrozenMap({"app": "agent"})
    assert obj == DaemonSet(
        meta=ObjectMeta("DaemonSet", "agent"),
        selector=LabelSelector(agent),
        template=PodTemplate(labels=agent, spec=PodSpec(containers=(Container("agent", "localhost/sshorch/web:v1"),))),
        max_unavailable=IntOrPercent(1),
        min_ready_seconds=0,
        revision_history_limit=10,
    )


def test_config_map_and_secret() -> None:
    cm = config_map(LEVEL="debug")
    cm["binaryData"] = {"logo.png": base64.b64encode(b"\x89PNG").decode()}
    sec = secret(password="from-string-data")
    sec["type"] = "kubernetes.io/basic-auth"
    sec["data"] = {"username": base64.b64encode(b"admin").decode(), "password": base64.b64encode(b"overridden").decode()}
    got = parse(cm, sec).objects
    assert got == (
        ConfigMap(ObjectMeta("ConfigMap", "settings"), FrozenMap({"LEVEL": "debug"}), FrozenMap({"logo.png": b"\x89PNG"})),
        Secret(
            ObjectMeta("Secret", "creds"),
            FrozenMap({"username": SecretBytes(b"admin"), "password": SecretBytes(b"from-string-data")}),
            "kubernetes.io/basic-auth",
        ),
    )
    assert "from-string-data" not in repr(got)


def test_service_defaults_and_node_port() -> None:
    node_port = changed(changed(service("api"), "spec.type", "NodePort"), "spec.ports",
                        [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                         {"name": "dns", "port": 53, "protocol": "UDP"}])  # fmt: skip
    node_port = changed(node_port, "spec.clusterIP", "10.96.0.10")
    assert parse(service(), node_port).objects == (
        Service(ObjectMeta("Service", "web"), (ServicePort(80, 8080),), APP, "ClusterIP", None),
        Service(
            ObjectMeta("Service", "api"),
            (ServicePort(80, "http", "http", "TCP", 30080), ServicePort(53, 53, "dns", "UDP")),
            FrozenMap({"app": "api"}),
            "NodePort",
            "10.96.0.10",
        ),
    )


def test_job_and_cron_job() -> None:
    cron = changed(cron_job(), "spec.timeZone", "Europe/Berlin")
    cron = changed(cron, "spec.concurrencyPolicy", "Forbid")
    cron = changed(cron, "spec.jobTemplate.metadata", {"labels": {"kind": "report"}})
    main = PodTemplate(spec=PodSpec(containers=(Container("main", "busybox:1.36"),), restart_policy="Never"))
    assert parse(job(), cron).objects == (
        Job(ObjectMeta("Job", "migrate"), main, completions=1, parallelism=1, backoff_limit=6),
        CronJob(
            meta=ObjectMeta("CronJob", "report"),
            schedule="*/5 * * * *",
            job=Job(ObjectMeta("Job", "report", labels=FrozenMap({"kind": "report"})), main),
            concurrency_policy="Forbid",
            suspend=False,
            starting_deadline_seconds=None,
            successful_jobs_history_limit=3,
            failed_jobs_history_limit=1,
            time_zone="Europe/Berlin",
        ),
    )


def test_autoscaler_defaults_to_80_percent_cpu() -> None:
    memory = changed(autoscaler("web-memory"), "spec.metrics", [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}},
    ])  # fmt: skip
    memory = changed(memory, "spec.scaleTargetRef.name", "api")
    memory = changed(memory, "spec.minReplicas", 2)
    objects = parse(deployment(), deployment("api"), autoscaler(), memory).objects
    assert objects[2:] == (
        HorizontalPodAutoscaler(ObjectMeta("HorizontalPodAutoscaler", "web"), "Deployment", "web", 5, 1, (MetricTarget("cpu", 80),)),
        HorizontalPodAutoscaler(
            ObjectMeta("HorizontalPodAutoscaler", "web-memory"), "Deployment", "api", 5, 2,
            (MetricTarget("memory", average_value=100 * 2**20), MetricTarget("cpu", average_utilization=60)),
        ),  # fmt: skip
    )


def test_null_fields_are_absent_and_documents_are_kept() -> None:
    doc = changed(deployment(), "spec.template.spec.containers[0].env", None)
    doc = changed(doc, "spec.replicas", None)
    desired = parse(doc)
    assert isinstance(desired.objects[0], Deployment)
    assert desired.objects[0].replicas == 1
    assert desired.documents == (doc,)


def test_empty_namespace_is_the_default() -> None:
    (obj,) = parse(changed(config_map(), "metadata.namespace", "")).objects
    assert obj.meta.namespace == "default"


def test_depends_on_and_lookup() -> None:
    web = changed(deployment(), "metadata.annotations", {"sshorch.io/depends-on": "configmap/settings , job/migrate"})
    desired = parse(web, config_map(), job())
    assert desired.get("Job", "migrate") is not None
    assert [o.meta.kind for o in desired.of_kind("ConfigMap")] == ["ConfigMap"]
