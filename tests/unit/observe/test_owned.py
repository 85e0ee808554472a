import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sshorch.observe.cluster import build_owned, owned_fact_names, owned_facts, parse_owned
from sshorch.observe.facts import RUNTIME_TIMEOUT, Fact, ParsedFacts, node_facts, parse_gather_output, render_gather_script
from sshorch.observe.owned import (
    ObservedContainer,
    ObservedPod,
    Owned,
    docker_pod_status,
    parse_docker_labels,
    parse_docker_ports,
    parse_inspect,
    parse_podman_listing,
    parse_podman_containers,
    parse_podman_port_bindings,
    parse_state,
    parse_timestamp,
    podman_pod_status,
    render_podman_inspect_template,
)
from sshorch.runtime.model import PortBinding
from sshorch.runtime.registry import runtime_for

FIXTURES = Path(__file__).parent / "fixtures"
IP = "198.18.0.66"  # the podman capture's node
DOCKER_IP = "198.18.0.18"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def owned_from(runtime: str, name: str) -> Owned:
    parsed = parse_gather_output(owned_facts(runtime_for(runtime), "obs"), fixture(name))
    assert parsed.errors == {}
    return parse_owned(runtime_for(runtime), "node1", parsed.values)


def pods_by_name(owned: Owned) -> dict[str, ObservedPod]:
    return {pod.name: pod for pod in owned.pods}


def labels(owner: str, revision: str, pod: str, slot: str, **extra: str) -> dict[str, str]:
    base = {
        "sshorch.io/cluster": "obs",
        "sshorch.io/namespace": "default",
        "sshorch.io/kind": "Deployment",
        "sshorch.io/owner": owner,
        "sshorch.io/revision": revision,
        "sshorch.io/pod": pod,
        "sshorch.io/slot": slot,
    }
    return base | extra


def summary(container: ObservedContainer) -> tuple[str, str, int, int]:
    return (container.name, container.state, container.exit_code, container.restarts)


# podman: captured on a sandbox node (podman 4.3.1)


@pytest.fixture(scope="module")
def podman() -> Owned:
    return owned_from("podman", "gather-owned-podman.txt")


def test_podman_capture_with_node_facts_parses_without_errors() -> None:
    facts = node_facts("podman", version=False) + owned_facts(runtime_for("podman"), "obs")
    parsed = parse_gather_output(facts, fixture("gather-owned-podman.txt"))
    assert parsed.errors == {}
    assert parsed.values["hostname"] == "node1"


def test_podman_pods_and_their_status(podman: Owned) -> None:
    # The same statuses `podman pod ps` showed for these pods.
    assert {p.name: p.status for p in podman.pods} == {
        "web-1a2b3c4d5e-x7k2p": "Running",
        "crashy-5f6e7d8c9b-q4w8z": "Running",
        "crashy-5f6e7d8c9b-z9y8x": "Degraded",
        "web-1a2b3c4d5e-m3n4p": "Exited",
        "web-6c7d8e9f0a-new01": "Created",
    }
    assert all(p.node == "node1" for p in podman.pods)
    assert [p.name for p in podman.pods] == sorted(p.name for p in podman.pods)


def test_podman_running_pod_with_two_containers_and_two_ports(podman: Owned) -> None:
    pod = pods_by_name(podman)["web-1a2b3c4d5e-x7k2p"]
    assert [summary(c) for c in pod.containers] == [
        ("web-1a2b3c4d5e-x7k2p-sidecar", "running", 0, 0),
        ("web-1a2b3c4d5e-x7k2p-web", "running", 0, 0),
    ]
    assert pod.ports == (
        PortBinding(IP, 20001, 8080, "tcp"),
        PortBinding(IP, 20002, 9090, "udp"),
    )
    # The infra container's labels minus the pause image's own (io.buildah.version).
    assert pod.labels == labels("web", "1a2b3c4d5e", "web-1a2b3c4d5e-x7k2p", "0")
    assert (pod.kind, pod.namespace, pod.owner, pod.revision, pod.slot) == ("Deployment", "default", "web", "1a2b3c4d5e", "0")
    assert pod.owner_key == ("Deployment", "default", "web")
    assert pod.running and pod.failed_containers == () and pod.restarts == 0


