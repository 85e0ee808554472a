"""securityContext (pod and container) and the host namespaces: what is read, and each error with its path."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.spec.model import Deployment
from sshorch.spec.securitynotes import FS_GROUP_VOLUMES, ON_ROOT_MISMATCH, security_notices
from sshorch.spec.security import ContainerSecurity, PodSecurity, ProcessSecurity, Profile, SeLinuxOptions

from .manifests import changed, deployment, parse, problems

C = "spec.template.spec.containers[0]"
POD = "spec.template.spec"


def _parsed(document: dict[str, Any]) -> Deployment:
    obj = parse(document).objects[0]
    assert isinstance(obj, Deployment)
    return obj


def test_the_corpus_shape_is_read_at_both_levels() -> None:
    doc = changed(deployment(), f"{POD}.securityContext", {"fsGroup": 1000, "runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True})
    doc = changed(doc, f"{C}.securityContext", {
        "allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"], "add": ["net_bind_service"]}, "runAsUser": 1001,
        "seccompProfile": {"type": "RuntimeDefault"},
    })  # fmt: skip
    spec = _parsed(doc).template.spec
    assert spec.security == PodSecurity(ProcessSecurity(1000, 1000, True), fs_group=1000)
    assert spec.containers[0].security == ContainerSecurity(
        ProcessSecurity(run_as_user=1001, seccomp_profile=Profile("RuntimeDefault")),
        read_only_root_filesystem=True, allow_privilege_escalation=False, capabilities_drop=("ALL",),
        capabilities_add=("NET_BIND_SERVICE",),
    )  # fmt: skip
    # The container's own user wins; the rest comes from the pod.
    effective = spec.containers[0].security.process.over(spec.security.process)
    assert (effective.run_as_user, effective.run_as_group, effective.run_as_non_root) == (1001, 1000, True)


def test_everything_else_that_is_read() -> None:
    doc = changed(deployment(), POD, {
        **deployment()["spec"]["template"]["spec"], "hostNetwork": True, "hostPID": True, "hostIPC": True,
        "securityContext": {
            "supplementalGroups": [5, 6],
            "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/audit.json"},
            "appArmorProfile": {"type": "Unconfined"}, "seLinuxOptions": {"level": "s0:c123,c456"},
            "fsGroupChangePolicy": "OnRootMismatch", "supplementalGroupsPolicy": "Merge",
        },
    })  # fmt: skip
    doc = changed(doc, f"{C}.ports", [{"containerPort": 8080}])
    doc = changed(doc, f"{C}.securityContext", {"privileged": True, "procMount": "Default"})
    spec = _parsed(doc).template.spec
    assert spec.security == PodSecurity(
        ProcessSecurity(
            seccomp_profile=Profile("Localhost", "profiles/audit.json"), app_armor_profile=Profile("Unconfined"),
            se_linux_options=SeLinuxOptions(level="s0:c123,c456"),
        ),
        supplemental_groups=(5, 6), fs_group_change_policy="OnRootMismatch",
        host_network=True, host_pid=True, host_ipc=True,
    )  # fmt: skip
    assert spec.containers[0].security.privileged
    # With hostNetwork the container's port is the node's.
    assert spec.containers[0].ports[0].host_port == 8080


def test_namespaced_sysctls_are_read_in_order() -> None:
    sysctls = [{"name": "net.core.somaxconn", "value": "1024"}, {"name": "kernel.sem", "value": "250 32000 32 128"}]
    spec = _parsed(changed(deployment(), f"{POD}.securityContext.sysctls", sysctls)).template.spec
    assert spec.security.sysctls == (("net.core.somaxconn", "1024"), ("kernel.sem", "250 32000 32 128"))


def test_a_sysctl_of_a_namespace_shared_with_the_node_is_refused() -> None:
    doc = changed(deployment(), f"{POD}.securityContext.sysctls", [{"name": "net.core.somaxconn", "value": "1"}, {"name": "fs.mqueue.msg_max", "value": "1"}])
    doc = changed(changed(doc, f"{POD}.hostNetwork", True), f"{POD}.hostIPC", True)
    assert problems(doc) == [
        f"web.yaml: Deployment/web: {POD}.securityContext.sysctls[0].name: must not be set with hostNetwork: true, got 'net.core.somaxconn'",
        f"web.yaml: Deployment/web: {POD}.securityContext.sysctls[1].name: must not be set with hostIPC: true, got 'fs.mqueue.msg_max'",
    ]


def test_groups_are_the_fs_group_then_the_supplemental_ones_once_each() -> None:
    assert PodSecurity(fs_group=1000, supplemental_groups=(5, 1000)).groups == (1000, 5)
    assert PodSecurity().groups == ()


S = f"{POD}.securityContext"
CS = f"{C}.securityContext"
CASES = [
    (S, {"runAsUser": -1}, f"{S}.runAsUser: must be an integer 0-2147483647, got -1"),
    (S, {"fsGroup": "1000"}, f"{S}.fsGroup: must be an integer 0-2147483647, got '1000'"),
    (S, {"supplementalGroups": [1, "x"]}, f"{S}.supplementalGroups[1]: must be an integer 0-2147483647, got 'x'"),
    (S, {"runAsNonRoot": "yes"}, f"{S}.runAsNonRoot: must be true or false, got 'yes'"),
    (S, {"runAsNonRoot": True, "runAsUser": 0},
     f"{S}.runAsNonRoot: must not be true with runAsUser 0 (the container's runAsUser breaks non-root policy)"),
    (S, {"sysctls": [{"name": "kernel.panic", "value": "1"}]},
     f"{S}.sysctls[0].name: kernel.panic is not a namespaced sysctl: a pod may set only net.*, kernel.shm*, kernel.msg*, "
     "kernel.sem and fs.mqueue.*; set it on the node instead"),
    (S, {"sysctls": [{"name": "Net.Core", "value": "1"}]},
     f"{S}.sysctls[0].name: must be a sysctl name (lowercase words joined by '.' or '/'), got 'Net.Core'"),
    (S, {"sysctls": [{"name": "net.core.somaxconn", "value": "1,2"}]},
     f"{S}.sysctls[0].value: must not contain ',', '=' or a line break, got '1,2'"),
    (S, {"sysctls": [{"name": "net.core.somaxconn"}]}, f"{S}.sysctls[0].value: is required"),
    (S, {"seccompProfile": {"type": "Localhost"}}, f"{S}.seccompProfile.localhostProfile: is required with type Localhost"),
    (S, {"seccompProfile": {"type": "Localhost", "localhostProfile": "/etc/x.json"}},
     f"{S}.seccompProfile.localhostProfile: must be a relative path under the node's /var/lib/kubelet/seccomp "
     "(letters, digits and _ . : / , -), got '/etc/x.json'"),
    (S, {"seccompProfile": {"type": "Localhost", "localhostProfile": "../x.json"}},
     f"{S}.seccompProfile.localhostProfile: must be a relative path under the node's /var/lib/kubelet/seccomp "
     "(letters, digits and _ . : / , -), got '../x.json'"),
    (S, {"seccompProfile": {"type": "Unconfined", "localhostProfile": "x.json"}},
     f"{S}.seccompProfile.localhostProfile: must be set only with type Localhost"),
    (S, {"seccompProfile": {"type": "Strict"}},
     f"{S}.seccompProfile.type: must be RuntimeDefault, Unconfined or Localhost, got 'Strict'"),
    (S, {"seccompProfile": {}}, f"{S}.seccompProfile.type: is required: RuntimeDefault, Unconfined or Localhost"),
    (S, {"seLinuxOptions": {"type": "spc t"}}, f"{S}.seLinuxOptions.type: must be letters, digits and _ . : , -, got 'spc t'"),
    (S, {"windowsOptions": {"runAsUserName": "x"}}, f"{S}.windowsOptions: not supported: sshorch nodes run Linux containers; remove it"),
    (S, {"supplementalGroupsPolicy": "Strict"},
     f"{S}.supplementalGroupsPolicy: Strict is not supported: the runtimes add the image's groups (Merge); remove it"),
    (S, {"seLinuxChangePolicy": "Recursive"}, f"{S}.seLinuxChangePolicy: unsupported field; supported here: runAsUser, runAsGroup, "
     "runAsNonRoot, seccompProfile, appArmorProfile, seLinuxOptions, windowsOptions, fsGroup, supplementalGroups, sysctls, "
     "fsGroupChangePolicy, supplementalGroupsPolicy"),
    (S, {"runAsGroup": 1000}, f"{CS}.runAsUser: is required with runAsGroup here (the runtime sets a group only with a user): set runAsUser too"),
    (CS, {"capabilities": {"add": ["CAP_NET_ADMIN"]}},
     f"{CS}.capabilities.add[0]: must be written without the CAP_ prefix, as Kubernetes names capabilities: NET_ADMIN"),
    (CS, {"capabilities": {"drop": ["all;"]}}, f"{CS}.capabilities.drop[0]: must be a capability name such as NET_BIND_SERVICE or ALL, got 'all;'"),
    (CS, {"capabilities": {"ambient": []}}, f"{CS}.capabilities.ambient: unsupported field; supported here: add, drop"),
    (CS, {"privileged": True, "allowPrivilegeEscalation": False}, f"{CS}.allowPrivilegeEscalation: must not be false with privileged: true"),
    (CS, {"procMount": "Unmasked"}, f"{CS}.procMount: Unmasked is not supported: the runtimes here always mask /proc; remove it"),
    (CS, {"readOnlyRootFilesystem": 1}, f"{CS}.readOnlyRootFilesystem: must be true or false, got 1"),
    (CS, {"runAsUserName": "x"}, f"{CS}.runAsUserName: unsupported field; supported here: runAsUser, runAsGroup, runAsNonRoot, "
     "seccompProfile, appArmorProfile, seLinuxOptions, windowsOptions, privileged, readOnlyRootFilesystem, "
     "allowPrivilegeEscalation, capabilities, procMount"),
    (CS, {"appArmorProfile": {"type": "Localhost", "localhostProfile": "my profile"}},
     f"{CS}.appArmorProfile.localhostProfile: must be letters, digits and _ . : / , -, got 'my profile'"),
    (POD + ".hostNetwork", "yes", f"{POD}.hostNetwork: must be true or false, got 'yes'"),
]


@pytest.mark.parametrize(("path", "value", "expected"), CASES)
def test_one_bad_setting_gives_one_line(path: str, value: Any, expected: str) -> None:
    assert problems(changed(deployment(), path, value)) == [f"web.yaml: Deployment/web: {expected}"]


def test_a_pod_level_non_root_meets_a_container_level_root_user() -> None:
    doc = changed(deployment(), f"{S}.runAsNonRoot", True)
    doc = changed(doc, f"{CS}.runAsUser", 0)
    assert problems(doc) == [
        f"web.yaml: Deployment/web: {CS}.runAsUser: must not be 0 with runAsNonRoot (the container's runAsUser breaks non-root policy)"
    ]


def test_host_network_ports_must_be_the_node_ports() -> None:
    doc = changed(deployment(), f"{POD}.hostNetwork", True)
    doc = changed(doc, f"{C}.ports", [{"containerPort": 8080, "hostPort": 18080}])
    assert problems(doc) == [f"web.yaml: Deployment/web: {C}.ports[0].hostPort: must equal containerPort (8080) with hostNetwork, got 18080"]


def test_apply_notes_what_fs_group_does_not_reach_once_naming_the_objects() -> None:
    doc = changed(deployment(), f"{S}.fsGroup", 1000)
    doc = changed(doc, f"{POD}.volumes", [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    doc = changed(doc, f"{S}.fsGroupChangePolicy", "OnRootMismatch")
    other = changed(changed(doc, "metadata.name", "api"), "spec.selector.matchLabels.app", "web")
    assert security_notices(parse(doc, other)) == (
        f"{FS_GROUP_VOLUMES} (deployment/web, deployment/api)",
        f"{ON_ROOT_MISMATCH} (deployment/web, deployment/api)",
    )
    assert security_notices(parse(deployment())) == ()
