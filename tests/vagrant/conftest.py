"""The Vagrant cluster of vagrant/Vagrantfile on real VMs: brought up once for the
run, used through inventories/vagrant.yml exactly as the README says, destroyed.

Slow (VMs boot and install podman), so it runs only with SSHORCH_VAGRANT=1
(`make vagrant-test`), as root, with vagrant-libvirt and the box of
vagrant/build-box. The figures are printed at the end of the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VAGRANT_DIR = ROOT / "vagrant"
NODES = ("node1", "node2", "node3")
# Here every address the VMs use is in the benchmarking range 198.18.0.0/15, beside
# the sandboxes' 198.18.0.0/24: the cluster's private network and the NAT network
# vagrant-libvirt provisions over. Users keep the Vagrantfile's defaults.
SUBNET = "198.18.2"
MANAGEMENT_NETWORK = "198.18.3.0/24"
ADDRESSES = {name: f"{SUBNET}.{11 + i}" for i, name in enumerate(NODES)}
README_INVENTORY = "inventories/vagrant.yml"
# The README's inventory with these addresses; relative, as the README uses it from the repository root.
INVENTORY = "vagrant/.sshorch/test-inventory.yml"
VAGRANT_ENV = {"SSHORCH_VAGRANT_SUBNET": SUBNET, "SSHORCH_VAGRANT_MANAGEMENT_NETWORK": MANAGEMENT_NETWORK}
BOX = os.environ.get("SSHORCH_VAGRANT_BOX", "sshorch/debian12")
BOX_VOLUMES = BOX.replace("/", "-VAGRANTSLASH-") + "_vagrant_box_image_"  # the box's copy in libvirt's pool
FIGURES: dict[str, float] = {}


def why_not() -> str | None:
    """Why this machine cannot run the test, or None."""
    if os.environ.get("SSHORCH_VAGRANT") != "1":
        return "brings up real VMs for several minutes: set SSHORCH_VAGRANT=1 (make vagrant-test)"
    if os.geteuid() != 0:
        return "needs root (libvirt's system instance, loading images into podman)"
    for tool in ("vagrant", "virsh", "qemu-system-x86_64", "podman"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make vagrant-test installs it)"
    if subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True).returncode != 0:
        return "libvirtd does not answer on qemu:///system (start it: libvirtd -d, or systemctl start libvirtd)"
    if "vagrant-libvirt" not in vagrant("plugin", "list").stdout:
        return "the vagrant-libvirt plugin is missing (apt-get install vagrant-libvirt)"
    if not re.search(rf"^{re.escape(BOX)}\s", vagrant("box", "list").stdout, re.M):
        return f"the box {BOX} is not added (run vagrant/build-box)"
    if not os.path.exists("/dev/kvm") and os.environ.get("SSHORCH_VAGRANT_DRIVER") != "qemu":
        return "/dev/kvm is missing (SSHORCH_VAGRANT_DRIVER=qemu runs the VMs emulated, very slowly)"
    up = [line for line in vagrant("status", "--machine-readable").stdout.splitlines() if ",state," in line]
    if any(not line.endswith(",not_created") for line in up):
        return "VMs of vagrant/Vagrantfile exist already: `vagrant destroy -f` in vagrant/ first"
    return None


def vagrant(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **VAGRANT_ENV, "SSHORCH_VAGRANT_BOX": BOX, "VAGRANT_NO_COLOR": "1"}
    return subprocess.run(["vagrant", *args], cwd=VAGRANT_DIR, env=env, capture_output=True, text=True, timeout=timeout)


def sshorch(*args: str, check: bool = True, timeout: float = 900, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI, from the repository root, as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "sshorch", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"sshorch {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def on_node(node: str, script: str) -> str:
    """A shell command on a node as root, over sshorch's own SSH."""
    from sshorch.inventory import load_inventory
    from sshorch.transport import Session
    from sshorch.transport.hosttargets import connect_options, target_for

    cwd = os.getcwd()
    os.chdir(ROOT)  # the inventory's paths are relative to the repository root
    try:
        inventory = load_inventory(INVENTORY)
        with Session(connect_options(inventory)) as session:
            result = session.connection(target_for(inventory.host(node))).run(["bash", "-c", script], timeout=300)
    finally:
        os.chdir(cwd)
    assert result.ok, f"{node}: {script}: {result.error_line()}"
    return result.text


