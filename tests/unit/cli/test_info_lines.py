"""plan and apply say what kinds and fields with no effect here mean: one line per family."""

from __future__ import annotations

from pathlib import Path

from sshorch.cli.deploy import info_lines
from sshorch.spec import load_desired

COMPAT = Path(__file__).resolve().parents[1] / "spec" / "compat"


def test_one_info_line_per_family_however_many_objects_raise_it() -> None:
    # service-account.yaml raises its family three times, rbac.yaml its own four times.
    desired = load_desired([COMPAT / "service-account.yaml", COMPAT / "rbac.yaml", COMPAT / "cronjob-v1beta1.yaml"])
    assert info_lines(desired) == [
        "info: ServiceAccount, serviceAccountName, automountServiceAccountToken: no API server, so no token is mounted",
        "info: Role, ClusterRole, RoleBinding, ClusterRoleBinding: no API server, so they grant nothing here",
        "info: batch/v1beta1 CronJob is read as batch/v1, its current version; write batch/v1",
    ]


def test_no_info_lines_for_manifests_that_need_none() -> None:
    assert info_lines(load_desired([COMPAT / "status.yaml"])) == []
