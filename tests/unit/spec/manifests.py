"""Small valid manifests to start tests from, and helpers to change and parse them."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from sshorch.spec import ManifestError, parse_documents
from sshorch.spec.model import Desired, Source

DELETE = object()


def deployment(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "localhost/sshorch/web:v1"}]},
            },
        },
    }


def config_map(name: str = "settings", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {"LEVEL": "info"}}


def secret(name: str = "creds", **string_data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": string_data or {"password": "hunter2"}}


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def job(name: str = "migrate") -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]}}},
    }


def cron_job(name: str = "report") -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": job()["spec"]}},
    }


def autoscaler(name: str = "web", target: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}, "maxReplicas": 5},
    }


def daemon_set(name: str = "agent") -> dict[str, Any]:
    doc = deployment(name)
    doc["kind"] = "DaemonSet"
    return doc


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def changed(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with the field at a dotted path (``a.b[0].c``) set, or removed with DELETE."""
    result = copy.deepcopy(document)
    steps: list[str | int] = [key if key else int(i) for key, i in _STEP.findall(path)]
    target: Any = result
    for step in steps[:-1]:
        if isinstance(step, str) and step not in target:
            target[step] = {}
        target = target[step]
    if value is DELETE:
        del target[steps[-1]]
    elif isinstance(target, list) and steps[-1] == len(target):
        target.append(value)
    else:
        target[steps[-1]] = value
    return result


def parse(*documents: dict[str, Any], file: str = "web.yaml") -> Desired:
    return parse_documents([(Source(file, i), doc) for i, doc in enumerate(documents)])


def problems(*documents: dict[str, Any], file: str = "web.yaml") -> list[str]:
    """The problem lines of documents that must be invalid."""
    with pytest.raises(ManifestError) as raised:
        parse(*documents, file=file)
    return [str(problem) for problem in raised.value.problems]
