"""The kinds sshorch implements and the one apiVersion each is written with."""

from __future__ import annotations

API_VERSIONS: dict[str, str] = {
    "ConfigMap": "v1",
    "Secret": "v1",
    "Deployment": "apps/v1",
    "DaemonSet": "apps/v1",
    "Service": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
}

# kubectl-style lowercase kinds, as in `sshorch.io/depends-on: deployment/db`.
KINDS_BY_LOWERCASE: dict[str, str] = {kind.lower(): kind for kind in API_VERSIONS}

SUPPORTED = ", ".join(f"{version} {kind}" for kind, version in API_VERSIONS.items())
