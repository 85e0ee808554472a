"""The workload kinds, one entry each: what varies between Deployment, DaemonSet, Job and CronJob. Pure.

Code that treats workloads differently by kind asks this table instead of testing
the object's type, so a new kind is an entry here (and its spec), not a branch in
every module that handles workloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias, cast

from sshorch.spec.model import CronJob, DaemonSet, Deployment, Job, ManifestObject, PodTemplate

PodWorkload: TypeAlias = Deployment | DaemonSet | Job
"""A workload that runs pods of its own template."""

Update = Literal["RollingUpdate", "PerRevision", "None"]
Slot = Literal["replica", "node", "attempt", "none"]
StatusTable = Literal["workloads", "jobs", "none"]


@dataclass(frozen=True)
class WorkloadKind:
    """What one kind of workload is: its pods, its revisions and rollouts, how status shows it."""

    name: str  # the manifest's kind: Deployment
    model: type[object]  # its spec class
    template_field: str  # where its pod spec is in the manifest, for messages
    template_of: Callable[[ManifestObject], PodTemplate]
    # Its own pods (a CronJob's runs are Jobs, which have the pods).
    runs_pods: bool
    # The kind it makes objects of: a CronJob makes a Job per run.
    makes: str | None
    # What a pod's slot is: a replica index, the node it belongs on, the count of pods made before it.
    slot: Slot
    # Revisions kept in state (history, `rollout undo`); a Job's revision only names its run.
    revisions: bool
    # How a new revision replaces the pods: a rolling update, a new run, or not at all.
    update: Update
    # How many pods it wants: a count (replicas, completions) or None when one per selected node.
    desired_count: Callable[[ManifestObject], int | None]
    # The replicas that `scale` and an autoscaler set; None when it has none to set.
    replicas: Callable[[ManifestObject], int] | None
    # Its rollout fails after spec.progressDeadlineSeconds without progress; None when it has none.
    progress_deadline: Callable[[ManifestObject], int | None]
    # How many old revisions are kept; None when it keeps none.
    history_limit: Callable[[ManifestObject], int | None]
    # Its pods stay on a node being drained (as with `kubectl drain --ignore-daemonsets`).
    stays_on_drain: bool
    # Which table of `sshorch status` shows it.
    status: StatusTable

    @property
    def prefix(self) -> str:
        """How workload keys, pod labels and `depends-on` name it: deployment."""
        return self.name.lower()

    @property
    def scalable(self) -> bool:
        return self.replicas is not None

    @property
    def rolls_out(self) -> bool:
        """A new revision replaces running pods step by step, and a run waits for it to finish."""
        return self.update == "RollingUpdate"

    def key(self, namespace: str, name: str) -> str:
        """deployment/default/web."""
        return f"{self.prefix}/{namespace}/{name}"


def _own_template(obj: ManifestObject) -> PodTemplate:
    return cast(PodWorkload, obj).template


def _job_template(obj: ManifestObject) -> PodTemplate:
    return cast(CronJob, obj).job.template


def _replicas(obj: ManifestObject) -> int:
    return cast(Deployment, obj).replicas


def _completions(obj: ManifestObject) -> int | None:
    return cast(Job, obj).completions


def _none(obj: ManifestObject) -> int | None:
    return None


def _progress_deadline(obj: ManifestObject) -> int | None:
    return cast(Deployment, obj).progress_deadline_seconds


def _history_limit(obj: ManifestObject) -> int | None:
    return cast(Deployment | DaemonSet, obj).revision_history_limit


DEPLOYMENT = WorkloadKind(
    name="Deployment", model=Deployment, template_field="spec.template.spec", template_of=_own_template,
    runs_pods=True, makes=None, slot="replica", revisions=True, update="RollingUpdate",
    desired_count=_replicas, replicas=_replicas, progress_deadline=_progress_deadline, history_limit=_history_limit,
    stays_on_drain=False, status="workloads",
)
DAEMON_SET = WorkloadKind(
    name="DaemonSet", model=DaemonSet, template_field="spec.template.spec", template_of=_own_template,
    runs_pods=True, makes=None, slot="node", revisions=True, update="RollingUpdate",
    desired_count=_none, replicas=None, progress_deadline=_none, history_limit=_history_limit,
    stays_on_drain=True, status="workloads",
)
JOB = WorkloadKind(
    name="Job", model=Job, template_field="spec.template.spec", template_of=_own_template,
    runs_pods=True, makes=None, slot="attempt", revisions=False, update="PerRevision",
    desired_count=_completions, replicas=None, progress_deadline=_none, history_limit=_none,
    stays_on_drain=False, status="jobs",
)
CRON_JOB = WorkloadKind(
    name="CronJob", model=CronJob, template_field="spec.jobTemplate.spec.template.spec", template_of=_job_template,
    runs_pods=False, makes="Job", slot="none", revisions=False, update="None",
    desired_count=_none, replicas=None, progress_deadline=_none, history_limit=_none,
    stays_on_drain=False, status="none",
)

_KINDS: tuple[WorkloadKind, ...] = (DEPLOYMENT, DAEMON_SET, JOB, CRON_JOB)
_BY_MODEL: dict[type[object], WorkloadKind] = {k.model: k for k in _KINDS}
_BY_NAME: dict[str, WorkloadKind] = {k.name: k for k in _KINDS}
_BY_PREFIX: dict[str, WorkloadKind] = {k.prefix: k for k in _KINDS}


def workload_kinds() -> tuple[WorkloadKind, ...]:
    return _KINDS


def kind_of(obj: object) -> WorkloadKind | None:
    """The kind of a spec object; None for what is not a workload (ConfigMap, Service...)."""
    return _BY_MODEL.get(type(obj))


def kind_named(name: str) -> WorkloadKind | None:
    """By the manifest's kind: Deployment."""
    return _BY_NAME.get(name)


def kind_of_key(key: str) -> WorkloadKind | None:
    """The kind a key names: deployment/default/web is a Deployment; service/... is no workload."""
    return _BY_PREFIX.get(key.split("/", 1)[0])


def as_workload(obj: ManifestObject | None) -> PodWorkload | None:
    """`obj` when it runs pods of its own (Deployment, DaemonSet, Job), else None."""
    kind = kind_of(obj)
    return cast(PodWorkload, obj) if kind is not None and kind.runs_pods else None


def workload_kind(workload: PodWorkload) -> WorkloadKind:
    """The kind of a workload that runs pods, which always has one."""
    return _BY_MODEL[type(workload)]


def workloads(
    objects: Iterable[ManifestObject], where: Callable[[WorkloadKind], bool] = lambda kind: True
) -> list[PodWorkload]:
    """The objects that run pods of their own, of the kinds `where` accepts, in order."""
    return [cast(PodWorkload, o) for o in objects if (k := kind_of(o)) is not None and k.runs_pods and where(k)]


def job_makers(objects: Iterable[ManifestObject]) -> list[CronJob]:
    """The objects that make Jobs (CronJobs), in order."""
    return [cast(CronJob, o) for o in objects if (k := kind_of(o)) is not None and k.makes == JOB.name]


def workload_template(obj: ManifestObject) -> PodTemplate | None:
    """The pod template of a workload (a CronJob's is its Job's); None for other objects."""
    kind = kind_of(obj)
    return kind.template_of(obj) if kind is not None else None
