"""`sshorch status` for LoadBalancer Services: the addresses their ports answer on."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.cli.status import _external
from sshorch.plan.overview import build_status
from sshorch.plan.services import Allocations

from .plan.helpers import Doc, desired, observe
from .plan.test_services import service

ALLOCATIONS = Allocations({"default/web": "10.96.0.10", "default/api": "10.96.0.11"}, {"default/web:80": 30080})


def load_balancer() -> Doc:
    return service("web", [{"port": 80, "targetPort": 8080}], type="LoadBalancer")


def services(configured: tuple[str, ...] | None, unreachable: tuple[str, ...] = ()) -> dict[str, Any]:
    d = desired(load_balancer(), service("api"))
    found = build_status(d, observe(unreachable=unreachable), None, (), ALLOCATIONS, load_balancer_addresses=configured)
    return {s["name"]: s for s in found["services"]}


@pytest.mark.parametrize(("configured", "unreachable", "expected"), [
    (None, (), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
    (None, ("n2",), ["10.0.0.1", "10.0.0.3"]),
    (("10.0.0.3", "10.0.0.1", "192.0.2.50"), (), ["10.0.0.3", "10.0.0.1"]),
    (("10.0.0.3",), ("n3",), []),
], ids=["every-node", "ready-nodes-only", "configured-on-nodes", "none-ready"])
def test_a_load_balancer_shows_the_addresses_it_answers_on(
    configured: tuple[str, ...] | None, unreachable: tuple[str, ...], expected: list[str]
) -> None:
    found = services(configured, unreachable)
    assert found["web"]["externalAddresses"] == expected
    assert found["web"]["type"] == "LoadBalancer" and found["web"]["ports"][0]["nodePort"] == 30080
    assert found["api"]["externalAddresses"] == []


def test_the_status_table_column() -> None:
    found = services(None)
    assert (_external(found["web"]), _external(found["api"])) == ("10.0.0.1,10.0.0.2,10.0.0.3", "<none>")
    assert _external(services(("10.0.0.3",), ("n3",))["web"]) == "<pending>"
