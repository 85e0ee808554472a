"""Secrets end to end: stored encrypted, delivered only where used, never leaked, rotated."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, on_node, on_nodes, own_state, sshorch

APP = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  annotations: {sshorch.io/stored-secret: db}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reader}
spec:
  replicas: 1
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      containers:
        - name: main
          image: localhost/sshorch/web:v1
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: db, key: password}}
          volumeMounts: [{name: creds, mountPath: /etc/creds}]
      volumes: [{name: creds, secret: {secretName: db}}]
"""

# What the container sees: the mounted file, then its main process's variable.
INSIDE = "podman exec {c} sh -c 'cat /etc/creds/password; echo; tr \"\\0\" \"\\n\" < /proc/1/environ | sed -n s/^DB_PASSWORD=//p'"
SAMPLE_PS = (
    "rm -f /tmp/stop-ps /tmp/ps-samples; "
    "nohup sh -c 'while [ ! -f /tmp/stop-ps ]; do ps -ef >> /tmp/ps-samples; sleep 0.02; done' >/dev/null 2>&1 &"
)


class Site:
    def __init__(self, sandbox: Sandbox, root: Path) -> None:
        self.sandbox = sandbox
        self.root = root
        self.manifest = root / "app.yaml"
        self.manifest.write_text(APP)
        self.value = ""

    def set_password(self, value: str) -> None:
        (self.root / "password.txt").write_text(value)
        sshorch("secret", "set", "-i", self.sandbox.inventory, "db", f"password=@{self.root / 'password.txt'}")
        (self.root / "password.txt").unlink()
        self.value = value

    def apply(self, *extra: str, check: bool = True) -> tuple[int, str]:
        done = sshorch("-v", "apply", "-i", self.sandbox.inventory, "-f", str(self.manifest), "--prune", "--yes", *extra, check=check)
        return done.returncode, done.stdout + done.stderr

    def pod(self) -> tuple[str, str]:
        status = json.loads(sshorch("status", "-i", self.sandbox.inventory, "-o", "json").stdout)
        (pod,) = [p for p in status["pods"] if p["owner"].endswith("/reader")]
        return pod["name"], pod["node"]


