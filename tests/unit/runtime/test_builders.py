"""Runtime builders against exact argv."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sshorch.runtime import ContainerRun, Mount, PodRun, PortBinding
from sshorch.runtime.docker import Docker
from sshorch.runtime.podman import Podman

LABELS = (("sshorch.io/cluster", "demo"), ("sshorch.io/pod", "web-1-a"))
POD = PodRun(
    name="web-1-a",
    hostname="web-1-a",
    labels=LABELS,
    containers=(
        ContainerRun(
            name="web-1-a-web",
            image="localhost/sshorch/web:v1",
            args=("--port", "8080"),
            env=(("MODE", "prod"), ("SSHORCH_NODE", "node1")),
            mounts=(
                Mount("bind", "/etc/app", "/run/sshorch/configs/default/app-1234", read_only=True),
                Mount("volume", "/data", "pgdata"),
                Mount("tmpfs", "/scratch"),
            ),
            cpu_limit_millis=500,
            memory_limit_bytes=134217728,
            labels=LABELS + (("sshorch.io/container", "web"),),
            restart_policy="always",
        ),
        ContainerRun(name="web-1-a-side", image="busybox", command=("sh", "-c"), args=("sleep 1; echo $(id)",), restart_policy="no"),
    ),
    ports=(PortBinding("198.18.0.2", 20001, 8080),),
    hosts=(("db", "198.19.0.10"),),
)

WEB_OPTIONS = [
    "--name", "web-1-a-web",
    "--label", "sshorch.io/cluster=demo", "--label", "sshorch.io/pod=web-1-a", "--label", "sshorch.io/container=web",
    "--restart", "always",
    "--env", "MODE=prod", "--env", "SSHORCH_NODE=node1",
    "--volume", "/run/sshorch/configs/default/app-1234:/etc/app:ro",
    "--volume", "pgdata:/data:rw",
    "--mount", "type=tmpfs,destination=/scratch",
    "--cpus", "0.5", "--memory", "134217728",
]
SIDE_OPTIONS = ["--name", "web-1-a-side", "--restart", "no"]


def test_podman_pod_create() -> None:
    assert Podman().create_pod(POD) == [
        ["podman", "pod", "create", "--name", "web-1-a", "--hostname", "web-1-a",
         "--label", "sshorch.io/cluster=demo", "--label", "sshorch.io/pod=web-1-a",
         "--publish", "198.18.0.2:20001:8080/tcp", "--add-host", "db:198.19.0.10"],
        ["podman", "run", "-d", "--pod", "web-1-a", *WEB_OPTIONS, "--pull", "missing", "localhost/sshorch/web:v1", "--port", "8080"],
        ["podman", "run", "-d", "--pod", "web-1-a", *SIDE_OPTIONS, "--pull", "missing",
         "--entrypoint", "sh", "busybox", "-c", "sleep 1; echo $(id)"],
    ]


def test_podman_remove_is_graceful_then_forced_and_idempotent() -> None:
    assert Podman().remove_pod("web-1-a", grace_seconds=10) == [
        ["podman", "pod", "stop", "--ignore", "-t", "10", "web-1-a"],
        ["podman", "pod", "rm", "--ignore", "-f", "web-1-a"],
    ]


def test_docker_pod_is_an_infra_container_the_others_join() -> None:
    commands = Docker(pause_image="pause:1").create_pod(POD)
    assert commands[0] == [
        "docker", "create", "--name", "web-1-a", "--hostname", "web-1-a",
        "--label", "sshorch.io/cluster=demo", "--label", "sshorch.io/pod=web-1-a", "--label", "sshorch.io/infra=true",
        "--restart", "always", "--publish", "198.18.0.2:20001:8080/tcp", "--add-host", "db:198.19.0.10", "pause:1",
    ]
    assert commands[1] == ["docker", "create", "--network", "container:web-1-a", *WEB_OPTIONS, "--pull", "missing", "localhost/sshorch/web:v1", "--port", "8080"]
    assert commands[2] == ["docker", "create", "--network", "container:web-1-a", *SIDE_OPTIONS, "--pull", "missing",
                           "--entrypoint", "sh", "busybox", "-c", "sleep 1; echo $(id)"]
    assert commands[3] == ["docker", "start", "web-1-a", "web-1-a-web", "web-1-a-side"]


def test_docker_remove_stops_containers_then_removes_all() -> None:
    assert Docker().remove_pod("web-1-a", ["web-1-a-web"], grace_seconds=5) == [
        ["docker", "stop", "-t", "5", "web-1-a-web"],
        ["docker", "rm", "-f", "web-1-a-web", "web-1-a"],
    ]


def test_logs_and_exec() -> None:
    assert Podman().logs("c", tail=20, follow=True) == ["podman", "logs", "--tail", "20", "--follow", "c"]
    assert Docker().exec("c", ["sh", "-c", "ls"], interactive=True) == ["docker", "exec", "-i", "c", "sh", "-c", "ls"]


SEED = ContainerRun(name="web-1-a-seed", image="busybox", command=("sh", "-c"), args=("echo one >> /data/log",), restart_policy="no")
PROXY = ContainerRun(name="web-1-a-proxy", image="envoy:1.30", restart_policy="no")
INIT_POD = PodRun(name="web-1-a", hostname="web-1-a", labels=LABELS, containers=POD.containers[:1], init_containers=(SEED, PROXY))
SEED_CREATE = ["--name", "web-1-a-seed", "--restart", "no", "--pull", "missing", "--entrypoint", "sh", "busybox", "-c", "echo one >> /data/log"]
PROXY_CREATE = ["--name", "web-1-a-proxy", "--restart", "no", "--pull", "missing", "envoy:1.30"]
WEB_CREATE = [*WEB_OPTIONS, "--pull", "missing", "localhost/sshorch/web:v1", "--port", "8080"]


def test_podman_pod_with_init_containers_creates_all_and_starts_only_the_first() -> None:
    """The exec never waits on an init container: the plan starts the next ones on later passes."""
    assert Podman().create_pod(INIT_POD) == [
        ["podman", "pod", "create", "--name", "web-1-a", "--hostname", "web-1-a",
         "--label", "sshorch.io/cluster=demo", "--label", "sshorch.io/pod=web-1-a"],
        ["podman", "create", "--pod", "web-1-a", *SEED_CREATE],
        ["podman", "create", "--pod", "web-1-a", *PROXY_CREATE],
        ["podman", "create", "--pod", "web-1-a", *WEB_CREATE],
        ["podman", "start", "web-1-a-seed"],
    ]  # fmt: skip


def test_docker_pod_with_init_containers_starts_the_infra_and_the_first() -> None:
    commands = Docker(pause_image="pause:1").create_pod(INIT_POD)
    assert commands[1:] == [
        ["docker", "create", "--network", "container:web-1-a", *SEED_CREATE],
        ["docker", "create", "--network", "container:web-1-a", *PROXY_CREATE],
        ["docker", "create", "--network", "container:web-1-a", *WEB_CREATE],
        ["docker", "start", "web-1-a", "web-1-a-seed"],
    ]


def test_start_containers_in_order() -> None:
    assert Podman().start_containers(["web-1-a-proxy", "web-1-a-web"]) == ["podman", "start", "web-1-a-proxy", "web-1-a-web"]
    assert Docker().start_containers(["web-1-a-migrate"]) == ["docker", "start", "web-1-a-migrate"]


def test_a_bind_mounts_propagation_is_a_volume_option_on_both_runtimes() -> None:
    container = ContainerRun(
        name="web-1-a-agent", image="busybox",
        mounts=(Mount("bind", "/host", "/srv", False, "rslave"), Mount("bind", "/mnt", "/mnt", True, "rshared"),
                Mount("bind", "/plain", "/plain")),
    )  # fmt: skip
    pod = PodRun(name="web-1-a", hostname="web-1-a", labels=LABELS, containers=(container,))
    for runtime in (Podman(), Docker()):
        argv = [arg for command in runtime.create_pod(pod) for arg in command]
        volumes = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--volume"]
        assert volumes == ["/srv:/host:rw,rslave", "/mnt:/mnt:ro,rshared", "/plain:/plain:rw"], runtime


ADDRESSED = PodRun(
    name="web-1-a", hostname="web-1-a", labels=(),
    containers=(ContainerRun(name="web-1-a-web", image="busybox", pod_address_env=("POD_IP", "MY IP"), restart_policy="always"),),
)  # fmt: skip
ADDRESSED_OPTIONS = ["--name", "web-1-a-web", "--restart", "always", "--env", "POD_IP", "--env", "MY IP", "--pull", "missing", "busybox"]


def test_podman_starts_the_pods_network_first_and_hands_its_address_to_the_container() -> None:
    create, start, run = Podman().create_pod(ADDRESSED)
    assert start == ["podman", "pod", "start", "web-1-a"]
    assert run[:2] == ["sh", "-c"] and run[3:] == ["web-1-a", "podman", "run", "-d", "--pod", "web-1-a", *ADDRESSED_OPTIONS]
    assert "podman pod inspect --format '{{.InfraContainerID}}' \"$0\"" in run[2]
    assert run[2].endswith("""exec env POD_IP="$a" 'MY IP'="$a" "$@\"""")