def test_podman_container_details(podman: Owned) -> None:
    web = pods_by_name(podman)["web-1a2b3c4d5e-x7k2p"].containers[1]
    assert web.id == "ec90c318b2a2b646414378b16d9fb6fd8516047350fb8782ceecd9a6758c20f1"
    assert web.image == "localhost/sshorch/web:v1"
    assert web.image_id == "cf78ad29b152f2d20a1057dd45b265d37fd8812067bdaef949e67c25202091de"
    assert web.started_at == pytest.approx(1795378114.507775039)  # 2026-11-22T20:08:34.507775039Z
    assert not web.infra
    # A foreign label with quotes, a comma and a backslash comes through whole.
    assert web.labels == labels("web", "1a2b3c4d5e", "web-1a2b3c4d5e-x7k2p", "0", **{
        "sshorch.io/container": "web", "org.opencontainers.image.title": "localhost/sshorch/web:v1",
        "org.example.note": 'say "hi", a\\b'})


def test_podman_containers_of_one_image_share_its_id_and_images_are_not_gathered(podman: Owned) -> None:
    pods = pods_by_name(podman)
    running = pods["web-1a2b3c4d5e-x7k2p"].containers[1]
    stopped = pods["web-1a2b3c4d5e-m3n4p"].containers[0]
    assert running.image == stopped.image and running.image_id == stopped.image_id
    assert podman.images == {}


def test_podman_crash_looping_pod_counts_restarts(podman: Owned) -> None:
    pod = pods_by_name(podman)["crashy-5f6e7d8c9b-q4w8z"]
    assert [summary(c) for c in pod.containers] == [("crashy-5f6e7d8c9b-q4w8z-crash", "running", 0, 19)]
    assert pod.restarts == 19
    assert pod.ports == (PortBinding(IP, 20003, 8080, "tcp"),)


def test_podman_pod_whose_container_gave_up_has_failed_containers(podman: Owned) -> None:
    pod = pods_by_name(podman)["crashy-5f6e7d8c9b-z9y8x"]
    assert [summary(c) for c in pod.containers] == [("crashy-5f6e7d8c9b-z9y8x-crash", "exited", 1, 2)]
    assert pod.failed_containers == ("crashy-5f6e7d8c9b-z9y8x-crash",)
    assert not pod.running and pod.ports == () and pod.slot == "1"


def test_podman_stopped_pod_is_not_running_and_not_failed(podman: Owned) -> None:
    pod = pods_by_name(podman)["web-1a2b3c4d5e-m3n4p"]
    assert [summary(c) for c in pod.containers] == [("web-1a2b3c4d5e-m3n4p-web", "exited", 0, 0)]
    assert not pod.running and pod.failed_containers == ()
    assert pod.ports == (PortBinding(IP, 20004, 8080, "tcp"),)


def test_podman_created_pod_never_started(podman: Owned) -> None:
    pod = pods_by_name(podman)["web-6c7d8e9f0a-new01"]
    (web,) = pod.containers
    assert (web.state, web.started_at, web.image) == ("created", None, "localhost/sshorch/web:v2")
    assert pod.revision == "6c7d8e9f0a" and pod.ports == (PortBinding(IP, 20005, 8080, "tcp"),)


def test_podman_infra_containers_are_not_app_containers(podman: Owned) -> None:
    names = [c.name for p in podman.pods for c in p.containers] + [c.name for c in podman.stray_containers]
    assert not any(name.endswith("-infra") for name in names)
    assert len(names) == 7


def test_podman_container_of_a_deleted_pod_is_stray(podman: Owned) -> None:
    assert [summary(c) for c in podman.stray_containers] == [("web-0f0f0f0f0f-gone1-web", "running", 0, 0)]
    assert podman.stray_containers[0].labels["sshorch.io/pod"] == "web-0f0f0f0f0f-gone1"


def test_podman_sees_nothing_unlabelled_or_of_another_cluster(podman: Owned) -> None:
    names = {p.name for p in podman.pods} | {c.name for c in podman.stray_containers}
    assert not names & {"not-ours", "other-cluster-pod", "other-cluster-c"}
    assert [v.name for v in podman.volumes] == ["data-db-0"]


def test_podman_volumes_and_dirs(podman: Owned) -> None:
    (volume,) = podman.volumes
    assert volume.labels == {"sshorch.io/cluster": "obs", "sshorch.io/kind": "Deployment",
                             "sshorch.io/namespace": "default", "sshorch.io/owner": "db"}
    assert podman.file_dirs == {
        "/run/sshorch/configs/default/x-1234",
        "/run/sshorch/secrets/default/db-creds-9f8e",
        "/var/lib/sshorch/pods/web-1a2b3c4d5e-x7k2p",
        "/run/sshorch/pods/web-1a2b3c4d5e-x7k2p",
    }


