"""Hostile input and shared nodes, on a live sandbox: each bad manifest, inventory or node
is a one-line error (or a failure of that one pod) that changes nothing on any node, and
the next `converge` still works for every other workload."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sshorch.proxy.chains import cluster_tag
from tests.e2e.conftest import Sandbox, on_node, on_nodes, own_state, sshorch, sshorch_json

REPO = Path(__file__).resolve().parents[2]
# Every apply here is the whole of one apply set: what a file no longer holds goes.
ONE_SET = ("--applyset", "hostile", "--prune")

BASE = """apiVersion: v1
kind: ConfigMap
metadata: {name: base-conf}
data: {mode: real}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: base}
spec:
  replicas: 2
  selector: {matchLabels: {app: base}}
  template:
    metadata: {labels: {app: base}}
    spec:
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          ports: [{containerPort: 8080}]
          volumeMounts: [{name: conf, mountPath: /etc/base}]
      volumes: [{name: conf, configMap: {name: base-conf}}]
---
apiVersion: v1
kind: Service
metadata: {name: base}
spec:
  selector: {app: base}
  ports: [{port: 80, targetPort: 8080}]
"""


def deployment(name: str, spec: str, namespace: str = "default", image: str = "localhost/sshorch/busybox:latest",
               command: str = '["sleep", "3600"]') -> str:
    """A one-replica Deployment; `spec` is added under the pod spec (indented YAML lines)."""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
{spec}
      containers:
        - name: main
          image: {image}
          imagePullPolicy: IfNotPresent
          command: {command}
"""


# What a refused input must leave as it was: pods, our files, our rules, the crontab.
SNAPSHOT = (
    "podman pod ps -a --format '{{.Name}} {{.Status}}' | sort; "
    "find /run/sshorch /var/lib/sshorch 2>/dev/null | grep -v node.lock | sort; "
    "iptables-save | grep SSHORCH | sed 's/\\[[0-9]*:[0-9]*\\]//' | sort; "
    "crontab -l 2>/dev/null; true"
)


@pytest.fixture(scope="module")
def work(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("hostile")
    with own_state(root):
        (root / "base.yaml").write_text(BASE)
        sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(root / "base.yaml"), "--yes")
        yield root


def snapshot(sandbox: Sandbox) -> dict[str, str]:
    return on_nodes(sandbox, SNAPSHOT)


def refused(*args: str) -> str:
    """Run a command that must fail: exit 1, one error line, no traceback; return that line."""
    done = sshorch(*args, check=False)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(errors) == 1, done.stderr
    return errors[0]


def converges(sandbox: Sandbox, inventory: str | None = None) -> None:
    """The cluster's other workloads still converge, and settle."""
    done = sshorch("converge", "-i", inventory or sandbox.inventory, check=False)
    assert done.returncode in (0, 2), done.stdout + done.stderr
    again = sshorch("converge", "-i", inventory or sandbox.inventory, check=False)
    assert again.returncode == 0, again.stdout + again.stderr


def with_vars(sandbox: Sandbox, target: Path, **variables: object) -> str:
    """A copy of the sandbox's inventory with more (or other) `all` variables."""
    data = yaml.safe_load(Path(sandbox.inventory).read_text())
    data["all"]["vars"].update(variables)
    target.write_text(yaml.safe_dump(data))
    return str(target)


def manifest(work: Path, name: str, text: str) -> str:
    path = work / name
    path.write_text(text)
    return str(path)


# --- isolation on the node -----------------------------------------------------


def test_host_path_root_is_refused_naming_the_field_and_variable(sandbox: Sandbox, work: Path) -> None:
    before = snapshot(sandbox)
    bad = manifest(work, "hostpath.yaml", deployment("rooted", """      volumes: [{name: h, hostPath: {path: /, type: Directory}}]""")
                   .replace("command:", "volumeMounts: [{name: h, mountPath: /host}]\n          command:"))
    line = refused("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", bad, "--yes")
    assert "spec.template.spec.volumes[0].hostPath.path: / is not under sshorch_allowed_host_paths" in line
    assert snapshot(sandbox) == before
    converges(sandbox)


