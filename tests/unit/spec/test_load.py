from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sshorch.spec import ManifestError, load_desired, load_documents
from sshorch.spec.model import Deployment, Source

from .manifests import config_map, deployment, secret


def write(path: Path, *documents: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_directories_are_read_recursively_in_order_skipping_hidden_and_other_files(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", config_map("b"))
    write(tmp_path / "a" / "z.yml", config_map("az"))
    write(tmp_path / "c.yaml.j2", config_map("c"))
    (tmp_path / "d.json").write_text(json.dumps(config_map("d")))
    write(tmp_path / ".hidden.yaml", config_map("hidden"))
    write(tmp_path / ".git" / "x.yaml", config_map("git"))
    write(tmp_path / "notes.txt", config_map("txt"))
    write(tmp_path / "e.j2", config_map("plain-j2"))
    names = [doc["metadata"]["name"] for _, doc in load_documents([tmp_path])]
    assert names == ["az", "b", "c", "d"]


def test_a_file_given_by_name_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = write(tmp_path / "manifest.txt", config_map())
    assert load_documents([path]) == [(Source(str(path), 0), config_map())]


def test_multi_documents_empty_documents_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "all.yaml"
    items = {"apiVersion": "v1", "kind": "List", "items": [config_map("in-list-1"), config_map("in-list-2")]}
    path.write_text("---\n" + yaml.safe_dump(config_map("first")) + "---\n---\n# only a comment\n---\n" + yaml.safe_dump(items))
    assert [(source.document, doc["metadata"]["name"]) for source, doc in load_documents([path])] == [
        (0, "first"), (3, "in-list-1"), (3, "in-list-2"),
    ]  # fmt: skip


def test_yaml_errors_name_the_line_and_keep_earlier_documents(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(deployment()) + "---\napiVersion: v1\nkind: ConfigMap\n  bad: indent\n")
    with pytest.raises(ManifestError) as raised:
        load_documents([path])
    line = yaml.safe_dump(deployment()).count("\n") + 4
    # The wording after "invalid YAML:" is the YAML library's (libyaml or pure Python).
    assert str(raised.value).startswith(f"{path}: line {line}: invalid YAML: mapping values are not allowed ")


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text("kind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    with pytest.raises(ManifestError) as raised:
        load_documents([path])
    assert str(raised.value) == f"{path}: line 4: invalid YAML: duplicate key 'name'"
    merged = tmp_path / "merge.yaml"
    merged.write_text("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n")
    assert load_documents([merged])[0][1]["other"] == {"x": 2}


def test_dates_stay_strings(tmp_path: Path) -> None:
    path = write(tmp_path / "cm.yaml", {})
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {since: 2024-01-01}\n")
    assert load_documents([path])[0][1]["data"] == {"since": "2024-01-01"}


def test_json_and_non_object_documents(tmp_path: Path) -> None:
    bad_json = tmp_path / "a.json"
    bad_json.write_text('{"kind": "ConfigMap",\n "x": }')
    scalar = tmp_path / "b.yaml"
    scalar.write_text("just text\n---\n- a list\n")
    with pytest.raises(ManifestError) as raised:
        load_documents([tmp_path])
    assert [str(p) for p in raised.value.problems] == [
        f"{bad_json}: line 2: invalid JSON: Expecting value",
        f"{scalar}: document 1: must be a mapping (a Kubernetes object), got 'just text'",
        f"{scalar}: document 2: must be a mapping (a Kubernetes object), got a list",
    ]


def test_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError) as raised:
        load_documents([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [str(p) for p in raised.value.problems] == [
        f"{tmp_path}/empty: no manifests (*.yaml, *.yml, *.json, or those with .j2) in this directory",
        f"{tmp_path}/nope.yaml: no such file or directory",
    ]


def test_load_desired_reports_load_and_parse_problems_together_sorted_by_file(tmp_path: Path) -> None:
    bad_doc = dict(deployment(), replicas=2)
    write(tmp_path / "b.yaml", config_map(), bad_doc)
    (tmp_path / "a.yaml").write_text("a: [\n")
    with pytest.raises(ManifestError) as raised:
        load_desired([tmp_path])
    first, second = [str(p) for p in raised.value.problems]
    assert first.startswith(f"{tmp_path}/a.yaml: line 2: invalid YAML: ")
    assert second == f"{tmp_path}/b.yaml: Deployment/web: replicas: unsupported field; supported here: apiVersion, kind, metadata, spec"


def test_load_desired(tmp_path: Path) -> None:
    write(tmp_path / "app.yaml", deployment(), config_map(), secret())
    desired = load_desired([tmp_path / "app.yaml"])
    assert [obj.meta.kind for obj in desired.objects] == ["Deployment", "ConfigMap", "Secret"]
    assert isinstance(desired.objects[0], Deployment)
    assert desired.objects[0].meta.source == Source(str(tmp_path / "app.yaml"), 0)
    assert desired.documents == (deployment(), config_map(), secret())
