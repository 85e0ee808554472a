"""Names unique per namespace and cluster, and clusters made before that kept as they are."""

from __future__ import annotations

import dataclasses
import hashlib

from sshorch.observe.cluster import Observed
from sshorch.observe.owned import ObservedPod
from sshorch.plan.model import ActionKind
from sshorch.plan.naming import PodIdentity, pod_labels, suffix
from tests.unit.plan.helpers import (
    CLUSTER, RUN_DIR, config_map, deployment, desired, moves, observe, observed_container, revision_of, run,
)

APP = desired(
    config_map("settings", LEVEL="info"),
    deployment("web", replicas=2, volumes=[{"name": "cfg", "configMap": {"name": "settings"}}],
               volume_mounts=[{"name": "cfg", "mountPath": "/etc/web"}]),
)
(NEW_DIR,) = run(APP).actions[0].uses
# Where the same ConfigMap volume's files went before directories were scoped by cluster.
LEGACY_DIR = NEW_DIR.replace(f"/clusters/{CLUSTER}/", "/")


def legacy_pod(slot: int, node: str) -> ObservedPod:
    """A pod as a version before the scoping made it: named without cluster and
    namespace, its files under the legacy roots."""
    revision = revision_of(APP, "web")
    name = f"web-{revision}-{suffix('web', revision, str(slot))}"
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision, str(slot), given_name=name)
    return ObservedPod(
        name=name, node=node, labels=dict(pod_labels(identity, (LEGACY_DIR.removeprefix(RUN_DIR + "/"),))),
        status="Running", containers=(observed_container(f"{name}-main", labels={"sshorch.io/container": "main"}),),
        ports=(),
    )


def with_checksums(observed: Observed, sums: dict[str, str]) -> Observed:
    return Observed(tuple(dataclasses.replace(n, checksums=sums) for n in observed.nodes))


def test_pods_made_before_names_were_scoped_are_kept_as_they_are() -> None:
    pods = [legacy_pod(0, "n1"), legacy_pod(1, "n2")]
    legacy_file = f"{LEGACY_DIR}/LEVEL"
    observed = with_checksums(observe(*pods, file_dirs={"n1": [LEGACY_DIR], "n2": [LEGACY_DIR]}),
                              {legacy_file: hashlib.sha256(b"info").hexdigest()})
    assert run(APP, observed).empty


def test_a_legacy_pods_files_are_repaired_where_it_reads_them() -> None:
    observed = with_checksums(observe(legacy_pod(0, "n1"), legacy_pod(1, "n2")), {})
    plan = run(APP, observed)
    assert {a.kind for a in plan.actions} == {ActionKind.WRITE_FILES}
    assert {f.path for a in plan.actions for f in a.files} == {f"{LEGACY_DIR}/LEVEL"}


def test_the_same_deployment_in_two_namespaces_gets_two_pod_names() -> None:
    two = desired(deployment("web", replicas=1), deployment("web", replicas=1, namespace="shop"))
    names = [target for _, _, target in moves(run(two, nodes=None))]
    assert len(names) == 2 and len(set(names)) == 2


def test_a_failed_create_undoes_only_a_pod_with_its_own_identity() -> None:
    (create,) = [a for a in run(APP).actions if a.kind == ActionKind.CREATE_POD][:1]
    assert create.undo and all(step.when is not None for step in create.undo)
    check = " ".join(create.undo[0].when or ())
    assert f"label=sshorch.io/cluster={CLUSTER}" in check and "label=sshorch.io/namespace=default" in check
    assert f"label=sshorch.io/pod={create.target}" in check
