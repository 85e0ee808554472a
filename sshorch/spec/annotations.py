"""sshorch's own annotations (``sshorch.io/...``): the only extension point of the manifests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .fields import Check
from .kinds import KINDS_BY_LOWERCASE
from .names import is_dns1123_label, is_dns1123_subdomain

SSHORCH_PREFIX = "sshorch.io/"
DEPENDS_ON = "sshorch.io/depends-on"
AUTO_ROLLBACK = "sshorch.io/auto-rollback"
STORED_SECRET = "sshorch.io/stored-secret"  # a Secret whose values are kept by `sshorch secret set`
# Templates' annotations are checked with these in place of an object kind.
POD_TEMPLATE = "pod template"
JOB_TEMPLATE = "job template"
_TEMPLATES = (POD_TEMPLATE, JOB_TEMPLATE)

DEPENDS_ON_RULE = "must be comma-separated kind/name references of objects in the same namespace (kinds: " + ", ".join(
    sorted(KINDS_BY_LOWERCASE)
) + ")"


def parse_depends_on(value: str) -> tuple[tuple[str, str], ...]:
    """``"deployment/db, job/migrate"`` -> (("Deployment", "db"), ("Job", "migrate")); ValueError if malformed."""
    refs = []
    for item in value.split(","):
        kind, slash, name = item.strip().partition("/")
        if not slash or kind not in KINDS_BY_LOWERCASE or not is_dns1123_label(name):
            raise ValueError(f"bad reference {item.strip()!r}")
        refs.append((KINDS_BY_LOWERCASE[kind], name))
    return tuple(refs)


def check_depends_on(value: str) -> str | None:
    try:
        parse_depends_on(value)
    except ValueError:
        return DEPENDS_ON_RULE
    return None


def check_bool_string(value: str) -> str | None:
    return None if value in ("true", "false") else "must be \"true\" or \"false\""


def check_stored_secret_name(value: str) -> str | None:
    return None if is_dns1123_subdomain(value) else "must name a stored secret (see 'sshorch secret list')"


@dataclass(frozen=True)
class AnnotationRule:
    """How a known sshorch.io/ annotation's value is checked, and the kinds it may be set on."""

    check: Check
    kinds: frozenset[str] | None = None  # None: any object (not pod templates)


# Every sshorch.io/ annotation sshorch understands; any other is an error.
KNOWN_ANNOTATIONS: Mapping[str, AnnotationRule] = {
    DEPENDS_ON: AnnotationRule(check_depends_on),
    AUTO_ROLLBACK: AnnotationRule(check_bool_string, frozenset({"Deployment", "DaemonSet"})),
    STORED_SECRET: AnnotationRule(check_stored_secret_name, frozenset({"Secret"})),
}


def check_annotation_placement(key: str, kind: str) -> str | None:
    """None when ``key`` is a known sshorch.io/ annotation allowed on ``kind``."""
    rule = KNOWN_ANNOTATIONS.get(key)
    if rule is None:
        return f"unknown sshorch annotation; known: {', '.join(sorted(KNOWN_ANNOTATIONS))}"
    if rule.kinds is None:
        return None if kind not in _TEMPLATES else f"only allowed on an object's metadata, not on a {kind}"
    return None if kind in rule.kinds else f"only allowed on {' or '.join(sorted(rule.kinds))}"