def test_podman_empty_node_owns_nothing() -> None:
    owned = owned_from("podman", "gather-owned-empty-podman.txt")
    assert (owned.pods, owned.stray_containers, owned.volumes, owned.file_dirs, owned.images) == ((), (), (), frozenset(), {})


def inspect_line(name: str, pod: str, infra: bool, state: str = "running", labels: dict[str, str] | None = None) -> str:
    return json.dumps({
        "Id": name * 2, "Name": name, "ImageName": "localhost/sshorch/web:v1", "Image": "ab" * 32,
        "Status": state, "ExitCode": 0, "StartedAt": "2026-11-22T20:01:31Z", "FinishedAt": "0001-01-01T00:00:00Z", "RestartCount": 0,
        "Labels": labels, "Pod": pod, "IsInfra": infra, "PortBindings": None,
    })


def podman_owned(*lines: str) -> Owned:
    return parse_owned(runtime_for("podman"), "node1", {"containers": parse_podman_listing("\n".join(lines)),
                                           "volumes": [], "files": frozenset()})


def test_podman_pod_without_its_infra_container_leaves_its_containers_stray() -> None:
    owned = podman_owned(inspect_line("p-web", "f00d", False), inspect_line("p-side", "f00d", False))
    assert owned.pods == () and [c.name for c in owned.stray_containers] == ["p-side", "p-web"]


def test_podman_pod_without_a_pod_label_is_named_by_its_id() -> None:
    owned = podman_owned(inspect_line("f00d-infra", "f00d", True, "created", {"sshorch.io/cluster": "obs"}))
    (pod,) = owned.pods
    assert (pod.name, pod.status, pod.containers, pod.labels) == ("f00d", "Created", (), {"sshorch.io/cluster": "obs"})


# docker: hand-made fixtures (real docker CLI formatting, canned daemon answers)


@pytest.fixture(scope="module")
def docker() -> Owned:
    return owned_from("docker", "docker-gather-owned.txt")


def test_docker_pods_are_their_infra_containers(docker: Owned) -> None:
    assert {p.name: p.status for p in docker.pods} == {
        "web-1a2b3c4d5e-x7k2p": "Running",
        "crashy-5f6e7d8c9b-q4w8z": "Degraded",
        "crashy-5f6e7d8c9b-z9y8x": "Degraded",
        "web-1a2b3c4d5e-m3n4p": "Exited",
        "web-6c7d8e9f0a-new01": "Created",
    }
    pod = pods_by_name(docker)["web-1a2b3c4d5e-x7k2p"]
    assert pod.labels == labels("web", "1a2b3c4d5e", "web-1a2b3c4d5e-x7k2p", "0", **{"sshorch.io/infra": "true"})
    assert pod.ports == (PortBinding(DOCKER_IP, 20001, 8080, "tcp"), PortBinding(DOCKER_IP, 20002, 9090, "udp"))
    assert [c.name for c in pod.containers] == ["web-1a2b3c4d5e-x7k2p-sidecar", "web-1a2b3c4d5e-x7k2p-web"]
    assert pod.running and pod.owner_key == ("Deployment", "default", "web")


def test_docker_container_details_come_from_ps_and_inspect(docker: Owned) -> None:
    web = pods_by_name(docker)["web-1a2b3c4d5e-x7k2p"].containers[1]
    assert web.id == "a2" * 32
    assert web.image == "localhost/sshorch/web:v1"
    assert web.image_id == "eda1" * 16
    assert web.started_at == pytest.approx(1795376858.5)
    # A foreign label value with a comma stays whole.
    assert web.labels["org.opencontainers.image.description"] == "demo web server, busybox httpd"
    assert web.labels["sshorch.io/container"] == "web"


def test_docker_restarting_container_is_exited_with_its_code(docker: Owned) -> None:
    pod = pods_by_name(docker)["crashy-5f6e7d8c9b-q4w8z"]
    assert [summary(c) for c in pod.containers] == [("crashy-5f6e7d8c9b-q4w8z-crash", "exited", 1, 12)]
    assert pod.failed_containers == ("crashy-5f6e7d8c9b-q4w8z-crash",) and pod.restarts == 12
    assert pod.ports == (PortBinding(DOCKER_IP, 20003, 8080, "tcp"),)


