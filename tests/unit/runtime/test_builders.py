"""Runtime builders against exact argv."""

from __future__ import annotations

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
