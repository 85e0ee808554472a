"""What a pod with init containers needs next: one row per situation of its containers."""

from __future__ import annotations

import pytest

from sshorch.plan.initsteps import ContainerState, InitStep, RestartPolicy, backoff, init_step
from sshorch.spec.model import Container

NOW = 1000.0
SEED = Container("seed", "busybox:1.36")
MIGRATE = Container("migrate", "busybox:1.36")
PROXY = Container("proxy", "envoy:1.30", sidecar=True)
APP = ("web",)

CREATED = ContainerState("created")
RUNNING = ContainerState("running")
DONE = ContainerState("exited", 0, finished_at=900.0)


def failed(times: int, finished_at: float = 995.0, code: int = 1) -> ContainerState:
    return ContainerState("exited", code, finished_at=finished_at, failures=times)


def states(**by_name: ContainerState) -> dict[str, ContainerState]:
    return {name.replace("_", "-"): state for name, state in by_name.items()}


ROWS = [
    # In order, each to completion.
    pytest.param([SEED, MIGRATE], "Always", states(seed=CREATED, migrate=CREATED, web=CREATED),
                 InitStep(start=("seed",), status="Init:0/2"), id="the first starts"),
    pytest.param([SEED, MIGRATE], "Always", states(seed=RUNNING, migrate=CREATED, web=CREATED),
                 InitStep(status="Init:0/2"), id="a running one is waited for"),
    pytest.param([SEED, MIGRATE], "Always", states(seed=DONE, migrate=CREATED, web=CREATED),
                 InitStep(start=("migrate",), status="Init:1/2"), id="the next starts once one succeeded"),
    pytest.param([SEED, MIGRATE], "Always", states(seed=DONE, migrate=DONE, web=CREATED),
                 InitStep(start=("web",), status="PodInitializing"), id="the app starts once all succeeded"),
    pytest.param([SEED, MIGRATE], "Always", states(seed=DONE, migrate=DONE, web=RUNNING),
                 InitStep(), id="nothing once the app runs"),
    pytest.param([SEED, MIGRATE], "Always", states(seed=DONE, migrate=DONE, web=failed(3)),
                 InitStep(), id="the app's own restarts are not init's"),
    # Failures, per the pod's restartPolicy, after Kubernetes' back-off.
    pytest.param([SEED], "Always", states(seed=failed(1), web=CREATED),
                 InitStep(retry_at=1005.0, status="Init:CrashLoopBackOff", failures=1), id="a failed one waits 10 s"),
    pytest.param([SEED], "OnFailure", states(seed=failed(1, finished_at=990.0), web=CREATED),
                 InitStep(start=("seed",), status="Init:0/1"), id="and then starts again"),
    pytest.param([SEED], "Always", states(seed=failed(3, finished_at=970.0), web=CREATED),
                 InitStep(retry_at=1010.0, status="Init:CrashLoopBackOff", failures=3), id="the wait doubles"),
    pytest.param([SEED], "Always", states(seed=failed(9, finished_at=800.0), web=CREATED),
                 InitStep(retry_at=1100.0, status="Init:CrashLoopBackOff", failures=9), id="at most 5 min"),
    pytest.param([SEED, MIGRATE], "Never", states(seed=DONE, migrate=failed(1), web=CREATED),
                 InitStep(failed=True, status="Init:Error"), id="restartPolicy Never fails the pod"),
    # Sidecars: started in their turn, not waited for, kept running.
    pytest.param([PROXY, SEED], "Always", states(proxy=CREATED, seed=CREATED, web=CREATED),
                 InitStep(start=("proxy",), status="Init:0/2"), id="a sidecar starts in its turn"),
    pytest.param([PROXY, SEED], "Always", states(proxy=RUNNING, seed=CREATED, web=CREATED),
                 InitStep(start=("seed",), status="Init:1/2"), id="a started sidecar is not waited for"),
    pytest.param([PROXY, SEED], "Never", states(proxy=RUNNING, seed=DONE, web=CREATED),
                 InitStep(start=("web",), status="PodInitializing"), id="and runs beside the app"),
    pytest.param([PROXY, SEED], "Never", states(proxy=failed(2, finished_at=900.0), seed=RUNNING, web=CREATED),
                 InitStep(start=("proxy",), status="Init:1/2"), id="a stopped sidecar starts again whatever the policy"),
    pytest.param([PROXY, SEED], "Always", states(proxy=failed(2), seed=DONE, web=RUNNING),
                 InitStep(retry_at=1015.0), id="after its back-off, the app running"),
    pytest.param([PROXY, SEED], "Always", states(proxy=failed(2, finished_at=900.0), seed=DONE, web=CREATED),
                 InitStep(start=("proxy", "web"), status="PodInitializing"), id="with the app"),
    pytest.param([PROXY, SEED], "Always", states(proxy=failed(2), seed=failed(1), web=CREATED),
                 InitStep(retry_at=1005.0, status="Init:CrashLoopBackOff", failures=1), id="the earliest back-off is the retry"),
    # A container of the spec not on the node: the pod is made again.
    pytest.param([SEED, MIGRATE], "Always", states(seed=DONE, web=CREATED),
                 InitStep(missing=("migrate",), status="Init:Unknown"), id="a missing init container"),
]  # fmt: skip


@pytest.mark.parametrize(("init", "policy", "observed", "expected"), ROWS)
def test_init_step(init: list[Container], policy: RestartPolicy, observed: dict[str, ContainerState], expected: InitStep) -> None:
    assert init_step(init, APP, policy, observed, NOW) == expected


def test_backoff_is_kubernetes_crash_loop_back_off() -> None:
    assert [backoff(n) for n in range(1, 8)] == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]


def test_a_pod_without_init_containers_starts_its_app() -> None:
    assert init_step([], APP, "Always", states(web=CREATED), NOW) == InitStep(start=("web",), status="PodInitializing")


@pytest.mark.parametrize(("failures", "restarts"), [(0, 0), (1, 0), (3, 2)])
def test_restarts_are_the_starts_after_failures(failures: int, restarts: int) -> None:
    assert InitStep(failures=failures).restarts == restarts