def test_docker_stopped_created_and_given_up_pods(docker: Owned) -> None:
    pods = pods_by_name(docker)
    assert [summary(c) for c in pods["crashy-5f6e7d8c9b-z9y8x"].containers] == [("crashy-5f6e7d8c9b-z9y8x-crash", "exited", 1, 2)]
    assert [summary(c) for c in pods["web-1a2b3c4d5e-m3n4p"].containers] == [("web-1a2b3c4d5e-m3n4p-web", "exited", 137, 0)]
    assert pods["web-1a2b3c4d5e-m3n4p"].failed_containers == ("web-1a2b3c4d5e-m3n4p-web",)
    (new,) = pods["web-6c7d8e9f0a-new01"].containers
    assert (new.state, new.started_at) == ("created", None)


def test_docker_stray_volumes_and_dirs(docker: Owned) -> None:
    assert [summary(c) for c in docker.stray_containers] == [("web-0f0f0f0f0f-gone1-web", "running", 0, 0)]
    assert [(v.name, v.labels["sshorch.io/owner"]) for v in docker.volumes] == [("data-db-0", "db")]
    assert "/run/sshorch/configs/default/x-1234" in docker.file_dirs
    assert docker.images == {}


def test_docker_empty_node_owns_nothing() -> None:
    owned = owned_from("docker", "docker-gather-owned-empty.txt")
    assert (owned.pods, owned.stray_containers, owned.volumes, owned.file_dirs, owned.images) == ((), (), (), frozenset(), {})


def test_facts_are_few_and_read_no_images() -> None:
    # Each runtime process costs the node CPU on every pass: podman reads pods off one inspect.
    assert owned_fact_names(runtime_for("docker")) == ("containers", "restarts", "volumes", "files")
    assert owned_fact_names(runtime_for("podman")) == ("containers", "volumes", "files")


# broken output is an error of that fact, never an exception


def replace_section(text: str, name: str, body: str) -> str:
    start = text.index(f"@@sshorch-fact:{name}\n") + len(f"@@sshorch-fact:{name}\n")
    end = text.index(f"@@sshorch-end:{name}:")
    return text[:start] + body + "\n" + text[end:]


def with_fields(**fields: Any) -> str:
    return json.dumps(json.loads(inspect_line("c", "", False)) | fields)


@pytest.mark.parametrize("body", ["{not json", '{"Id": "x"}', '[{"Id": "x"}]', "5", with_fields(StartedAt=5),
                                  with_fields(StartedAt="yesterday"), with_fields(PortBindings=["80/tcp"]),
                                  with_fields(PortBindings={"80/tcp": [{"HostIp": ""}]})])
def test_broken_podman_containers_section_is_an_error(body: str) -> None:
    text = replace_section(fixture("gather-owned-podman.txt"), "containers", body)
    parsed = parse_gather_output(owned_facts(runtime_for("podman"), "obs"), text)
    assert set(parsed.errors) == {"containers"}
    assert "cannot parse output" in parsed.errors["containers"]


@pytest.mark.parametrize("body", ['{"ID": "x"', '{"ID": "x", "Names": "n"}', '"just a string"'])
def test_broken_docker_containers_section_is_an_error(body: str) -> None:
    text = replace_section(fixture("docker-gather-owned.txt"), "containers", body)
    parsed = parse_gather_output(owned_facts(runtime_for("docker"), "obs"), text)
    assert set(parsed.errors) == {"containers"}


def test_parse_owned_without_every_fact_is_a_value_error() -> None:
    parsed = parse_gather_output(owned_facts(runtime_for("podman"), "obs"), fixture("gather-owned-podman.txt"))
    values: dict[str, Any] = dict(parsed.values)
    del values["containers"]
    with pytest.raises(ValueError, match="containers"):
        parse_owned(runtime_for("podman"), "node1", values)


# commands


def test_commands_filter_on_the_quoted_cluster_label() -> None:
    for runtime in ("podman", "docker"):
        for fact in owned_facts(runtime_for(runtime), "a b;rm -rf /"):
            if fact.name == "files":
                continue
            assert shlex.quote("label=sshorch.io/cluster=a b;rm -rf /") in fact.command
            assert fact.command.startswith((runtime, "out=$(", "fp=$("))


