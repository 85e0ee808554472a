"""Desired state to running pods, end to end on the sandbox (issue: manifests, graph, scheduler, plan/apply)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshorch.inventory import load_inventory
from sshorch.transport import Session
from sshorch.transport.hosttargets import connect_options, target_for
from tests.e2e.conftest import Sandbox, sshorch

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
SNAPSHOT = (
    "podman container inspect --format '{{.Id}} {{.Name}} {{.State.StartedAt}}' $(podman ps -aq) | sort; "
    "podman pod ps -q | sort; "
    "find /run/sshorch /var/lib/sshorch -exec stat -c '%n %Y %a' {} + 2>/dev/null | sort"
)


@pytest.fixture(scope="module")
def app(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the example application the tests may edit, with its own state and key."""
    root = tmp_path_factory.mktemp("apply")
    monkeypatch_module.setenv("SSHORCH_STATE", str(root / "state.db"))
    monkeypatch_module.setenv("SSHORCH_SECRET_KEY_FILE", str(root / "secret.key"))
    shutil.copytree(EXAMPLE, root / "shop")
    (root / "password").write_text("change-me-in-production")
    sshorch("secret", "set", "-i", sandbox.inventory, "shop-db", f"password=@{root / 'password'}")
    yield root / "shop"


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def status(sandbox: Sandbox) -> dict:  # type: ignore[type-arg]
    return json.loads(sshorch("status", "-i", sandbox.inventory, "-o", "json").stdout)


def snapshot(sandbox: Sandbox) -> dict[str, str]:
    """Everything sshorch could have changed on each node."""
    inventory = load_inventory(sandbox.inventory)
    with Session(connect_options(inventory)) as session:
        outcomes = session.map(lambda c: c.run(["sh", "-c", SNAPSHOT]), [target_for(h) for h in inventory.hosts])
    return {o.target.name: o.value.text for o in outcomes if o.value}


def pods_of(data: dict, owner: str) -> list[dict]:  # type: ignore[type-arg]
    return [p for p in data["pods"] if p["owner"] == f"deployment/default/{owner}"]


def test_apply_runs_every_pod_spread_over_the_nodes(sandbox: Sandbox, app: Path) -> None:
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
    assert "applied:" in done.stdout
    data = status(sandbox)
    assert {(w["name"], w["desired"], w["ready"]) for w in data["workloads"]} == {("db", 1, 1), ("api", 2, 2), ("web", 3, 3)}
    assert all(p["phase"] == "Running" and p["ready"] for p in data["pods"])
    assert sorted(p["node"] for p in pods_of(data, "web")) == ["node1", "node2", "node3"]
    assert len({p["node"] for p in pods_of(data, "api")}) == 2


def test_config_and_secret_reach_the_container_but_no_command_line(sandbox: Sandbox, app: Path) -> None:
    # The secret variable is in the container's processes (not in what `exec` starts).
    script = 'echo "$GREETING|$(tr "\\0" "\\n" < /proc/1/environ | sed -n s/^DB_PASSWORD=//p)"; cat /etc/shop/shop.conf'
    out = sshorch("exec", "-i", sandbox.inventory, "api", "--", "sh", "-c", script).stdout
    assert out.startswith("welcome to the shop|change-me-in-production\n")
    assert "currency = EUR" in out
    inventory = load_inventory(sandbox.inventory)
    with Session(connect_options(inventory)) as session:
        outcomes = session.map(lambda c: c.run(["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c change-me-in || true"]), [target_for(h) for h in inventory.hosts])
    # Only the grep of this very check mentions the value.
    assert all(o.value and int(o.value.text.strip() or 0) <= 1 for o in outcomes)
    assert b"change-me-in-production" not in Path(str(app.parent / "state.db")).read_bytes()


def test_a_second_apply_changes_nothing_and_plan_exits_0(sandbox: Sandbox, app: Path) -> None:
    before = snapshot(sandbox)
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
    assert "no changes" in done.stdout and "0 actions" in done.stdout
    assert sshorch("plan", "-i", sandbox.inventory, "-f", str(app), check=False).returncode == 0
    assert snapshot(sandbox) == before


