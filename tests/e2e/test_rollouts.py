"""Zero-downtime rolling updates, automatic rollback, probes, scale and undo, end to end."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshorch.inventory import load_inventory
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options, target_for
from tests.e2e.conftest import Sandbox, endpoint_chains, own_state, sshorch

APP = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
  annotations: {{}}
spec:
  replicas: {replicas}
  progressDeadlineSeconds: {deadline}
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}
  selector: {{matchLabels: {{app: site}}}}
  template:
    metadata: {{labels: {{app: site}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: web
          image: {image}
          ports: [{{name: http, containerPort: 8080}}]
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
            periodSeconds: 1
            failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {{name: site}}
spec:
  type: {service_type}
  selector: {{app: site}}
  ports: [{{port: 80, targetPort: http{node_port}}}]
"""


def site_app(image: str, replicas: int, deadline: int = 20, node_port: int | None = None) -> str:
    """A web Deployment that rolls one pod at a time, on readiness, and its Service."""
    return APP.format(
        image=image, replicas=replicas, deadline=deadline, service_type="NodePort" if node_port else "ClusterIP",
        node_port=f", nodePort: {node_port}" if node_port else "",
    )

# A request loop on a node: about 25 requests a second until /tmp/stop-load exists.
# Each failure is logged with its time, curl's exit code and the HTTP code, so a
# failing run says what failed.
LOAD = (
    "rm -f /tmp/stop-load; ok=0; fail=0; : > /tmp/load-versions; : > /tmp/load-failures; "
    "while [ ! -f /tmp/stop-load ]; do "
    "  v=$(curl -s -m 5 -w ' %{{http_code}}' http://{vip}/version); rc=$?; "
    "  case \"$v\" in *' 200') ok=$((ok+1)); echo \"${{v% 200}}\" >> /tmp/load-versions;; "
    "  *) fail=$((fail+1)); echo \"$(date +%T.%N) curl=$rc http=${{v##* }}\" >> /tmp/load-failures;; esac; "
    "  sleep 0.03; "
    "done; echo \"ok=$ok fail=$fail\""
)


def write(app: Path, image: str, replicas: int = 3) -> None:
    app.write_text(site_app(image, replicas))


@pytest.fixture(scope="module")
def site(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("rollouts")
    with own_state(root):
        app = root / "site.yaml"
        write(app, "localhost/sshorch/web:v1")
        sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
        yield app


def status(sandbox: Sandbox) -> dict:  # type: ignore[type-arg]
    return json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)


def vip(sandbox: Sandbox) -> str:
    return str(next(s for s in status(sandbox)["services"] if s["name"] == "site")["clusterIP"])


LOAD_STARTED = 10  # answers before a Load block starts


