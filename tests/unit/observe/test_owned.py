import shlex
from pathlib import Path
from typing import Any

import pytest

from sshorch.observe.facts import node_facts, parse_gather_output, render_gather_script
from sshorch.observe.owned import (
    ObservedContainer,
    ObservedPod,
    Owned,
    docker_pod_status,
    owned_fact_names,
    owned_facts,
    parse_docker_labels,
    parse_docker_ports,
    parse_images,
    parse_inspect,
    parse_owned,
    parse_podman_containers,
    parse_state,
    parse_timestamp,
)
from sshorch.runtime.model import PortBinding

FIXTURES = Path(__file__).parent / "fixtures"
IP = "198.18.0.18"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def owned_from(runtime: str, name: str) -> Owned:
    parsed = parse_gather_output(owned_facts(runtime, "obs"), fixture(name))
    assert parsed.errors == {}
    return parse_owned(runtime, "node1", parsed.values)


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
    facts = node_facts("podman") + owned_facts("podman", "obs")
    parsed = parse_gather_output(facts, fixture("gather-owned-podman.txt"))
    assert parsed.errors == {}
    assert parsed.values["hostname"] == "node1"


def test_podman_pods_and_their_status(podman: Owned) -> None:
    assert {p.name: p.status for p in podman.pods} == {
        "web-1a2b3c4d5e-x7k2p": "Running",
        "crashy-5f6e7d8c9b-q4w8z": "Running",
        "crashy-5f6e7d8c9b-z9y8x": "Degraded",
        "web-1a2b3c4d5e-m3n4p": "Exited",
        "web-6c7d8e9f0a-new01": "Created",
    }
    assert all(p.node == "node1" for p in podman.pods)


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
    assert pod.labels == labels("web", "1a2b3c4d5e", "web-1a2b3c4d5e-x7k2p", "0")
    assert (pod.kind, pod.namespace, pod.owner, pod.revision, pod.slot) == ("Deployment", "default", "web", "1a2b3c4d5e", "0")
    assert pod.owner_key == ("Deployment", "default", "web")
    assert pod.running and pod.failed_containers == () and pod.restarts == 0


def test_podman_container_details(podman: Owned) -> None:
    web = pods_by_name(podman)["web-1a2b3c4d5e-x7k2p"].containers[1]
    assert web.id == "86e941f8fd605d5df77fc02394127676da591405cab30c473a747edd2c99cc2e"
    assert web.image == "localhost/sshorch/web:v1"
    assert web.image_id == "eda1c71f689389200241c56d68ce28a3d121e83393ca5a681e000ba0c99e6abc"
    assert web.started_at == 1795376858.0
    assert not web.infra
    assert web.labels == labels("web", "1a2b3c4d5e", "web-1a2b3c4d5e-x7k2p", "0", **{
        "sshorch.io/container": "web", "org.opencontainers.image.title": "localhost/sshorch/web:v1"})


def test_podman_image_ids_match_between_containers_and_images(podman: Owned) -> None:
    for pod in podman.pods:
        for container in pod.containers:
            assert podman.images[container.image] == container.image_id


def test_podman_crash_looping_pod_counts_restarts(podman: Owned) -> None:
    pod = pods_by_name(podman)["crashy-5f6e7d8c9b-q4w8z"]
    assert [summary(c) for c in pod.containers] == [("crashy-5f6e7d8c9b-q4w8z-crash", "running", 0, 245)]
    assert pod.restarts == 245
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


def test_podman_created_pod_never_started(podman: Owned) -> None:
    pod = pods_by_name(podman)["web-6c7d8e9f0a-new01"]
    (web,) = pod.containers
    assert (web.state, web.started_at, web.image) == ("created", None, "localhost/sshorch/web:v2")
    assert pod.revision == "6c7d8e9f0a" and pod.ports == (PortBinding(IP, 20005, 8080, "tcp"),)


def test_podman_infra_containers_are_not_app_containers(podman: Owned) -> None:
    names = [c.name for p in podman.pods for c in p.containers] + [c.name for c in podman.stray_containers]
    assert not any(name.endswith("-infra") for name in names)


def test_podman_container_of_a_deleted_pod_is_stray(podman: Owned) -> None:
    assert [summary(c) for c in podman.stray_containers] == [("web-0f0f0f0f0f-gone1-web", "running", 0, 0)]
    assert podman.stray_containers[0].labels["sshorch.io/pod"] == "web-0f0f0f0f0f-gone1"


def test_podman_sees_nothing_unlabelled_or_of_another_cluster(podman: Owned) -> None:
    names = {p.name for p in podman.pods} | {c.name for c in podman.stray_containers}
    assert not names & {"not-ours", "other-cluster-pod", "other-cluster-c"}
    assert [v.name for v in podman.volumes] == ["data-db-0"]


