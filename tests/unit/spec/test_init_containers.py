"""A pod spec's initContainers: parsed as containers are, one line per problem, part of the
revision."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.plan.revision import canonical, revision_hash, used_objects
from sshorch.spec.fields import Fields, Report
from sshorch.spec.model import Container, Deployment, PodSpec, PodTemplate
from sshorch.spec.podspec import RESTART_POLICIES, parse_pod_spec

from .manifests import changed, deployment, parse

POD = "spec.template.spec"
INIT = f"{POD}.initContainers"
SEED = {"name": "seed", "image": "busybox:1.36", "command": ["sh", "-c", "echo one >> /data/log"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}  # fmt: skip
PROXY = {"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always",
         "startupProbe": {"tcpSocket": {"port": 9901}}}  # fmt: skip


def pod_spec(init: list[Any]) -> tuple[PodSpec, list[str]]:
    """The pod spec of the test deployment with these initContainers, and its problems."""
    spec = changed(changed(deployment(), f"{POD}.volumes", [{"name": "data", "emptyDir": {}}]), INIT, init)["spec"]["template"]["spec"]
    report = Report("web.yaml", "Deployment/web")
    allowed = (*spec, "initContainers")
    parsed = parse_pod_spec(Fields(report, spec, POD, allowed), restart_policies=RESTART_POLICIES, kind="Deployment")
    return parsed, [f"{p.path}: {p.message}" for p in report.problems]


def test_init_containers_are_read_in_order_with_the_container_fields() -> None:
    spec, found = pod_spec([SEED, PROXY])
    assert found == []
    seed, proxy = spec.init_containers
    assert (seed.name, seed.command, seed.volume_mounts[0].mount_path, seed.sidecar) == ("seed", ("sh", "-c", "echo one >> /data/log"), "/data", False)
    assert proxy.sidecar and proxy.startup_probe is not None
    assert not any(c.sidecar for c in spec.containers)


@pytest.mark.parametrize(
    ("init", "expected"),
    [
        ([{**SEED, "restartPolicy": "Never"}], f"{INIT}[0].restartPolicy: must be Always, got 'Never'"),
        ([{**SEED, "readinessProbe": {"tcpSocket": {"port": 80}}}],
         f"{INIT}[0].readinessProbe: must not be set on an init container unless its restartPolicy is Always (a sidecar)"),
        ([{**SEED, "livenessProbe": {"tcpSocket": {"port": 80}}}],
         f"{INIT}[0].livenessProbe: must not be set on an init container unless its restartPolicy is Always (a sidecar)"),
        ([SEED, SEED], f"{INIT}[1].name: must be unique among the pod's containers and initContainers, got 'seed' twice"),
        ([{**SEED, "name": "web"}], f"{INIT}[0].name: must be unique among the pod's containers and initContainers, got 'web' twice"),
        ([{**SEED, "volumeMounts": [{"name": "cache", "mountPath": "/c"}]}],
         f"{INIT}[0].volumeMounts[0].name: must name one of the pod's volumes (data), got 'cache'"),
        ([{**SEED, "stdin": True}], f"{INIT}[0].stdin: unsupported field; supported here: name, image, command, args, workingDir, env, "
         "envFrom, ports, resources, volumeMounts, livenessProbe, readinessProbe, startupProbe, imagePullPolicy, securityContext, restartPolicy"),
        ([{"name": "seed"}], f"{INIT}[0].image: is required"),
        ({"seed": SEED}, f"{INIT}: must be a list, got a mapping"),
    ],
)  # fmt: skip
def test_a_bad_init_container_is_one_line(init: Any, expected: str) -> None:
    _, found = pod_spec(init)
    assert found == [expected]


def test_a_sidecar_probe_is_checked_as_a_container_probe() -> None:
    _, found = pod_spec([{**PROXY, "startupProbe": {"tcpSocket": {"port": "admin"}}}])
    assert len(found) == 1 and found[0].startswith(f"{INIT}[0].startupProbe.tcpSocket.port:")


def test_a_manifest_with_init_containers_loads() -> None:
    doc = changed(changed(deployment(), f"{POD}.volumes", [{"name": "data", "emptyDir": {}}]), INIT, [SEED])
    (web,) = [o for o in parse(doc).objects if isinstance(o, Deployment)]
    assert [c.name for c in web.template.spec.init_containers] == ["seed"]
    (web,) = [o for o in parse(changed(deployment(), INIT, [])).objects if isinstance(o, Deployment)]
    assert web.template.spec.init_containers == ()


def test_a_changed_init_container_is_a_new_revision_and_none_changes_no_revision() -> None:
    (web,) = [o for o in parse(deployment()).objects if isinstance(o, Deployment)]
    plain = web.template
    shape = canonical(plain)
    assert "init_containers" not in shape["spec"]
    assert "sidecar" not in shape["spec"]["containers"][0]
    seeded, _ = pod_spec([SEED])
    with_init = PodTemplate(plain.labels, plain.annotations, seeded)
    without = PodTemplate(plain.labels, plain.annotations, PodSpec(seeded.containers, seeded.volumes))
    changed_init = PodTemplate(plain.labels, plain.annotations, PodSpec(
        seeded.containers, seeded.volumes, init_containers=(Container("seed", "busybox:1.37"),)))  # fmt: skip
    hashes = {revision_hash(t, {}) for t in (with_init, without, changed_init)}
    assert len(hashes) == 3
    sidecar, _ = pod_spec([{**SEED, "restartPolicy": "Always"}])
    assert revision_hash(PodTemplate(plain.labels, plain.annotations, sidecar), {}) != revision_hash(with_init, {})


def test_configs_an_init_container_reads_are_part_of_the_revision() -> None:
    reads = [{**SEED, "envFrom": [{"configMapRef": {"name": "settings"}}], "env": [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}]}]  # fmt: skip
    spec, found = pod_spec(reads)
    assert found == []
    assert used_objects(PodTemplate(spec=spec)) == {("ConfigMap", "settings"), ("Secret", "creds")}
