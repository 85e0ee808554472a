"""imagePullSecrets against a real registry that asks for credentials (Debian's
docker-registry, the CNCF distribution registry, with htpasswd auth on the sandbox's
host address): the pod's image is pulled with them, a changed Secret rewrites the
node's file without restarting the pod, and the file goes with the pod."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox, built_sandbox, on_node, own_state, sshorch, sshorch_json

REGISTRY = shutil.which("docker-registry")
USERS = {"alice": "alice-pw-7f3c", "bob": "bob-pw-91ad"}

pytestmark = pytest.mark.skipif(REGISTRY is None, reason="needs docker-registry (make e2e installs it)")


@contextmanager
def registry(address: str, root: Path) -> Iterator[str]:
    """A registry on `address` that admits USERS only; yields its host:port."""
    import bcrypt

    (root / "htpasswd").write_text("".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(prefix=b'2a')).decode()}\n"
                                           for u, p in USERS.items()))  # fmt: skip
    with socket.socket() as probe:
        probe.bind((address, 0))
        port = probe.getsockname()[1]
    config = root / "registry.yml"
    config.write_text(json.dumps({
        "version": 0.1, "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}},
        "http": {"addr": f"{address}:{port}"},
        "auth": {"htpasswd": {"realm": "sshorch-e2e", "path": str(root / "htpasswd")}},
    }))  # fmt: skip
    assert REGISTRY is not None
    with open(root / "registry.log", "wb") as log:
        process = subprocess.Popen([REGISTRY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{address}:{port}/v2/"],
                             capture_output=True, text=True).stdout != "401":  # fmt: skip
            assert process.poll() is None and time.monotonic() < deadline, (root / "registry.log").read_text()
            time.sleep(0.2)
        yield f"{address}:{port}"
    finally:
        process.terminate()
        process.wait(10)


def app(image: str, with_pod: bool = True) -> str:
    secret = "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\n" \
             "metadata: {name: registry, annotations: {sshorch.io/stored-secret: registry}}\n"  # fmt: skip
    pod = f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: private}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: private}}}}
  template:
    metadata: {{labels: {{app: private}}}}
    spec:
      imagePullSecrets: [{{name: registry}}]
      containers:
        - name: web
          image: {image}
          imagePullPolicy: Always
"""
    return secret + (pod if with_pod else "")


def store_credentials(box: Sandbox, root: Path, registry_address: str, user: str) -> None:
    auth = base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
    (root / "config.json").write_text(json.dumps({"auths": {registry_address: {"auth": auth}}}))
    sshorch("secret", "set", "-i", box.inventory, "registry", f".dockerconfigjson=@{root / 'config.json'}")
    (root / "config.json").unlink()


def the_pod(box: Sandbox) -> str:
    (pod,) = [p["name"] for p in sshorch_json("status", "-i", box.inventory)["pods"] if p["owner"].endswith("/private")]
    return str(pod)


def test_a_private_image_is_pulled_with_the_pods_pull_secret(tmp_path: Path) -> None:
    with own_state(tmp_path), built_sandbox(f"pull-{os.getpid()}", 1) as box, \
            registry(box.status["host_address"], tmp_path) as address:  # fmt: skip
        image = f"{address}/shop/web:v1"
        # The node talks plain HTTP to this registry; its demo image is pushed there by alice.
        on_node(box, "node1", "mkdir -p /etc/containers/registries.conf.d && printf '[[registry]]\\nlocation = \"%s\"\\ninsecure = true\\n' "
                f"{address} > /etc/containers/registries.conf.d/50-e2e-registry.conf")  # fmt: skip
        pushed = on_node(box, "node1", f"podman push -q --creds alice:{USERS['alice']} localhost/sshorch/web:v1 {image} && echo pushed")
        assert pushed.strip().endswith("pushed"), pushed
        refused = on_node(box, "node1", f"podman pull -q {image} 2>&1; echo rc=$?")
        assert "rc=0" not in refused and "unauthorized" in refused.lower(), refused

        sshorch("secret", "init")
        store_credentials(box, tmp_path, address, "alice")
        manifest = tmp_path / "app.yaml"
        manifest.write_text(app(image))
        applied = sshorch("apply", "-i", box.inventory, "-f", str(manifest), "--prune", "--yes")
        assert USERS["alice"] not in applied.stdout + applied.stderr
        pod = the_pod(box)
        auth_file = f"{box.run_dir}/secrets/default/pull_{pod}/config.json"
        assert on_node(box, "node1", f"podman inspect --format '{{{{.State.Status}}}} {{{{.ImageName}}}}' {pod}-web").split() == ["running", image]
        assert on_node(box, "node1", f"stat -c '%a %U' {auth_file}").strip() == "600 root"
        container = on_node(box, "node1", f"podman inspect --format '{{{{.Id}}}}' {pod}-web")
        assert "alice" not in on_node(box, "node1", f"podman inspect {pod}-web; podman pod inspect {pod}")

        # Other credentials: the file is rewritten, the pod keeps running as it was, and they work.
        store_credentials(box, tmp_path, address, "bob")
        sshorch("apply", "-i", box.inventory, "-f", str(manifest), "--prune", "--yes")
        assert the_pod(box) == pod
        assert on_node(box, "node1", f"podman inspect --format '{{{{.Id}}}}' {pod}-web") == container
        written = json.loads(on_node(box, "node1", f"cat {auth_file}"))
        assert base64.b64decode(written["auths"][address]["auth"]).decode() == f"bob:{USERS['bob']}"
        assert "rc=0" in on_node(box, "node1", f"podman pull -q --authfile {auth_file} {image} >/dev/null 2>&1; echo rc=$?")

        # No pod needs it any more: the file goes.
        manifest.write_text(app(image, with_pod=False))
        sshorch("apply", "-i", box.inventory, "-f", str(manifest), "--prune", "--yes")
        assert on_node(box, "node1", f"ls {box.run_dir}/secrets/default 2>/dev/null; echo end").split() == ["end"]