def test_podman_volumes_dirs_and_images(podman: Owned) -> None:
    (volume,) = podman.volumes
    assert volume.labels == {"sshorch.io/cluster": "obs", "sshorch.io/kind": "Deployment",
                             "sshorch.io/namespace": "default", "sshorch.io/owner": "db"}
    assert podman.file_dirs == {
        "/run/sshorch/configs/default/x-1234",
        "/run/sshorch/secrets/default/db-creds-9f8e",
        "/var/lib/sshorch/pods/web-1a2b3c4d5e-x7k2p",
        "/run/sshorch/pods/web-1a2b3c4d5e-x7k2p",
    }
    assert sorted(podman.images) == [
        "localhost/podman-pause:4.3.1-0",
        "localhost/sshorch/busybox:latest",
        "localhost/sshorch/crash:v1",
        "localhost/sshorch/never-ready:v1",
        "localhost/sshorch/web:v1",
        "localhost/sshorch/web:v2",
    ]
    assert podman.images["localhost/sshorch/crash:v1"] == "c5b6cad5b27a55029e650aff208164272f36f016ee60c5349dc941522f82b5a0"


def test_podman_empty_node_owns_nothing() -> None:
    owned = owned_from("podman", "gather-owned-empty-podman.txt")
    assert (owned.pods, owned.stray_containers, owned.volumes, owned.file_dirs) == ((), (), (), frozenset())
    assert "localhost/sshorch/web:v1" in owned.images and len(owned.images) == 6


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
    assert pod.ports == (PortBinding(IP, 20001, 8080, "tcp"), PortBinding(IP, 20002, 9090, "udp"))
    assert [c.name for c in pod.containers] == ["web-1a2b3c4d5e-x7k2p-sidecar", "web-1a2b3c4d5e-x7k2p-web"]
    assert pod.running and pod.owner_key == ("Deployment", "default", "web")


def test_docker_container_details_come_from_ps_and_inspect(docker: Owned) -> None:
    web = pods_by_name(docker)["web-1a2b3c4d5e-x7k2p"].containers[1]
    assert web.id == "a2" * 32
    assert web.image == "localhost/sshorch/web:v1"
    assert web.image_id == "eda1" * 16 == docker.images["localhost/sshorch/web:v1"]
    assert web.started_at == pytest.approx(1795376858.5)
    # A foreign label value with a comma stays whole.
    assert web.labels["org.opencontainers.image.description"] == "demo web server, busybox httpd"
    assert web.labels["sshorch.io/container"] == "web"


def test_docker_restarting_container_is_exited_with_its_code(docker: Owned) -> None:
    pod = pods_by_name(docker)["crashy-5f6e7d8c9b-q4w8z"]
    assert [summary(c) for c in pod.containers] == [("crashy-5f6e7d8c9b-q4w8z-crash", "exited", 1, 12)]
    assert pod.failed_containers == ("crashy-5f6e7d8c9b-q4w8z-crash",) and pod.restarts == 12
    assert pod.ports == (PortBinding(IP, 20003, 8080, "tcp"),)


def test_docker_stopped_created_and_given_up_pods(docker: Owned) -> None:
    pods = pods_by_name(docker)
    assert [summary(c) for c in pods["crashy-5f6e7d8c9b-z9y8x"].containers] == [("crashy-5f6e7d8c9b-z9y8x-crash", "exited", 1, 2)]
    assert [summary(c) for c in pods["web-1a2b3c4d5e-m3n4p"].containers] == [("web-1a2b3c4d5e-m3n4p-web", "exited", 137, 0)]
    assert pods["web-1a2b3c4d5e-m3n4p"].failed_containers == ("web-1a2b3c4d5e-m3n4p-web",)
    (new,) = pods["web-6c7d8e9f0a-new01"].containers
    assert (new.state, new.started_at) == ("created", None)


def test_docker_stray_volumes_dirs_and_images(docker: Owned) -> None:
    assert [summary(c) for c in docker.stray_containers] == [("web-0f0f0f0f0f-gone1-web", "running", 0, 0)]
    assert [(v.name, v.labels["sshorch.io/owner"]) for v in docker.volumes] == [("data-db-0", "db")]
    assert "/run/sshorch/configs/default/x-1234" in docker.file_dirs
    assert sorted(docker.images) == [
        "localhost/sshorch/busybox:latest",
        "localhost/sshorch/crash:v1",
        "localhost/sshorch/web:v1",
        "localhost/sshorch/web:v2",
        "registry.k8s.io/pause:3.9",
    ]


