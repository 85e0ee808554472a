"""Manifests: loading, templating and validation into the typed model of ``sshorch.spec.model``."""

from .annotations import AUTO_ROLLBACK, DEPENDS_ON, KNOWN_ANNOTATIONS, AnnotationRule, parse_depends_on
from .cronexpr import CronError, CronSchedule, check_cron_schedule, parse_cron_schedule
from .problems import ManifestError, Problem
from .kinds import API_VERSIONS
from .load import load_desired, load_documents
from .parse import parse_documents
from .quantity import QuantityError, parse_cpu_millis, parse_memory_bytes
from .templating import build_template_context, parse_set_values, render_template, render_templates

__all__ = [
    "API_VERSIONS",
    "AUTO_ROLLBACK",
    "AnnotationRule",
    "CronError",
    "CronSchedule",
    "DEPENDS_ON",
    "KNOWN_ANNOTATIONS",
    "ManifestError",
    "Problem",
    "QuantityError",
    "build_template_context",
    "check_cron_schedule",
    "load_desired",
    "load_documents",
    "parse_cpu_millis",
    "parse_cron_schedule",
    "parse_depends_on",
    "parse_documents",
    "parse_memory_bytes",
    "parse_set_values",
    "render_template",
    "render_templates",
]
