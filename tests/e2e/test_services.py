"""Services end to end: VIPs and NodePorts on every node, discovery by name, endpoints that follow pods."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshorch.proxy import cluster_chains
from tests.e2e.conftest import Sandbox, endpoint_chains, on_nodes, own_state, sshorch

# Three echo pods and their Service (the VM tests deploy it too).
ECHO = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: echo}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: echo}}}}
  template:
    metadata: {{labels: {{app: echo}}}}
    spec:
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          ports: [{{name: http, containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: echo}}
spec:
  selector: {{app: echo}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"""
# And a NodePort Service of the same pods, and one that selects nothing.
APP = ECHO + """---
apiVersion: v1
kind: Service
metadata: {{name: echo-public}}
spec:
  type: NodePort
  selector: {{app: echo}}
  ports: [{{port: 80, targetPort: 8080, nodePort: 30080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: nobody}}
spec:
  selector: {{app: nothing-has-this-label}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


@pytest.fixture(scope="module")
def services(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("services")
    with own_state(root):
        app = root / "app.yaml"
        app.write_text(APP.format(replicas=3))
        sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
        yield app


def service(sandbox: Sandbox, name: str) -> dict:  # type: ignore[type-arg]
    data = json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)
    return next(s for s in data["services"] if s["name"] == name)


def test_status_shows_vip_ports_and_three_endpoints(sandbox: Sandbox, services: Path) -> None:
    echo = service(sandbox, "echo")
    assert echo["clusterIP"].startswith("198.19.")
    assert echo["ports"] == [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": None}]
    assert len(echo["endpoints"]) == 3
    assert service(sandbox, "echo-public")["ports"][0]["nodePort"] == 30080


def test_the_vip_answers_from_every_node_shell_balanced_over_the_replicas(sandbox: Sandbox, services: Path) -> None:
    vip = service(sandbox, "echo")["clusterIP"]
    out = on_nodes(sandbox, f"for i in $(seq 100); do curl -s -m 2 http://{vip}/; done")
    answers = Counter(line.split("(pod ")[1].rstrip(")") for text in out.values() for line in text.splitlines() if "(pod " in line)
    assert sum(answers.values()) == 300, out
    assert len(answers) == 3 and min(answers.values()) >= 45, answers  # each replica >= 15 %


def test_pods_on_every_node_reach_the_service_by_name_and_vip(sandbox: Sandbox, services: Path) -> None:
    vip = service(sandbox, "echo")["clusterIP"]
    data = json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)
    pods = [p for p in data["pods"] if p["owner"] == "deployment/default/echo"]
    assert sorted(p["node"] for p in pods) == ["node1", "node2", "node3"]
    for pod in pods:
        for url in ("http://echo/", "http://echo.default.svc.cluster.local/", f"http://{vip}/"):
            out = sshorch("exec", "-i", sandbox.inventory, pod["name"], "--", "timeout", "5", "wget", "-qO-", url).stdout
            assert out.startswith("web v1 on "), (pod["node"], url, out)
        env = sshorch("exec", "-i", sandbox.inventory, pod["name"], "--", "sh", "-c", "echo $ECHO_SERVICE_HOST:$ECHO_SERVICE_PORT").stdout
        assert env.strip() == f"{vip}:80"


def test_a_pod_reaches_itself_through_its_service_at_once(sandbox: Sandbox, services: Path) -> None:
    # The endpoint the rules pick for a pod may be that pod: its bridge port must be in hairpin
    # mode, or the connection's first SYN is dropped (and only a retry picks another endpoint).
    vip = service(sandbox, "echo")["clusterIP"]
    data = json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)
    for pod in (p["name"] for p in data["pods"] if p["owner"] == "deployment/default/echo"):
        loop = f"for i in $(seq 30); do timeout 0.8 wget -qO- http://{vip}/ || echo FAILED; done"
        out = sshorch("exec", "-i", sandbox.inventory, pod, "--", "sh", "-c", loop).stdout
        answers = Counter(line.split("(pod ")[1].rstrip(")") if "(pod " in line else line for line in out.splitlines())
        assert "FAILED" not in answers and sum(answers.values()) == 30, (pod, answers)
        assert answers[pod] > 0, (pod, answers)


def test_a_node_port_answers_on_every_node_address_from_the_host(sandbox: Sandbox, services: Path) -> None:
    for node in sandbox.status["nodes"]:
        body = urllib.request.urlopen(f"http://{node['address']}:30080/", timeout=5).read().decode()
        assert body.startswith("web v1 on ")


def test_a_service_without_endpoints_refuses_at_once(sandbox: Sandbox, services: Path) -> None:
    vip = service(sandbox, "nobody")["clusterIP"]
    assert service(sandbox, "nobody")["endpoints"] == []
    out = on_nodes(sandbox, f"start=$(date +%s%N); curl -s -m 5 http://{vip}/; echo \" rc=$? ms=$(( ($(date +%s%N) - start) / 1000000 ))\"")
    for text in out.values():
        rc = int(text.split("rc=")[1].split()[0])
        ms = int(text.split("ms=")[1])
        assert rc == 7 and ms < 1000, text  # 7: could not connect (refused), not 28 (timeout)


def test_scaling_changes_the_endpoints_on_every_node_in_the_same_run(sandbox: Sandbox, services: Path) -> None:
    vip = service(sandbox, "echo")["clusterIP"]
    assert endpoint_chains(sandbox, vip) == {"node1": 3, "node2": 3, "node3": 3}
    services.write_text(APP.format(replicas=5))
    sshorch("apply", "-i", sandbox.inventory, "-f", str(services), "--yes")
    assert endpoint_chains(sandbox, vip) == {"node1": 5, "node2": 5, "node3": 5}
    services.write_text(APP.format(replicas=3))
    sshorch("apply", "-i", sandbox.inventory, "-f", str(services), "--yes")
    assert endpoint_chains(sandbox, vip) == {"node1": 3, "node2": 3, "node3": 3}


FOREIGN = "iptables -t nat -N FOREIGN-KEEP; iptables -t nat -A FOREIGN-KEEP -j RETURN; iptables -t nat -A PREROUTING -j FOREIGN-KEEP"


@pytest.mark.parametrize(
    "damage",
    [
        "iptables -t nat -F {services}",
        "iptables -t nat -F {services} && iptables -t nat -F {nodeports} && iptables -t nat -X {nodeports}",
        "iptables -t nat -I {services} 1 -j RETURN",
        "iptables -t filter -F {services}",
    ],
)
def test_hand_made_rule_damage_is_repaired_and_foreign_rules_survive(sandbox: Sandbox, services: Path, damage: str) -> None:
    chains = cluster_chains(sandbox.name)  # the sandbox's cluster is named after it
    damage = damage.format(services=chains.services, nodeports=chains.nodeports)
    node1 = sandbox.node("node1")["address"]
    on_nodes(sandbox, f"{FOREIGN} 2>/dev/null; true")
    before = on_nodes(sandbox, "iptables-save -t nat | grep -c SSHORCH; iptables-save | grep -c FOREIGN-KEEP")
    on_nodes(sandbox, f"[ $(hostname) = node1 ] && {{ {damage}; }}; true")
    plan = sshorch("plan", "-i", sandbox.inventory, "-f", str(services), check=False)
    assert plan.returncode == 2 and re.search(r"^  sync-rules \d+ services?: rules changed by hand$", plan.stdout, re.M), plan.stdout
    sshorch("apply", "-i", sandbox.inventory, "-f", str(services), "--yes")
    assert on_nodes(sandbox, "iptables-save -t nat | grep -c SSHORCH; iptables-save | grep -c FOREIGN-KEEP") == before
    assert urllib.request.urlopen(f"http://{node1}:30080/", timeout=5).read().decode().startswith("web v1")
    assert sshorch("plan", "-i", sandbox.inventory, "-f", str(services), check=False).returncode == 0
