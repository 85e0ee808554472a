"""The paths of configMap and secret volume items: Kubernetes' rules, and what tar on the node
needs (a '.' or 'x/' item once broke every action on its node). And probe paths and headers,
which Kubernetes does not restrict beyond header names."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.names import check_item_path

from .manifests import changed, config_map, deployment, parse, problems, secret

POD = "spec.template.spec"
C = f"{POD}.containers[0]"
RELATIVE = "must be a relative path"
EMPTY = "must be a file path without empty elements (no '//' and no trailing '/')"
DOT = "must be a file path without '.' elements"
DOTDOT = "must not contain '..' components"
LONG = "must be at most 4096 characters, each file name at most 255 bytes"


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("app.conf", None), ("conf/app.conf", None), ("a/b/c/d", None), (".hidden", None), ("a..b", None),
        ("a/..b", None), ("x" * 255, None), ("é" * 127, None), ("/".join(["d"] * 2048), None),
        ("", RELATIVE), ("/etc/app.conf", RELATIVE),
        (".", DOT), ("./x", DOT), ("a/./b", DOT), ("a/.", DOT),
        ("x/", EMPTY), ("a//b", EMPTY), ("a/b/", EMPTY),
        ("..", DOTDOT), ("../x", DOTDOT), ("a/../b", DOTDOT), ("a/..", DOTDOT),
        ("..data", "must not start with '..'"), ("..x/y", "must not start with '..'"),
        ("x" * 256, LONG), ("é" * 128, LONG), ("/".join(["d"] * 2049), LONG),
        ("a:b", "must not contain ':', ',' or control characters"), ("a\nb", "must not contain ':', ',' or control characters"),
    ],
)  # fmt: skip
def test_item_path_rules(path: str, rule: str | None) -> None:
    assert check_item_path(path) == rule


def with_items(volume: str, *paths: str) -> dict[str, Any]:
    source = {"configMap": {"name": "settings"}} if volume == "configMap" else {"secret": {"secretName": "creds"}}
    key = "LEVEL" if volume == "configMap" else "password"
    source[volume]["items"] = [{"key": key, "path": path} for path in paths]
    doc = changed(deployment(), f"{POD}.volumes", [{"name": "files", **source}])
    return changed(doc, f"{C}.volumeMounts", [{"name": "files", "mountPath": "/etc/files"}])


@pytest.mark.parametrize("volume", ["configMap", "secret"])
@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (("x/",), ["items[0].path: must be a file path without empty elements (no '//' and no trailing '/'), got 'x/'"]),
        ((".",), ["items[0].path: must be a file path without '.' elements, got '.'"]),
        (("a", "a"), ["items[1].path: must differ from items[0].path, got 'a' twice"]),
        (("a", "a/b"), ["items[1].path: must not run through items[0].path ('a', a file), got 'a/b'"]),
        (("a/b/c", "a/b"), ["items[1].path: must not be a directory of items[0].path, got 'a/b'"]),
        (("..data", "ok", "./x"), ["items[0].path: must not start with '..', got '..data'",
                                   "items[2].path: must be a file path without '.' elements, got './x'"]),
    ],
)  # fmt: skip
def test_bad_item_paths_are_refused_at_load_all_together(volume: str, paths: tuple[str, ...], expected: list[str]) -> None:
    prefix = f"web.yaml: Deployment/web: {POD}.volumes[0].{volume}."
    assert problems(with_items(volume, *paths), config_map(), secret()) == [prefix + line for line in expected]


def test_good_item_paths_load() -> None:
    parse(with_items("configMap", "a/b", "a/c", "b", "ab/c"), config_map())


def test_probe_paths_and_header_values_may_be_any_text_kubernetes_takes() -> None:
    probe = {"httpGet": {"path": "/santé?q=ü", "port": 8080, "httpHeaders": [{"name": "X-Name", "value": "Zoë ☃"}]}}
    parse(changed(deployment(), f"{C}.readinessProbe", probe))
    bad = {"httpGet": {"path": "/", "port": 8080, "httpHeaders": [{"name": "X Name", "value": "a\rb"}]}}
    assert problems(changed(deployment(), f"{C}.readinessProbe", bad)) == [
        f"web.yaml: Deployment/web: {C}.readinessProbe.httpGet.httpHeaders[0].name: must be an HTTP header name, got 'X Name'",
        f"web.yaml: Deployment/web: {C}.readinessProbe.httpGet.httpHeaders[0].value: must not contain control characters, got 'a\\rb'",
    ]