def test_a_sub_path_through_a_symlink_a_container_made_is_refused_on_the_node(sandbox: Sandbox, work: Path) -> None:
    inventory = with_vars(sandbox, work / "allowing.yml", sshorch_allowed_host_paths=["/var/hostile"])
    volume = """      volumes: [{name: h, hostPath: {path: /var/hostile, type: DirectoryOrCreate}}]
      nodeSelector: {kubernetes.io/hostname: node1}"""
    planter = deployment("planter", volume, command='["sh", "-c", "ln -sfn / /h/evil; sleep 3600"]')
    planter = planter.replace("command:", "volumeMounts: [{name: h, mountPath: /h}]\n          command:")
    victim = deployment("victim", volume).replace("command:", "volumeMounts: [{name: h, mountPath: /x, subPath: evil}]\n          command:")
    files = [str(work / "base.yaml"), manifest(work, "planter.yaml", planter)]
    sshorch("apply", *ONE_SET, "-i", inventory, *(a for f in files for a in ("-f", f)), "--yes")
    assert on_node(sandbox, "node1", "readlink /var/hostile/evil").strip() == "/"
    done = sshorch("apply", *ONE_SET, "-i", inventory, *(a for f in files for a in ("-f", f)), "-f",
                   manifest(work, "victim.yaml", victim), "--yes", "--timeout", "20", check=False)
    assert done.returncode == 1 and "subPath evil resolves to /, outside its volume" in done.stderr, done.stderr
    assert "victim" not in on_node(sandbox, "node1", "podman pod ps --format '{{.Name}}'")
    sshorch("apply", *ONE_SET, "-i", inventory, "-f", str(work / "base.yaml"), "--yes")  # planter and victim go
    on_node(sandbox, "node1", "rm -rf /var/hostile")


def test_the_same_deployment_in_two_namespaces_runs_twice_and_settles(sandbox: Sandbox, work: Path) -> None:
    twins = manifest(work, "twins.yaml", deployment("twin", "      nodeSelector: {kubernetes.io/hostname: node2}")
                     + "---\n" + deployment("twin", "      nodeSelector: {kubernetes.io/hostname: node2}", namespace="other"))
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", twins, "--yes")
    names = on_node(sandbox, "node2", "podman pod ps --filter label=sshorch.io/owner=twin --format '{{.Name}} {{.Status}}'")
    assert len(names.split("\n")) - 1 == 2 and names.count("Running") == 2, names
    converges(sandbox)  # no flapping: each pass leaves the other namespace's pod alone
    assert on_node(sandbox, "node2", "podman pod ps --filter label=sshorch.io/owner=twin --format '{{.Name}}'") == \
        "\n".join(line.split()[0] for line in names.splitlines()) + "\n"
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "--yes")


