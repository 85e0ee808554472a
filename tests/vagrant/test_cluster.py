"""The checks of the sandbox tests, on the VMs of vagrant/: nodes Ready, the
example application deployed with its service answering, a service VIP from
every node, a rolling update v1 -> v2 that drops no request."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from tests.e2e.test_rollouts import site_app
from tests.e2e.test_services import ECHO
from tests.vagrant.conftest import ADDRESSES, INVENTORY, NODES, FIGURES, on_node, sshorch


def site(image: str) -> str:
    """The sandbox's rollout manifest, with time for emulated VMs and a node port to load it from here."""
    return site_app(image, 3, deadline=300, node_port=30081)


def status() -> dict:  # type: ignore[type-arg]
    return json.loads(sshorch("status", "-i", INVENTORY, "-o", "json").stdout)


def vip(name: str) -> str:
    return str(next(s for s in status()["services"] if s["name"] == name)["clusterIP"])


def http_get(url: str) -> str:
    return urllib.request.urlopen(url, timeout=5).read().decode()


def from_node(node: str, address: str, path: str = "/", times: int = 1) -> list[str]:
    """HTTP GETs from a node's own shell (bash's /dev/tcp: the VMs have no curl)."""
    script = (
        f"for i in $(seq {times}); do exec 3<>/dev/tcp/{address}/80 && "
        f"printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' >&3 && tail -n 1 <&3; exec 3>&-; done"
    )
    return on_node(node, script).splitlines()


def test_the_nodes_are_ready(cluster: Path) -> None:
    start = time.monotonic()
    nodes = json.loads(sshorch("nodes", "-i", INVENTORY, "-o", "json").stdout)
    FIGURES["sshorch nodes"] = time.monotonic() - start
    assert {n["name"]: n["status"] for n in nodes} == dict.fromkeys(NODES, "Ready"), nodes
    assert {n["name"]: n["address"] for n in nodes} == ADDRESSES
    assert {n["runtime"] for n in nodes} == {"podman"}


def test_the_example_deploys_and_its_service_answers(cluster: Path) -> None:
    sshorch("secret", "init")
    sshorch("secret", "set", "-i", INVENTORY, "shop-db", "password=@-", stdin="vagrant-db-password")
    start = time.monotonic()
    applied = sshorch("apply", "-i", INVENTORY, "-f", "examples/shop", "--yes")
    FIGURES["apply examples/shop (cold, images streamed)"] = time.monotonic() - start
    workloads = {w["name"]: w["ready"] for w in status()["workloads"]}
    assert workloads == {"db": 1, "api": 2, "web": 3}, applied.stdout
    for address in ADDRESSES.values():  # the NodePort on every VM, from this machine
        assert http_get(f"http://{address}:30080/").startswith("web v1 on node"), address
    for node in NODES:  # the VIP from every VM's shell
        assert from_node(node, vip("web"))[0].startswith("web v1 on node")
    out = sshorch("exec", "-i", INVENTORY, "api", "--", "cat", "/etc/shop/shop.conf").stdout
    assert "currency = EUR" in out
    start = time.monotonic()
    assert sshorch("converge", "-i", INVENTORY, check=False).returncode == 0
    FIGURES["converge, nothing to do"] = time.monotonic() - start


def test_a_service_vip_answers_from_every_node_balanced_over_the_replicas(cluster: Path, tmp_path: Path) -> None:
    app = tmp_path / "echo.yaml"
    app.write_text(ECHO.format(replicas=3))
    sshorch("apply", "-i", INVENTORY, "-f", str(app), "--yes")
    address = vip("echo")
    assert address.startswith("198.19.")
    answers = Counter(line.split("(pod ")[1] for node in NODES for line in from_node(node, address, times=30))
    assert sum(answers.values()) == 90 and len(answers) == 3, answers
    pods = [p for p in status()["pods"] if p["owner"] == "deployment/default/echo"]
    assert sorted(p["node"] for p in pods) == list(NODES)
    for pod in pods:  # and from the pods, by name
        out = sshorch("exec", "-i", INVENTORY, pod["name"], "--", "timeout", "10", "wget", "-qO-", "http://echo/").stdout
        assert out.startswith("web v1 on "), (pod["node"], out)


def test_a_rolling_update_v1_to_v2_drops_no_request(cluster: Path, tmp_path: Path) -> None:
    app = tmp_path / "site.yaml"
    app.write_text(site("localhost/sshorch/web:v1"))
    sshorch("apply", "-i", INVENTORY, "-f", str(app), "--yes")
    versions: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:  # a request loop from this machine on node1's NodePort
        while not stop.is_set():
            try:
                versions.append(http_get(f"http://{ADDRESSES['node1']}:30081/version").strip())
            except OSError as error:
                failures.append(f"{time.strftime('%T')} {error}")
            time.sleep(0.05)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        app.write_text(site("localhost/sshorch/web:v2"))
        start = time.monotonic()
        done = sshorch("apply", "-i", INVENTORY, "-f", str(app), "--yes")
        FIGURES["rolling update of 3 replicas"] = time.monotonic() - start
        time.sleep(2)
    finally:
        stop.set()
        thread.join(30)
    assert failures == [] and len(versions) >= 50, (len(versions), failures, done.stdout)
    assert versions[-10:] == ["v2"] * 10
    assert {w["name"]: (w["ready"], w["up_to_date"]) for w in status()["workloads"] if w["name"] == "site"} == {"site": (3, 3)}
