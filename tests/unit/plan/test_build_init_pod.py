"""A pod template with init containers to runtime input: they are built as containers are,
in order, restarted only by the plan, their ports allocated too."""

from __future__ import annotations

from dataclasses import replace

from sshorch.labels import CONTAINER_LABEL
from sshorch.plan.compile import Target, compile_intent
from sshorch.plan.intents import CreatePod
from sshorch.plan.naming import PodIdentity
from sshorch.plan.placement import _allocate_ports, pod_request
from sshorch.plan.podbuild import NodeTarget, build_pod
from sshorch.runtime import PortBinding
from sshorch.spec.model import Container, ContainerPort, PodTemplate, Resources, VolumeMount
from sshorch.spec.privilege import needs_privilege, privileged_fields

from .helpers import CLUSTER, deployment, desired, revision_of, workload_of

NODE = NodeTarget("n1", "10.0.0.1", "podman")
SEED = Container("seed", "busybox:1.36", command=("sh", "-c", "echo one >> /data/log"), volume_mounts=(VolumeMount("data", "/data"),))
PROXY = Container("proxy", "docker.io/envoyproxy/envoy:v1.30", ports=(ContainerPort(9901),), sidecar=True)
D = desired(deployment("web", ports=[8080], volumes=[{"name": "data", "emptyDir": {}}], volume_mounts=[{"name": "data", "mountPath": "/data"}]))


def template() -> PodTemplate:
    plain = workload_of(D, "web").template
    return replace(plain, spec=replace(plain.spec, init_containers=(SEED, PROXY)))


def test_init_containers_are_built_in_order_and_restarted_only_by_the_plan() -> None:
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(D, "web"), "0")
    ports = _allocate_ports(template(), set(), (20000, 20100))
    assert ports == {("proxy", 9901, "TCP"): 20000, ("main", 8080, "TCP"): 20001}
    run = build_pod(identity, template(), D, NODE, ports).run
    seed, proxy = run.init_containers
    (main,) = run.containers
    assert (seed.name, proxy.name, main.name) == (f"{identity.name}-seed", f"{identity.name}-proxy", f"{identity.name}-main")
    assert (seed.restart_policy, proxy.restart_policy, main.restart_policy) == ("no", "no", "always")
    assert seed.command == ("sh", "-c", "echo one >> /data/log") and seed.args == ()
    assert dict(seed.labels)[CONTAINER_LABEL] == "seed"
    # The app container and the init container see the same emptyDir.
    assert [m for m in seed.mounts if m.target == "/data"] == [m for m in main.mounts if m.target == "/data"]
    assert run.ports == (PortBinding("10.0.0.1", 20000, 9901), PortBinding("10.0.0.1", 20001, 8080))


def test_a_pod_without_init_containers_builds_as_before() -> None:
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(D, "web"), "0")
    run = build_pod(identity, workload_of(D, "web").template, D, NODE, {("main", 8080, "TCP"): 20000}).run
    assert run.init_containers == () and [c.name for c in run.containers] == [f"{identity.name}-main"]


def test_the_create_action_brings_the_init_images_and_undoes_the_init_containers_too() -> None:
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(D, "web"), "0")
    built = build_pod(identity, template(), D, NodeTarget("n1", "10.0.0.1", "docker"), {("proxy", 9901, "TCP"): 1, ("main", 8080, "TCP"): 2})
    action = compile_intent(CreatePod(built), Target(CLUSTER, {"n1": "docker"}))
    assert action.images == ("busybox:1.36", "docker.io/envoyproxy/envoy:v1.30", "localhost/web:v1")
    removed = [s.argv for s in action.undo][-1]
    assert removed == ("docker", "rm", "-f", f"{identity.name}-seed", f"{identity.name}-proxy", f"{identity.name}-main", identity.name)


def test_the_scheduler_requests_the_larger_of_the_init_peak_and_the_running_sum() -> None:
    """Kubernetes' effective request: sidecars count with the app containers, and while an
    init container runs it counts with the sidecars started before it."""
    def using(name: str, cpu: int, sidecar: bool = False) -> Container:
        return Container(name, "busybox:1.36", resources=Resources(cpu_request_millis=cpu, memory_request_bytes=cpu), sidecar=sidecar)

    plain = workload_of(D, "web").template
    app = (using("main", 100),)
    for init, expected in (((using("big", 500),), 500), ((using("small", 50),), 100),
                           ((using("proxy", 30, sidecar=True), using("late", 90)), 130),
                           ((using("early", 90), using("proxy", 30, sidecar=True)), 130),
                           ((using("proxy", 30, sidecar=True), using("late", 300)), 330)):
        spec = replace(plain.spec, containers=app, init_containers=init)
        request = pod_request("p", "deployment/default/web", replace(plain, spec=spec))
        assert (request.cpu_millis, request.memory_bytes) == (expected, expected), init


def test_a_privileged_init_container_needs_privilege() -> None:
    plain = workload_of(D, "web").template
    seed = replace(SEED, security=replace(SEED.security, privileged=True))
    spec = replace(plain.spec, init_containers=(seed,))
    assert list(privileged_fields(spec)) == ["initContainers[0].securityContext.privileged"]
    assert needs_privilege(spec)
