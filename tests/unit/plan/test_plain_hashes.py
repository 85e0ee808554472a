"""Upgrading to keyed Secret hashes restarts nothing: workloads whose pods carry the
revision of plain hashes keep it until they change."""

from __future__ import annotations

from dataclasses import replace

from sshorch.plan.revision import with_plain_hashes, workload_revision
from sshorch.spec.model import Desired
from tests.unit.plan.helpers import deployment, desired, moves, observe, observed_pod, run, secret, workload_of

SECRET_ENV = [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}]


def app(password: str = "hunter2") -> Desired:
    return desired(secret("creds", pw=password), deployment("web", replicas=2, env=SECRET_ENV), deployment("plain", replicas=1))


def plain(d: Desired, name: str) -> str:
    return workload_revision(workload_of(d, name), replace(d, plain_hashed=frozenset({f"deployment/default/{name}"})))


def test_a_workload_using_a_secret_hashes_differently_keyed_and_plain() -> None:
    d = app()
    assert plain(d, "web") != workload_revision(workload_of(d, "web"), d)
    assert plain(d, "plain") == workload_revision(workload_of(d, "plain"), d)  # no Secret: one hash


def test_pods_of_the_plain_revision_are_kept_after_the_upgrade() -> None:
    d = app()
    pods = [observed_pod(d, "web", i, f"n{i + 1}", revision=plain(d, "web")) for i in range(2)]
    pods.append(observed_pod(d, "plain", 0, "n3"))
    observed = observe(*pods)
    upgraded = with_plain_hashes(d, observed.pods(), {})
    assert upgraded.plain_hashed == {"deployment/default/web"}
    assert run(upgraded, observed).empty
    assert with_plain_hashes(upgraded, observed.pods(), {}) is upgraded


def test_a_changed_secret_rolls_to_a_keyed_revision() -> None:
    before = app()
    pods = [observed_pod(before, "web", i, f"n{i + 1}", revision=plain(before, "web")) for i in range(2)]
    changed = with_plain_hashes(app("rotated"), pods, {})
    assert changed.plain_hashed == frozenset()
    assert {kind for kind, _, _ in moves(run(changed, observe(*pods)))} == {"create-pod"}


def test_pods_already_keyed_stay_keyed() -> None:
    d = app()
    pods = [observed_pod(d, "web", i, f"n{i + 1}") for i in range(2)]
    assert with_plain_hashes(d, pods, {}).plain_hashed == frozenset()
