"""A pod's imagePullSecrets: each a Secret of the manifests of a registry credentials type,
whose value is the JSON its type says; a ServiceAccount's are refused, pointing at the pod."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sshorch.secrets.resolve import SecretSources, resolve_secrets
from sshorch.spec import parse_documents
from sshorch.spec.model import Source
from sshorch.spec.pullsecrets import RegistryAuthError, registry_auths

from .manifests import DELETE, changed, deployment, parse, problems, secret

POD = "spec.template.spec"
AUTHS = {"registry.example:5000": {"auth": "dXNlcjpwYXNz"}}
RULE = "it must be of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg to hold registry credentials"


def registry_secret(name: str = "registry", kind: str = "dockerconfigjson", value: object = None) -> dict[str, Any]:
    key = "." + kind
    if value is None:
        value = {"auths": AUTHS} if kind == "dockerconfigjson" else AUTHS
    text = value if isinstance(value, str) else json.dumps(value)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": f"kubernetes.io/{kind}",
            "stringData": {key: text}}  # fmt: skip


def pulling(*entries: Any) -> dict[str, Any]:
    return changed(deployment(), f"{POD}.imagePullSecrets", list(entries))


def test_names_are_kept_in_order() -> None:
    desired = parse(pulling({"name": "registry"}, {"name": "old"}), registry_secret(), registry_secret("old", "dockercfg"))
    (web,) = desired.of_kind("Deployment")
    assert web.template.spec.image_pull_secrets == ("registry", "old")  # type: ignore[attr-defined]


def test_without_the_field_there_are_none() -> None:
    (web,) = parse(deployment()).of_kind("Deployment")
    assert web.template.spec.image_pull_secrets == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ([pulling({"name": "registry"})],
         f"{POD}.imagePullSecrets[0].name: Secret 'registry' is not defined in the manifests"),
        ([pulling({"name": "creds"}), secret()],
         f"{POD}.imagePullSecrets[0].name: Secret 'creds' is of type Opaque; {RULE}"),
        ([pulling({}), registry_secret()], f"{POD}.imagePullSecrets[0].name: is required"),
        ([pulling({"name": "Registry"}), registry_secret()],
         f"{POD}.imagePullSecrets[0].name: must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', "
         "starting and ending with a letter or digit), got 'Registry'"),
        ([pulling({"name": "registry", "namespace": "x"}), registry_secret()],
         f"{POD}.imagePullSecrets[0].namespace: unsupported field; supported here: name"),
        ([changed(deployment(), f"{POD}.imagePullSecrets", "registry"), registry_secret()],
         f"{POD}.imagePullSecrets: must be a list, got 'registry'"),
    ],
)  # fmt: skip
def test_each_name_is_a_registry_secret_of_the_manifests(documents: list[dict[str, Any]], expected: str) -> None:
    assert problems(*documents) == [f"web.yaml: Deployment/web: {expected}"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (registry_secret(value="{not json"), "data[.dockerconfigjson]: must be a docker config.json: a JSON object with "
                                              'an "auths" object of registry to credentials'),
        (registry_secret(value={"auths": ["x"]}), "data[.dockerconfigjson]: must be a docker config.json: a JSON object "
                                                  'with an "auths" object of registry to credentials'),
        (registry_secret(kind="dockercfg", value={"registry.example": "x"}),
         "data[.dockercfg]: must be a .dockercfg: a JSON object of registry to credentials"),
        (changed(registry_secret(kind="dockercfg"), "stringData", {"other": "x"}),
         "data: must have the key '.dockercfg' for type kubernetes.io/dockercfg"),
    ],
)  # fmt: skip
def test_a_registry_secret_holds_the_json_of_its_type(document: dict[str, Any], expected: str) -> None:
    assert problems(document) == [f"web.yaml: Secret/registry: {expected}"]


def test_a_bad_registry_secret_shows_no_value() -> None:
    text = "\n".join(problems(registry_secret(value='{"auths": "hunter2"}')))
    assert "hunter2" not in text


@pytest.mark.parametrize(
    ("secret_type", "value", "auths"),
    [
        ("kubernetes.io/dockerconfigjson", {"auths": AUTHS}, AUTHS),
        ("kubernetes.io/dockerconfigjson", {"credsStore": "desktop"}, {}),  # only auths is read, as the kubelet does
        ("kubernetes.io/dockercfg", AUTHS, AUTHS),
    ],
)  # fmt: skip
def test_registry_auths_read_both_formats(secret_type: str, value: object, auths: object) -> None:
    key = ".dockercfg" if secret_type.endswith("dockercfg") else ".dockerconfigjson"
    assert registry_auths(secret_type, {key: json.dumps(value).encode()}) == auths


def test_registry_auths_refuse_what_is_not_their_format() -> None:
    with pytest.raises(RegistryAuthError):
        registry_auths("kubernetes.io/dockercfg", {".dockercfg": b'{"auths": 1}'})


def test_a_service_account_s_pull_secrets_belong_on_the_pod() -> None:
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "shop"}, "imagePullSecrets": [{"name": "registry"}]}
    assert problems(account, registry_secret()) == [
        "web.yaml: ServiceAccount/shop: imagePullSecrets: a ServiceAccount's pull secrets are not given to its pods here; "
        "put them on the pod spec (spec.template.spec.imagePullSecrets)"
    ]
    parse(changed(account, "imagePullSecrets", DELETE))


def test_a_registry_secret_may_take_its_value_from_the_secret_store() -> None:
    """The Secret is in the manifests (as for secretKeyRef), its value kept by `sshorch secret set`."""
    stored = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
              "metadata": {"name": "registry", "annotations": {"sshorch.io/stored-secret": "registry"}}}  # fmt: skip
    value = json.dumps({"auths": AUTHS}).encode()
    store = SecretSources(stored=lambda ns, name: {".dockerconfigjson": value} if (ns, name) == ("default", "registry") else None,
                          vault_password=lambda: b"")  # fmt: skip
    documents = [(Source("web.yaml", i), doc) for i, doc in enumerate((pulling({"name": "registry"}), stored))]
    resolved, warnings = resolve_secrets(documents, store)
    (secret,) = parse_documents(resolved).of_kind("Secret")
    assert registry_auths(secret.type, {k: v.reveal() for k, v in secret.data.items()}) == AUTHS  # type: ignore[attr-defined]
    assert warnings == []