def test_owned_facts_do_not_clash_with_node_facts() -> None:
    for runtime in ("podman", "docker"):
        names = [f.name for f in node_facts(runtime) + owned_facts(runtime_for(runtime), "obs")]
        assert len(names) == len(set(names))
        script = render_gather_script(node_facts(runtime) + owned_facts(runtime_for(runtime), "obs"))
        assert all(script.count(f"@@sshorch-fact:{name}'") == 1 for name in names)


def run_fact_with_fake_podman(fake: str, facts: tuple[Fact, ...] | None = None) -> ParsedFacts:
    """The containers fact (or `facts`) run by the real sh, with `fake` (the body of a shell
    function `podman`) as the podman on PATH."""
    import os
    import tempfile

    facts = facts or owned_facts(runtime_for("podman"), "obs")[:1]
    with tempfile.TemporaryDirectory() as bin_dir:
        podman = os.path.join(bin_dir, "podman")
        with open(podman, "w") as script:
            script.write(f"#!/bin/sh\n{fake}\npodman \"$@\"\n")
        os.chmod(podman, 0o755)
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        output = subprocess.run(["sh", "-c", render_gather_script(facts)], capture_output=True, text=True,
                                check=True, env=env).stdout
    return parse_gather_output(facts, output)


def test_a_runtime_that_does_not_answer_fails_the_fact_within_its_timeout() -> None:
    import time

    started = time.monotonic()
    parsed = run_fact_with_fake_podman("podman() { sleep 30; }")
    assert time.monotonic() - started < RUNTIME_TIMEOUT + 2
    assert "podman did not answer within 4s" in parsed.errors["containers"]


def test_a_runtime_that_does_not_answer_fails_the_version_fact_within_its_timeout() -> None:
    import time

    started = time.monotonic()
    runtime = [f for f in node_facts("podman") if f.name == "runtime"]
    parsed = run_fact_with_fake_podman("podman() { sleep 30; }", tuple(runtime))
    assert time.monotonic() - started < RUNTIME_TIMEOUT + 2
    assert parsed.errors["runtime"].endswith("podman did not answer within 4s")
    answered = run_fact_with_fake_podman("podman() { echo podman version 4.3.1; }", tuple(runtime))
    assert answered.values["runtime"] == {"runtime": "podman", "version": "4.3.1"}


def test_podman_containers_fact_keeps_those_not_removed_meanwhile() -> None:
    line = inspect_line("web", "", False)
    parsed = run_fact_with_fake_podman(
        "podman() { case $1 in ps) echo aaa; echo bbb;; "
        f"container) echo {shlex.quote(line)}; echo 'Error: inspecting object: no such container bbb' >&2; return 125;; esac; }}"
    )
    records = parsed.values["containers"].records
    assert parsed.errors == {} and [r.container.name for r in records] == ["web"]


def test_podman_containers_fact_fails_when_the_runtime_does() -> None:
    # Read as "owns nothing", a failure would have every pod created again.
    failing_ps = run_fact_with_fake_podman("podman() { echo 'Error: database is locked' >&2; return 125; }")
    assert "failed (125)" in failing_ps.errors["containers"]
    failing_inspect = run_fact_with_fake_podman(
        "podman() { case $1 in ps) echo aaa;; container) echo 'Error: template: inspect:1: bad' >&2; return 125;; esac; }"
    )
    assert "cannot parse output" in failing_inspect.errors["containers"]


def test_docker_ps_does_not_ask_the_daemon_for_sizes() -> None:
    # `{{json .}}` uses .Size, which makes docker compute every container's disk use.
    containers = next(f for f in owned_facts(runtime_for("docker"), "obs") if f.name == "containers")
    assert "--size=false" in containers.command


# single parsers


def test_inspect_skips_containers_removed_meanwhile() -> None:
    # As podman 4.3 printed inspecting two missing containers next to found ones.
    podman = "\n".join([inspect_line("web", "", False), "error inspecting object: no such container gone2",
                        "Error: inspecting object: no such container gone1", inspect_line("db", "", False)])
    assert [r.container.name for r in parse_podman_containers(podman)] == ["web", "db"]
    docker = "/web 3 1 2026-11-22T19:47:40Z sha256:abcd 2026-11-22T19:47:41Z\nError response from daemon: No such container: 0123456789ab\n"
    record = parse_inspect(docker)["web"]
    assert (record.restarts, record.exit_code, record.image_id, record.finished_at) == (3, 1, "abcd", 1795376861.0)
    with pytest.raises(ValueError):
        parse_inspect("web 3\n")


