"""converge: the lock, the watch loop, cron, and drift repaired without manifest files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, on_node, on_nodes, own_state, sshorch

APP = """apiVersion: v1
kind: ConfigMap
metadata: {name: keep-conf}
data: {settings.ini: "mode = real"}
---
apiVersion: v1
kind: Secret
metadata: {name: keep-secret}
stringData: {token: s3cret}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: keep}
spec:
  replicas: 2
  selector: {matchLabels: {app: keep}}
  template:
    metadata: {labels: {app: keep}}
    spec:
      containers:
        - name: web
          image: localhost/sshorch/web:v1
          ports: [{containerPort: 8080}]
          volumeMounts:
            - {name: conf, mountPath: /etc/keep}
            - {name: secret, mountPath: /etc/keep-secret}
      volumes:
        - {name: conf, configMap: {name: keep-conf}}
        - {name: secret, secret: {secretName: keep-secret}}
---
apiVersion: v1
kind: Service
metadata: {name: keep}
spec:
  selector: {app: keep}
  ports: [{port: 80, targetPort: 8080}]
"""


@pytest.fixture(scope="module")
def state(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("converge")
    with own_state(root):
        (root / "app.yaml").write_text(APP)
        sshorch("apply", "-i", sandbox.inventory, "-f", str(root / "app.yaml"), "--yes")
        yield root / "state.db"


def test_converge_with_nothing_to_do_exits_0(sandbox: Sandbox, state: Path) -> None:
    assert sshorch("converge", "-i", sandbox.inventory, check=False).returncode == 0


def test_a_deleted_pod_and_a_stray_container_are_repaired_by_one_converge(sandbox: Sandbox, state: Path) -> None:
    on_node(sandbox, "node1", "podman pod rm -f $(podman pod ps -q --filter label=sshorch.io/owner=keep) >/dev/null 2>&1; "
            "podman run -d --name intruder --label sshorch.io/cluster=" + sandbox.name + " localhost/sshorch/busybox:latest sleep 600")
    on_node(sandbox, "node2", "podman run -d --name foreign localhost/sshorch/busybox:latest sleep 600")
    done = sshorch("converge", "-i", sandbox.inventory, check=False)
    assert done.returncode == 2, done.stderr
    assert "removed stray container intruder" in done.stderr and "created pod keep-" in done.stderr
    assert sshorch("converge", "-i", sandbox.inventory, check=False).returncode == 0
    assert "foreign" in on_node(sandbox, "node2", "podman ps --format '{{.Names}}'")  # not ours: untouched
    on_node(sandbox, "node2", "podman rm -f -t 0 foreign")


def start_holding(sandbox: Sandbox, state: Path) -> subprocess.Popen[str]:
    """A converge run, frozen (SIGSTOP) while it holds the lock."""
    from sshorch.state import open_store

    run = subprocess.Popen(
        [sys.executable, "-m", "sshorch", "converge", "-i", sandbox.inventory, "--watch", "--interval", "0.2s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open_store(state) as store:
            holder = store.lock_holder()
        if holder is not None and holder.pid == run.pid:
            run.send_signal(signal.SIGSTOP)
            with open_store(state) as store:
                holder = store.lock_holder()
            if holder is not None and holder.pid == run.pid:
                return run
            run.send_signal(signal.SIGCONT)
    run.kill()
    raise AssertionError("the first run never held the lock")


def test_config_and_secret_files_changed_by_hand_are_put_back(sandbox: Sandbox, state: Path) -> None:
    on_node(sandbox, "node1", f"for f in {sandbox.run_dir}/configs/default/keep-conf-*/settings.ini; do echo 'mode = tampered' > $f; done; "
            f"rm -f {sandbox.run_dir}/secrets/default/keep-secret-*/token")
    done = sshorch("converge", "-i", sandbox.inventory, check=False)
    assert done.returncode == 2 and "rewrote files of" in done.stderr, done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    assert on_node(sandbox, "node1", f"cat {sandbox.run_dir}/configs/default/keep-conf-*/settings.ini") == "mode = real"
    assert on_node(sandbox, "node1", f"stat -c %a {sandbox.run_dir}/secrets/default/keep-secret-*/token").strip() == "400"
    pod = next(line for line in on_node(sandbox, "node1", "podman ps --format '{{.Names}}'").split() if line.startswith("keep-")).removesuffix("-web")
    assert sshorch("exec", "-i", sandbox.inventory, pod, "--", "cat", "/etc/keep/settings.ini").stdout == "mode = real"
    assert sshorch("converge", "-i", sandbox.inventory, check=False).returncode == 0


def test_a_second_run_exits_3_at_once_naming_the_holder(sandbox: Sandbox, state: Path) -> None:
    first = start_holding(sandbox, state)
    try:
        started = time.monotonic()
        second = sshorch("converge", "-i", sandbox.inventory, check=False)
        assert second.returncode == 3, second
        assert time.monotonic() - started < 5
        assert f"another run holds the lock: pid {first.pid}" in second.stderr and "converge" in second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_a_lock_left_by_a_killed_run_is_taken_over(sandbox: Sandbox, state: Path) -> None:
    from sshorch.state import open_store

    killed = start_holding(sandbox, state)
    killed.kill()
    killed.wait()
    with open_store(state) as store:
        left = store.lock_holder()
    assert left is not None and left.pid == killed.pid  # the dead run's lock is still there ...
    assert sshorch("converge", "-i", sandbox.inventory, check=False).returncode in (0, 2)  # ... and is taken over
    with open_store(state) as store:
        assert store.lock_holder() is None


def test_watch_stops_cleanly_on_sigterm(sandbox: Sandbox, state: Path) -> None:
    run = subprocess.Popen([sys.executable, "-m", "sshorch", "converge", "-i", sandbox.inventory, "--watch", "--interval", "1s", "-o", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    lines: list[str] = []
    assert run.stdout is not None
    while time.monotonic() < deadline and sum(1 for line in lines if line.startswith("}")) < 2:
        lines.append(run.stdout.readline())
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0 and "stopped" in err
    assert sum(1 for line in lines if line.startswith("}")) >= 2  # two passes reported as JSON


def test_cron_install_twice_gives_one_entry_that_runs(sandbox: Sandbox, state: Path, tmp_path: Path) -> None:
    saved = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    try:
        for _ in range(2):
            sshorch("cron", "install", "--every", "1m", "-i", sandbox.inventory, "--state", str(state), "--log", str(tmp_path / "c.log"))
        crontab = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
        entries = [line for line in crontab.splitlines() if "sshorch-converge:" + sandbox.name in line]
        assert len(entries) == 1
        command = entries[0].split(" ", 5)[5].rsplit(" # ", 1)[0]
        ran = subprocess.run(["sh", "-c", command], env={**os.environ}, timeout=120)
        assert ran.returncode == 0
        assert "applied:" in (tmp_path / "c.log").read_text()
        status = sshorch("cron", "status", "-i", sandbox.inventory, "-o", "json").stdout
        assert sandbox.name in status
        sshorch("cron", "remove", "-i", sandbox.inventory)
        assert "sshorch-converge:" + sandbox.name not in subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    finally:
        if saved.returncode == 0:
            subprocess.run(["crontab", "-"], input=saved.stdout, text=True)
        else:
            subprocess.run(["crontab", "-r"], capture_output=True)


def keep_pods(sandbox: Sandbox) -> list[str]:
    found = on_nodes(sandbox, "podman pod ps --format '{{.Name}}' --filter label=sshorch.io/owner=keep")
    return [name for text in found.values() for name in text.split()]


def test_a_run_killed_mid_way_is_completed_by_the_next_without_duplicates(sandbox: Sandbox, state: Path) -> None:
    run = subprocess.Popen([sys.executable, "-m", "sshorch", "scale", "-i", sandbox.inventory, "keep=5"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(keep_pods(sandbox)) <= 2 and time.monotonic() < deadline and run.poll() is None:
        pass
    assert run.poll() is None, "scale finished before it could be killed mid-way"
    run.send_signal(signal.SIGKILL)
    run.wait()
    after = sshorch("converge", "-i", sandbox.inventory, check=False)
    assert after.returncode in (0, 2), after.stdout + after.stderr
    pods = keep_pods(sandbox)
    assert len(pods) == 5 and len(set(pods)) == 5, pods
    assert sshorch("converge", "-i", sandbox.inventory, check=False).returncode == 0
    sshorch("scale", "-i", sandbox.inventory, "keep=2")
    assert len(keep_pods(sandbox)) == 2
