"""Each validation rule: one bad field gives exactly one line naming file, object, field and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .manifests import DELETE, autoscaler, changed, config_map, cron_job, daemon_set, deployment, job, problems, secret, service

C = "spec.template.spec.containers[0]"
POD = "spec.template.spec"
DNS_LABEL = "must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
PORT_NAME = "must be at most 15 lowercase letters, digits and '-', with at least one letter, starting and ending with a letter or digit, no '--'"
METACHARACTERS = "must not contain whitespace, shell metacharacters or control characters"
CONTAINER_FIELDS = (
    "name, image, command, args, workingDir, env, envFrom, ports, resources, volumeMounts, "
    "livenessProbe, readinessProbe, startupProbe, imagePullPolicy, securityContext"
)
MOUNT = {"name": "data", "mountPath": "/data"}
DATA_VOLUME = [{"name": "data", "emptyDir": {}}]


def case(make: Callable[[], dict[str, Any]], path: str, value: Any, expected: str, *more: tuple[str, Any]) -> Any:
    doc = changed(make(), path, value)
    for extra_path, extra_value in more:
        doc = changed(doc, extra_path, extra_value)
    return pytest.param(doc, expected, id=f"{doc['kind']}:{path}={value!r}"[:100])


CASES = [
    # --- fields the model does not have ---
    case(deployment, "replicas", 2, "Deployment/web: replicas: unsupported field; supported here: apiVersion, kind, metadata, spec"),
    case(deployment, "metadata.uid", "x", "Deployment/web: metadata.uid: unsupported field; supported here: name, namespace, labels, annotations"),
    case(deployment, f"{C}.stdin", True, f"Deployment/web: {C}.stdin: unsupported field; supported here: {CONTAINER_FIELDS}"),
    case(deployment, f"{POD}.ephemeralContainers", [], f"Deployment/web: {POD}.ephemeralContainers: unsupported field; supported here: "
         "containers, volumes, nodeSelector, affinity, restartPolicy, terminationGracePeriodSeconds, hostname, "
         "serviceAccountName, serviceAccount, automountServiceAccountToken, "
         "securityContext, hostNetwork, hostPID, hostIPC, tolerations, topologySpreadConstraints, initContainers, "
         "imagePullSecrets, enableServiceLinks, priorityClassName, priority, preemptionPolicy"),  # fmt: skip
    case(deployment, f"{C}.resources.requests.nvidia.com/gpu", 1,
         f"Deployment/web: {C}.resources.requests.nvidia: unsupported field; supported here: cpu, memory, ephemeral-storage"),  # fmt: skip
    case(deployment, f"{POD}.affinity.podAntiAffinity.preferred", {}, f"Deployment/web: {POD}.affinity.podAntiAffinity.preferred: unsupported field; "
         "supported here: requiredDuringSchedulingIgnoredDuringExecution, preferredDuringSchedulingIgnoredDuringExecution"),  # fmt: skip
    case(deployment, "spec", "x", "Deployment/web: spec: must be a mapping, got 'x'"),
    case(deployment, "spec.template", DELETE, "Deployment/web: spec.template: is required"),
    case(deployment, f"{POD}.containers", [], f"Deployment/web: {POD}.containers: is required and must not be empty"),
    case(deployment, "metadata", DELETE, "Deployment: metadata: is required"),
    case(deployment, "metadata.name", DELETE, "Deployment: metadata.name: is required"),
    case(deployment, f"{C}.imagee", "nginx", f"Deployment/web: {C}.imagee: unsupported field; supported here: {CONTAINER_FIELDS}",
         (f"{C}.image", DELETE)),  # fmt: skip
    case(deployment, f"{C}.ports", [5], f"Deployment/web: {C}.ports[0]: must be a mapping, got 5"),
    case(deployment, "spec.selector", "app=web", "Deployment/web: spec.selector: must be a mapping, got 'app=web'"),
    case(deployment, "metadata", ["web"], "Deployment: metadata: must be a mapping, got a list"),
    # --- types ---
    case(deployment, "spec.replicas", "3", "Deployment/web: spec.replicas: must be an integer 0-5000, got '3'"),
    case(deployment, "spec.replicas", -1, "Deployment/web: spec.replicas: must be an integer 0-5000, got -1"),
    case(deployment, "spec.replicas", True, "Deployment/web: spec.replicas: must be an integer 0-5000, got true"),
    case(deployment, "spec.paused", "yes", "Deployment/web: spec.paused: must be true or false, got 'yes'"),
    case(deployment, f"{C}.ports", [{"containerPort": "x"}], f"Deployment/web: {C}.ports[0].containerPort: must be an integer 1-65535, got 'x'"),
    case(deployment, f"{C}.ports", [{"containerPort": 70000}], f"Deployment/web: {C}.ports[0].containerPort: must be an integer 1-65535, got 70000"),
    case(deployment, f"{C}.ports", [{"containerPort": 80, "protocol": "SCTP"}], f"Deployment/web: {C}.ports[0].protocol: must be TCP or UDP, got 'SCTP'"),
    case(deployment, f"{C}.args", ["--port", 8080], f"Deployment/web: {C}.args[1]: must be a string, got 8080"),
    case(deployment, f"{C}.env", [{"name": "PORT", "value": 8080}], f"Deployment/web: {C}.env[0].value: must be a string, got 8080"),
    case(deployment, f"{C}.imagePullPolicy", "always", f"Deployment/web: {C}.imagePullPolicy: must be Always, IfNotPresent or Never, got 'always'"),
    # --- names ---
    case(deployment, "metadata.name", "Web", f"Deployment/Web: metadata.name: {DNS_LABEL}, got 'Web'"),
    case(deployment, "metadata.name", "web;reboot", f"Deployment/web;reboot: metadata.name: {DNS_LABEL}, got 'web;reboot'"),
    case(deployment, "metadata.name", "a" * 64, f"Deployment/{'a' * 64}: metadata.name: {DNS_LABEL}, got '{'a' * 64}'"),
    case(deployment, "metadata.namespace", "my ns", f"Deployment/web: metadata.namespace: {DNS_LABEL}, got 'my ns'"),
    case(deployment, f"{C}.name", "web$(id)", f"Deployment/web: {C}.name: {DNS_LABEL}, got 'web$(id)'"),
    case(deployment, f"{POD}.hostname", "-web", f"Deployment/web: {POD}.hostname: {DNS_LABEL}, got '-web'"),
    case(deployment, f"{C}.ports", [{"containerPort": 80, "name": "http-web-server-1"}],
         f"Deployment/web: {C}.ports[0].name: {PORT_NAME}, got 'http-web-server-1'"),  # fmt: skip
    case(deployment, f"{C}.ports", [{"containerPort": 80, "name": "8080"}], f"Deployment/web: {C}.ports[0].name: {PORT_NAME}, got '8080'"),
    case(deployment, f"{C}.env", [{"name": "1ST", "value": "x"}], f"Deployment/web: {C}.env[0].name: must be an environment variable name "
         "(letters, digits, '_', '.' and '-', not starting with a digit, '.' or '-'), got '1ST'"),  # fmt: skip
    case(service, "metadata.name", "1web", "Service/1web: metadata.name: must be a DNS-1035 label (at most 63 lowercase letters, digits and '-', "
         "starting with a letter, ending with a letter or digit), got '1web'"),  # fmt: skip
    case(cron_job, "metadata.name", "r" * 53, f"CronJob/{'r' * 53}: metadata.name: must be at most 52 characters, got '{'r' * 53}'"),
    # --- labels and annotations ---
    case(deployment, "metadata.labels", {"-tier": "web"}, "Deployment/web: metadata.labels[-tier]: key must be [prefix/]name with a name of at most 63 "
         "letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got '-tier'"),  # fmt: skip
    case(deployment, "metadata.labels", {"Example.com/tier": "web"}, "Deployment/web: metadata.labels[Example.com/tier]: key must have a DNS subdomain "
         "prefix (lowercase letters, digits, '-' and '.') before '/', got 'Example.com/tier'"),  # fmt: skip
    case(deployment, "metadata.labels", {"tier": "web tier"}, "Deployment/web: metadata.labels[tier]: must be empty or at most 63 letters, digits, "
         "'-', '_' and '.', starting and ending with a letter or digit, got 'web tier'"),  # fmt: skip
    case(deployment, "metadata.labels", {"version": 2}, "Deployment/web: metadata.labels[version]: must be a string, got 2"),
    case(deployment, "metadata.labels", {"sshorch.io/owner": "x"}, "Deployment/web: metadata.labels[sshorch.io/owner]: key must not use the "
         "sshorch.io/ prefix, which is reserved for the labels sshorch sets, got 'sshorch.io/owner'"),  # fmt: skip
    case(deployment, "metadata.annotations", {"sshorch.io/replicas": "3"}, "Deployment/web: metadata.annotations[sshorch.io/replicas]: "
         "unknown sshorch annotation; known: sshorch.io/auto-rollback, sshorch.io/depends-on, sshorch.io/stored-secret"),  # fmt: skip
    case(deployment, "metadata.annotations", {"sshorch.io/auto-rollback": "yes"},
         "Deployment/web: metadata.annotations[sshorch.io/auto-rollback]: must be \"true\" or \"false\", got 'yes'"),  # fmt: skip
    case(config_map, "metadata.annotations", {"sshorch.io/auto-rollback": "true"},
         "ConfigMap/settings: metadata.annotations[sshorch.io/auto-rollback]: only allowed on DaemonSet or Deployment"),  # fmt: skip
    case(deployment, "spec.template.metadata.annotations", {"sshorch.io/depends-on": "job/migrate"},
         "Deployment/web: spec.template.metadata.annotations[sshorch.io/depends-on]: only allowed on an object's metadata, not on a pod template"),  # fmt: skip
    case(deployment, "metadata.annotations", {"sshorch.io/depends-on": "deploy/db"},
         "Deployment/web: metadata.annotations[sshorch.io/depends-on]: must be comma-separated kind/name references of objects in the same "
         "namespace (kinds: configmap, cronjob, daemonset, deployment, horizontalpodautoscaler, job, secret, service), got 'deploy/db'"),  # fmt: skip
    # --- images ---
    case(deployment, f"{C}.image", "nginx; rm -rf /", f"Deployment/web: {C}.image: {METACHARACTERS}, got 'nginx; rm -rf /'"),
    case(deployment, f"{C}.image", "nginx:$(id)", f"Deployment/web: {C}.image: {METACHARACTERS}, got 'nginx:$(id)'"),
    case(deployment, f"{C}.image", "nginx\n", f"Deployment/web: {C}.image: {METACHARACTERS}, got 'nginx\\n'"),
    case(deployment, f"{C}.image", "", f"Deployment/web: {C}.image: must not be empty, got ''"),
    case(deployment, f"{C}.image", DELETE, f"Deployment/web: {C}.image: is required"),
    case(deployment, f"{C}.image", "Library/Nginx", f"Deployment/web: {C}.image: must be an image reference "
         "[registry[:port]/]path[:tag][@sha256:digest] with a lowercase path, got 'Library/Nginx'"),  # fmt: skip
    case(deployment, f"{C}.image", "-v/x", f"Deployment/web: {C}.image: must be an image reference "
         "[registry[:port]/]path[:tag][@sha256:digest] with a lowercase path, got '-v/x'"),  # fmt: skip
    # --- paths ---
    case(deployment, f"{C}.volumeMounts", [{"name": "data", "mountPath": "data"}], f"Deployment/web: {C}.volumeMounts[0].mountPath: "
         "must be an absolute path, got 'data'", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    case(deployment, f"{C}.volumeMounts", [{"name": "data", "mountPath": "/srv/../etc"}], f"Deployment/web: {C}.volumeMounts[0].mountPath: "
         "must not contain '..' components, got '/srv/../etc'", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    case(deployment, f"{C}.volumeMounts", [{"name": "data", "mountPath": "/data:rw"}], f"Deployment/web: {C}.volumeMounts[0].mountPath: "
         "must not contain ':', ',' or control characters, got '/data:rw'", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    case(deployment, f"{C}.volumeMounts", [{**MOUNT, "subPath": "../x"}], f"Deployment/web: {C}.volumeMounts[0].subPath: "
         "must not contain '..' components, got '../x'", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    case(deployment, f"{C}.volumeMounts", [{**MOUNT, "subPath": "/x"}], f"Deployment/web: {C}.volumeMounts[0].subPath: "
         "must be a relative path, got '/x'", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    case(deployment, f"{POD}.volumes", [{"name": "logs", "hostPath": {"path": "var/log"}}],
         f"Deployment/web: {POD}.volumes[0].hostPath.path: must be an absolute path, got 'var/log'"),  # fmt: skip
    case(deployment, f"{POD}.volumes", [{"name": "c", "configMap": {"name": "settings", "items": [{"key": "LEVEL", "path": "/etc/a"}]}}],
         f"Deployment/web: {POD}.volumes[0].configMap.items[0].path: must be a relative path, got '/etc/a'"),  # fmt: skip
    case(deployment, f"{C}.workingDir", "srv", f"Deployment/web: {C}.workingDir: must be an absolute path, got 'srv'"),
    # --- volumes ---
    case(deployment, f"{POD}.volumes", [{"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}}],
         f"Deployment/web: {POD}.volumes[0]: must have exactly one of configMap, emptyDir, hostPath, persistentVolumeClaim, secret, downwardAPI"),  # fmt: skip
    case(deployment, f"{POD}.volumes", [{"name": "v"}],
         f"Deployment/web: {POD}.volumes[0]: must have exactly one of configMap, emptyDir, hostPath, persistentVolumeClaim, secret, downwardAPI"),  # fmt: skip
    case(deployment, f"{POD}.volumes", [{"name": "v", "nfs": {}}], f"Deployment/web: {POD}.volumes[0].nfs: unsupported field; "
         "supported here: name, configMap, emptyDir, hostPath, persistentVolumeClaim, secret, downwardAPI"),  # fmt: skip
    case(deployment, f"{POD}.volumes", [{"name": "v", "emptyDir": {"medium": "HugePages"}}],
         f"Deployment/web: {POD}.volumes[0].emptyDir.medium: must be '' or Memory, got 'HugePages'"),  # fmt: skip
    case(deployment, f"{POD}.volumes", [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}],
         f"Deployment/web: {POD}.volumes[1].name: must be unique in the pod, got 'v' twice"),  # fmt: skip
    case(deployment, f"{C}.volumeMounts", [MOUNT], f"Deployment/web: {C}.volumeMounts[0].name: must name a volume of the pod (it has none), got 'data'"),
    case(deployment, f"{C}.volumeMounts", [{**MOUNT, "name": "cache"}], f"Deployment/web: {C}.volumeMounts[0].name: must name one of the pod's "
         "volumes (data), got 'cache'", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    case(deployment, f"{C}.volumeMounts", [MOUNT, MOUNT], f"Deployment/web: {C}.volumeMounts[1].mountPath: must be unique in the container, "
         "got '/data' twice", (f"{POD}.volumes", DATA_VOLUME)),  # fmt: skip
    # --- containers and ports in a pod ---
    case(deployment, f"{POD}.containers[1]", {"name": "web", "image": "busybox"}, f"Deployment/web: {POD}.containers[1].name: must be unique "
         "in the pod, got 'web' twice"),  # fmt: skip
    case(deployment, f"{C}.ports", [{"containerPort": 80}, {"containerPort": 80}],
         f"Deployment/web: {C}.ports[1].containerPort: must be unique in the pod per protocol, got 80/TCP twice"),  # fmt: skip
    case(deployment, f"{POD}.containers[1]", {"name": "side", "image": "busybox", "ports": [{"containerPort": 81, "hostPort": 80}]},
         f"Deployment/web: {POD}.containers[1].ports[0].hostPort: must be unique in the pod per protocol, got 80/TCP twice",
         (f"{C}.ports", [{"containerPort": 80, "hostPort": 80}])),  # fmt: skip
    case(deployment, f"{C}.ports", [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}],
         f"Deployment/web: {C}.ports[1].name: must be unique in the pod, got 'http' twice"),  # fmt: skip
    case(deployment, f"{POD}.restartPolicy", "Never", f"Deployment/web: {POD}.restartPolicy: must be Always for a Deployment, got 'Never'"),
    case(job, f"{POD}.restartPolicy", DELETE, f"Job/migrate: {POD}.restartPolicy: must be OnFailure or Never for a Job"),
    case(job, f"{POD}.restartPolicy", "Always", f"Job/migrate: {POD}.restartPolicy: must be OnFailure or Never for a Job, got 'Always'"),
    case(cron_job, f"spec.jobTemplate.{POD}.restartPolicy", DELETE, f"CronJob/report: spec.jobTemplate.{POD}.restartPolicy: must be OnFailure or Never for a Job"),
    # --- env ---
    case(deployment, f"{C}.env", [{"name": "A", "value": "1", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "A"}}}],
         f"Deployment/web: {C}.env[0].valueFrom: must not be set together with value"),  # fmt: skip
    case(deployment, f"{C}.env", [{"name": "A", "valueFrom": {"fileKeyRef": {"path": "a", "key": "b"}}}],
         f"Deployment/web: {C}.env[0].valueFrom.fileKeyRef: unsupported field; supported here: configMapKeyRef, secretKeyRef, "
         "fieldRef, resourceFieldRef"),  # fmt: skip
    case(deployment, f"{C}.envFrom", [{"configMapRef": {"name": "settings"}, "secretRef": {"name": "creds"}}],
         f"Deployment/web: {C}.envFrom[0]: must have exactly one of configMapRef, secretRef"),  # fmt: skip
    # --- probes ---
    case(deployment, f"{C}.readinessProbe", {"httpGet": {"path": "healthz", "port": 8080}},
         f"Deployment/web: {C}.readinessProbe.httpGet.path: must start with '/' and contain no whitespace or control characters, got 'healthz'"),  # fmt: skip
    case(deployment, f"{C}.readinessProbe", {"httpGet": {"path": "/", "port": 8080}, "exec": {"command": ["true"]}},
         f"Deployment/web: {C}.readinessProbe: must have exactly one of exec, httpGet, tcpSocket, grpc"),  # fmt: skip
    case(deployment, f"{C}.readinessProbe", {"gRPC": {"port": 9000}}, f"Deployment/web: {C}.readinessProbe.gRPC: unsupported field; supported here: "
         "exec, httpGet, tcpSocket, grpc, initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold"),  # fmt: skip
    case(deployment, f"{C}.livenessProbe", {"tcpSocket": {"port": "http"}}, f"Deployment/web: {C}.livenessProbe.tcpSocket.port: must be a port "
         "number or the name of one of the container's ports (it has none), got 'http'"),  # fmt: skip
    case(deployment, f"{C}.livenessProbe", {"tcpSocket": {"port": 8080}, "successThreshold": 2},
         f"Deployment/web: {C}.livenessProbe.successThreshold: must be 1 for liveness and startup probes, got 2"),  # fmt: skip
    case(deployment, f"{C}.livenessProbe", {"tcpSocket": {"port": 8080}, "periodSeconds": 0},
         f"Deployment/web: {C}.livenessProbe.periodSeconds: must be an integer >= 1, got 0"),  # fmt: skip
    case(deployment, f"{C}.livenessProbe", {"exec": {"command": []}}, f"Deployment/web: {C}.livenessProbe.exec.command: is required and must not be empty"),
    # --- upper bounds (spec/limits.py) ---
    case(deployment, "spec.replicas", 5001, "Deployment/web: spec.replicas: must be an integer 0-5000, got 5001"),
    case(deployment, "spec.replicas", 10**30, "Deployment/web: spec.replicas: must be an integer 0-5000, got 100000000000... (31 digits)"),
    case(job, "spec.parallelism", 100000, "Job/migrate: spec.parallelism: must be an integer 0-5000, got 100000"),
    case(autoscaler, "spec.maxReplicas", 6000, "HorizontalPodAutoscaler/web: spec.maxReplicas: must be an integer 1-5000, got 6000"),
    case(deployment, f"{C}.livenessProbe", {"tcpSocket": {"port": 8080}, "timeoutSeconds": 61},
         f"Deployment/web: {C}.livenessProbe.timeoutSeconds: must be an integer 1-60, got 61"),  # fmt: skip
    case(deployment, f"{C}.readinessProbe", {"tcpSocket": {"port": 8080}, "periodSeconds": 2**31},
         f"Deployment/web: {C}.readinessProbe.periodSeconds: must be an integer at most 2147483647, got 2147483648"),  # fmt: skip
    case(deployment, f"{C}.startupProbe", {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 10**400},
         f"Deployment/web: {C}.startupProbe.initialDelaySeconds: must be an integer at most 2147483647, got 100000000000... (401 digits)"),  # fmt: skip
    case(deployment, f"{POD}.terminationGracePeriodSeconds", 301,
         f"Deployment/web: {POD}.terminationGracePeriodSeconds: must be an integer 0-300, got 301"),  # fmt: skip
    case(deployment, "spec.progressDeadlineSeconds", 2**31, "Deployment/web: spec.progressDeadlineSeconds: must be an integer at most 2147483647, got 2147483648"),
    case(job, "spec.activeDeadlineSeconds", 2**63, "Job/migrate: spec.activeDeadlineSeconds: must be an integer at most 2147483647, got 9223372036854775808"),
    case(cron_job, "spec.jobTemplate.spec.activeDeadlineSeconds", 2**40,
         "CronJob/report: spec.jobTemplate.spec.activeDeadlineSeconds: must be an integer at most 2147483647, got 1099511627776"),  # fmt: skip
    # --- resources ---
    case(deployment, f"{C}.resources", {"requests": {"cpu": "5x"}},
         f"Deployment/web: {C}.resources.requests.cpu: must be a CPU quantity such as 500m, 0.5 or 2, got '5x'"),  # fmt: skip
    case(deployment, f"{C}.resources", {"limits": {"memory": "128m"}},
         f"Deployment/web: {C}.resources.limits.memory: must be a memory quantity such as 128Mi, 1Gi, 500M or 1000000 (bytes); "
         "the 'm' suffix means a fraction of a byte, use Mi or M, got '128m'"),  # fmt: skip
    case(deployment, f"{C}.resources", {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}},
         f"Deployment/web: {C}.resources.limits.cpu: must not be below the request (1), got 500m"),  # fmt: skip
    case(deployment, f"{C}.resources", {"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}},
         f"Deployment/web: {C}.resources.limits.memory: must not be below the request (1Gi), got 512Mi"),  # fmt: skip
    # --- selectors and strategies ---
    case(deployment, "spec.selector", DELETE, "Deployment/web: spec.selector: is required"),
    case(deployment, "spec.selector", {}, "Deployment/web: spec.selector: must not be empty: give matchLabels or matchExpressions"),
    case(deployment, "spec.selector.matchLabels", {"app": "api"},
         "Deployment/web: spec.selector: must match the pod template's labels (spec.template.metadata.labels: app=web)"),  # fmt: skip
    case(deployment, "spec.selector.matchExpressions", [{"key": "app", "operator": "NotIn", "values": ["web"]}],
         "Deployment/web: spec.selector: must match the pod template's labels (spec.template.metadata.labels: app=web)"),  # fmt: skip
    case(deployment, "spec.selector.matchExpressions", [{"key": "app", "operator": "Is", "values": ["web"]}],
         "Deployment/web: spec.selector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist, got 'Is'"),  # fmt: skip
    case(deployment, "spec.selector.matchExpressions", [{"key": "app", "operator": "In"}],
         "Deployment/web: spec.selector.matchExpressions[0].values: must not be empty for operator In"),  # fmt: skip
    case(deployment, "spec.strategy.rollingUpdate", {"maxSurge": 0, "maxUnavailable": "0%"},
         "Deployment/web: spec.strategy.rollingUpdate.maxUnavailable: must not be 0 when maxSurge is 0"),  # fmt: skip
    case(deployment, "spec.strategy.rollingUpdate", {"maxSurge": "150%"},
         "Deployment/web: spec.strategy.rollingUpdate.maxSurge: must be an integer >= 0 or a percentage 0%-100%, got '150%'"),  # fmt: skip
    case(deployment, "spec.strategy.rollingUpdate", {"maxUnavailable": "3"},
         "Deployment/web: spec.strategy.rollingUpdate.maxUnavailable: must be an integer >= 0 or a percentage 0%-100%, got '3'"),  # fmt: skip
    case(deployment, "spec.strategy", {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}},
         "Deployment/web: spec.strategy.rollingUpdate: must not be set when type is Recreate"),  # fmt: skip
    case(deployment, "spec.minReadySeconds", 700, "Deployment/web: spec.progressDeadlineSeconds: must be greater than minReadySeconds (700), got 600"),
    case(daemon_set, "spec.updateStrategy", {"type": "OnDelete"}, "DaemonSet/agent: spec.updateStrategy.type: must be RollingUpdate, got 'OnDelete'"),
    case(daemon_set, "spec.updateStrategy", {"rollingUpdate": {"maxUnavailable": 0}},
         "DaemonSet/agent: spec.updateStrategy.rollingUpdate.maxUnavailable: must not be 0 (sshorch has no maxSurge for DaemonSets), got 0"),  # fmt: skip
    case(deployment, f"{POD}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
         [{"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["two"]}]}],
         f"Deployment/web: {POD}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
         ".matchExpressions[0].values: must be one integer for operator Gt"),  # fmt: skip
    # --- services ---
    case(service, "spec.ports", DELETE, "Service/web: spec.ports: is required and must not be empty"),
    case(service, "spec.selector", DELETE, "Service/web: spec.selector: is required: sshorch has no manual Endpoints"),
    case(service, "spec.ports[0].nodePort", 30080, "Service/web: spec.ports[0].nodePort: is only allowed when type is NodePort or LoadBalancer, got type ClusterIP"),
    case(service, "spec.ports[0].nodePort", 70000, "Service/web: spec.ports[0].nodePort: must be an integer 1-65535, got 70000", ("spec.type", "NodePort")),
    case(service, "spec.clusterIP", "None", "Service/web: spec.clusterIP: headless Services (clusterIP: None) are not supported; "
         "omit clusterIP or give an IPv4 address"),  # fmt: skip
    case(service, "spec.clusterIP", "10.96.0", "Service/web: spec.clusterIP: must be an IPv4 address, got '10.96.0'"),
    case(service, "spec.type", "ExternalName", "Service/web: spec.type: must be ClusterIP, NodePort or LoadBalancer, got 'ExternalName'"),
    case(service, "spec.ports[0].targetPort", "8080", f"Service/web: spec.ports[0].targetPort: must be a port number 1-65535 or a port name; "
         f"a name {PORT_NAME}, got '8080'"),  # fmt: skip
    case(service, "spec.ports[1]", {"port": 443}, "Service/web: spec.ports: every port must have a name when a Service has more than one"),
    case(service, "spec.sessionAffinity", "ClientIP", "Service/web: spec.sessionAffinity: unsupported field; supported here: type, selector, ports, clusterIP, "
         "externalTrafficPolicy, loadBalancerSourceRanges, allocateLoadBalancerNodePorts, loadBalancerIP, loadBalancerClass"),  # fmt: skip
    # --- cron jobs ---
    case(cron_job, "spec.schedule", "61 * * * *", "CronJob/report: spec.schedule: must be a cron schedule: 5 fields (minute hour day-of-month month "
         "day-of-week) or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (minute: 61 is out of range 0-59), got '61 * * * *'"),  # fmt: skip
    case(cron_job, "spec.timeZone", "Mars/Olympus", "CronJob/report: spec.timeZone: must be an IANA time zone name such as Europe/Berlin or Etc/UTC, "
         "got 'Mars/Olympus'"),  # fmt: skip
    case(cron_job, "spec.concurrencyPolicy", "Never", "CronJob/report: spec.concurrencyPolicy: must be Allow, Forbid or Replace, got 'Never'"),
    # --- autoscalers ---
    case(autoscaler, "spec.scaleTargetRef.kind", "StatefulSet",
         "HorizontalPodAutoscaler/web: spec.scaleTargetRef.kind: must be Deployment, got 'StatefulSet'"),  # fmt: skip
    case(autoscaler, "spec.minReplicas", 6, "HorizontalPodAutoscaler/web: spec.maxReplicas: must be at least minReplicas (6), got 5"),
    case(autoscaler, "spec.minReplicas", 0, "HorizontalPodAutoscaler/web: spec.minReplicas: must be an integer 1-5000, got 0"),
    case(autoscaler, "spec.metrics", [{"type": "Pods", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
         "HorizontalPodAutoscaler/web: spec.metrics[0].type: must be Resource, got 'Pods'"),  # fmt: skip
    case(autoscaler, "spec.metrics", [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}],
         "HorizontalPodAutoscaler/web: spec.metrics[0].resource.target.averageUtilization: is required when type is Utilization"),  # fmt: skip
    case(autoscaler, "spec.metrics", [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Value"}}}],
         "HorizontalPodAutoscaler/web: spec.metrics[0].resource.target.type: must be Utilization or AverageValue, got 'Value'"),  # fmt: skip
    case(autoscaler, "spec.metrics", [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "AverageValue", "value": 1}}}],
         "HorizontalPodAutoscaler/web: spec.metrics[0].resource.target.value: unsupported field; supported here: type, averageUtilization, averageValue"),  # fmt: skip
    # --- config maps and secrets ---
    case(config_map, "data", {"a b": "x"}, "ConfigMap/settings: data[a b]: key must be a file name of letters, digits, '-', '_' and '.' (not '.' or '..'), "
         "got 'a b'"),  # fmt: skip
    case(config_map, "data", {"port": 8080}, "ConfigMap/settings: data[port]: must be a string, got 8080"),
    case(config_map, "immutable", True, "ConfigMap/settings: immutable: unsupported field; supported here: apiVersion, kind, metadata, data, binaryData"),
    case(secret, "data", {"password": "not base64!"}, "Secret/creds: data[password]: must be base64-encoded"),
    case(secret, "stringData", {"pin": 1234}, "Secret/creds: stringData[pin]: must be a string, got an integer"),
    case(secret, "type", "kubernetes.io/tls", "Secret/creds: data: must have the key 'tls.crt' for type kubernetes.io/tls"),
    # --- kinds ---
    case(deployment, "kind", "Pod", "Pod/web: kind: not run alone; write a Deployment with replicas: 1, or a Job"),
    case(deployment, "kind", "Deploy", "Deploy/web: kind: must be a kind sshorch runs (ConfigMap, Secret, Deployment, DaemonSet, "
         "Service, Job, CronJob, HorizontalPodAutoscaler), got 'Deploy'"),  # fmt: skip
    case(deployment, "apiVersion", "extensions/v1beta1", "Deployment/web: apiVersion: must be apps/v1 for Deployment, got 'extensions/v1beta1'"),
    case(job, "apiVersion", DELETE, "Job/migrate: apiVersion: must be batch/v1 for Job"),
]


@pytest.mark.parametrize(("document", "expected"), CASES)
def test_one_bad_field_gives_one_line(document: dict[str, Any], expected: str) -> None:
    # Objects the document may refer to, unless it is one of them.
    metadata = document.get("metadata")
    key = (document["kind"], metadata.get("name") if isinstance(metadata, dict) else None)
    others = [doc for doc in (config_map(), secret(), deployment()) if (doc["kind"], doc["metadata"]["name"]) != key]
    assert problems(document, *others) == [f"web.yaml: {expected}"]


def test_secret_values_never_appear_in_messages() -> None:
    doc = secret(password="hunter2")
    doc["data"] = {"token": "hunter2 is not base64", "pin": 1234, "list": ["hunter2"]}
    doc["stringData"] = {"password": {"hunter2": "hunter2"}}
    text = "\n".join(problems(doc))
    assert "hunter2" not in text and "1234" not in text
    assert text.count("\n") == 3


def test_every_problem_of_every_document_is_reported_in_order() -> None:
    bad_web = changed(changed(deployment(), "spec.replicas", "2"), f"{C}.image", "bad image")
    bad_api = changed(service("api"), "spec.type", "ExternalName")
    lines = problems(bad_api, file="b.yaml") + problems(bad_web, file="a.yaml")
    from sshorch.spec import ManifestError, parse_documents
    from sshorch.spec.model import Source

    with pytest.raises(ManifestError) as raised:
        parse_documents([(Source("b.yaml", 0), bad_api), (Source("a.yaml", 0), bad_web), (Source("a.yaml", 1), job("j"))])
    assert [str(p) for p in raised.value.problems] == lines[1:] + lines[:1]
    assert str(raised.value) == "\n".join(lines[1:] + lines[:1])
