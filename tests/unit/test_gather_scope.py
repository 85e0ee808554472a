"""What a converge gather reads: only what the desired state needs (each costs a runtime call per node)."""

from __future__ import annotations

import pytest

from sshorch.run.apply import gather_scope
from sshorch.observe.cluster import GatherScope, gather_facts
from sshorch.observe.facts import parse_runtime_path, render_gather_script
from tests.unit.spec.manifests import autoscaler, changed, cron_job, deployment, parse

CLAIM = {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}
MOUNT = {"name": "data", "mountPath": "/data"}


def with_claim(document: dict, template: str = "spec.template.spec") -> dict:  # type: ignore[type-arg]
    document = changed(document, f"{template}.volumes", [CLAIM])
    return changed(document, f"{template}.containers[0].volumeMounts", [MOUNT])


def test_a_plain_deployment_needs_neither_cpu_nor_volumes() -> None:
    assert gather_scope(parse(deployment())) == GatherScope()


def test_an_autoscaler_needs_cpu() -> None:
    assert gather_scope(parse(deployment(), autoscaler())) == GatherScope(cpu=True)


@pytest.mark.parametrize("document", [
    with_claim(deployment()),
    with_claim(cron_job(), "spec.jobTemplate.spec.template.spec"),
], ids=["deployment", "cronjob"])
def test_a_pod_mounting_a_named_volume_needs_volumes(document: dict) -> None:  # type: ignore[type-arg]
    assert gather_scope(parse(document)).volumes


def test_the_gather_reads_volumes_and_cpu_only_when_asked_and_never_the_runtime_version() -> None:
    plain = render_gather_script(gather_facts("podman", "c"))
    assert "volume ls" not in plain and "stats" not in plain and "--version" not in plain
    assert "command -v podman" in plain
    full = render_gather_script(gather_facts("podman", "c", GatherScope(cpu=True, volumes=True)))
    assert "podman volume ls" in full and "podman stats" in full


def test_runtime_path() -> None:
    assert parse_runtime_path("/usr/bin/podman\n") == {"runtime": "podman", "version": ""}
    with pytest.raises(ValueError):
        parse_runtime_path("")
