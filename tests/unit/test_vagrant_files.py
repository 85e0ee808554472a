"""vagrant/Vagrantfile and inventories/vagrant.yml describe the same cluster."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from sshorch.inventory import load_inventory

ROOT = Path(__file__).resolve().parents[2]
VAGRANTFILE = ROOT / "vagrant" / "Vagrantfile"


def default(setting: str) -> str:
    found = re.search(rf'ENV\.fetch\("{setting}", "([^"]+)"\)', VAGRANTFILE.read_text())
    assert found, setting
    return found.group(1)


def test_the_inventory_lists_the_vagrantfile_nodes_at_their_addresses() -> None:
    inventory = load_inventory(str(ROOT / "inventories" / "vagrant.yml"))
    count, subnet = int(default("SSHORCH_VAGRANT_NODES")), default("SSHORCH_VAGRANT_SUBNET")
    assert {h.name: h.address for h in inventory.hosts} == {f"node{i}": f"{subnet}.{10 + i}" for i in range(1, count + 1)}
    assert {(h.user, h.private_key_file) for h in inventory.hosts} == {("root", "vagrant/.sshorch/id_ed25519")}
    assert inventory.cluster_vars["sshorch_known_hosts"] == "vagrant/.sshorch/known_hosts"
    # VIPs stay off the VMs' network and out of any routed range
    cidr = ipaddress.ip_network(str(inventory.cluster_vars["sshorch_service_cidr"]))
    assert cidr == ipaddress.ip_network("198.19.0.0/16")
    assert not cidr.overlaps(ipaddress.ip_network(f"{subnet}.0/24"))


@pytest.mark.skipif(shutil.which("vagrant") is None, reason="vagrant is not installed (apt-get install vagrant)")
def test_vagrant_validates_the_vagrantfile(tmp_path: Path) -> None:
    # A copy, so that the key pair the Vagrantfile makes lands in tmp_path.
    shutil.copy(VAGRANTFILE, tmp_path / "Vagrantfile")
    done = subprocess.run(["vagrant", "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / ".sshorch" / "id_ed25519.pub").read_text().startswith("ssh-ed25519 ")


def test_the_vagrant_test_keeps_every_vm_address_in_the_benchmarking_range() -> None:
    from sshorch.sandbox.layout import GUARD_ROUTES
    from tests.vagrant import conftest

    bench = ipaddress.ip_network("198.18.0.0/15")
    management = ipaddress.ip_network(conftest.MANAGEMENT_NETWORK)
    private = ipaddress.ip_network(f"{conftest.SUBNET}.0/24")
    assert management.subnet_of(bench) and private.subnet_of(bench)  # type: ignore[arg-type]
    assert {ipaddress.ip_address(a) in private for a in conftest.ADDRESSES.values()} == {True}
    # Beside the sandboxes' ranges, so both can run on one machine.
    for guarded in map(ipaddress.ip_network, GUARD_ROUTES):
        assert not guarded.overlaps(management) and not guarded.overlaps(private)
    assert "management_network_address = MANAGEMENT_NETWORK" in VAGRANTFILE.read_text()


def test_demo_images_writes_the_sandbox_images_as_one_archive(tmp_path: Path) -> None:
    archive = tmp_path / "images.tar"
    with archive.open("wb") as out:
        subprocess.run([sys.executable, str(ROOT / "vagrant" / "demo-images")], stdout=out, check=True, cwd=ROOT)
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()
