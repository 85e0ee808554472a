"""Info lines: what a kind or field with no Kubernetes effect here means, said once per apply.

The spec package only returns them (Desired.notices); `plan` and `apply` print them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    """One info line; the notices of one ``family`` are said once, however many objects raise them."""

    family: str
    message: str


SERVICE_ACCOUNTS = Notice(
    "service-accounts", "ServiceAccount, serviceAccountName, automountServiceAccountToken: no API server, so no token is mounted"
)
RBAC = Notice("rbac", "Role, ClusterRole, RoleBinding, ClusterRoleBinding: no API server, so they grant nothing here")


def old_version(kind: str, old: str, current: str) -> Notice:
    return Notice(f"apiVersion {old} {kind}", f"{old} {kind} is read as {current}, its current version; write {current}")


def once_per_family(notices: Iterable[Notice]) -> tuple[Notice, ...]:
    """The first notice of each family, in order."""
    seen: dict[str, Notice] = {}
    for notice in notices:
        seen.setdefault(notice.family, notice)
    return tuple(seen.values())