def test_changing_one_image_rolls_only_that_workload(sandbox: Sandbox, app: Path) -> None:
    before = status(sandbox)
    web = app / "30-web.yaml"
    web.write_text(web.read_text().replace("localhost/sshorch/web:v1", "localhost/sshorch/web:v2"))
    plan = sshorch("plan", "-i", sandbox.inventory, "-f", str(app), check=False)
    assert plan.returncode == 2 and "deployment/default/web" in plan.stdout
    sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
    after = status(sandbox)
    for owner in ("db", "api"):
        assert sorted(p["name"] for p in pods_of(after, owner)) == sorted(p["name"] for p in pods_of(before, owner))
    new_web = pods_of(after, "web")
    assert len(new_web) == 3 and not {p["name"] for p in new_web} & {p["name"] for p in pods_of(before, "web")}
    assert len({p["revision"] for p in new_web}) == 1
    versions = sshorch("exec", "-i", sandbox.inventory, new_web[0]["name"], "--", "cat", "/www/version").stdout
    assert versions.strip() == "v2"


def test_a_pod_that_fits_nowhere_is_pending_with_the_reason(sandbox: Sandbox, app: Path) -> None:
    huge = (app / "30-web.yaml").read_text().split("---")[0]
    huge = huge.replace("name: web\n", "name: huge\n", 1).replace("tier: web", "tier: huge").replace("replicas: 3", "replicas: 1")
    huge = huge.replace("memory: 32Mi", "memory: 4000Gi").replace("memory: 64Mi", "memory: 4000Gi")
    (app / "40-huge.yaml").write_text(huge)
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes", check=False)
    assert done.returncode == 1
    assert "0/3 nodes: 3 insufficient memory" in done.stderr
    pending = [p for p in status(sandbox)["pods"] if p["phase"] == "Pending"]
    assert [(p["owner"], p["reason"]) for p in pending] == [("deployment/default/huge", "0/3 nodes: 3 insufficient memory")]


def test_removing_a_workload_from_the_files_removes_its_pods_with_prune(sandbox: Sandbox, app: Path) -> None:
    (app / "40-huge.yaml").unlink()
    (app / "30-web.yaml").unlink()
    # As kubectl apply: what left the files stays, and is said to, unless --prune.
    kept = sshorch("plan", "-i", sandbox.inventory, "-f", str(app), check=False)
    assert "remove-pod" not in kept.stdout and "no longer in the files, kept: deployment/web" in kept.stdout, kept.stdout
    plan = sshorch("plan", "-i", sandbox.inventory, "-f", str(app), "--prune", check=False)
    removed = [pod for line in plan.stdout.splitlines() if line.strip().startswith("remove-pod ")
               for pod in line.strip().removeprefix("remove-pod ").split(":")[0].split(", ")]
    assert plan.returncode == 2 and len(removed) == 3 and all(p.startswith("web-") for p in removed), plan.stdout
    assert "prune: deployment/web (apply set shop, no longer in the files)" in plan.stdout
    sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--prune", "--yes")
    data = status(sandbox)
    assert pods_of(data, "web") == [] and [w["name"] for w in data["workloads"]] == ["db", "api"]
    assert all(p["phase"] == "Running" for p in data["pods"])


HELLO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: localhost/sshorch/web:v1
          imagePullPolicy: IfNotPresent
