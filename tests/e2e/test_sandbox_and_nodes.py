"""The foundation end to end: sandbox, inventory, SSH fan-out, facts, `sshorch nodes`."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from sshorch.inventory import load_inventory
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options, target_for
from tests.e2e.conftest import Sandbox, leftovers, namespace_inodes, processes_of, sshorch, sshorch_json


def wait_for(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout}s (last: {value!r})")
        time.sleep(0.2)


def node_statuses(inventory: str, *extra: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {n["name"]: n for n in sshorch_json("nodes", "-i", inventory, *extra)}


def test_status_json_names_inventory_and_running_nodes(sandbox: Sandbox) -> None:
    status = sshorch_json("sandbox", "status", "--name", sandbox.name)
    assert status["name"] == sandbox.name
    assert Path(status["inventory"]).is_file()
    assert [(n["name"], n["state"]) for n in status["nodes"]] == [("node1", "running"), ("node2", "running"), ("node3", "running")]
    assert all(n["address"].startswith("198.18.0.") for n in status["nodes"])


def test_nodes_are_ready_with_their_facts(sandbox: Sandbox) -> None:
    nodes = node_statuses(sandbox.inventory)
    assert sorted(nodes) == ["node1", "node2", "node3"]
    for name, node in nodes.items():
        assert node["status"] == "Ready", node
        assert node["runtime"] == "podman"
        assert node["cpus"] >= 1 and node["memory_bytes"] > 0
        assert node["address"] == sandbox.node(name)["address"]
        assert node["hostname"] == name  # each node has its own UTS namespace
    table = sshorch("nodes", "-i", sandbox.inventory).stdout
    assert table.count("Ready") == 3


def test_a_failed_node_is_not_ready_within_the_connect_timeout_and_recovers(sandbox: Sandbox) -> None:
    sshorch("sandbox", "fail", "--name", sandbox.name, "node2")
    try:
        assert sshorch_json("sandbox", "status", "--name", sandbox.name)["nodes"][1]["state"] == "failed"
        started = time.monotonic()
        nodes = node_statuses(sandbox.inventory, "--connect-timeout", "2")
        elapsed = time.monotonic() - started
        assert nodes["node2"]["status"] == "NotReady"
        assert "timed out after 2s" in nodes["node2"]["reason"]
        assert nodes["node1"]["status"] == nodes["node3"]["status"] == "Ready"
        assert elapsed < 2 + 3, f"nodes took {elapsed:.1f}s with one node down"
    finally:
        sshorch("sandbox", "recover", "--name", sandbox.name, "node2")
    wait_for(lambda: node_statuses(sandbox.inventory)["node2"]["status"] == "Ready", 15, "node2 Ready again")


def test_container_run_over_ssh_is_reachable_on_its_published_port(sandbox: Sandbox) -> None:
    inventory = load_inventory(sandbox.inventory)
    host = inventory.host("node1")
    port = 20080
    with Session(connect_options(inventory)) as session:
        conn = session.connection(target_for(host))
        run = conn.run(
            ["podman", "run", "-d", "--name", "e2e-web", "-e", "SSHORCH_NODE=node1",
             "-p", f"{host.address}:{port}:8080", "localhost/sshorch/web:v1"]
        )
        assert run.ok, run.error_line()
        try:
            def answer() -> str:
                try:
                    return urllib.request.urlopen(f"http://{host.address}:{port}/", timeout=2).read().decode()
                except OSError:
                    return ""

            assert wait_for(answer, 15, "web answers").startswith("web v1 on node1")
        finally:
            conn.run(["podman", "rm", "-f", "-t", "0", "e2e-web"])


def test_stdin_carries_data_that_never_enters_the_command_line(sandbox: Sandbox) -> None:
    inventory = load_inventory(sandbox.inventory)
    secret = b"s3cr3t value; $(touch /tmp/pwned) 'quoted'\n" * 2000
    with Session(connect_options(inventory)) as session:
        outcomes = session.map(lambda c: c.run(["sh", "-c", "cat > /tmp/data && sha256sum < /tmp/data && rm /tmp/data"], stdin=secret), [target_for(h) for h in inventory.hosts])
    import hashlib

    digest = hashlib.sha256(secret).hexdigest()
    assert [o.value.text.split()[0] for o in outcomes if o.value] == [digest] * 3


def test_unknown_and_changed_host_keys_are_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    nodes = node_statuses(sandbox.inventory, "--known-hosts", str(empty))
    assert all(n["status"] == "NotReady" and "--accept-new-host-keys" in n["reason"] for n in nodes.values())

    nodes = node_statuses(sandbox.inventory, "--known-hosts", str(empty), "--accept-new-host-keys")
    assert all(n["status"] == "Ready" for n in nodes.values())
    assert len(empty.read_text().splitlines()) == 3

    # Swap node1's key for node2's: a changed key, refused even with --accept-new-host-keys.
    lines = empty.read_text().splitlines()
    key_of = {line.split()[0]: line.split(" ", 1)[1] for line in lines}
    a1, a2 = sandbox.node("node1")["address"], sandbox.node("node2")["address"]
    empty.write_text(f"{a1} {key_of[a2]}\n{a2} {key_of[a2]}\n")
    nodes = node_statuses(sandbox.inventory, "--known-hosts", str(empty), "--accept-new-host-keys")
    assert nodes["node1"]["status"] == "NotReady" and "CHANGED" in nodes["node1"]["reason"]
    assert nodes["node2"]["status"] == "Ready"


def test_a_second_sandbox_runs_beside_and_down_leaves_nothing(sandbox: Sandbox) -> None:
    name = f"{sandbox.name}-b"
    sshorch("sandbox", "up", "--name", name, "--nodes", "1", "--no-images")
    try:
        status = sshorch_json("sandbox", "status", "--name", name)
        other = {n["address"] for n in sandbox.status["nodes"]}
        assert status["nodes"][0]["address"] not in other
        assert node_statuses(status["inventory"])["node1"]["status"] == "Ready"
        directory = Path(status["inventory"]).parent
        inodes = namespace_inodes(status, directory)
        assert len(inodes) == 2
        processes = processes_of(inodes)
        assert processes, "the node's sshd runs in its namespaces"
    finally:
        sshorch("sandbox", "down", "--name", name)
    # Gone when `down` returns: not even a zombie of its sshd is left to be reaped.
    assert leftovers(name, directory, inodes, processes) == []
    # The first sandbox is untouched.
    assert all(n["status"] == "Ready" for n in node_statuses(sandbox.inventory).values())
