"""A pod with registry credentials: each image pulled first with them, as its policy says,
then created without pulling; exact argv for podman and docker."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from sshorch.runtime import ContainerRun, PodRun
from sshorch.runtime.authpull import PULL, registry_pulls
from sshorch.runtime.docker import Docker
from sshorch.runtime.nonroot import CHECK
from sshorch.runtime.podman import Podman
from sshorch.runtime.model import ContainerSecurityRun
from sshorch.runtime.secretenv import RESOLVE, SOURCE_AND_EXEC, image_words_format

AUTH = "/run/sshorch/clusters/demo/secrets/default/pull_web-1-a"
IMAGE = "registry.example:5000/shop/web:v1"
POD = PodRun(
    name="web-1-a",
    hostname="web-1-a",
    labels=(),
    containers=(ContainerRun(name="web-1-a-web", image=IMAGE),),
    registry_auth=AUTH,
)
PODMAN_PULL = ["podman", "pull", "-q", "--authfile", f"{AUTH}/config.json"]
DOCKER_PULL = ["docker", "--config", AUTH, "pull", "-q"]


def pull(policy: str, image: str = IMAGE, runtime: list[str] = PODMAN_PULL) -> list[str]:
    return ["sh", "-c", PULL, "sshorch-pull", image, policy, *runtime, image]


def test_podman_pulls_with_the_auth_file_then_runs_without_pulling() -> None:
    assert Podman().create_pod(POD) == [
        pull("missing"),
        ["podman", "pod", "create", "--name", "web-1-a", "--hostname", "web-1-a"],
        ["podman", "run", "-d", "--pod", "web-1-a", "--name", "web-1-a-web", "--restart", "always", "--pull", "never", IMAGE],
    ]


def test_docker_pulls_with_the_config_directory_then_creates_without_pulling() -> None:
    assert Docker(pause_image="pause:1").create_pod(POD) == [
        pull("missing", runtime=DOCKER_PULL),
        ["docker", "create", "--name", "web-1-a", "--hostname", "web-1-a", "--label", "sshorch.io/infra=true",
         "--restart", "always", "pause:1"],
        ["docker", "create", "--network", "container:web-1-a", "--name", "web-1-a-web", "--restart", "always",
         "--pull", "never", IMAGE],
        ["docker", "start", "web-1-a", "web-1-a-web"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("policies", "pulls"),
    [
        # one pull an image and policy; Never pulls nothing, as without credentials
        (("missing", "missing"), [pull("missing")]),
        (("always", "missing"), [pull("always"), pull("missing")]),
        (("never", "never"), []),
    ],
)  # fmt: skip
def test_each_image_is_pulled_once_per_policy(policies: tuple[str, str], pulls: list[list[str]]) -> None:
    containers = tuple(ContainerRun(name=f"c{i}", image=IMAGE, pull=p) for i, p in enumerate(policies))  # type: ignore[arg-type]
    commands, pod = registry_pulls(Podman(), replace(POD, containers=containers))
    assert commands == pulls
    assert [c.pull for c in pod.containers] == ["never", "never"]


def test_init_containers_are_pulled_first_too() -> None:
    init = ContainerRun(name="web-1-a-seed", image="registry.example:5000/shop/seed:v1", pull="always")
    commands, pod = registry_pulls(Podman(), replace(POD, init_containers=(init,)))
    assert commands == [pull("always", init.image), pull("missing")]
    assert pod.init_containers[0].pull == "never"


def test_a_pod_without_credentials_is_left_as_it_is() -> None:
    pod = replace(POD, registry_auth="")
    assert registry_pulls(Docker(), pod) == ([], pod)
    assert Podman().create_pod(pod)[0][:3] == ["podman", "pod", "create"]


def test_the_image_reading_scripts_pull_no_more() -> None:
    """Secret variables without a command (the image's ENTRYPOINT is read) and runAsNonRoot
    without runAsUser (the image's user is read): both scripts are told `never`."""
    web = ContainerRun(name="web-1-a-web", image=IMAGE, secret_env="/run/sshorch/env",
                       security=ContainerSecurityRun(non_root_check=("web-1-a", "web")))  # fmt: skip
    commands = Podman().create_pod(replace(POD, containers=(web,)))
    assert commands[0] == pull("missing")
    options = ["--name", "web-1-a-web", "--restart", "always"]
    create = ["sh", "-c", RESOLVE, "sshorch-create", "podman", IMAGE, "never", image_words_format(True), "0",
              "podman", "run", "-d", "--pod", "web-1-a", *options, "--pull", "never",
              "--entrypoint", "/bin/sh", IMAGE, "-c", SOURCE_AND_EXEC, "/run/sshorch/env"]  # fmt: skip
    assert commands[2] == ["sh", "-c", CHECK, "sshorch-non-root", "podman", IMAGE, "never", "web-1-a", "web", *create]


@pytest.mark.parametrize(
    ("policy", "present", "pulled"),
    [("missing", True, False), ("missing", False, True), ("always", True, True)],
)  # fmt: skip
def test_the_pull_script_pulls_as_the_policy_says(tmp_path: Path, policy: str, present: bool, pulled: bool) -> None:
    runtime = tmp_path / "rt"
    runtime.write_text(
        "#!/bin/sh\n"
        f'case "$1" in image) [ -f {tmp_path}/present ];; *) echo "$*" >> {tmp_path}/log;; esac\n'
    )  # fmt: skip
    runtime.chmod(0o755)
    if present:
        (tmp_path / "present").touch()
    done = subprocess.run(["sh", "-c", PULL, "sshorch-pull", "img", policy, str(runtime), "pull", "--authfile", "f", "img"])
    assert done.returncode == 0
    log = tmp_path / "log"
    assert (log.read_text() if log.exists() else "") == ("pull --authfile f img\n" if pulled else "")


def test_a_failed_pull_fails_the_step(tmp_path: Path) -> None:
    done = subprocess.run(["sh", "-c", PULL, "sshorch-pull", "img", "always", "false"])
    assert done.returncode != 0
