"""An apply of one set, as plan and apply show it, and the documents it validates."""

from __future__ import annotations

from typing import Any

from sshorch.run.setapply import SetChoice, merged_documents, set_json, set_lines
from sshorch.spec.applysets import Recorded, apply_set
from sshorch.spec.model import Source


def doc(kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}


RECORDED = [Recorded("shop", doc("Deployment", "web")), Recorded("shop", doc("ConfigMap", "cfg")),
            Recorded("hello", doc("Deployment", "hello"))]


def test_the_set_its_news_and_the_other_sets_are_said() -> None:
    change = apply_set(RECORDED, [doc("Deployment", "api")], "api", prune=False)
    assert set_lines(change, SetChoice("api")) == ["apply set api: 1 object (1 new); 3 objects of other sets left as they are"]


def test_leftovers_are_kept_and_said_or_pruned() -> None:
    kept = apply_set(RECORDED, [doc("Deployment", "web")], "shop", prune=False)
    assert set_lines(kept, SetChoice("shop")) == [
        "apply set shop: 2 objects; 1 object of other sets left as they are",
        "info: apply set shop: no longer in the files, kept: configmap/cfg (--prune removes what is no longer in them)",
    ]
    pruned = apply_set(RECORDED, [doc("Deployment", "web")], "shop", prune=True)
    assert set_lines(pruned, SetChoice("shop", prune=True)) == [
        "apply set shop: 1 object; 1 object of other sets left as they are",
        "prune: configmap/cfg (apply set shop, no longer in the files)",
    ]
    assert set_json(pruned, "shop") == {"name": "shop", "objects": 1, "created": [], "moved": [], "pruned": ["configmap/cfg"],
                                        "left": [], "others": 1}


def test_the_files_documents_keep_their_sources_and_the_others_say_their_set() -> None:
    files = [(Source("web.yaml", 0), doc("Deployment", "web"))]
    change = apply_set(RECORDED, [d for _, d in files], "shop", prune=False)
    merged = merged_documents(files, change)
    sources = {d["metadata"]["name"]: s.file for s, d in merged}
    assert sources == {"web": "web.yaml", "cfg": "recorded (apply set shop)", "hello": "recorded (apply set hello)"}


def test_an_object_twice_in_the_files_is_there_twice_with_both_sources() -> None:
    files = [(Source("a.yaml", 0), doc("Deployment", "web")), (Source("b.yaml", 0), doc("Deployment", "web"))]
    change = apply_set(RECORDED, [d for _, d in files], "shop", prune=True)
    assert [s.file for s, _ in merged_documents(files, change)] == ["recorded (apply set hello)", "a.yaml", "b.yaml"]
