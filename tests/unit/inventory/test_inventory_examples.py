"""The example inventories under inventories/ load and stay inside the sandbox address range."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from sshorch.inventory import load_inventory

EXAMPLES = Path(__file__).parents[3] / "inventories"
SANDBOX = ipaddress.ip_network("198.18.0.0/24")


@pytest.mark.parametrize("source", ["example-ini", "example-ini/hosts.ini", "example-yaml", "example-yaml/hosts.yml"])
def test_example_loads(source: str) -> None:
    inventory = load_inventory(EXAMPLES / source)
    assert inventory.hosts
    assert inventory.cluster_vars["sshorch_service_cidr"] == "198.19.0.0/16"
    assert str(inventory.cluster_vars["sshorch_cluster"]).startswith("example-")
    for host in inventory.hosts:
        assert ipaddress.ip_address(host.address) in SANDBOX, host.name
        assert host.runtime in ("podman", "docker")
        assert set(host.groups) <= set(host.labels)


def test_example_details() -> None:
    ini = load_inventory(EXAMPLES / "example-ini")
    assert [host.name for host in ini.select("frontend")] == ["web01", "web02", "web03", "lb1"]
    assert ini.host("db-b").port == 2222
    assert dict(ini.host("db-b").labels) == {"db": "true", "tier": "data", "disk": "hdd"}
    assert ini.host("db-a").runtime == "docker"
    yaml = load_inventory(EXAMPLES / "example-yaml" / "hosts.yml")
    assert yaml.host("worker3").labels["accelerator"] == "nvidia"
    assert yaml.host("worker3").capacity == {"cpu": "8", "memory": "32Gi"}
    assert yaml.host("worker2").runtime == "docker"