def test_docker_ports() -> None:
    assert parse_docker_ports("") == ()
    assert parse_docker_ports("8080/tcp") == ()
    assert parse_docker_ports("0.0.0.0:8000-8001->80-81/tcp, :::8000->80/tcp, [::]:53->53/udp, 1.2.3.4:9->9/sctp") == (
        PortBinding("0.0.0.0", 8000, 80, "tcp"),
        PortBinding("0.0.0.0", 8001, 81, "tcp"),
        PortBinding("::", 8000, 80, "tcp"),
        PortBinding("::", 53, 53, "udp"),
    )
    with pytest.raises(ValueError):
        parse_docker_ports("0.0.0.0:8000-8002->80-81/tcp")


def test_docker_labels() -> None:
    assert parse_docker_labels("") == {}
    assert parse_docker_labels("a=1,b=x=y,c=") == {"a": "1", "b": "x=y", "c": ""}
    assert parse_docker_labels("d=one, two,e=3") == {"d": "one, two", "e": "3"}


def test_timestamps() -> None:
    assert parse_timestamp("1970-01-01T00:00:01Z") == 1.0
    assert parse_timestamp("1970-01-01T01:00:01.250000001+01:00") == pytest.approx(1.250000001)
    assert parse_timestamp("0001-01-01T00:00:00Z") is None
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_states_fold_into_the_known_few() -> None:
    assert [parse_state(s) for s in ("running", "Exited", "configured", "restarting", "dead", "stopping", "weird")] == [
        "running", "exited", "created", "exited", "exited", "stopped", "unknown"]


def test_podman_port_bindings() -> None:
    # As podman 4.3 printed `-p 198.18.0.66:30000-30001:80-81/tcp -p 30005:53/udp`: a range port by port.
    bindings = {"53/udp": [{"HostIp": "", "HostPort": "30005"}],
                "80/tcp": [{"HostIp": "198.18.0.66", "HostPort": "30000"}],
                "81/tcp": [{"HostIp": "198.18.0.66", "HostPort": "30001"}],
                "9/sctp": [{"HostIp": "", "HostPort": "30009"}],
                "7/tcp": [{"HostIp": "", "HostPort": ""}],
                "8/tcp": None}
    assert parse_podman_port_bindings(bindings) == (
        PortBinding("198.18.0.66", 30000, 80, "tcp"),
        PortBinding("198.18.0.66", 30001, 81, "tcp"),
        PortBinding("", 30005, 53, "udp"),
    )
    assert parse_podman_port_bindings({}) == ()


def test_podman_inspect_template_prints_every_field_as_json() -> None:
    template = render_podman_inspect_template()
    assert template.startswith('{"Id":{{json .ID}},"Name":{{json .Name}},')
    assert template.endswith(
        ',"IsInfra":{{json .IsInfra}},"PortBindings":{{json .HostConfig.PortBindings}},'
        '"IPAddress":{{json .NetworkSettings.IPAddress}}}'
    )
    assert '"StartedAt":{{json .State.StartedAt}},"FinishedAt":{{json .State.FinishedAt}},' in template
    assert template.count("{{json ") == 14 and template.count("{{") == template.count("}}") == 14
    containers = next(f for f in owned_facts(runtime_for("podman"), "obs") if f.name == "containers")
    assert shlex.quote(template) in containers.command


def test_podman_pod_status_by_podmans_rules() -> None:
    assert podman_pod_status(["running", "running"]) == "Running"
    assert podman_pod_status(["running", "exited"]) == "Degraded"
    assert podman_pod_status(["running", "created"]) == "Degraded"
    assert podman_pod_status(["paused", "paused"]) == "Paused"
    assert podman_pod_status(["exited", "stopped"]) == "Exited"
    assert podman_pod_status(["exited", "created"]) == "Stopped"
    assert podman_pod_status(["paused", "exited"]) == "Stopped"
    assert podman_pod_status(["created", "stopping"]) == "Error"
    assert podman_pod_status(["created", "configured"]) == "Created"
    assert podman_pod_status([]) == "Created"


def container(state: str, exit_code: int = 0, name: str = "c") -> ObservedContainer:
    return ObservedContainer(name, "id", "img", "", state, exit_code, None, 1, {}, False)


