from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.spec.names import (
    check_absolute_path,
    check_dns1123_label,
    check_env_var_name,
    check_image,
    check_label_key,
    check_label_value,
    check_port_name,
    is_dns1123_label,
)

# Written independently of the implementation, from the Kubernetes definition.
DNS1123 = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
SHELL = ";&|$`'\"<>()\\ \t\n"

names = st.text(alphabet=st.sampled_from("abcz09-.;$()_ A\n\x00é"), max_size=70) | st.text(max_size=70)


@settings(max_examples=300, deadline=None)
@given(names)
def test_dns1123_label_iff_regex(name: str) -> None:
    assert is_dns1123_label(name) == (DNS1123.fullmatch(name) is not None)
    assert (check_dns1123_label(name) is None) == is_dns1123_label(name)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.sampled_from(SHELL), st.text(max_size=30))
def test_shell_metacharacters_never_pass(before: str, metacharacter: str, after: str) -> None:
    name = before + metacharacter + after
    for check in (check_dns1123_label, check_port_name, check_env_var_name, check_label_value, check_label_key, check_image):
        assert check(name) is not None, (check.__name__, name)


@pytest.mark.parametrize(
    "image",
    [
        "nginx", "nginx:1.25", "library/nginx:1.25-alpine", "localhost/sshorch/web:v1", "localhost:5000/web",
        "registry.example.com:5000/team/app:2024.01.01_rc1", "Registry.Example.com/app", "ghcr.io/o/r@sha256:" + "0" * 64,
        "quay.io/a/b:v1@sha256:" + "f" * 64, "my_app__x/y-z", "[::1]:5000/web",
    ],
)  # fmt: skip
def test_good_images(image: str) -> None:
    assert check_image(image) is None


@pytest.mark.parametrize(
    "image",
    ["", "-rm", "nginx:", ":tag", "Nginx", "a//b", "nginx:tag:other", "nginx@sha256:abc", "web/", "x y", "a;b", "$(x)", "a\x00b", "a" * 600],
)
def test_bad_images(image: str) -> None:
    assert check_image(image) is not None


@pytest.mark.parametrize(("name", "ok"), [("http", True), ("h2c-web", True), ("8080", False), ("a--b", False), ("a" * 16, False), ("Http", False)])
def test_port_names(name: str, ok: bool) -> None:
    assert (check_port_name(name) is None) == ok


@pytest.mark.parametrize(("key", "ok"), [("app", True), ("app.kubernetes.io/name", True), ("a/b/c", False), ("/x", False), ("x/", False),
                                         ("a" * 63, True), ("a" * 64, False), ("my-app_1.x", True)])  # fmt: skip
def test_label_keys(key: str, ok: bool) -> None:
    assert (check_label_key(key) is None) == ok


@pytest.mark.parametrize(("path", "ok"), [("/data", True), ("/", True), ("data", False), ("/a/../b", False), ("/a/..", False), ("/a..b", True),
                                          ("/a:b", False), ("/a,b", False), ("/a\nb", False)])  # fmt: skip
def test_absolute_paths(path: str, ok: bool) -> None:
    assert (check_absolute_path(path) is None) == ok
