"""A pod's imagePullSecrets on its node: one credentials file (docker's config.json), mode
0600 in the pod's own directory under the cluster's secrets root, the pulls made with it,
rewritten in place when a Secret changes (no restart) and removed with the last pod."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from sshorch.nodefiles import cluster_run_dir
from sshorch.observe.cluster import Observed
from sshorch.plan.model import ActionKind, Step
from sshorch.plan.naming import PodIdentity
from sshorch.plan.podbuild import NodeTarget, PodBuildError, build_pod
from sshorch.plan.registryauth import merged_auths
from sshorch.runtime.authpull import PULL
from sshorch.spec.model import Desired, Secret

from .helpers import (
    CLUSTER, RUN_DIR, deployment, desired, moves, name_of, observe, observed_pod, revision_of, run, the_action, workload_of,
)

SECRETS = f"{cluster_run_dir(CLUSTER)}/secrets"
IMAGE = "registry.example:5000/shop/web:v1"
NEW = {"auth": "bmV3Om5ldw=="}
OLD = {"auth": "b2xkOm9sZA=="}


def registry_secret(name: str, auths: dict[str, Any], kind: str = "dockerconfigjson") -> dict[str, Any]:
    value = {"auths": auths} if kind == "dockerconfigjson" else auths
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": f"kubernetes.io/{kind}",
            "stringData": {f".{kind}": json.dumps(value)}}  # fmt: skip


def web(*names: str) -> dict[str, Any]:
    doc = deployment("web", image=IMAGE)
    doc["spec"]["template"]["spec"]["imagePullSecrets"] = [{"name": n} for n in names]
    return doc


def app(auth: dict[str, str] = NEW) -> Desired:
    return desired(registry_secret("registry", {"registry.example:5000": auth}), web("registry"))


def auth_dir(d: Desired) -> str:
    return f"{SECRETS}/default/pull_{name_of(d, 'web', 0)}"


def test_the_credentials_are_one_root_only_file_in_the_pods_own_directory() -> None:
    d = app()
    (create,) = run(d).actions
    directory = auth_dir(d)
    assert [(f.path, f.mode, f.uid, f.secret) for f in create.files] == [(f"{directory}/config.json", 0o600, 0, True)]
    assert json.loads(create.files[0].data()) == {"auths": {"registry.example:5000": NEW}}
    assert create.uses == (directory,)
    assert create.steps[:3] == (
        Step(("mkdir", "-p", "-m", "0700", SECRETS, f"{SECRETS}/default")),
        Step(("mkdir", "-p", "-m", "0755", directory)),
        Step(("sh", "-c", PULL, "sshorch-pull", IMAGE, "missing", "podman", "pull", "-q", "--authfile",
              f"{directory}/config.json", IMAGE)),
    )  # fmt: skip
    assert "never" in create.steps[4].argv and "missing" not in create.steps[4].argv  # the run pulls no more


def test_several_secrets_are_merged_the_first_winning_for_a_registry_and_dockercfg_converted() -> None:
    first = registry_secret("first", {"registry.example:5000": NEW})
    second = registry_secret("second", {"registry.example:5000": OLD, "other.example": OLD}, kind="dockercfg")
    d = desired(first, second)
    secrets = [s for s in d.of_kind("Secret") if isinstance(s, Secret)]
    assert json.loads(merged_auths(secrets).reveal()) == {"auths": {"registry.example:5000": NEW, "other.example": OLD}}
    assert json.loads(merged_auths(secrets[::-1]).reveal()) == {"auths": {"registry.example:5000": OLD, "other.example": OLD}}


def test_the_credentials_are_no_part_of_the_revision_but_the_names_are() -> None:
    assert revision_of(app(NEW), "web") == revision_of(app(OLD), "web")
    renamed = desired(registry_secret("mirror", {"registry.example:5000": NEW}), web("mirror"))
    assert revision_of(renamed, "web") != revision_of(app(), "web")


def with_checksums(observed: Observed, sums: dict[str, str]) -> Observed:
    return Observed(tuple(dataclasses.replace(n, checksums=sums) for n in observed.nodes))


def running(d: Desired, content: bytes) -> Observed:
    """web's pod on n1, its credentials file on the node holding `content`."""
    directory = auth_dir(d)
    pod = observed_pod(d, "web", 0, "n1", files=[directory.removeprefix(RUN_DIR + "/")])
    return with_checksums(observe(pod, file_dirs={"n1": [directory]}),
                          {f"{directory}/config.json": hashlib.sha256(content).hexdigest()})  # fmt: skip


def test_a_changed_secret_rewrites_the_file_and_restarts_nothing() -> None:
    old, new = app(OLD), app(NEW)
    assert run(new, running(new, merged_auths(_secrets(new)).reveal())).empty
    plan = run(new, running(old, merged_auths(_secrets(old)).reveal()))
    assert moves(plan) == [("write-files", "n1", name_of(new, "web", 0))]
    (action,) = plan.actions
    assert [json.loads(f.data()) for f in action.files] == [{"auths": {"registry.example:5000": NEW}}]


def test_a_new_pod_sends_the_file_when_the_nodes_copy_differs() -> None:
    """The directory is named by the pod, so a pod made again under its name may find it
    (with the node's checksums telling whether it is current)."""
    d = app()
    directory = auth_dir(d)
    stale = with_checksums(observe(file_dirs={"n1": [directory]}), {f"{directory}/config.json": "0" * 64})
    (create,) = [a for a in run(d, stale).actions if a.kind == ActionKind.CREATE_POD]
    assert [f.path for f in create.files] == [f"{directory}/config.json"]
    current = with_checksums(observe(file_dirs={"n1": [directory]}),
                             {f"{directory}/config.json": hashlib.sha256(merged_auths(_secrets(d)).reveal()).hexdigest()})
    (create,) = [a for a in run(d, current).actions if a.kind == ActionKind.CREATE_POD]
    assert create.files == ()


def test_the_directory_goes_when_no_pod_needs_it() -> None:
    d = app()
    plan = run(desired(), observe(observed_pod(d, "web", 0, "n1", files=[auth_dir(d).removeprefix(RUN_DIR + "/")]),
                                  file_dirs={"n1": [auth_dir(d)]}))  # fmt: skip
    assert moves(plan)[-1] == ("remove-files", "n1", "1 dirs")
    assert the_action(plan, "remove-files", "1 dirs").steps == (Step(("rm", "-rf", "--", auth_dir(d))),)


def test_a_pod_without_pull_secrets_has_no_credentials() -> None:
    (create,) = run(desired(deployment("web", image=IMAGE))).actions
    assert create.files == () and not any("--authfile" in s.argv for s in create.steps)


def test_a_recorded_state_naming_a_missing_secret_is_a_build_error() -> None:
    d = app()
    gone = dataclasses.replace(d, objects=tuple(o for o in d.objects if o.meta.kind != "Secret"))
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(d, "web"), "0")
    with pytest.raises(PodBuildError, match="imagePullSecrets: no Secret 'registry'"):
        build_pod(identity, workload_of(d, "web").template, gone, NodeTarget("n1", "10.0.0.1", "podman"), {})


def _secrets(d: Desired) -> list[Secret]:
    return [s for s in d.of_kind("Secret") if isinstance(s, Secret)]