def test_docker_pod_status_in_podman_words() -> None:
    assert docker_pod_status([container("running"), container("running")]) == "Running"
    assert docker_pod_status([container("running"), container("exited")]) == "Degraded"
    assert docker_pod_status([container("exited"), container("created")]) == "Exited"
    assert docker_pod_status([container("created")]) == "Created"
    assert docker_pod_status([container("paused")]) == "Paused"
    assert docker_pod_status([container("unknown")]) == "Error"


def test_pod_properties_without_labels_or_containers() -> None:
    pod = ObservedPod("p", "node1", {}, "Created", (), ())
    assert (pod.kind, pod.namespace, pod.owner, pod.revision, pod.slot) == ("", "", "", "", "")
    assert not pod.running and pod.restarts == 0
    pod = ObservedPod("p", "node1", {}, "Degraded", (container("running", name="a"), container("exited", 2, name="b")), ())
    assert not pod.running and pod.failed_containers == ("b",) and pod.restarts == 2


# What a node says is checked: garbage is that node's error, one line, never a traceback.


def podman_line(**fields: Any) -> str:
    item = json.loads(inspect_line("p-web", "f00d", False))
    item.update(fields)
    return json.dumps(item)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"IPAddress": "10.88.0.999"}, "container p-web: IPAddress: not an IP address: '10.88.0.999'"),
        ({"IPAddress": "1.2.3.4\n-A INPUT -j ACCEPT"}, "container p-web: IPAddress: not an IP address: '1.2.3.4\\n-A INPUT -j ACCEPT'"),
        ({"IPAddress": 167772161}, "container p-web: IPAddress: not an IP address: 167772161"),
        ({"Name": "web; reboot"}, "not a container name: 'web; reboot'"),
        ({"Name": ["web"]}, "not a container name: ['web']"),
        ({"Status": "running\x1b[2J"}, "container p-web: Status: not a line of text: 'running\\x1b[2J'"),
        ({"ExitCode": 10**30}, "container p-web: ExitCode: not a small integer: 1000000000000000000000000000000"),
        ({"RestartCount": "many"}, "invalid literal for int() with base 10: 'many'"),
        ({"Labels": {"sshorch.io/pod": ["x"]}}, "container p-web: labels must map text to text, got {'sshorch.io/pod': ['x']}"),
        ({"Labels": "a=b"}, "container p-web: labels must map text to text, got 'a=b'"),
        ({"PortBindings": {"80/tcp": [{"HostIp": "nowhere", "HostPort": "30000"}]}}, "port 80/tcp: HostIp: not an IP address: 'nowhere'"),
        ({"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "99999"}]}}, "not a port: '99999'"),
        ({"StartedAt": 5}, "container p-web: StartedAt: not a line of text: 5"),
    ],
)  # fmt: skip
def test_garbage_from_a_podman_node_is_a_clear_error(fields: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_podman_containers(podman_line(**fields))
    assert error in str(raised.value)


def test_a_good_pod_ip_is_kept_in_its_usual_form() -> None:
    (record,) = parse_podman_containers(podman_line(IPAddress="10.88.0.7"))
    assert record.ip == "10.88.0.7"
    (record,) = parse_podman_containers(podman_line(IPAddress=""))
    assert record.ip == ""


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        (podman_line(IPAddress="not-an-ip"), "IPAddress: not an IP address: 'not-an-ip'"),
        ("[" * 5000 + "]" * 5000, "maximum recursion depth exceeded"),  # JSON nested past Python's recursion limit
        (podman_line(Labels={"sshorch.io/pod": "a b", "sshorch.io/cluster": "obs"}, IsInfra=True), "not a container name: 'a b'"),
        ('{"Name": "x"}', "unexpected output shape (KeyError: 'Status')"),
        ("null", "unexpected output shape (TypeError: 'NoneType' object is not subscriptable)"),
    ],
    ids=["bad-ip", "deep-json", "bad-pod-name", "missing-fields", "null"],
)
def test_the_gather_turns_any_garbage_into_the_nodes_error(listing: str, expected: str) -> None:
    facts = owned_facts(runtime_for("podman"), "obs")
    output = "".join(
        f"@@sshorch-fact:{f.name}\n{listing if f.name == 'containers' else ''}\n@@sshorch-end:{f.name}:0\n" for f in facts
    )
    owned, error = build_owned("podman", "node1", parse_gather_output(facts, output))
    assert owned is None and error.startswith("cannot read what sshorch owns here: ") and "\n" not in error, error
    assert expected in error
