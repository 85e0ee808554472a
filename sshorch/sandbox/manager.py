"""sandbox up / down / status / fail / recover."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sshorch.errors import SandboxError
from sshorch.sandbox import demoimages, host, nodebuild
from sshorch.sandbox.config import render_inventory, render_known_hosts
from sshorch.sandbox.keys import write_key_pair
from sshorch.sandbox.layout import BRIDGE_PREFIX, DEFAULT_ROOT, GUARD_ROUTES, SandboxLayout, allocate_block, build_layout, check_name, short_id
from sshorch.sandbox.record import SandboxRecord, all_records, load_record, save_record

Progress = Callable[[str], None]
FORWARD_COMMENT = "sshorch-sandbox:{name}"
PARALLEL_NODES = 8


def sandbox_root() -> Path:
    return Path(os.environ.get("SSHORCH_SANDBOX_ROOT", str(DEFAULT_ROOT)))


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One sandbox command at a time changes the machine (addresses, links)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _quiet(_: str) -> None:
    pass


def _forward_rule(layout: SandboxLayout) -> list[str]:
    # Traffic from the bridge goes nowhere but the bridge: nothing leaves the machine.
    return [
        "FORWARD", "-i", layout.bridge, "!", "-o", layout.bridge,
        "-m", "comment", "--comment", FORWARD_COMMENT.format(name=layout.name), "-j", "DROP",
    ]


def _parallel(work: Callable[[Any], Any], items: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=PARALLEL_NODES) as pool:
        return list(pool.map(work, items))


def up(
    name: str, count: int, *, root: Path | None = None, with_images: bool = True, with_grpc_image: bool = False,
    progress: Progress = _quiet,
) -> SandboxLayout:
    check_name(name)
    host.check_host()
    root = root or sandbox_root()
    with _locked(root):
        if load_record(root, name) is not None:
            raise SandboxError(f"sandbox {name!r} already exists: 'sshorch sandbox down --name {name}' removes it")
        taken = [ipaddress.IPv4Network(r.block) for r in all_records(root)] + _bridge_networks()
        block = allocate_block(count, taken)
        layout = build_layout(name, root, block, count)
        record = SandboxRecord(name=name, block=str(block), nodes=count, created=time.time())
        save_record(root, record)
        try:
            _build(layout, with_images, progress)
            if with_grpc_image:
                _load_grpc_image(layout, progress)
        except BaseException:
            progress("failed; removing what was built")
            _remove(layout)
            _remove_guard_routes_if_last()
            raise
        record.ready = True
        save_record(root, record)
    return layout


def _build(layout: SandboxLayout, with_images: bool, progress: Progress) -> None:
    for route in GUARD_ROUTES:
        host.run(["ip", "route", "replace", "unreachable", route])
    host.run(["ip", "link", "add", layout.bridge, "type", "bridge"])
    host.run(["ip", "addr", "add", f"{layout.host_address}/{layout.block.prefixlen}", "dev", layout.bridge])
    host.run(["ip", "link", "set", layout.bridge, "up"])
    host.run(["iptables", "-w", "-I", *_forward_rule(layout)])

    client_key = write_key_pair(layout.client_key, f"sshorch-sandbox-{layout.name}")
    progress(f"{len(layout.nodes)} nodes on bridge {layout.bridge} ({layout.block}): namespaces, sshd")
    host_keys = _parallel(lambda node: nodebuild.build_node(layout, node, client_key), layout.nodes)
    layout.known_hosts.write_text(
        render_known_hosts([(node.address, key) for node, key in zip(layout.nodes, host_keys)])
    )
    layout.inventory.write_text(render_inventory(layout))
    if with_images:
        progress("demo images: " + ", ".join(image.name.removeprefix("localhost/sshorch/") for image in demoimages.DEMO_IMAGES))
        archive = demoimages.demo_archive()
        _parallel(lambda node: nodebuild.load_images(node, archive), layout.nodes)


def _load_grpc_image(layout: SandboxLayout, progress: Progress) -> None:
    """The grpc-health demo image is some 40-65 MB (a Python interpreter and grpcio): loaded only on request."""
    started = time.monotonic()
    archive = demoimages.grpc_archive()
    built = time.monotonic()
    _parallel(lambda node: nodebuild.load_images(node, archive), layout.nodes)
    progress(
        f"demo image grpc-health: {len(archive) / 1e6:.0f} MB, built in {built - started:.1f}s, "
        f"loaded in {time.monotonic() - built:.1f}s"
    )


def down(name: str, *, root: Path | None = None, progress: Progress = _quiet) -> bool:
    """Remove a sandbox and everything it made; False if there was nothing."""
    check_name(name)
    host.check_host()
    root = root or sandbox_root()
    with _locked(root):
        record = load_record(root, name)
        directory = root / name
        if record is None and not directory.exists() and not _leftover_links(name):
            return False
        layout = record.layout(root) if record else build_layout(name, root, ipaddress.IPv4Network("198.18.0.0/28"), 0)
        progress(f"removing {len(layout.nodes)} nodes of {name!r}")
        _remove(layout)
        _remove_guard_routes_if_last()
    return True


def _bridge_networks() -> list[ipaddress.IPv4Network]:
    """Blocks of every sandbox bridge on this machine, also those of sandboxes kept
    under another root (a fresh-machine check's root shares this network)."""
    text = host.run(["ip", "-o", "-4", "addr", "show"], check=False)
    return [
        ipaddress.IPv4Interface(fields[3]).network
        for fields in (line.split() for line in text.splitlines())
        if len(fields) > 3 and fields[1].startswith(BRIDGE_PREFIX)
    ]


def _remove_guard_routes_if_last() -> None:
    """The guard routes serve every sandbox on the machine: they go with the last bridge."""
    if any(link.startswith(BRIDGE_PREFIX) for link in os.listdir("/sys/class/net")):
        return
    for route in GUARD_ROUTES:
        host.run(["ip", "route", "del", "unreachable", route], check=False)


def _leftover_links(name: str) -> list[str]:
    prefix = f"ssv{short_id(name)}-"
    return [link for link in os.listdir("/sys/class/net") if link.startswith(prefix)]


def _leftover_netns(name: str) -> list[str]:
    prefix = f"sshorch-{name}-"
    try:
        return [ns for ns in os.listdir("/run/netns") if ns.startswith(prefix)]
    except FileNotFoundError:
        return []


def _remove(layout: SandboxLayout) -> None:
    _parallel(nodebuild.remove_node, layout.nodes)
    for ns in _leftover_netns(layout.name):
        host.run(["ip", "netns", "del", ns], check=False)
    for link in _leftover_links(layout.name):
        host.run(["ip", "link", "del", link], check=False)
    if host.link_exists(layout.bridge):
        host.run(["ip", "link", "del", layout.bridge], check=False)
    rule = _forward_rule(layout)
    while host.succeeds(["iptables", "-w", "-C", *rule]):
        host.run(["iptables", "-w", "-D", *rule], check=False)
    _unmount_below(layout.directory)
    shutil.rmtree(layout.directory, ignore_errors=True)
    _remove_empty_cgroups()


def _unmount_below(directory: Path) -> None:
    prefix = str(directory) + "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
        targets = [line.split()[4] for line in mounts if line.split()[4].startswith(prefix)]
    for target in sorted(targets, key=len, reverse=True):
        host.run(["umount", "-l", target], check=False)


def _remove_empty_cgroups() -> None:
    # podman's cgroupfs parent; rmdir fails harmlessly while anything uses it.
    for parent in Path("/sys/fs/cgroup").glob("*/libpod_parent"):
        for child in (parent / "conmon", parent):
            try:
                child.rmdir()
            except OSError:
                pass


def _node_state(layout: SandboxLayout, record: SandboxRecord, node_name: str) -> str:
    node = layout.node(node_name)
    if not host.netns_exists(node.netns):
        return "missing"
    if node_name in record.failed:
        return "failed"
    return "running" if host.pid_alive(nodebuild.sshd_pid(node)) else "stopped"


def status(name: str, *, root: Path | None = None) -> dict[str, Any]:
    check_name(name)
    root = root or sandbox_root()
    record = load_record(root, name)
    if record is None:
        raise SandboxError(f"no sandbox {name!r}: 'sshorch sandbox up --name {name}' creates it")
    layout = record.layout(root)
    return {
        "name": name,
        "inventory": str(layout.inventory),
        "known_hosts": str(layout.known_hosts),
        "private_key": str(layout.client_key),
        "bridge": layout.bridge,
        "host_address": layout.host_address,
        "network": str(layout.block),
        "ready": record.ready,
        "nodes": [
            {"name": n.name, "address": n.address, "state": _node_state(layout, record, n.name), "netns": n.netns}
            for n in layout.nodes
        ],
    }


def list_sandboxes(*, root: Path | None = None) -> list[dict[str, Any]]:
    root = root or sandbox_root()
    return [status(record.name, root=root) for record in all_records(root)]


def _set_failed(name: str, node_name: str, failed: bool, root: Path | None) -> None:
    check_name(name)
    host.check_host()
    root = root or sandbox_root()
    with _locked(root):
        record = load_record(root, name)
        if record is None:
            raise SandboxError(f"no sandbox {name!r}")
        node = record.layout(root).node(node_name)
        # The host side of the link goes down: packets are dropped both ways,
        # like a real partition, while the node and its containers keep running.
        host.run(["ip", "link", "set", node.veth, "down" if failed else "up"])
        record.failed = sorted(set(record.failed) - {node_name} | ({node_name} if failed else set()))
        save_record(root, record)


def fail(name: str, node_name: str, *, root: Path | None = None) -> None:
    _set_failed(name, node_name, True, root)


def recover(name: str, node_name: str, *, root: Path | None = None) -> None:
    _set_failed(name, node_name, False, root)
