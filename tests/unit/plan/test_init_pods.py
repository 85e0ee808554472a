"""Pods with init containers across passes: each started in its turn, a failed one again
after its back-off, a Job's pod failed when it will not be, a pod that lost one made again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sshorch.cli.pods import container_name
from sshorch.errors import SshorchError
from sshorch.observe.owned import ObservedContainer, ObservedPod
from sshorch.plan.initpods import failures_by
from sshorch.plan.intents import RemovePod, StartContainers
from sshorch.plan.overview import build_status
from sshorch.plan.revision import workload_revision
from sshorch.plan.rolloutwatch import RolloutWatch

from .helpers import decided, deployment, desired, observe, observed_container, observed_pod, run

NOW = 1_800_000_000.0
SEED = {"name": "seed", "image": "localhost/web:v1", "command": ["true"]}
PROXY = {"name": "proxy", "image": "localhost/web:v1", "restartPolicy": "Always"}


def with_init(doc: dict[str, Any], *init: dict[str, Any], policy: str | None = None) -> dict[str, Any]:
    doc["spec"]["template"]["spec"]["initContainers"] = list(init)
    if policy:
        doc["spec"]["template"]["spec"]["restartPolicy"] = policy
    return doc


WEB = desired(with_init(deployment("web"), SEED, PROXY))


def container(pod: ObservedPod, name: str, state: str, exit_code: int = 0, finished_at: float | None = None,
              started_at: float | None = None) -> ObservedContainer:
    labels = {"sshorch.io/container": name, "sshorch.io/init": "true"}
    base = observed_container(f"{pod.name}-{name}", state, exit_code, labels)
    return replace(base, finished_at=finished_at, started_at=started_at or base.started_at)


def web_pod(main: str, **init: tuple[str, int] | tuple[str, int, float]) -> ObservedPod:
    pod = observed_pod(WEB, "web", 0, "n1", status="Running" if main == "running" else "Degraded", states=[main])
    inits = tuple(container(pod, name, *state) for name, state in init.items())
    return replace(pod, init_containers=inits, started_at=NOW - 100)


def starts(pod: ObservedPod, when: float = NOW) -> list[tuple[str, ...]]:
    return [i.containers for i in decided(WEB, observe(pod), now=when).intents if isinstance(i, StartContainers)]


def test_each_init_container_starts_in_its_turn_then_the_app() -> None:
    name = web_pod("created", seed=("created", 0)).name
    assert starts(web_pod("created", seed=("created", 0), proxy=("created", 0))) == [(f"{name}-seed",)]
    assert starts(web_pod("created", seed=("running", 0), proxy=("created", 0))) == []
    assert starts(web_pod("created", seed=("exited", 0, NOW - 5), proxy=("created", 0))) == [(f"{name}-proxy",)]
    assert starts(web_pod("created", seed=("exited", 0, NOW - 5), proxy=("running", 0))) == [(f"{name}-main",)]
    assert starts(web_pod("running", seed=("exited", 0, NOW - 5), proxy=("running", 0))) == []


def test_a_failed_init_container_starts_again_after_its_back_off() -> None:
    failed = web_pod("created", seed=("exited", 1, NOW - 4), proxy=("created", 0))
    plan = run(WEB, observe(failed), now=NOW)
    assert plan.actions == () and plan.retry_at == NOW + 6
    assert starts(failed, NOW + 6) == [(f"{failed.name}-seed",)]
    (start,) = [a for a in run(WEB, observe(failed), now=NOW + 6).actions]
    assert start.steps[0].argv == ("podman", "start", f"{failed.name}-seed")
    assert start.reason == "Init:0/2: starts seed"


def test_status_shows_the_init_progress() -> None:
    def phase(pod: ObservedPod) -> str:
        (shown,) = build_status(WEB, observe(pod), None, now=NOW)["pods"]
        return str(shown["phase"])

    assert phase(web_pod("created", seed=("running", 0), proxy=("created", 0))) == "Init:0/2"
    assert phase(web_pod("created", seed=("exited", 1, NOW - 4), proxy=("created", 0))) == "Init:CrashLoopBackOff"
    assert phase(web_pod("created", seed=("exited", 0, NOW - 5), proxy=("running", 0))) == "PodInitializing"
    assert phase(web_pod("running", seed=("exited", 0, NOW - 5), proxy=("running", 0))) == "Running"


def test_status_counts_an_init_containers_restarts() -> None:
    # First started with the pod, last 195 s later: back-offs of 10+20+40+80 s fit, so its 5th failure.
    pod = replace(web_pod("created", seed=("exited", 1, NOW - 4), proxy=("created", 0)), started_at=NOW - 200)
    seed = replace(pod.init_containers[0], started_at=NOW - 5)
    (shown,) = build_status(WEB, observe(replace(pod, init_containers=(seed, *pod.init_containers[1:]))), None, now=NOW)["pods"]
    assert (shown["phase"], shown["restarts"]) == ("Init:CrashLoopBackOff", 4)


def test_a_pod_that_lost_an_init_container_is_made_again() -> None:
    pod = web_pod("running", seed=("exited", 0, NOW - 5))
    intents = decided(WEB, observe(pod), now=NOW).intents
    (removal,) = [i for i in intents if isinstance(i, RemovePod)]
    assert removal.target == pod.name and "container proxy was deleted" in removal.reason
    assert removal.containers == (f"{pod.name}-seed", f"{pod.name}-main")


def test_a_job_pod_whose_init_container_failed_with_restart_policy_never_failed() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
           "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                    "initContainers": [SEED], "containers": [{"name": "main", "image": "localhost/web:v1"}]}}}}
    d = desired(job)
    revision = workload_revision(d.get("Job", "migrate", "default"), d)  # type: ignore[arg-type]
    pod = observed_pod(d, "migrate", 0, "n1", kind="Job", revision=revision, status="Degraded", states=["created"])
    pod = replace(pod, init_containers=(container(pod, "seed", "exited", 1, NOW - 1),), started_at=NOW - 2)
    step = decided(d, observe(pod), now=NOW)
    assert step.jobs["job/default/migrate"].outcome == "Failed"


def test_failures_are_counted_from_the_back_offs_between_first_and_last_start() -> None:
    assert [failures_by(0.0, t) for t in (0.0, 9.9, 10.0, 29.9, 30.0, 70.0, 150.0, 310.0, 610.0, 910.0)] == [
        1, 1, 2, 2, 3, 4, 5, 6, 7, 8]
    assert failures_by(None, 50.0) == 1


def test_an_initialised_pod_that_stopped_starts_its_app_containers_again() -> None:
    """Its node restarted: the init containers are done, the app ones are started again."""
    pod = replace(web_pod("exited", seed=("exited", 0, NOW - 50), proxy=("running", 0)), status="Exited")
    assert starts(pod) == [(f"{pod.name}-main",)]


def test_logs_and_exec_find_init_containers_and_default_to_the_first_app_container() -> None:
    pod = web_pod("running", seed=("exited", 0, NOW - 5), proxy=("running", 0))
    assert container_name(pod, None) == f"{pod.name}-main"
    assert container_name(pod, "seed") == f"{pod.name}-seed"
    with pytest.raises(SshorchError, match=r"has no container 'nope' \(it has: main, proxy, seed\)"):
        container_name(pod, "nope")


@pytest.mark.parametrize(("last_start", "failed"), [(NOW - 5, True), (NOW - 195, False)])
def test_a_rollout_whose_init_container_keeps_failing_has_failed(last_start: float, failed: bool) -> None:
    # Last started 195 s after the pod: its 5th failure; right after the pod: its first.
    pod = replace(web_pod("created", seed=("exited", 1, NOW - 4), proxy=("created", 0)), started_at=NOW - 200)
    seed = replace(pod.init_containers[0], started_at=last_start)
    pod = replace(pod, init_containers=(seed, *pod.init_containers[1:]))
    failures, _ = RolloutWatch().failures(WEB, [pod], [], [], [], NOW)
    expected = f"pod {pod.name} is crash-looping (Init:CrashLoopBackOff: an init container failed 5 times)"
    assert failures == ({"deployment/default/web": expected} if failed else {})
