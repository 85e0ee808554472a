"""hostPath volumes only under the inventory's sshorch_allowed_host_paths."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.errors import SshorchError
from sshorch.spec import ManifestError
from sshorch.spec.hostpaths import check_host_paths, is_allowed, parse_allowed_host_paths

from .manifests import cron_job, deployment, parse


def with_host_path(document: dict[str, Any], path: str, spec: str = "spec") -> dict[str, Any]:
    pod = document["spec"]["template"]["spec"] if spec == "spec" else document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "h", "hostPath": {"path": path, "type": "DirectoryOrCreate"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/h"}]
    return document


@pytest.mark.parametrize(
    ("path", "allowed", "ok"),
    [
        ("/srv/data", ("/srv/data",), True),
        ("/srv/data/x/y", ("/srv/data",), True),
        ("/srv/data/./x//y/", ("/srv/data",), True),
        ("/srv/database", ("/srv/data",), False),
        ("/", ("/srv/data",), False),
        ("/etc", (), False),
        ("/etc", ("/",), True),
    ],
)
def test_is_allowed_compares_normalised_prefixes(path: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert is_allowed(path, allowed) is ok


def test_every_refused_host_path_is_reported_at_once_naming_field_and_variable() -> None:
    desired = parse(with_host_path(deployment("web"), "/"), with_host_path(cron_job("report"), "/etc/nologin", "job"))
    with pytest.raises(ManifestError) as raised:
        check_host_paths(desired, ("/srv/data",))
    assert str(raised.value).splitlines() == [
        "web.yaml: Deployment/web: spec.template.spec.volumes[0].hostPath.path: / is not under sshorch_allowed_host_paths"
        " of the inventory (allowed are /srv/data): add it, or a directory above it, to sshorch_allowed_host_paths on `all`",
        "web.yaml: CronJob/report: spec.jobTemplate.spec.template.spec.volumes[0].hostPath.path: /etc/nologin is not under"
        " sshorch_allowed_host_paths of the inventory (allowed are /srv/data): add it, or a directory above it, to"
        " sshorch_allowed_host_paths on `all`",
    ]


def test_an_allowed_host_path_passes() -> None:
    check_host_paths(parse(with_host_path(deployment("web"), "/srv/data/web")), ("/srv/data",))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("relative/path", "inventory.yml: sshorch_allowed_host_paths: 'relative/path' must be an absolute path"),
        (["/srv/../etc"], "inventory.yml: sshorch_allowed_host_paths: '/srv/../etc' must not contain '..' components"),
        ({"a": 1}, "inventory.yml: sshorch_allowed_host_paths must be a list of absolute paths, e.g. [/srv/data, /var/log/app]"),
    ],
)
def test_a_bad_inventory_value_is_one_line_naming_the_variable(value: object, error: str) -> None:
    with pytest.raises(SshorchError) as raised:
        parse_allowed_host_paths(value, "inventory.yml")
    assert str(raised.value) == error


def test_the_inventory_list_is_normalised() -> None:
    assert parse_allowed_host_paths(["/var/log/app/", "/srv//data"], "i") == ("/srv/data", "/var/log/app")
    assert parse_allowed_host_paths(None, "i") == ()