@pytest.fixture(scope="module")
def site(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("secrets")
    with own_state(root):
        assert "made secret key" in sshorch("secret", "init").stdout
        site = Site(sandbox, root)
        site.set_password("pw-" + secrets.token_hex(12))
        try:
            yield site
        finally:
            on_nodes(sandbox, "touch /tmp/stop-ps")


def test_the_value_reaches_the_container_and_nowhere_else(site: Site, sandbox: Sandbox) -> None:
    on_nodes(sandbox, SAMPLE_PS)
    code, output = site.apply()
    on_nodes(sandbox, "touch /tmp/stop-ps")
    pod, node = site.pod()
    container = f"{pod}-main"

    assert on_node(sandbox, node, INSIDE.format(c=container)).split("\n")[:2] == [site.value, site.value]

    samples = on_nodes(sandbox, f"wc -l < /tmp/ps-samples; grep -c -F -- '{site.value}' /tmp/ps-samples")
    for name, text in samples.items():
        lines, hits = (int(n) for n in text.split())
        assert lines > 100 and hits == 0, (name, lines, hits)

    assert site.value not in on_node(sandbox, node, f"podman inspect {container}; podman pod inspect {pod}")
    found = on_nodes(sandbox, f"grep -r -l -F -- '{site.value}' /var/lib/containers /var/lib/sshorch 2>/dev/null; echo done")
    assert all(text.strip() == "done" for text in found.values()), found

    for path in site.root.glob("state.db*"):
        assert site.value.encode() not in path.read_bytes(), path
    assert site.value not in output
    for args in (["status"], ["events"], ["rollout", "history", "reader"]):
        assert site.value not in sshorch("-v", *args, "-i", sandbox.inventory).stdout

    files = on_node(sandbox, node, f"for f in {sandbox.run_dir}/secrets/default/*/*; do stat -c '%a %U' $f; stat -f -c %T $f; done")
    lines = files.split()
    assert lines and lines == ["400", "root", "tmpfs"] * (len(lines) // 3), files
    others = on_nodes(sandbox, f"ls {sandbox.run_dir}/secrets/default 2>/dev/null | wc -l", tuple(n for n in ("node1", "node2", "node3") if n != node))
    assert set(others.values()) == {"0\n"}, others


def test_a_wrong_key_or_a_tampered_value_applies_nothing(site: Site, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    before = site.pod()
    other_key = site.root / "other.key"
    monkeypatch.setenv("SSHORCH_SECRET_KEY_FILE", str(other_key))
    sshorch("secret", "init")
    code, output = site.apply(check=False)
    assert code == 1 and "cannot decrypt: the key file is not the one it was encrypted with" in output, output
    assert site.value not in output
    monkeypatch.setenv("SSHORCH_SECRET_KEY_FILE", str(site.root / "secret.key"))

    with sqlite3.connect(site.root / "state.db") as conn:
        (token,) = conn.execute("SELECT value FROM stored_secrets WHERE name = 'db'").fetchone()
        flipped = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
        conn.execute("UPDATE stored_secrets SET value = ? WHERE name = 'db'", (flipped,))
    try:
        code, output = site.apply(check=False)
        assert code == 1 and "stored secret default/db (password): cannot decrypt" in output, output
    finally:
        with sqlite3.connect(site.root / "state.db") as conn:
            conn.execute("UPDATE stored_secrets SET value = ? WHERE name = 'db'", (token,))
    assert site.pod() == before


def test_rotation_rolls_the_pod_and_the_new_value_is_seen(site: Site, sandbox: Sandbox) -> None:
    old_pod, old_node = site.pod()
    old_dirs = on_node(sandbox, old_node, f"ls {sandbox.run_dir}/secrets/default").split()
    site.set_password("pw-" + secrets.token_hex(12))
    plan = sshorch("plan", "-i", sandbox.inventory, "-f", str(site.manifest), check=False)
    assert plan.returncode == 2 and "secret/db changed (value hidden)" in plan.stdout
    assert site.value not in plan.stdout + plan.stderr
    code, output = site.apply()
    assert "secret/db changed (value hidden)" in output and site.value not in output
    pod, node = site.pod()
    assert pod != old_pod
    assert on_node(sandbox, node, INSIDE.format(c=f"{pod}-main")).split("\n")[:2] == [site.value, site.value]
    # The old copies are gone from the node that had them.
    left = on_node(sandbox, old_node, f"ls {sandbox.run_dir}/secrets/default 2>/dev/null").split()
    assert not set(old_dirs) & set(left), (old_dirs, left)


def test_an_ansible_vault_value_is_decrypted_with_the_password_file(site: Site, sandbox: Sandbox) -> None:
    vault = Path(sys.executable).with_name("ansible-vault")
    if not vault.exists():
        pytest.skip("ansible-vault is not installed in this environment")
    password_file = site.root / "vault-pass"
    password_file.write_text("vault-" + secrets.token_hex(8) + "\n")
    value = "vaulted-" + secrets.token_hex(12)
    encrypted = subprocess.run([str(vault), "encrypt_string", "--vault-password-file", str(password_file), value, "--name", "password"],
                               capture_output=True, text=True, check=True).stdout
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n" + textwrap.indent(encrypted, "  ")
    site.manifest.write_text(secret + "---\n" + APP.split("---\n", 1)[1])
    try:
        code, output = site.apply(check=False)
        assert code == 1 and "needs its password: give --vault-password-file" in output
        code, output = site.apply("--vault-password-file", str(password_file))
        assert value not in output
        pod, node = site.pod()
        assert on_node(sandbox, node, INSIDE.format(c=f"{pod}-main")).split("\n")[:2] == [value, value]
    finally:
        site.manifest.write_text(APP)