def test_docker_starts_the_infra_first_and_hands_its_address_to_the_container() -> None:
    _, start, create, _ = Docker(pause_image="pause:1").create_pod(ADDRESSED)
    assert start == ["docker", "start", "web-1-a"]
    assert create[3:] == ["web-1-a", "docker", "create", "--network", "container:web-1-a", *ADDRESSED_OPTIONS]
    assert "docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' \"$0\"" in create[2]


def test_the_address_reaches_the_runtime_through_the_environment(tmp_path: Path) -> None:
    """The wrapper run by sh against a stand-in runtime that prints what it is given."""
    fake = tmp_path / "podman"
    # sh keeps no variable whose name is not a shell name: the stand-in reads what it was given.
    fake.write_text('#!/bin/sh\ncase "$1 $2" in "pod inspect") echo infra1 ;; "inspect --format") echo 198.18.0.131 ;; '
                    '*) echo "args: $*"; echo "POD_IP=$POD_IP"; tr "\\0" "\\n" </proc/$$/environ | grep "^MY IP=" ;; esac\n')
    fake.chmod(0o755)
    _, _, run = Podman().create_pod(ADDRESSED)
    done = subprocess.run(run, capture_output=True, text=True, env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, check=True)
    assert done.stdout.splitlines()[1:] == ["POD_IP=198.18.0.131", "MY IP=198.18.0.131"]


def test_without_an_address_the_container_is_not_made(tmp_path: Path) -> None:
    fake = tmp_path / "podman"
    fake.write_text('#!/bin/sh\ncase "$1" in run) echo made ;; *) echo ;; esac\n')
    fake.chmod(0o755)
    _, _, run = Podman().create_pod(ADDRESSED)
    done = subprocess.run(run, capture_output=True, text=True, env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert done.returncode == 1 and done.stdout == "" and "pod web-1-a has no address yet" in done.stderr