def clean(text: str) -> str:
    """vagrant's output without its progress bars."""
    return "\n".join(line for line in re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text).replace("\r", "\n").splitlines() if "Progress:" not in line)


def demo_images_to_host() -> list[str]:
    """Load the demo images into this machine's podman (the controller's), for
    sshorch to stream to the VMs; return those that were not there."""
    from sshorch.sandbox.demoimages import DEMO_IMAGES

    missing = [i.name for i in DEMO_IMAGES if subprocess.run(["podman", "image", "exists", i.name]).returncode != 0]
    archive = subprocess.run([sys.executable, str(VAGRANT_DIR / "demo-images")], capture_output=True, check=True).stdout
    subprocess.run(["podman", "load"], input=archive, capture_output=True, check=True)
    return missing


def vagrant_up() -> tuple[int, str]:
    """`vagrant up`, noting when each VM is booted (answers SSH) and when all are provisioned."""
    start = time.monotonic()
    env = {**os.environ, **VAGRANT_ENV, "SSHORCH_VAGRANT_BOX": BOX, "VAGRANT_NO_COLOR": "1"}
    proc = subprocess.Popen(["vagrant", "up"], cwd=VAGRANT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
        if "Machine booted and ready" in line:
            FIGURES[f"vagrant up: {line.split(':')[0].strip('=> ')} booted"] = time.monotonic() - start
    code = proc.wait(timeout=3600)
    FIGURES["vagrant up: all booted and provisioned"] = time.monotonic() - start
    return code, "".join(output)


def write_inventory() -> None:
    """The README's inventory, its hosts at this test's addresses."""
    text = (ROOT / README_INVENTORY).read_text()
    for name, address in ADDRESSES.items():
        text = re.sub(rf"({name}: {{ansible_host: )[0-9.]+", rf"\g<1>{address}", text)
    assert all(address in text for address in ADDRESSES.values()), text
    target = ROOT / INVENTORY
    target.parent.mkdir(mode=0o700, exist_ok=True)
    target.write_text(text)


def libvirt_objects() -> set[str]:
    """Domains, networks and volumes in libvirt, to check that the run leaves none of its own."""
    def names(*args: str) -> list[str]:
        out = subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True, text=True).stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    return (
        {f"domain {d}" for d in names("list", "--all", "--name")}
        | {f"network {n}" for n in names("net-list", "--all", "--name")}
        | {f"volume {v}" for v in names("vol-list", "default")}
    )


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The three VMs, up and provisioned; destroyed afterwards, with whatever
    the run added to libvirt and podman."""
    reason = why_not()
    if reason:
        pytest.skip(reason)
    before = libvirt_objects()
    loaded = demo_images_to_host()
    state = tmp_path_factory.mktemp("vagrant-state")
    os.environ["SSHORCH_STATE"] = str(state / "state.db")
    os.environ["SSHORCH_SECRET_KEY_FILE"] = str(state / "secret.key")
    write_inventory()
    try:
        code, output = vagrant_up()
        assert code == 0, clean(output)[-4000:]
        yield state
    finally:
        start = time.monotonic()
        down = vagrant("destroy", "-f", timeout=600)
        FIGURES["vagrant destroy"] = time.monotonic() - start
        for added in libvirt_objects() - before:
            if added.startswith(f"volume {BOX_VOLUMES}"):  # `up` copied the box into the pool
                volume = added.split()[1]
                subprocess.run(["virsh", "-c", "qemu:///system", "vol-delete", "--pool", "default", volume], capture_output=True)
        if loaded:
            subprocess.run(["podman", "rmi", *loaded], capture_output=True)
    assert down.returncode == 0, clean(down.stdout + down.stderr)[-4000:]
    assert sorted(libvirt_objects() - before) == []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("vagrant figures (seconds)")
        for name, seconds in FIGURES.items():
            terminalreporter.write_line(f"{seconds:8.1f}  {name}")
