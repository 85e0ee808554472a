"""securityContext as podman and docker options, against exact argv; the runAsNonRoot check run by sh."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.runtime import ContainerRun, PodRun, PortBinding
from sshorch.runtime.docker import Docker
from sshorch.runtime.model import ContainerSecurityRun
from sshorch.runtime.nonroot import checked_non_root
from sshorch.runtime.podman import Podman

SECURE = ContainerSecurityRun(
    user="1000:1000", groups=(2000, 5), read_only_root=True, cap_drop=("ALL",), cap_add=("NET_BIND_SERVICE",),
    security_opts=("no-new-privileges", "seccomp=unconfined"),
)  # fmt: skip
SECURE_OPTIONS = [
    "--user", "1000:1000", "--group-add", "2000", "--group-add", "5", "--read-only",
    "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE",
    "--security-opt", "no-new-privileges", "--security-opt", "seccomp=unconfined",
]  # fmt: skip
CONTAINER = ContainerRun(name="web-1-a-web", image="web:v1", security=SECURE)
POD = PodRun(name="web-1-a", hostname="web-1-a", labels=(), containers=(CONTAINER,), ports=(PortBinding("10.0.0.1", 20001, 8080),))


def test_podman_container_options_and_a_read_only_root_without_tmpfs() -> None:
    commands = Podman().create_pod(POD)
    assert commands[1] == [
        "podman", "run", "-d", "--pod", "web-1-a", "--name", "web-1-a-web", "--restart", "always",
        *SECURE_OPTIONS[:7], "--read-only-tmpfs=false", *SECURE_OPTIONS[7:], "--pull", "missing", "web:v1",
    ]  # fmt: skip


def test_docker_container_options() -> None:
    commands = Docker(pause_image="pause").create_pod(POD)
    assert commands[1] == [
        "docker", "create", "--network", "container:web-1-a", "--name", "web-1-a-web", "--restart", "always",
        *SECURE_OPTIONS, "--pull", "missing", "web:v1",
    ]  # fmt: skip


def test_privileged() -> None:
    pod = replace(POD, containers=(replace(CONTAINER, security=ContainerSecurityRun(privileged=True)),))
    assert "--privileged" in Podman().create_pod(pod)[1]
    assert "--privileged" in Docker().create_pod(pod)[1]


HOST_POD = replace(
    POD, host_network=True, host_pid=True, host_ipc=True,
    containers=(replace(CONTAINER, security=ContainerSecurityRun()),),
)  # fmt: skip


def test_podman_host_namespaces() -> None:
    create, run = Podman().create_pod(HOST_POD)
    # The node's network: no hostname of its own, no publishing; the node's IPC instead of the pod's.
    assert create == ["podman", "pod", "create", "--name", "web-1-a", "--network", "host", "--share", "net,uts"]
    assert run == ["podman", "run", "-d", "--pod", "web-1-a", "--pid", "host", "--ipc", "host", "--name", "web-1-a-web",
                   "--restart", "always", "--pull", "missing", "web:v1"]  # fmt: skip


def test_docker_host_namespaces() -> None:
    infra, create, _ = Docker(pause_image="pause").create_pod(HOST_POD)
    assert infra == ["docker", "create", "--name", "web-1-a", "--label", "sshorch.io/infra=true", "--restart", "always",
                     "--network", "host", "pause"]  # fmt: skip
    assert create[:8] == ["docker", "create", "--network", "container:web-1-a", "--pid", "host", "--ipc", "host"]


SYSCTL_POD = replace(POD, sysctls=(("net.core.somaxconn", "1024"), ("kernel.shmmax", "1000000")))


def test_podman_sysctls_are_the_pods() -> None:
    create = Podman().create_pod(SYSCTL_POD)[0]
    assert create[-4:] == ["--sysctl", "net.core.somaxconn=1024", "--sysctl", "kernel.shmmax=1000000"]


def test_docker_network_sysctls_on_the_first_container_ipc_ones_on_each() -> None:
    infra, create, _ = Docker(pause_image="pause").create_pod(SYSCTL_POD)
    assert infra[-3:] == ["--sysctl", "net.core.somaxconn=1024", "pause"]
    assert "kernel.shmmax=1000000" not in infra
    assert create[4:6] == ["--sysctl", "kernel.shmmax=1000000"]
    assert "net.core.somaxconn=1024" not in create


def test_no_settings_add_no_options() -> None:
    plain = replace(CONTAINER, security=ContainerSecurityRun())
    assert checked_non_root("podman", ["podman", "run"], plain) == ["podman", "run"]
    assert Podman().create_pod(replace(POD, containers=(plain,)))[1] == [
        "podman", "run", "-d", "--pod", "web-1-a", "--name", "web-1-a-web", "--restart", "always", "--pull", "missing", "web:v1",
    ]  # fmt: skip


# --- runAsNonRoot against the image's user, run by sh with a stand-in runtime ---


def _runtime(tmp_path: Path, user: str) -> Path:
    """A runtime that knows one image whose user is `user`, and records what it is asked to do."""
    script = tmp_path / "rt"
    script.write_text(f"""#!/bin/sh
echo "$*" >>{tmp_path}/calls
case "$*" in
  "image inspect --format {{{{.Config.User}}}} web:v1") echo '{user}' ;;
  "image inspect web:v1") ;;
  *) ;;
esac
""")
    script.chmod(0o755)
    return script


def _create(tmp_path: Path, user: str) -> subprocess.CompletedProcess[str]:
    runtime = _runtime(tmp_path, user)
    container = replace(CONTAINER, security=ContainerSecurityRun(non_root_check=("web-1-a", "web")))
    argv = checked_non_root(str(runtime), ["sh", "-c", f"echo created >>{tmp_path}/calls"], container)
    return subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize(("user", "message"), [
    ("", 'container has runAsNonRoot and image will run as root (pod: "web-1-a", container: web)'),
    ("0", 'container has runAsNonRoot and image will run as root (pod: "web-1-a", container: web)'),
    ("0:1000", 'container has runAsNonRoot and image will run as root (pod: "web-1-a", container: web)'),
    ("nobody", 'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root'
               ' (pod: "web-1-a", container: web)'),
])  # fmt: skip
def test_an_image_that_runs_as_root_is_refused_before_create(tmp_path: Path, user: str, message: str) -> None:
    done = _create(tmp_path, user)
    assert (done.returncode, done.stderr.strip()) == (1, message)
    assert "created" not in (tmp_path / "calls").read_text()


@pytest.mark.parametrize("user", ["1000", "1000:1000"])
def test_an_image_with_a_numeric_user_is_created(tmp_path: Path, user: str) -> None:
    done = _create(tmp_path, user)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calls").read_text().splitlines()[-1] == "created"