def test_two_clusters_share_the_nodes_and_neither_touches_the_other(sandbox: Sandbox, work: Path, tmp_path: Path) -> None:
    other = with_vars(sandbox, tmp_path / "other.yml", sshorch_cluster="hostile-other",
                      sshorch_service_cidr="198.19.254.0/24", sshorch_hostport_range="40000-40999")
    before = snapshot(sandbox)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSHORCH_STATE", str(tmp_path / "other.db"))
        sshorch("apply", *ONE_SET, "-i", other, "-f", manifest(tmp_path, "neighbour.yaml", BASE.replace("base", "neighbour")), "--yes")
        converges(sandbox, other)
        vip = next(s for s in sshorch_json("status", "-i", other)["services"] if s["name"] == "neighbour")["clusterIP"]
    converges(sandbox)  # our own cluster: nothing of the other's is drift to us
    assert on_node(sandbox, "node3", f"curl -s -m 5 http://{vip}/").startswith("web v1")
    # Ours as it was: the other cluster's pods, files and rules are all that is new.
    theirs = re.compile(f"neighbour|hostile-other|{cluster_tag('hostile-other')}")
    after = snapshot(sandbox)
    assert {n: [line for line in text.splitlines() if not theirs.search(line)] for n, text in after.items()} == \
        {n: text.splitlines() for n, text in before.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSHORCH_STATE", str(tmp_path / "other.db"))
        sshorch("apply", *ONE_SET, "-i", other, "-f", manifest(tmp_path, "empty.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), "--yes")
    converges(sandbox)


def test_an_explicit_host_port_outside_the_range_answers_only_cluster_nodes(sandbox: Sandbox, work: Path) -> None:
    ported = manifest(work, "ported.yaml", deployment(
        "ported", "      nodeSelector: {kubernetes.io/hostname: node1}", image="localhost/sshorch/web:v1", command="[]"
    ).replace("command: []", "ports: [{containerPort: 8080, hostPort: 8443}]"))
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", ported, "--yes")
    node1 = sandbox.node("node1")["address"]
    assert on_node(sandbox, "node2", f"curl -s -m 5 http://{node1}:8443/").startswith("web v1")
    with outsider(sandbox) as run_outside:
        assert run_outside(["curl", "-s", "-m", "3", f"http://{node1}:8443/"]).returncode != 0
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "--yes")


class outsider:
    """A host on the sandbox's network that is neither a node nor the controller."""

    def __init__(self, sandbox: Sandbox) -> None:
        import ipaddress

        self.network = ipaddress.ip_network(sandbox.status["network"])
        self.address = str(self.network.broadcast_address - 1)
        self.bridge = sandbox.status["bridge"]
        self.netns = f"hostile-out-{sandbox.name}"[:30]

    def __enter__(self):  # type: ignore[no-untyped-def]
        run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
        run("ip", "netns", "add", self.netns)
        run("ip", "link", "add", "hostile-out0", "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        run("ip", "link", "set", "hostile-out0", "master", self.bridge, "up")
        run("ip", "-n", self.netns, "addr", "add", f"{self.address}/{self.network.prefixlen}", "dev", "eth0")
        run("ip", "-n", self.netns, "link", "set", "eth0", "up")
        return lambda argv: subprocess.run(["ip", "netns", "exec", self.netns, *argv], capture_output=True, text=True)

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "link", "del", "hostile-out0"], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)


# --- the control loop keeps going ------------------------------------------------


def test_a_bad_config_item_path_is_refused_at_load(sandbox: Sandbox, work: Path) -> None:
    before = snapshot(sandbox)
    bad = manifest(work, "items.yaml", deployment("items", """      volumes: [{name: c, configMap: {name: base-conf, items: [{key: mode, path: "."}]}}]"""))
    line = refused("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", bad, "--yes")
    assert "volumes[0].configMap.items[0].path" in line
    assert snapshot(sandbox) == before
    converges(sandbox)


def test_a_non_ascii_probe_and_a_server_that_never_answers_hold_no_pass(sandbox: Sandbox, work: Path) -> None:
    silent = deployment("silent", "", command='["sh", "-c", "sleep 3600 | nc -lk -p 8080"]').replace(
        "command:", "ports: [{containerPort: 8080}]\n          readinessProbe: {httpGet: {path: /santé, port: 8080}, "
        "timeoutSeconds: 2, periodSeconds: 2}\n          command:")
    started = time.monotonic()
    done = sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", manifest(work, "silent.yaml", silent),
                   "--yes", "--timeout", "15", check=False)
    assert done.returncode == 1 and "not ready: deployment/default/silent" in done.stderr, done.stderr
    assert "crash" not in done.stderr, done.stderr  # the server runs: it only never answers
    assert time.monotonic() - started < 45 and "Traceback" not in done.stderr
    converge = sshorch("converge", "-i", sandbox.inventory, "--timeout", "10", check=False)
    assert converge.returncode == 1 and "Traceback" not in converge.stderr  # `silent` is not ready; the pass ran
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "--yes")


