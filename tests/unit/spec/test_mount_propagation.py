"""volumeMounts[].mountPropagation: the three modes parse; Bidirectional only in a privileged container."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.model import Deployment

from .manifests import changed, deployment, parse, problems

C = "spec.template.spec.containers[0]"
VOLUMES = [{"name": "host", "hostPath": {"path": "/srv"}}]


def mounting(propagation: Any, *, privileged: bool = False, init: bool = False) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "web", "image": "localhost/sshorch/web:v1",
        "volumeMounts": [{"name": "host", "mountPath": "/host", "mountPropagation": propagation}],
    }  # fmt: skip
    if privileged:
        container["securityContext"] = {"privileged": True}
    document = changed(deployment(), "spec.template.spec.volumes", VOLUMES)
    if init:
        return changed(document, "spec.template.spec.initContainers", [{**container, "name": "setup"}])
    return changed(document, "spec.template.spec.containers", [container])


@pytest.mark.parametrize(
    ("propagation", "privileged"),
    [("None", False), ("HostToContainer", False), ("Bidirectional", True), ("HostToContainer", True)],
)
def test_mount_propagation_parses(propagation: str, privileged: bool) -> None:
    (web,) = parse(mounting(propagation, privileged=privileged)).objects
    assert isinstance(web, Deployment)
    assert web.template.spec.containers[0].volume_mounts[0].mount_propagation == propagation


def test_without_it_a_mount_is_none() -> None:
    document = changed(deployment(), "spec.template.spec.volumes", VOLUMES)
    document = changed(document, f"{C}.volumeMounts", [{"name": "host", "mountPath": "/host"}])
    (web,) = parse(document).objects
    assert isinstance(web, Deployment)
    assert web.template.spec.containers[0].volume_mounts[0].mount_propagation == "None"


BIDIRECTIONAL = (
    "volumeMounts[0].mountPropagation: Bidirectional is allowed only in a privileged container "
    "(securityContext.privileged: true); use HostToContainer to see the node's mounts"
)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (mounting("Bidirectional"), f"{C}.{BIDIRECTIONAL}"),
        (mounting("Bidirectional", init=True), f"spec.template.spec.initContainers[0].{BIDIRECTIONAL}"),
        (mounting("Shared"), f"{C}.volumeMounts[0].mountPropagation: must be None, HostToContainer or Bidirectional, got 'Shared'"),
        (mounting(True), f"{C}.volumeMounts[0].mountPropagation: must be None, HostToContainer or Bidirectional, got true"),
    ],
)
def test_bad_mount_propagation_gives_one_line(document: dict[str, Any], expected: str) -> None:
    assert problems(document) == [f"web.yaml: Deployment/web: {expected}"]
