"""Cordon and drain under load: the node empties and no request fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, own_state, sshorch
from tests.e2e.test_rollouts import Load, site_app


@pytest.fixture(scope="module")
def site(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("drain")
    with own_state(root):
        app = root / "site.yaml"
        app.write_text(site_app("localhost/sshorch/web:v1", 3))
        sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
        try:
            yield app
        finally:
            sshorch("uncordon", "-i", sandbox.inventory, "node2", check=False)


def site_pods(sandbox: Sandbox) -> list[dict]:  # type: ignore[type-arg]
    status = json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)
    return [p for p in status["pods"] if p["owner"].endswith("/site")]


def test_cordon_keeps_new_pods_off_the_node(sandbox: Sandbox, site: Path) -> None:
    assert "node/node3 cordoned" in sshorch("cordon", "-i", sandbox.inventory, "node3").stdout
    try:
        sshorch("scale", "-i", sandbox.inventory, "site=5")
        on_node3 = [p for p in site_pods(sandbox) if p["node"] == "node3"]
        assert len(site_pods(sandbox)) == 5 and len(on_node3) == 1  # the one it had stays
    finally:
        sshorch("uncordon", "-i", sandbox.inventory, "node3")
        sshorch("scale", "-i", sandbox.inventory, "site=3")


def test_drain_empties_the_node_without_a_failed_request(sandbox: Sandbox, site: Path) -> None:
    assert any(p["node"] == "node2" for p in site_pods(sandbox))
    with Load(sandbox) as load:
        done = sshorch("drain", "-i", sandbox.inventory, "node2")
    ok, fail = load.counts()
    assert fail == 0 and ok >= 50, (ok, fail, load.failures, done.stdout, done.stderr)  # drain takes 1-2 s
    assert "node/node2 drained" in done.stdout
    pods = site_pods(sandbox)
    assert len(pods) == 3 and all(p["node"] != "node2" and p["ready"] for p in pods), pods
    # It stays empty: a converge does not put pods back while it is cordoned.
    sshorch("converge", "-i", sandbox.inventory, check=False)
    assert all(p["node"] != "node2" for p in site_pods(sandbox))
    sshorch("uncordon", "-i", sandbox.inventory, "node2")