def test_an_alias_bomb_is_refused_in_under_a_second(sandbox: Sandbox, work: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = manifest(work, "bomb.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  "
                    + "\n  ".join(levels) + "\n")
    before = snapshot(sandbox)
    started = time.monotonic()
    line = refused("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", bomb, "--yes")
    assert time.monotonic() - started < 5  # the command as a whole, Python's start included
    assert "alias" in line
    assert snapshot(sandbox) == before
    converges(sandbox)


def test_a_template_cannot_reach_python(sandbox: Sandbox, work: Path) -> None:
    template = manifest(work, "evil.yaml.j2", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil}\n"
                        "data: {id: \"{{ cycler.__init__.__globals__.os.popen('id').read() }}\"}\n")
    before = snapshot(sandbox)
    line = refused("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "-f", template, "--yes")
    assert "evil.yaml.j2" in line and "uid=" not in line
    assert snapshot(sandbox) == before
    converges(sandbox)


def test_a_vaulted_inventory_variable_is_decrypted_or_refused(sandbox: Sandbox, work: Path, tmp_path: Path) -> None:
    password = tmp_path / "vault-pass"
    password.write_text("correct horse\n")
    vault = shutil.which("ansible-vault", path=str(Path(sys.executable).parent))
    assert vault, "ansible-vault comes with the test dependencies"
    text = subprocess.run([vault, "encrypt_string", "--vault-password-file", str(password), "--name", "db_password",
                           "s3cret-db"], capture_output=True, text=True, check=True).stdout
    data = Path(sandbox.inventory).read_text().replace("  vars:\n", "  vars:\n    " + text.strip().replace("\n", "\n    ") + "\n", 1)
    inventory = tmp_path / "vaulted.yml"
    inventory.write_text(data)
    app = manifest(work, "vaulted.yaml.j2", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vaulted}\n"
                   "data: {password: \"{{ db_password }}\"}\n---\n"
                   + deployment("vaulted", "").replace("command:", "envFrom: [{configMapRef: {name: vaulted}}]\n          command:"))
    before = snapshot(sandbox)
    line = refused("apply", *ONE_SET, "-i", str(inventory), "-f", str(work / "base.yaml"), "-f", app, "--yes")
    assert "db_password" in line and "Vaulted" not in line
    assert snapshot(sandbox) == before
    sshorch("apply", *ONE_SET, "-i", str(inventory), "--vault-password-file", str(password), "-f", str(work / "base.yaml"), "-f", app, "--yes")
    assert sshorch("exec", "-i", str(inventory), "vaulted", "--", "sh", "-c", 'echo "$password"').stdout.strip() == "s3cret-db"
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "--yes")


def test_a_line_break_in_the_cluster_name_is_refused_before_cron_sees_it(sandbox: Sandbox, tmp_path: Path) -> None:
    crontab = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    inventory = with_vars(sandbox, tmp_path / "newline.yml", sshorch_cluster="evil\n* * * * * touch /tmp/pwned")
    before = snapshot(sandbox)
    line = refused("cron", "install", "-i", inventory, "--every", "1m")
    assert "sshorch_cluster" in line
    assert subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout == crontab
    refused("converge", "-i", inventory)
    assert snapshot(sandbox) == before


def test_a_node_cut_off_during_an_apply_does_not_hang_it(sandbox: Sandbox, work: Path) -> None:
    spread = BASE.replace("base", "spread").replace("replicas: 2", "replicas: 6")
    files = ["-f", str(work / "base.yaml"), "-f", manifest(work, "spread.yaml", spread)]
    proc = subprocess.Popen([sys.executable, "-m", "sshorch", "apply", *ONE_SET, "-i", sandbox.inventory, *files, "--yes",
                             "--connect-timeout", "3", "--timeout", "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # while pods are being created
        sshorch("sandbox", "fail", "--name", sandbox.name, "node3")
        started = time.monotonic()
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err
        assert time.monotonic() - started < 60, "the apply waited on the lost node"
        nodes = {n["name"]: n["status"] for n in sshorch_json("nodes", "-i", sandbox.inventory, "--connect-timeout", "3")}
        assert nodes == {"node1": "Ready", "node2": "Ready", "node3": "NotReady"}
    finally:
        proc.kill()
        sshorch("sandbox", "recover", "--name", sandbox.name, "node3")
    sshorch("apply", *ONE_SET, "-i", sandbox.inventory, "-f", str(work / "base.yaml"), "--yes")
    converges(sandbox)