"""


def test_two_directories_are_two_apply_sets_and_neither_touches_the_other(sandbox: Sandbox, app: Path, tmp_path: Path) -> None:
    hello = tmp_path / "hello"
    hello.mkdir()
    (hello / "app.yaml").write_text(HELLO)
    shop = {p["name"] for p in status(sandbox)["pods"]}
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(hello), "--yes")
    assert "apply set hello: 1 object (1 new); " in done.stdout, done.stdout
    data = status(sandbox)
    assert shop <= {p["name"] for p in data["pods"]} and len(pods_of(data, "hello")) == 1
    # The shop's own prune leaves hello alone, and hello's leaves the shop.
    plan = sshorch("plan", "-i", sandbox.inventory, "-f", str(app), "--prune", check=False)
    assert plan.returncode == 0 and "remove-pod" not in plan.stdout, plan.stdout
    (hello / "app.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hello-left}\n")
    sshorch("apply", "-i", sandbox.inventory, "-f", str(hello), "--prune", "--yes")
    data = status(sandbox)
    assert pods_of(data, "hello") == [] and {p["name"] for p in data["pods"]} == shop


BAD_INPUTS = {
    "unknown field": ("containers:\n", "containers:\n        - name: extra\n          image: busybox\n          imagee: x\n", "imagee"),
    "wrong type": ("replicas: 2", "replicas: two", "replicas"),
    "shell in a name": ("name: api\n", "name: api$(reboot)\n", "metadata.name"),
    "dangling reference": ("name: shop-settings\n            items", "name: nope\n            items", "nope"),
    "cycle": ("sshorch.io/depends-on: deployment/db", "sshorch.io/depends-on: deployment/db, deployment/api", "cycle"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_1_and_changes_nothing(sandbox: Sandbox, app: Path, tmp_path: Path, case: str) -> None:
    bad = tmp_path / "shop"
    shutil.copytree(app, bad)
    old, new, words = BAD_INPUTS[case]
    text = (bad / "20-api.yaml").read_text()
    assert old in text
    (bad / "20-api.yaml").write_text(text.replace(old, new, 1))
    before = snapshot(sandbox)
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(bad), "--yes", check=False)
    assert done.returncode == 1, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr, done.stderr
    if case != "cycle":
        assert "20-api.yaml" in lines[0]
    assert snapshot(sandbox) == before


def test_a_duplicate_object_names_both_files(sandbox: Sandbox, app: Path, tmp_path: Path) -> None:
    bad = tmp_path / "shop"
    shutil.copytree(app, bad)
    shutil.copy(bad / "10-db.yaml", bad / "11-db-again.yaml")
    before = snapshot(sandbox)
    done = sshorch("apply", "-i", sandbox.inventory, "-f", str(bad), "--yes", check=False)
    assert done.returncode == 1
    assert "11-db-again.yaml" in done.stderr and "10-db.yaml" in done.stderr
    assert snapshot(sandbox) == before


STREAMED_IMAGE = "localhost/sshorch-e2e/streamed:1"
STREAMED_APP = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: streamed}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: streamed}}}}
  template:
    metadata: {{labels: {{app: streamed}}}}
    spec:
      containers:
        - name: main
          image: {STREAMED_IMAGE}
          imagePullPolicy: IfNotPresent
"""


@pytest.fixture
def controller_image(tmp_path: Path) -> Iterator[str]:
    """An image only the controller has (nodes have no registry to pull from)."""
    import subprocess
    import tarfile

    layer = tmp_path / "rootfs.tar"
    with tarfile.open(layer, "w") as tar:
        tar.add("/bin/busybox", arcname="bin/busybox")
    subprocess.run(["podman", "import", "--change", 'CMD ["/bin/busybox", "sleep", "3600"]', str(layer), STREAMED_IMAGE],
                   check=True, capture_output=True)
    try:
        yield STREAMED_IMAGE
    finally:
        subprocess.run(["podman", "rmi", "-f", STREAMED_IMAGE], capture_output=True)


def test_an_image_only_the_controller_has_is_streamed_to_the_nodes(sandbox: Sandbox, app: Path, controller_image: str) -> None:
    (app / "50-streamed.yaml").write_text(STREAMED_APP)
    try:
        done = sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
        assert done.stderr.count(f"streaming image {controller_image}") == 2
        streamed = pods_of(status(sandbox), "streamed")
        assert len(streamed) == 2 and all(p["phase"] == "Running" for p in streamed)
        # Present now: a second apply streams nothing.
        again = sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--yes")
        assert "streaming image" not in again.stderr
    finally:
        (app / "50-streamed.yaml").unlink()
        sshorch("apply", "-i", sandbox.inventory, "-f", str(app), "--prune", "--yes")
