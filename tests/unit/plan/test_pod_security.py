"""A pod template's securityContext to runtime input: options, files, emptyDirs, and privilege only where allowed."""

from __future__ import annotations

from typing import Any

import pytest

from sshorch.errors import SshorchError
from sshorch.plan.naming import PodIdentity
from sshorch.plan.podbuild import BuiltPod, NodeTarget, PodBuildError, build_pod
from sshorch.plan.podsecurity import security_opts
from sshorch.plan.schedule import NodeInfo, PodRequest, schedule
from sshorch.runtime.model import ContainerSecurityRun
from sshorch.spec.privilege import check_privilege
from sshorch.spec.security import ProcessSecurity, Profile, SeLinuxOptions

from .helpers import CLUSTER, container, deployment, desired, revision_of, secret, workload_of

NODE = NodeTarget("n1", "10.0.0.1", "podman")
ALLOWING = NodeTarget("n1", "10.0.0.1", "podman", allow_privileged=True)


def web(pod: dict[str, Any] | None = None, own: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    main = container(env=[{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}])
    if own is not None:
        main["securityContext"] = own
    doc = deployment("web", containers=[main], volumes=[{"name": "creds", "secret": {"secretName": "creds"}},
                                                        {"name": "scratch", "emptyDir": {}}])  # fmt: skip
    main["volumeMounts"] = [{"name": "creds", "mountPath": "/etc/creds"}, {"name": "scratch", "mountPath": "/scratch"}]
    template = doc["spec"]["template"]["spec"]
    if pod is not None:
        template["securityContext"] = pod
    template.update(spec)
    return doc


def build(doc: dict[str, Any], node: NodeTarget = NODE) -> BuiltPod:
    d = desired(secret("creds", pw="hunter2"), doc)
    identity = PodIdentity(CLUSTER, "deployment", "default", "web", revision_of(d, "web"), "0")
    return build_pod(identity, workload_of(d, "web").template, d, node, {})


def test_the_corpus_settings_become_runtime_options() -> None:
    built = build(web(
        {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True, "fsGroup": 2000},
        {"allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
    ))  # fmt: skip
    assert built.run.containers[0].security == ContainerSecurityRun(
        user="1000:1000", groups=(2000,), read_only_root=True, cap_drop=("ALL",), security_opts=("no-new-privileges",),
    )  # fmt: skip


def test_without_settings_nothing_changes() -> None:
    built = build(web())
    assert built.run.containers[0].security == ContainerSecurityRun()
    scratch = [step.argv for step in built.prepare if step.argv[-1].endswith("/scratch")]
    assert [argv[:2] for argv in scratch] == [("mkdir", "-p")]
    assert all(upload.gid == 0 and upload.uid == 0 for upload in built.files)


def test_run_as_non_root_without_a_user_is_checked_on_the_node() -> None:
    built = build(web({"runAsNonRoot": True}))
    assert built.run.containers[0].security.non_root_check == (built.identity.name, "main")
    assert build(web({"runAsNonRoot": True, "runAsUser": 1000})).run.containers[0].security.non_root_check is None


def test_fs_group_owns_the_delivered_files_and_the_empty_dir() -> None:
    built = build(web({"fsGroup": 2000, "runAsUser": 1000}))
    volume_files = [f for f in built.files if f.path.endswith("/pw") and "/env-" not in f.path]
    assert [(f.gid, f.mode) for f in volume_files] == [(2000, 0o440)]
    # The secret env file belongs to the container's user, who alone reads it.
    (env_file,) = [f for f in built.files if f.path.endswith("/main.env")]
    assert (env_file.uid, env_file.mode) == (1000, 0o400)
    scratch = [step.argv for step in built.prepare if step.argv[-1].endswith("/scratch")]
    assert scratch[1:] == [("chgrp", "2000", scratch[0][-1]), ("chmod", "2777", scratch[0][-1])]
    # Another fsGroup is another directory: two pods never share files of different groups.
    other = build(web({"fsGroup": 3000, "runAsUser": 1000}))
    assert {f.path for f in other.files if f.path.endswith("/pw")} != {f.path for f in volume_files}


@pytest.mark.parametrize(("pod", "own"), [({"runAsUser": 1000}, None), (None, {"runAsUser": 1000})])
def test_a_pod_with_a_security_context_gets_kubernetes_empty_dir_mode(pod: dict[str, Any] | None, own: dict[str, Any] | None) -> None:
    built = build(web(pod, own))
    scratch = [step.argv for step in built.prepare if step.argv[-1].endswith("/scratch")]
    assert scratch[1:] == [("chmod", "0777", scratch[0][-1])]


@pytest.mark.parametrize(("process", "escalation", "expected"), [
    (ProcessSecurity(), None, ()),
    (ProcessSecurity(), True, ()),
    (ProcessSecurity(seccomp_profile=Profile("RuntimeDefault")), False, ("no-new-privileges",)),
    (ProcessSecurity(seccomp_profile=Profile("Unconfined")), None, ("seccomp=unconfined",)),
    (ProcessSecurity(seccomp_profile=Profile("Localhost", "p/audit.json")), None, ("seccomp=/var/lib/kubelet/seccomp/p/audit.json",)),
    (ProcessSecurity(app_armor_profile=Profile("Unconfined")), None, ("apparmor=unconfined",)),
    (ProcessSecurity(app_armor_profile=Profile("Localhost", "k8s-web")), None, ("apparmor=k8s-web",)),
    (ProcessSecurity(se_linux_options=SeLinuxOptions(type="spc_t", level="s0:c1,c2")), None, ("label=type:spc_t", "label=level:s0:c1,c2")),
])  # fmt: skip
def test_security_opts(process: ProcessSecurity, escalation: bool | None, expected: tuple[str, ...]) -> None:
    assert security_opts(process, escalation) == expected


def test_the_container_overrides_the_pod() -> None:
    built = build(web(
        {"runAsUser": 1000, "seccompProfile": {"type": "Unconfined"}, "supplementalGroups": [5]},
        {"runAsUser": 1001, "seccompProfile": {"type": "RuntimeDefault"}},
    ))  # fmt: skip
    security = built.run.containers[0].security
    assert (security.user, security.groups, security.security_opts) == ("1001", (5,), ())


def test_host_namespaces_and_sysctls_reach_the_pod() -> None:
    doc = web({"sysctls": [{"name": "kernel.shmmax", "value": "100000"}]}, hostNetwork=True, hostPID=True)
    run = build(doc, ALLOWING).run
    assert (run.host_network, run.host_pid, run.host_ipc, run.sysctls) == (True, True, False, (("kernel.shmmax", "100000"),))


@pytest.mark.parametrize("doc", [web(own={"privileged": True}), web(hostNetwork=True), web(hostPID=True), web(hostIPC=True)])
def test_privilege_only_on_nodes_that_allow_it(doc: dict[str, Any]) -> None:
    with pytest.raises(PodBuildError, match="node n1 does not allow privileged pods \\(sshorch_allow_privileged\\)"):
        build(doc)
    build(doc, ALLOWING)


def test_the_scheduler_places_privileged_pods_only_where_allowed() -> None:
    nodes = [NodeInfo("a", 1000, 10**9), NodeInfo("b", 1000, 10**9, allows_privileged=True)]
    (placed,) = schedule([PodRequest("p", "web", privileged=True)], nodes)
    assert placed.node == "b"
    (pending,) = schedule([PodRequest("p", "web", privileged=True)], nodes[:1])
    assert pending.node is None and "doesn't allow privileged pods (sshorch_allow_privileged)" in pending.reason


def test_apply_is_refused_when_no_node_allows_privilege() -> None:
    d = desired(secret("creds", pw="x"), web(own={"privileged": True}, hostNetwork=True))
    with pytest.raises(SshorchError) as caught:
        check_privilege(d, allowed_anywhere=False)
    assert str(caught.value).splitlines() == [
        "app.yaml: Deployment/web: spec.template.spec.hostNetwork: needs sshorch_allow_privileged: true on a node or group"
        " of the inventory, and no node has it: set it where such pods may run, or remove the setting",
        "app.yaml: Deployment/web: spec.template.spec.containers[0].securityContext.privileged: needs sshorch_allow_privileged:"
        " true on a node or group of the inventory, and no node has it: set it where such pods may run, or remove the setting",
    ]
    check_privilege(d, allowed_anywhere=True)