class Load:
    """A request loop against the VIP on node1, for the length of a `with` block."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.inventory = load_inventory(sandbox.inventory)
        self.host = self.inventory.host("node1")
        self.script = LOAD.format(vip=vip(sandbox))
        self.result = ""
        self.versions: list[str] = []
        self.failures: list[str] = []

    def __enter__(self) -> Load:
        """Returns once the loop has had answers, so the block runs under load from its start."""
        def run() -> None:
            with Session(connect_options(self.inventory)) as session:
                self.result = session.connection(target_for(self.host)).run(["bash", "-c", self.script], timeout=600).text
        with Session(connect_options(self.inventory)) as session:
            conn = session.connection(target_for(self.host))
            conn.run(["rm", "-f", "/tmp/load-versions"])
            self.thread = threading.Thread(target=run)
            self.thread.start()
            deadline = time.monotonic() + 30
            while int(conn.run(["sh", "-c", "cat /tmp/load-versions 2>/dev/null | wc -l"]).text or 0) < LOAD_STARTED:
                assert time.monotonic() < deadline, "the request loop got no answers"
        return self

    def __exit__(self, *exc: object) -> None:
        with Session(connect_options(self.inventory)) as session:
            conn = session.connection(target_for(self.host))
            conn.run(["sh", "-c", "sleep 2; touch /tmp/stop-load"])
            self.thread.join(30)
            self.versions = conn.run(["cat", "/tmp/load-versions"]).text.split()
            self.failures = conn.run(["cat", "/tmp/load-failures"]).text.splitlines()

    def counts(self) -> tuple[int, int]:
        fields = dict(part.split("=") for part in self.result.split())
        return int(fields["ok"]), int(fields["fail"])


def test_update_v1_to_v2_drops_no_request(sandbox: Sandbox, site: Path) -> None:
    write(site, "localhost/sshorch/web:v2")
    with Load(sandbox) as load:
        done = sshorch("apply", "-i", sandbox.inventory, "-f", str(site), "--yes")
    ok, fail = load.counts()
    assert fail == 0 and ok >= 20 * 5, (ok, fail, load.failures, done.stdout)
    assert load.versions[-10:] == ["v2"] * 10
    assert {w["name"]: (w["ready"], w["up_to_date"]) for w in status(sandbox)["workloads"]} == {"site": (3, 3)}


def test_an_image_that_never_gets_ready_rolls_back_without_a_failed_request(sandbox: Sandbox, site: Path) -> None:
    write(site, "localhost/sshorch/never-ready:v1")
    with Load(sandbox) as load:
        done = sshorch("apply", "-i", sandbox.inventory, "-f", str(site), "--yes", check=False)
    assert done.returncode == 1
    assert "rolled back" in done.stderr and "no progress" in done.stderr
    ok, fail = load.counts()
    assert fail == 0 and ok >= 20 * 10, (ok, fail, load.failures, done.stderr)
    assert set(load.versions) == {"v2"}
    history = json.loads(sshorch("rollout", "history", "-i", sandbox.inventory, "site", "-o", "json").stdout)
    assert [r["status"] for r in history][-2:] == ["failed", "complete"]
    assert "no progress" in history[-2]["reason"]
    assert "rollback" in history[-1]["cause"]


def test_undo_goes_back_a_revision_as_a_new_one(sandbox: Sandbox, site: Path) -> None:
    before = json.loads(sshorch("rollout", "history", "-i", sandbox.inventory, "site", "-o", "json").stdout)
    sshorch("rollout", "undo", "-i", sandbox.inventory, "site", "--to-revision", str(before[0]["revision"]))
    after = json.loads(sshorch("rollout", "history", "-i", sandbox.inventory, "site", "-o", "json").stdout)
    assert after[-1]["revision"] > before[-1]["revision"] and after[-1]["hash"] == before[0]["hash"]
    out = sshorch("exec", "-i", sandbox.inventory, "site", "--", "cat", "/www/version").stdout
    assert out.strip() == "v1"


def test_scale_changes_pods_and_endpoints_without_a_revision(sandbox: Sandbox, site: Path) -> None:
    revisions = len(json.loads(sshorch("rollout", "history", "-i", sandbox.inventory, "site", "-o", "json").stdout))
    sshorch("scale", "-i", sandbox.inventory, "site=5")
    service = next(s for s in status(sandbox)["services"] if s["name"] == "site")
    assert len(service["endpoints"]) == 5
    sshorch("scale", "-i", sandbox.inventory, "site=2")
    service = next(s for s in status(sandbox)["services"] if s["name"] == "site")
    assert len(service["endpoints"]) == 2
    assert len(json.loads(sshorch("rollout", "history", "-i", sandbox.inventory, "site", "-o", "json").stdout)) == revisions


def site_endpoints_in_rules(sandbox: Sandbox) -> dict[str, int]:
    return endpoint_chains(sandbox, vip(sandbox))


def test_a_pod_failing_readiness_leaves_the_endpoints_and_returns(sandbox: Sandbox, site: Path) -> None:
    assert site_endpoints_in_rules(sandbox) == {"node1": 2, "node2": 2, "node3": 2}
    pods = [p for p in status(sandbox)["pods"] if p["owner"] == "deployment/default/site"]
    victim = pods[0]["name"]
    sshorch("exec", "-i", sandbox.inventory, victim, "--", "rm", "/www/healthz")
    assert sshorch("converge", "-i", sandbox.inventory, "--timeout", "5", check=False).returncode in (1, 2)
    assert site_endpoints_in_rules(sandbox) == {"node1": 1, "node2": 1, "node3": 1}
    sshorch("exec", "-i", sandbox.inventory, victim, "--", "sh", "-c", "echo ok > /www/healthz")
    assert sshorch("converge", "-i", sandbox.inventory, check=False).returncode in (0, 2)
    assert site_endpoints_in_rules(sandbox) == {"node1": 2, "node2": 2, "node3": 2}


LIVE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: live}
spec:
  replicas: 1
  selector: {matchLabels: {app: live}}
  template:
    metadata: {labels: {app: live}}
    spec:
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          livenessProbe:
            exec: {command: [cat, /tmp/ready]}
            periodSeconds: 1
            failureThreshold: 2
"""


def test_a_container_failing_liveness_is_restarted(sandbox: Sandbox, site: Path) -> None:
    both = site.parent / "both"
    both.mkdir(exist_ok=True)
    write(both / "site.yaml", "localhost/sshorch/web:v1", replicas=2)
    (both / "live.yaml").write_text(LIVE)
    sshorch("apply", "-i", sandbox.inventory, "-f", str(both), "--yes")
    pod = next(p for p in status(sandbox)["pods"] if p["owner"] == "deployment/default/live")
    assert pod["restarts"] == 0
    sshorch("exec", "-i", sandbox.inventory, pod["name"], "--", "rm", "/tmp/ready")
    # Each converge probes once; failures add up across runs (kept in state) to the threshold.
    deadline = time.monotonic() + 30
    outputs = ""
    while "Liveness probe failed" not in outputs and time.monotonic() < deadline:
        outputs += sshorch("converge", "-i", sandbox.inventory, "--timeout", "20", check=False).stderr
    assert "Liveness probe failed 2 times" in outputs, outputs
    after = next(p for p in status(sandbox)["pods"] if p["name"] == pod["name"])
    assert after["restarts"] >= 1 and after["phase"] == "Running"
    events = sshorch("events", "-i", sandbox.inventory).stdout
    assert "Restarted" in events and "Liveness probe failed" in events
