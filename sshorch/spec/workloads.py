"""Deployments, DaemonSets, Jobs and CronJobs: a pod template plus how to run it."""

from __future__ import annotations

import re
import zoneinfo
from typing import Literal

from .annotations import JOB_TEMPLATE
from .cronexpr import check_cron_schedule
from .fields import Fields, describe
from .limits import MAX_REPLICAS
from .meta import parse_label_selector, parse_template_meta, selector_matches
from .model import (
    CronJob,
    DaemonSet,
    Deployment,
    DeploymentStrategy,
    IntOrPercent,
    Job,
    LabelSelector,
    ObjectMeta,
    PodTemplate,
)
from .podspec import parse_pod_template

_PERCENT = re.compile(r"([0-9]{1,3})%")
_INT_OR_PERCENT_RULE = "must be an integer >= 0 or a percentage 0%-100%"
_STRATEGIES: tuple[Literal["RollingUpdate", "Recreate"], ...] = ("RollingUpdate", "Recreate")
_CONCURRENCY: tuple[Literal["Allow", "Forbid", "Replace"], ...] = ("Allow", "Forbid", "Replace")
_JOB_FIELDS = ("template", "completions", "parallelism", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished")


def parse_int_or_percent(fields: Fields, key: str) -> IntOrPercent | None:
    """maxSurge / maxUnavailable; None when absent or invalid (reported)."""
    value = fields.raw(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return IntOrPercent(value)
    if isinstance(value, str) and (match := _PERCENT.fullmatch(value)) and int(match[1]) <= 100:
        return IntOrPercent(int(match[1]), percent=True)
    fields.fail(key, f"{_INT_OR_PERCENT_RULE}, got {describe(value)}")
    return None


def _parse_selector(spec: Fields) -> LabelSelector:
    if not spec.has("selector"):
        spec.missing("selector")
        return LabelSelector()
    return parse_label_selector(spec.report, spec.raw("selector"), spec.at("selector"))


def _check_selector(spec: Fields, selector: LabelSelector, template: PodTemplate) -> None:
    """As in Kubernetes, the selector must select the pods of the template."""
    report = spec.report
    template_labels = spec.at("template") + ".metadata.labels"
    # Unless the selector or the labels were already reported, missing or wrong.
    reported = {spec.at("template"), spec.at("template") + ".metadata"}
    if (
        not spec.has("selector")
        or report.has_problems_under(spec.at("selector"))
        or report.has_problems_under(template_labels)
        or any(problem.path in reported for problem in report.problems)
    ):
        return
    if not selector_matches(selector, template.labels):
        shown = ", ".join(f"{k}={v}" for k, v in template.labels.items()) or "none"
        report.add(spec.at("selector"), f"must match the pod template's labels ({template_labels}: {shown})")


def _parse_strategy(spec: Fields) -> DeploymentStrategy:
    strategy = spec.sub("strategy", ("type", "rollingUpdate"))
    kind = strategy.get_choice("type", _STRATEGIES, "RollingUpdate")
    if kind == "Recreate" and strategy.has("rollingUpdate"):
        strategy.fail("rollingUpdate", "must not be set when type is Recreate")
        return DeploymentStrategy(type=kind)
    rolling = strategy.sub("rollingUpdate", ("maxSurge", "maxUnavailable"))
    surge = parse_int_or_percent(rolling, "maxSurge")
    unavailable = parse_int_or_percent(rolling, "maxUnavailable")
    if surge is not None and unavailable is not None and surge.value == 0 and unavailable.value == 0:
        rolling.fail("maxUnavailable", "must not be 0 when maxSurge is 0")
    defaults = DeploymentStrategy()
    return DeploymentStrategy(kind, surge or defaults.max_surge, unavailable or defaults.max_unavailable)


def parse_deployment(top: Fields, meta: ObjectMeta) -> Deployment:
    spec = top.sub("spec", ("replicas", "selector", "template", "strategy", "minReadySeconds", "progressDeadlineSeconds",
                            "revisionHistoryLimit", "paused"), required=True)  # fmt: skip
    replicas = spec.get_int("replicas", 1, 0, MAX_REPLICAS)
    selector = _parse_selector(spec)
    template = parse_pod_template(spec, "template", restart_policies=("Always",), kind="Deployment")
    _check_selector(spec, selector, template)
    min_ready = spec.get_int("minReadySeconds", 0, 0)
    deadline = spec.get_int("progressDeadlineSeconds", 600, 1)
    checked = not any(spec.report.has_problems_under(spec.at(k)) for k in ("minReadySeconds", "progressDeadlineSeconds"))
    if checked and deadline <= min_ready:
        spec.fail("progressDeadlineSeconds", f"must be greater than minReadySeconds ({min_ready}), got {deadline}")
    return Deployment(
        meta=meta,
        selector=selector,
        template=template,
        replicas=replicas,
        strategy=_parse_strategy(spec),
        min_ready_seconds=min_ready,
        progress_deadline_seconds=deadline,
        revision_history_limit=spec.get_int("revisionHistoryLimit", 10, 0),
        paused=spec.get_bool("paused", False),
    )


def parse_daemon_set(top: Fields, meta: ObjectMeta) -> DaemonSet:
    spec = top.sub("spec", ("selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"), required=True)
    selector = _parse_selector(spec)
    template = parse_pod_template(spec, "template", restart_policies=("Always",), kind="DaemonSet")
    _check_selector(spec, selector, template)
    strategy = spec.sub("updateStrategy", ("type", "rollingUpdate"))
    strategy.get_choice("type", ("RollingUpdate",), "RollingUpdate")
    rolling = strategy.sub("rollingUpdate", ("maxUnavailable",))
    max_unavailable = parse_int_or_percent(rolling, "maxUnavailable")
    if max_unavailable is not None and max_unavailable.value == 0:
        rolling.fail("maxUnavailable", f"must not be 0 (sshorch has no maxSurge for DaemonSets), got {describe(rolling.raw('maxUnavailable'))}")
        max_unavailable = None
    return DaemonSet(
        meta=meta,
        selector=selector,
        template=template,
        max_unavailable=max_unavailable or IntOrPercent(1),
        min_ready_seconds=spec.get_int("minReadySeconds", 0, 0),
        revision_history_limit=spec.get_int("revisionHistoryLimit", 10, 0),
    )


def parse_job_spec(spec: Fields, meta: ObjectMeta, kind: str = "Job") -> Job:
    return Job(
        meta=meta,
        template=parse_pod_template(spec, "template", restart_policies=("OnFailure", "Never"), kind=kind),
        completions=spec.get_int("completions", 1, 0),
        parallelism=spec.get_int("parallelism", 1, 0, MAX_REPLICAS),
        backoff_limit=spec.get_int("backoffLimit", 6, 0),
        active_deadline_seconds=spec.optional_int("activeDeadlineSeconds", 1),
        ttl_seconds_after_finished=spec.optional_int("ttlSecondsAfterFinished", 0),
    )


def parse_job(top: Fields, meta: ObjectMeta) -> Job:
    return parse_job_spec(top.sub("spec", _JOB_FIELDS, required=True), meta)


def check_time_zone(value: str) -> str | None:
    rule = "must be an IANA time zone name such as Europe/Berlin or Etc/UTC"
    if not re.fullmatch(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*", value):
        return rule
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return rule
    return None


def parse_cron_job(top: Fields, meta: ObjectMeta) -> CronJob:
    spec = top.sub("spec", ("schedule", "timeZone", "jobTemplate", "concurrencyPolicy", "suspend", "startingDeadlineSeconds",
                            "successfulJobsHistoryLimit", "failedJobsHistoryLimit"), required=True)  # fmt: skip
    schedule = spec.required_str("schedule", check_cron_schedule)
    time_zone = spec.optional_str("timeZone", check_time_zone)
    job_template = spec.sub("jobTemplate", ("metadata", "spec"), required=True)
    labels, annotations = parse_template_meta(job_template, JOB_TEMPLATE)
    job_meta = ObjectMeta("Job", meta.name, meta.namespace, labels, annotations, meta.source)
    job = parse_job_spec(job_template.sub("spec", _JOB_FIELDS, required=True), job_meta, kind="Job")
    return CronJob(
        meta=meta,
        schedule=schedule,
        job=job,
        concurrency_policy=spec.get_choice("concurrencyPolicy", _CONCURRENCY, "Allow"),
        suspend=spec.get_bool("suspend", False),
        starting_deadline_seconds=spec.optional_int("startingDeadlineSeconds", 0),
        successful_jobs_history_limit=spec.get_int("successfulJobsHistoryLimit", 3, 0),
        failed_jobs_history_limit=spec.get_int("failedJobsHistoryLimit", 1, 0),
        time_zone=time_zone,
    )
