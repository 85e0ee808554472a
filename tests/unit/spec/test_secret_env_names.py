"""Variables from a Secret must be shell names: they are set by a shell in the container, and a
name a shell cannot hold could only reach the container through an argv on the node."""

from __future__ import annotations

from typing import Any

import pytest

from .manifests import changed, deployment, parse, problems, secret

C = "spec.template.spec.containers[0]"
RULE = ("a shell variable name (letters, digits and '_', not starting with a digit) for a value from a Secret: "
        "secret variables are set by a shell in the container, never on a command line")  # fmt: skip


def with_env(env: list[dict[str, Any]] | None = None, env_from: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = deployment()
    if env is not None:
        doc = changed(doc, f"{C}.env", env)
    if env_from is not None:
        doc = changed(doc, f"{C}.envFrom", env_from)
    return doc


def from_secret(name: str, key: str = "password") -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "creds", "key": key}}}


@pytest.mark.parametrize("name", ["db.password", "db-password", "my.app.PW"])
def test_a_secret_key_ref_needs_a_shell_name(name: str) -> None:
    assert problems(with_env([from_secret(name)]), secret()) == [f"web.yaml: Deployment/web: {C}.env[0].name: must be {RULE}, got {name!r}"]


def test_plain_and_config_map_variables_keep_kubernetes_names() -> None:
    env = [{"name": "db.host", "value": "x"}, {"name": "log-level", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}},
           from_secret("DB_PASSWORD"), from_secret("_pw2")]  # fmt: skip
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"LEVEL": "info"}}
    parse(with_env(env), secret(), config)


@pytest.mark.parametrize(
    ("prefix", "keys", "bad"),
    [
        ("", {"tls.crt": "a", "ok": "b"}, "'tls.crt'"),
        ("APP-", {"PW": "a"}, "'APP-PW'"),
        ("", {"a.1": "x", "b-2": "x", "c.3": "x", "d.4": "x", "e.5": "x", "f.6": "x", "g.7": "x"},
         "'a.1', 'b-2', 'c.3', 'd.4', 'e.5' and 2 more"),
    ],
)  # fmt: skip
def test_env_from_a_secret_needs_shell_names_for_every_key(prefix: str, keys: dict[str, str], bad: str) -> None:
    doc = with_env(env_from=[{"prefix": prefix, "secretRef": {"name": "creds"}}])
    assert problems(doc, secret(**keys)) == [
        f"web.yaml: Deployment/web: {C}.envFrom[0].secretRef.name: Secret 'creds' would give the variables {bad}: each {RULE}"
    ]


def test_env_from_a_secret_with_shell_names_loads() -> None:
    parse(with_env(env_from=[{"prefix": "APP_", "secretRef": {"name": "creds"}}]), secret(PW="x", token_2="y"))
