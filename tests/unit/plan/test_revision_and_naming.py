"""Revisions (pod template + the content of what it reads) and pod names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import replace
from typing import Any

import pytest

from sshorch.inventory.model import FrozenMap
from sshorch.plan.naming import PodIdentity, pod_labels, pod_name, suffix, workload_key
from sshorch.plan.revision import UnkeyedSecretHash, canonical, content_hash, digest, revision_hash
from sshorch.plan.revision import used_objects
from sshorch.spec.model import ConfigMap, ObjectMeta, Secret, SecretBytes, Source

from tests.unit.spec.manifests import changed, deployment as manifest, parse

from .helpers import HASH_KEY, config_map, deployment, desired, revision_of, secret, workload_of

VOLUME: dict[str, Any] = {"volumes": [{"name": "cfg", "configMap": {"name": "settings"}}],
          "volume_mounts": [{"name": "cfg", "mountPath": "/etc/web"}]}
ENV_FROM: dict[str, Any] = {"env_from": [{"configMapRef": {"name": "settings"}}]}
KEY_REF: dict[str, Any] = {"env": [{"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}}]}
SECRET_ENV: dict[str, Any] = {"env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}]}


def rev(*docs: dict[str, Any]) -> str:
    return revision_of(desired(*docs), "web")


@pytest.mark.parametrize("use", [VOLUME, ENV_FROM, KEY_REF], ids=["volume", "envFrom", "configMapKeyRef"])
def test_changing_a_used_config_map_changes_the_revision(use: dict[str, Any]) -> None:
    before = rev(config_map("settings", LEVEL="info"), deployment("web", **use))
    after = rev(config_map("settings", LEVEL="debug"), deployment("web", **use))
    assert before != after


@pytest.mark.parametrize("use", [VOLUME, ENV_FROM, KEY_REF], ids=["volume", "envFrom", "configMapKeyRef"])
def test_changing_an_unrelated_config_map_does_not(use: dict[str, Any]) -> None:
    before = rev(config_map("settings", LEVEL="info"), config_map("other", X="1"), deployment("web", **use))
    after = rev(config_map("settings", LEVEL="info"), config_map("other", X="2"), deployment("web", **use))
    assert before == after


def test_changing_a_used_secret_changes_the_revision() -> None:
    assert rev(secret("creds", pw="a"), deployment("web", **SECRET_ENV)) != rev(secret("creds", pw="b"), deployment("web", **SECRET_ENV))


def test_secret_as_data_or_string_data_is_the_same_revision() -> None:
    as_data = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
               "data": {"pw": base64.b64encode(b"a").decode()}}
    assert rev(as_data, deployment("web", **SECRET_ENV)) == rev(secret("creds", pw="a"), deployment("web", **SECRET_ENV))


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"replicas": 5}, True),
        ({"depends_on": ["deployment/db"]}, True),
        ({"image": "localhost/web:v2"}, False),
        ({"ports": [8080]}, False),
        ({"requests": {"cpu": "100m"}}, False),
    ],
)
def test_what_is_in_the_revision(change: dict[str, Any], same: bool) -> None:
    db = deployment("db")
    assert (rev(db, deployment("web", **change)) == rev(db, deployment("web"))) is same


def test_revision_is_ten_hex_digits_and_ignores_where_the_manifest_came_from() -> None:
    d = desired(deployment("web"))
    moved = desired(config_map("x"), deployment("web"))  # other document index
    assert re.fullmatch(r"[0-9a-f]{10}", revision_of(d, "web"))
    assert revision_of(moved, "web") == revision_of(d, "web")


def test_used_objects() -> None:
    d = desired(config_map("settings"), secret("creds", pw="x"),
                deployment("web", **{**VOLUME, **SECRET_ENV}))
    assert used_objects(workload_of(d, "web").template) == {("ConfigMap", "settings"), ("Secret", "creds")}


def test_revision_hash_does_not_depend_on_the_order_of_uses() -> None:
    template = workload_of(desired(deployment("web")), "web").template
    assert revision_hash(template, {"a": "1", "b": "2"}) == revision_hash(template, {"b": "2", "a": "1"})
    assert revision_hash(template, {"a": "1"}) != revision_hash(template, {"a": "2"})


SECRET = Secret(ObjectMeta("Secret", "creds", source=Source("app.yaml", 3)), data=FrozenMap({"pw": SecretBytes(b"hunter2")}))


def test_canonical_shows_secret_values_only_as_their_hmac_with_the_clusters_key() -> None:
    """Not a plain hash: one that shows in a revision or a pod name would let anyone test a
    guessed value against it (a PIN, a short password)."""
    shown = canonical(SECRET, HASH_KEY)
    assert shown["data"] == {"pw": {"hmac-sha256": hmac.new(HASH_KEY, b"hunter2", hashlib.sha256).hexdigest()}}
    text = json.dumps(shown)
    assert "hunter2" not in text and base64.b64encode(b"hunter2").decode() not in text
    assert hashlib.sha256(b"hunter2").hexdigest() not in text


def test_secret_content_is_never_hashed_without_a_key() -> None:
    with pytest.raises(UnkeyedSecretHash):
        canonical(SECRET)
    with pytest.raises(UnkeyedSecretHash):
        content_hash(SECRET)
    assert canonical(ConfigMap(ObjectMeta("ConfigMap", "a"), data=FrozenMap({"k": "v"})))  # nothing secret: no key needed


def test_secret_hashes_differ_between_clusters_and_config_hashes_do_not() -> None:
    config = ConfigMap(ObjectMeta("ConfigMap", "a"), data=FrozenMap({"k": "v"}))
    assert content_hash(SECRET, b"cluster-a") != content_hash(SECRET, b"cluster-b")
    assert content_hash(config, b"cluster-a") == content_hash(config, b"cluster-b") == content_hash(config)
    with_secret = deployment("web", **SECRET_ENV)
    assert revision_of(desired(secret("creds", pw="x"), with_secret), "web") != revision_of(
        replace(desired(secret("creds", pw="x"), with_secret), hash_key=b"other"), "web")
    plain = deployment("web", **VOLUME)  # no Secret: the revision does not depend on the key
    assert revision_of(desired(config_map("settings"), plain), "web") == revision_of(
        replace(desired(config_map("settings"), plain), hash_key=b"other"), "web")


def test_canonical_of_a_parsed_secret_and_its_workload_hides_the_value() -> None:
    d = desired(secret("creds", pw="hunter2"), deployment("web", **SECRET_ENV))
    text = json.dumps([canonical(o, HASH_KEY) for o in d.objects])
    assert "hunter2" not in text and "aHVudGVyMg" not in text


def test_canonical_drops_the_source_and_hashes_bytes() -> None:
    assert "source" not in canonical(SECRET, HASH_KEY)["meta"]
    assert canonical(b"x") == {"sha256": hashlib.sha256(b"x").hexdigest()}
    assert canonical({"b": (1, 2), "a": None}) == {"a": None, "b": [1, 2]}


def test_content_hash_follows_content_only() -> None:
    a = ConfigMap(ObjectMeta("ConfigMap", "a"), data=FrozenMap({"k": "v"}))
    b = ConfigMap(ObjectMeta("ConfigMap", "b", source=Source("x.yaml")), data=FrozenMap({"k": "v"}))
    c = ConfigMap(ObjectMeta("ConfigMap", "a"), data=FrozenMap({"k": "w"}))
    assert content_hash(a) == content_hash(b) != content_hash(c)
    other = Secret(ObjectMeta("Secret", "creds"), data=FrozenMap({"pw": SecretBytes(b"other")}))
    assert content_hash(SECRET, HASH_KEY) != content_hash(other, HASH_KEY)
    assert len(digest("x", 10)) == 10


# --- names ---------------------------------------------------------------------


def test_pod_name_scheme_is_owner_revision_suffix() -> None:
    """Pinned: pods are known by their labels, so a rename does not replace running pods,
    but two versions naming pods differently would each make their own."""
    assert pod_name("prod", "default", "web", "0123456789", "0") == "web-0123456789-pzhbf"
    assert pod_name("prod", "default", "web", "0123456789", "1") == "web-0123456789-b9b5v"


def test_the_same_workload_in_two_namespaces_or_clusters_has_other_pod_names() -> None:
    # A node's pod names are one space for every namespace and cluster on it.
    names = {pod_name(c, ns, "web", "0123456789", "0") for c in ("prod", "test") for ns in ("default", "shop")}
    assert len(names) == 4


def test_pod_name_is_a_hostname_even_for_long_owners() -> None:
    name = pod_name("prod", "default", "a" * 63, "0123456789", "0")
    assert len(name) == 63 and name.startswith("a" * 46 + "-0123456789-")
    assert name != pod_name("prod", "default", "a" * 62, "0123456789", "0")


def test_suffix_is_deterministic_and_uses_the_kubernetes_alphabet() -> None:
    values = {suffix("web", "r", str(i)) for i in range(200)}
    assert len(values) == 200
    assert all(re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{5}", v) for v in values)
    assert suffix("web", "r", "0") == suffix("web", "r", "0")
    assert len(suffix("web", "r", "0", length=8)) == 8


def test_pod_labels() -> None:
    identity = PodIdentity("prod", "deployment", "shop", "web", "0123456789", "2")
    assert identity.workload == workload_key("Deployment", "shop", "web") == "deployment/shop/web"
    assert pod_labels(identity, ("configs/shop/a-1", "secrets/shop/b-2")) == (
        ("sshorch.io/cluster", "prod"),
        ("sshorch.io/namespace", "shop"),
        ("sshorch.io/kind", "deployment"),
        ("sshorch.io/owner", "web"),
        ("sshorch.io/revision", "0123456789"),
        ("sshorch.io/pod", identity.name),
        ("sshorch.io/slot", "2"),
        ("sshorch.io/files", "configs/shop/a-1,secrets/shop/b-2"),
    )
    assert dict(pod_labels(identity)).get("sshorch.io/files") is None


def test_security_settings_leave_old_revisions_alone_and_make_new_ones() -> None:
    def revision(document: dict[str, Any]) -> str:
        template = parse(document).objects[0].template  # type: ignore[union-attr]
        return revision_hash(template, {})

    # The hash of a template without securityContext, as it was before the field existed.
    assert revision(manifest()) == "fff90a4ef7"
    pod = changed(manifest(), "spec.template.spec.securityContext.runAsUser", 1000)
    container = changed(manifest(), "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem", True)
    assert len({revision(manifest()), revision(pod), revision(container)}) == 3
