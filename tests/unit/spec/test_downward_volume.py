"""downwardAPI volumes: what parses, one line per bad item, and the kubelet's file format."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.downwardvolume import format_map, go_quote
from sshorch.spec.model import Deployment, DownwardAPIFile, DownwardAPIVolume, FieldRef, ResourceFieldRef

from .manifests import changed, deployment, parse, problems

V = "spec.template.spec.volumes[0]"


def with_volume(source: Any) -> dict[str, Any]:
    return changed(deployment(), "spec.template.spec.volumes", [{"name": "info", "downwardAPI": source}])


def with_items(*items: Any, **fields: Any) -> dict[str, Any]:
    return with_volume({"items": list(items), **fields})


def name_file(path: str = "name") -> dict[str, Any]:
    return {"path": path, "fieldRef": {"fieldPath": "metadata.name"}}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({}, DownwardAPIVolume()),
        ({"items": [name_file()]}, DownwardAPIVolume((DownwardAPIFile("name", FieldRef("metadata.name")),))),
        ({"defaultMode": 0o400, "items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}, "mode": 0o600},
            {"path": "meta/annotations", "fieldRef": {"fieldPath": "metadata.annotations", "apiVersion": "v1"}},
            {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}},
            {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
            {"path": "mem", "resourceFieldRef": {"containerName": "web", "resource": "limits.memory", "divisor": "1Mi"}},
            {"path": "cpu", "resourceFieldRef": {"containerName": "web", "resource": "requests.cpu"}},
        ]},
         DownwardAPIVolume((
             DownwardAPIFile("labels", FieldRef("metadata.labels"), 0o600),
             DownwardAPIFile("meta/annotations", FieldRef("metadata.annotations")),
             DownwardAPIFile("ns", FieldRef("metadata.namespace")),
             DownwardAPIFile("app", FieldRef("metadata.labels['app']")),
             DownwardAPIFile("mem", ResourceFieldRef("web", "limits.memory", "1Mi")),
             DownwardAPIFile("cpu", ResourceFieldRef("web", "requests.cpu", "1")),
         ), 0o400)),
    ],
)  # fmt: skip
def test_downward_api_volume_parses(source: dict[str, Any], expected: DownwardAPIVolume) -> None:
    (web,) = parse(with_volume(source)).objects
    assert isinstance(web, Deployment)
    assert web.template.spec.volumes[0].source == expected


SUPPORTED = ("must be one of metadata.name, metadata.namespace, metadata.labels, metadata.annotations, "
             "metadata.labels['KEY'], metadata.annotations['KEY']")  # fmt: skip


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (with_items(name_file("/etc/name")), "items[0].path: must be a relative path, got '/etc/name'"),
        (with_items(name_file("a/../b")), "items[0].path: must not contain '..' components, got 'a/../b'"),
        (with_items(name_file("..data")), "items[0].path: must not start with '..', got '..data'"),
        (with_items(name_file("n"), name_file("n")), "items[1].path: must differ from items[0].path, got 'n' twice"),
        (with_items(name_file("n"), name_file("n/x")), "items[1].path: must not run through items[0].path ('n', a file), got 'n/x'"),
        (with_items({"path": "n"}), "items[0]: must have exactly one of fieldRef, resourceFieldRef"),
        (with_items({"path": "n", "fieldRef": {"fieldPath": "metadata.name"},
                     "resourceFieldRef": {"containerName": "web", "resource": "limits.cpu"}}),
         "items[0]: must have exactly one of fieldRef, resourceFieldRef"),
        (with_items({"fieldRef": {"fieldPath": "metadata.name"}}), "items[0].path: is required"),
        # The pod's address is for env only, as in Kubernetes.
        (with_items({"path": "ip", "fieldRef": {"fieldPath": "status.podIP"}}),
         "items[0].fieldRef.fieldPath: must be one of metadata.name, metadata.namespace, metadata.labels, "
         "metadata.annotations, metadata.labels['KEY'], metadata.annotations['KEY'], got 'status.podIP'"),
        (with_items({"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}}),
         "items[0].fieldRef.fieldPath: metadata.uid: not supported: pods have no API object uid here; "
         "metadata.name (SSHORCH_POD) names the pod"),
        # The node's name and address are for env only, as in Kubernetes.
        (with_items({"path": "node", "fieldRef": {"fieldPath": "spec.nodeName"}}),
         f"items[0].fieldRef.fieldPath: {SUPPORTED}, got 'spec.nodeName'"),
        (with_items({"path": "n", "fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v2"}}),
         "items[0].fieldRef.apiVersion: must be v1, got 'v2'"),
        (with_items({"path": "cpu", "resourceFieldRef": {"resource": "limits.cpu"}}),
         "items[0].resourceFieldRef.containerName: is required in a volume: the container whose resource the file holds"),
        (with_items({"path": "cpu", "resourceFieldRef": {"containerName": "absent", "resource": "limits.cpu"}}),
         "items[0].resourceFieldRef.containerName: must name a container of the pod (web), got 'absent'"),
        (with_items({"path": "gpu", "resourceFieldRef": {"containerName": "web", "resource": "limits.gpu"}}),
         "items[0].resourceFieldRef.resource: must be one of limits.cpu, limits.memory, limits.ephemeral-storage, "
         "requests.cpu, requests.memory, requests.ephemeral-storage, got 'limits.gpu'"),
        (with_items({"path": "cpu", "resourceFieldRef": {"containerName": "web", "resource": "limits.cpu", "divisor": "0"}}),
         "items[0].resourceFieldRef.divisor: must not be 0"),
        (with_items({**name_file(), "mode": 0o1777}), "items[0].mode: must be an integer 0-511, got 1023"),
        (with_items(name_file(), defaultMode=-1), "defaultMode: must be an integer 0-511, got -1"),
        (with_items({**name_file(), "key": "x"}), "items[0].key: unsupported field; supported here: path, fieldRef, resourceFieldRef, mode"),
        (with_volume({"items": [], "optional": True}), "optional: unsupported field; supported here: items, defaultMode"),
    ],
)  # fmt: skip
def test_bad_downward_api_volume_gives_one_line(document: dict[str, Any], expected: str) -> None:
    assert problems(document) == [f"web.yaml: Deployment/web: {V}.downwardAPI.{expected}"]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("web", '"web"'),
        ("", '""'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("a\nb\tc\r\a\b\f\v", '"a\\nb\\tc\\r\\a\\b\\f\\v"'),
        ("\x00\x1b\x7f", '"\\x00\\x1b\\x7f"'),
        ("héllo wörld ✓ 日本", '"héllo wörld ✓ 日本"'),
        ("\u00a0\u00ad\u2028\ufeff", '"\\u00a0\\u00ad\\u2028\\ufeff"'),
        ("\U000e0001 \U0001f600", '"\\U000e0001 \U0001f600"'),
        ("\ud800", '"\\xed\\xa0\\x80"'),
    ],
)
def test_values_are_quoted_as_gos_percent_q(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_labels_and_annotations_files_are_sorted_key_quoted_value_lines_without_a_last_newline() -> None:
    assert format_map({"tier": "web", "app": "shop", "team.io/owner": 'a "b"\n'}) == (
        'app="shop"\nteam.io/owner="a \\"b\\"\\n"\ntier="web"'
    )
    assert format_map({}) == ""
