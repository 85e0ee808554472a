"""Watching Deployment rollouts across passes: progress, deadline, crash loops, bad images. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sshorch.plan.nodescript import Report
from sshorch.plan.graph import object_key
from sshorch.plan.initpods import pod_init_step
from sshorch.observe.owned import ObservedPod
from sshorch.plan.model import ActionKind
from sshorch.plan.naming import workload_key
from sshorch.plan.revision import workload_revision
from sshorch.spec.workloadkinds import workload_kind, workloads
from sshorch.spec.model import Desired, PodTemplate

CRASH_RESTARTS = 3
IMAGE_ERRORS = ("image not known", "manifest unknown", "pull access denied", "initializing source", "no such image",
                "unable to pull", "failed to resolve image", "pulling image")


@dataclass(frozen=True)
class Progress:
    """A Deployment's watched revision, when it last gained available pods, and the most it has had."""

    revision: str
    last_progress: float
    best: int = 0


@dataclass(frozen=True)
class RolloutWatch:
    """Per workload: when its current revision last made progress. `failures` returns the
    watch the next pass starts from; a watch is never changed."""

    progress: Mapping[str, Progress] = field(default_factory=dict)

    def failures(
        self,
        desired: Desired,
        pods: Sequence[ObservedPod],
        ready: Iterable[str],
        complete: Iterable[str],
        reports: Sequence[Report],
        now: float,
    ) -> tuple[dict[str, str], RolloutWatch]:
        """Deployments whose rollout failed on this pass and why, and the next watch."""
        ready_pods = set(ready)
        done = set(complete)
        failed = {}
        progress = dict(self.progress)
        image_errors = _image_errors(reports)
        for workload in workloads(desired.objects):  # those with a progress deadline: Deployments
            deadline = workload_kind(workload).progress_deadline(workload)
            if deadline is None:
                continue
            key = object_key(workload)
            revision = workload_revision(workload, desired)
            if key in done:
                progress.pop(key, None)
                continue
            new = [p for p in pods if workload_key(p.kind, p.namespace, p.owner) == key and p.revision == revision]
            watch = progress.get(key)
            if watch is None or watch.revision != revision:
                watch = Progress(revision, now)
            available = sum(1 for p in new if p.name in ready_pods)
            if available > watch.best:
                watch = Progress(revision, now, available)
            progress[key] = watch
            crashing = [p for p in new if p.restarts >= CRASH_RESTARTS or p.failed_containers and p.restarts]
            init_failures = _init_failures(new, workload.template, now)
            if key in image_errors:
                failed[key] = image_errors[key]
            elif crashing:
                pod = crashing[0]
                failed[key] = f"pod {pod.name} is crash-looping ({pod.restarts} restarts)"
            elif init_failures:
                failed[key] = init_failures[0]
            elif now - watch.last_progress > deadline:
                failed[key] = f"no progress for {deadline}s (progressDeadlineSeconds)"
        return failed, RolloutWatch(progress)


def _init_failures(pods: Sequence[ObservedPod], template: PodTemplate, now: float) -> list[str]:
    """Pods whose init container keeps failing (Init:CrashLoopBackOff): they will not start."""
    found = []
    for pod in pods:
        step = pod_init_step(pod, template, now)
        if step is not None and step.failures >= CRASH_RESTARTS:
            found.append(f"pod {pod.name} is crash-looping ({step.status}: an init container failed {step.failures} times)")
    return found


def _image_errors(reports: Sequence[Report]) -> dict[str, str]:
    found = {}
    for report in reports:
        for node in report.nodes:
            for result in node.results:
                if result.ok or result.action.kind != ActionKind.CREATE_POD:
                    continue
                text = result.output.lower()
                if any(marker in text for marker in IMAGE_ERRORS):
                    found[result.action.workload] = f"image cannot be started: {result.error_line()}"
    return found