def test_docker_empty_node_owns_nothing() -> None:
    owned = owned_from("docker", "docker-gather-owned-empty.txt")
    assert (owned.pods, owned.stray_containers, owned.volumes, owned.file_dirs) == ((), (), (), frozenset())
    assert len(owned.images) == 5


def test_docker_has_no_pods_fact() -> None:
    assert owned_fact_names("docker") == ("containers", "restarts", "volumes", "files", "images")
    assert owned_fact_names("podman") == ("pods", "containers", "restarts", "volumes", "files", "images")


# broken output is an error of that fact, never an exception


def replace_section(text: str, name: str, body: str) -> str:
    start = text.index(f"@@sshorch-fact:{name}\n") + len(f"@@sshorch-fact:{name}\n")
    end = text.index(f"@@sshorch-end:{name}:")
    return text[:start] + body + "\n" + text[end:]


@pytest.mark.parametrize("body", ["[{not json", '{"Id": "x"}', '[{"Id": "x"}]', "[1, 2]", '[{"Names": 5, "Id": "x", "Image": "i", "State": "running"}]'])
def test_broken_podman_containers_section_is_an_error(body: str) -> None:
    text = replace_section(fixture("gather-owned-podman.txt"), "containers", body)
    parsed = parse_gather_output(owned_facts("podman", "obs"), text)
    assert set(parsed.errors) == {"containers"}
    assert "cannot parse output" in parsed.errors["containers"]


@pytest.mark.parametrize("body", ['{"ID": "x"', '{"ID": "x", "Names": "n"}', '"just a string"'])
def test_broken_docker_containers_section_is_an_error(body: str) -> None:
    text = replace_section(fixture("docker-gather-owned.txt"), "containers", body)
    parsed = parse_gather_output(owned_facts("docker", "obs"), text)
    assert set(parsed.errors) == {"containers"}


def test_parse_owned_without_every_fact_is_a_value_error() -> None:
    parsed = parse_gather_output(owned_facts("podman", "obs"), fixture("gather-owned-podman.txt"))
    values: dict[str, Any] = dict(parsed.values)
    del values["restarts"]
    with pytest.raises(ValueError, match="restarts"):
        parse_owned("podman", "node1", values)


# commands


def test_commands_filter_on_the_quoted_cluster_label() -> None:
    for runtime in ("podman", "docker"):
        for fact in owned_facts(runtime, "a b;rm -rf /"):
            if fact.name in ("files", "images"):
                continue
            assert shlex.quote("label=sshorch.io/cluster=a b;rm -rf /") in fact.command
            assert fact.command.startswith(runtime) or fact.command.startswith("ids=$(")


def test_owned_facts_do_not_clash_with_node_facts() -> None:
    for runtime in ("podman", "docker"):
        names = [f.name for f in node_facts(runtime) + owned_facts(runtime, "obs")]
        assert len(names) == len(set(names))
        script = render_gather_script(node_facts(runtime) + owned_facts(runtime, "obs"))
        assert all(script.count(f"@@sshorch-fact:{name}'") == 1 for name in names)


def test_docker_ps_does_not_ask_the_daemon_for_sizes() -> None:
    # `{{json .}}` uses .Size, which makes docker compute every container's disk use.
    containers = next(f for f in owned_facts("docker", "obs") if f.name == "containers")
    assert "--size=false" in containers.command


# single parsers


def test_inspect_skips_containers_removed_meanwhile() -> None:
    podman = "not-ours 0\nError: inspecting object: no such container nosuch\n"
    assert parse_inspect(podman)["not-ours"].restarts == 0 and len(parse_inspect(podman)) == 1
    docker = "/web 3 1 2026-11-22T19:47:40Z sha256:abcd\nError response from daemon: No such container: 0123456789ab\n"
    record = parse_inspect(docker)["web"]
    assert (record.restarts, record.exit_code, record.image_id) == (3, 1, "abcd")
    with pytest.raises(ValueError):
        parse_inspect("web three\n")


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


def test_images_skip_untagged() -> None:
    assert parse_images("<none>:<none> sha256:aa\nrepo:<none> sha256:bb\nweb:v1 sha256:cc\n") == {"web:v1": "cc"}
    with pytest.raises(ValueError):
        parse_images("web:v1\n")


def test_podman_port_ranges_expand() -> None:
    out = ('[{"Id": "c", "Names": ["c"], "Image": "i", "State": "running", "Ports": '
           '[{"host_ip": "", "container_port": 80, "host_port": 8000, "range": 2, "protocol": "tcp"}]}]')
    (record,) = parse_podman_containers(out)
    assert record.ports == (PortBinding("", 8000, 80, "tcp"), PortBinding("", 8001, 81, "tcp"))
    assert record.pod == "" and record.container.started_at is None


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
