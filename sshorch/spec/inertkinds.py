"""Kinds that only mean something to an API server: accepted, with an info line, and not kept.

sshorch has no API server, so there are no service account tokens and nothing for
RBAC rules to grant. Manifests written for Kubernetes carry these kinds; they are
read (metadata and top-level fields checked) and then dropped.
"""

from __future__ import annotations

from .fields import Fields, Report, describe
from .meta import parse_object_meta
from .model import Source
from .notices import RBAC, SERVICE_ACCOUNTS, Notice

_RBAC_VERSION = "rbac.authorization.k8s.io/v1"

# kind: (apiVersion, its top-level fields, what it means here)
_INERT: dict[str, tuple[str, tuple[str, ...], Notice]] = {
    # imagePullSecrets would mean something (registry credentials for the pods that use the
    # account): it is an error saying to put them on the pod spec (_SERVICE_ACCOUNT_PULL).
    "ServiceAccount": ("v1", ("secrets", "automountServiceAccountToken", "imagePullSecrets"), SERVICE_ACCOUNTS),
    "Role": (_RBAC_VERSION, ("rules",), RBAC),
    "ClusterRole": (_RBAC_VERSION, ("rules", "aggregationRule"), RBAC),
    "RoleBinding": (_RBAC_VERSION, ("subjects", "roleRef"), RBAC),
    "ClusterRoleBinding": (_RBAC_VERSION, ("subjects", "roleRef"), RBAC),
}
INERT_KINDS = tuple(_INERT)
_SERVICE_ACCOUNT_PULL = (
    "a ServiceAccount's pull secrets are not given to its pods here; "
    "put them on the pod spec (spec.template.spec.imagePullSecrets)"
)


def _any_name(value: str) -> str | None:
    # RBAC names are path segments (system:aggregate-to-view): nothing here uses them.
    return None if "/" not in value and value not in (".", "..") else "must not contain '/' or be '.' or '..'"


def read_inert(report: Report, source: Source, document: dict[object, object], kind: str) -> None:
    """Check a document of an inert ``kind`` and note what it means here."""
    version, top_fields, notice = _INERT[kind]
    api_version = document.get("apiVersion")
    if api_version != version:
        got = "" if api_version is None else f", got {describe(api_version)}"
        report.add("apiVersion", f"must be {version} for {kind}{got}")
        return
    top = Fields(report, {k: v for k, v in document.items() if k != "status"}, "", ("apiVersion", "kind", "metadata", *top_fields))
    top.get_bool("automountServiceAccountToken", True)
    if top.has("imagePullSecrets"):
        report.add("imagePullSecrets", _SERVICE_ACCOUNT_PULL)
    parse_object_meta(report, document.get("metadata"), kind=kind, source=source, name_check=_any_name)
    report.note(notice)
