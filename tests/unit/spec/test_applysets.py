"""Apply sets: an apply changes its own set's objects and leaves every other recorded object alone."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.applysets import (
    ObjectId,
    Recorded,
    apply_set,
    check_applyset_name,
    default_applyset,
    legacy_records,
    object_id,
)


def doc(kind: str, name: str, namespace: str | None = None, image: str = "web:v1") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": {"image": image}}


SHOP = [Recorded("shop", doc("Deployment", "web")), Recorded("shop", doc("Service", "web")), Recorded("shop", doc("ConfigMap", "cfg"))]
HELLO = [Recorded("hello", doc("Deployment", "hello"))]


@pytest.mark.parametrize(("paths", "name"), [
    (["examples/shop/"], "shop"),
    (["examples/shop"], "shop"),
    (["web.yaml", "db.yaml"], "db+web"),
    (["templates/web-service.yaml.j2"], "web-service"),
    (["./Apps/My App.yml"], "my-app"),
    (["a.yaml", "dir/a.yaml"], "a"),
    ([], "default"),
])
def test_the_default_set_is_named_after_the_paths(paths: list[str], name: str) -> None:
    assert default_applyset(paths) == name and check_applyset_name(name) is None


def test_a_long_default_name_ends_in_a_hash_of_the_paths() -> None:
    paths = [f"app{i:02d}-long-name.yaml" for i in range(9)]
    name = default_applyset(paths)
    assert len(name) == 63 and name.startswith("app00-long-name+app01-long-name+") and check_applyset_name(name) is None
    assert name != default_applyset([*paths, "one-more.yaml"])


def test_a_set_name_is_checked() -> None:
    assert check_applyset_name("shop") is None and check_applyset_name("db+web") is None
    for bad in ("", "Shop", "-shop", "shop/", "x" * 64):
        assert check_applyset_name(bad) is not None, bad


def test_an_object_is_its_kind_namespace_and_name() -> None:
    assert object_id(doc("Deployment", "web")) == ObjectId("Deployment", "default", "web")
    assert object_id(doc("Deployment", "web", "prod")) == ObjectId("Deployment", "prod", "web")
    assert object_id(doc("PriorityClass", "high", "prod")) == ObjectId("PriorityClass", "", "high")
    assert str(ObjectId("Deployment", "prod", "web")) == "deployment/web (namespace prod)"
    assert str(ObjectId("Deployment", "default", "web")) == "deployment/web"


def test_applying_a_new_app_leaves_the_others_alone() -> None:
    result = apply_set(SHOP, [doc("Deployment", "hello")], "hello", prune=False)
    assert [r.applyset for r in result.documents] == ["shop", "shop", "shop", "hello"]
    assert result.created == (ObjectId("Deployment", "default", "hello"),)
    assert (result.pruned, result.left, result.moved, result.others) == ((), (), (), 3)


def test_an_update_replaces_the_objects_document() -> None:
    result = apply_set([*SHOP, *HELLO], [doc("Deployment", "web", image="web:v2"), doc("Service", "web")], "shop", prune=False)
    web = [r for r in result.documents if object_id(r.document) == ObjectId("Deployment", "default", "web")]
    assert [r.document["spec"]["image"] for r in web] == ["web:v2"]
    # the ConfigMap the files no longer hold stays, and is said to stay
    assert result.left == (ObjectId("ConfigMap", "default", "cfg"),) and result.pruned == ()
    assert len(result.documents) == 4 and result.created == ()


def test_prune_removes_only_its_own_sets_leftovers() -> None:
    result = apply_set([*SHOP, *HELLO], [doc("Deployment", "web")], "shop", prune=True)
    assert result.pruned == (ObjectId("Service", "default", "web"), ObjectId("ConfigMap", "default", "cfg"))
    assert [(r.applyset, object_id(r.document).name) for r in result.documents] == [("hello", "hello"), ("shop", "web")]


def test_prune_with_an_empty_set_of_files_keeps_the_other_sets() -> None:
    result = apply_set([*SHOP, *HELLO], [], "hello", prune=True)
    assert result.pruned == (ObjectId("Deployment", "default", "hello"),)
    assert [r.applyset for r in result.documents] == ["shop", "shop", "shop"]


def test_an_object_applied_from_another_set_moves_to_it() -> None:
    result = apply_set([*SHOP, *HELLO], [doc("Deployment", "hello"), doc("ConfigMap", "cfg")], "hello", prune=True)
    assert result.moved == ((ObjectId("ConfigMap", "default", "cfg"), "shop"),)
    assert result.pruned == () and result.others == 2
    owners = {object_id(r.document).name: r.applyset for r in result.documents}
    assert owners["cfg"] == "hello"


def test_the_same_name_in_two_namespaces_is_two_objects() -> None:
    result = apply_set(SHOP, [doc("Deployment", "web", "staging")], "staging", prune=True)
    assert result.created == (ObjectId("Deployment", "staging", "web"),) and len(result.documents) == 4


def test_a_record_from_before_sets_is_one_set_named_after_its_paths() -> None:
    records = legacy_records([doc("Deployment", "web"), doc("Service", "web")], "examples/shop")
    assert {r.applyset for r in records} == {"shop"}
    assert {r.applyset for r in legacy_records([doc("Deployment", "web")], "web.yaml,db.yaml")} == {"db+web"}
    assert {r.applyset for r in legacy_records([doc("Deployment", "web")], "")} == {"default"}
