"""Reading securityContext (pod and container level) and the pod spec's host namespaces.

What each field means here (README, "Security"):
- seLinuxOptions: the runtime's `label=` options; a node without SELinux ignores them.
- appArmorProfile: the runtime's `apparmor=` option; a node without AppArmor ignores them.
- fsGroupChangePolicy: both values accepted: the files sshorch delivers and the emptyDirs it
  makes always get the fsGroup (what `Always` says); apply says so for OnRootMismatch
  (spec/securitynotes.py).
- procMount `Default` is the default; `Unmasked`, supplementalGroupsPolicy `Strict` and
  windowsOptions are errors: the runtimes here cannot honour them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from .fields import Fields, Report, describe
from .model import Container
from .security import (
    SECCOMP_ROOT, ContainerSecurity, PodSecurity, ProcessSecurity, Profile, SeLinuxOptions, is_namespaced_sysctl,
)

_PROCESS_FIELDS = ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "appArmorProfile", "seLinuxOptions", "windowsOptions")
POD_FIELDS = (
    *_PROCESS_FIELDS, "fsGroup", "supplementalGroups", "sysctls", "fsGroupChangePolicy", "supplementalGroupsPolicy",
)  # fmt: skip
CONTAINER_FIELDS = (
    *_PROCESS_FIELDS, "privileged", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "capabilities", "procMount",
)  # fmt: skip
# User and group IDs: what Kubernetes validates (0 to 2^31-1).
_MAX_ID = 2**31 - 1
_CHANGE_POLICIES: tuple[Literal["Always", "OnRootMismatch"], ...] = ("Always", "OnRootMismatch")
_PROFILE_TYPES: tuple[Literal["RuntimeDefault", "Unconfined", "Localhost"], ...] = ("RuntimeDefault", "Unconfined", "Localhost")
# Kubernetes' sysctl name (pkg/apis/core/validation: SysctlContainSlashFmt).
_SYSCTL_NAME = re.compile(r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?")
_CAPABILITY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# A profile name or SELinux label part reaches the runtime inside one --security-opt word.
_OPTION_WORD = re.compile(r"[A-Za-z0-9_.:/,-]+")
_SELINUX_PART = re.compile(r"[A-Za-z0-9_.:,-]+")


def _check_option_word(value: str) -> str | None:
    return None if _OPTION_WORD.fullmatch(value) else "must be letters, digits and _ . : / , -"


def _check_selinux_part(value: str) -> str | None:
    return None if _SELINUX_PART.fullmatch(value) else "must be letters, digits and _ . : , -"


def _check_seccomp_path(value: str) -> str | None:
    if value.startswith("/") or ".." in value.split("/") or _check_option_word(value):
        return f"must be a relative path under the node's {SECCOMP_ROOT} (letters, digits and _ . : / , -)"
    return None


def _parse_profile(fields: Fields, key: str, seccomp: bool) -> Profile | None:
    if not fields.has(key):
        return None
    profile = fields.sub(key, ("type", "localhostProfile"))
    kind = profile.get_choice("type", _PROFILE_TYPES, "RuntimeDefault")
    if not profile.has("type"):
        profile.missing("type", "is required: RuntimeDefault, Unconfined or Localhost")
    local = profile.optional_str("localhostProfile", _check_seccomp_path if seccomp else _check_option_word)
    if kind == "Localhost" and local is None and not profile.has("localhostProfile"):
        profile.missing("localhostProfile", "is required with type Localhost")
    elif kind != "Localhost" and profile.has("localhostProfile"):
        profile.fail("localhostProfile", "must be set only with type Localhost")
        local = None
    return Profile(kind, local)


def _parse_se_linux(fields: Fields) -> SeLinuxOptions | None:
    if not fields.has("seLinuxOptions"):
        return None
    options = fields.sub("seLinuxOptions", ("user", "role", "type", "level"))
    return SeLinuxOptions(*(options.optional_str(key, _check_selinux_part) for key in ("user", "role", "type", "level")))


def _parse_process(fields: Fields) -> ProcessSecurity:
    if fields.has("windowsOptions"):
        fields.fail("windowsOptions", "not supported: sshorch nodes run Linux containers; remove it")
    user = fields.optional_int("runAsUser", 0, _MAX_ID)
    group = fields.optional_int("runAsGroup", 0, _MAX_ID)
    non_root = fields.get_bool("runAsNonRoot", False) if fields.has("runAsNonRoot") else None
    if non_root and user == 0:
        fields.fail("runAsNonRoot", "must not be true with runAsUser 0 (the container's runAsUser breaks non-root policy)")
    return ProcessSecurity(
        run_as_user=user,
        run_as_group=group,
        run_as_non_root=non_root,
        seccomp_profile=_parse_profile(fields, "seccompProfile", seccomp=True),
        app_armor_profile=_parse_profile(fields, "appArmorProfile", seccomp=False),
        se_linux_options=_parse_se_linux(fields),
    )


def _ids(fields: Fields, key: str) -> tuple[int, ...]:
    ids = []
    for path, item in fields.items(key):
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= _MAX_ID:
            ids.append(item)
        else:
            fields.report.add(path, f"must be an integer 0-{_MAX_ID}, got {describe(item)}")
    return tuple(ids)


def _parse_sysctls(fields: Fields) -> tuple[tuple[str, str], ...]:
    sysctls: dict[str, str] = {}
    for path, item in fields.items("sysctls"):
        entry = Fields(fields.report, item, path, ("name", "value"))
        name = entry.required_str("name")
        value = entry.required_str("value")
        if name and not _SYSCTL_NAME.fullmatch(name):
            entry.fail("name", f"must be a sysctl name (lowercase words joined by '.' or '/'), got {describe(name)}")
        elif name and not is_namespaced_sysctl(name):
            entry.fail("name", f"{name} is not a namespaced sysctl: a pod may set only net.*, kernel.shm*, "
                               "kernel.msg*, kernel.sem and fs.mqueue.*; set it on the node instead")  # fmt: skip
        elif name in sysctls:
            entry.fail("name", f"must be unique in the pod, got {describe(name)} twice")
        elif "," in value or "\n" in value or "=" in value:
            entry.fail("value", f"must not contain ',', '=' or a line break, got {describe(value)}")
        elif name:
            sysctls[name] = value
    return tuple(sysctls.items())


def parse_pod_security(fields: Fields) -> PodSecurity:
    """The pod spec's securityContext, hostNetwork, hostPID and hostIPC."""
    context = fields.sub("securityContext", POD_FIELDS)
    if context.get_choice("supplementalGroupsPolicy", ("Merge", "Strict"), "Merge") == "Strict":
        context.fail("supplementalGroupsPolicy", "Strict is not supported: the runtimes add the image's groups (Merge); remove it")
    change_policy = None
    if context.has("fsGroupChangePolicy"):
        change_policy = context.get_choice("fsGroupChangePolicy", _CHANGE_POLICIES, "Always")
    security = PodSecurity(
        process=_parse_process(context),
        fs_group=context.optional_int("fsGroup", 0, _MAX_ID),
        fs_group_change_policy=change_policy,
        supplemental_groups=_ids(context, "supplementalGroups"),
        sysctls=_parse_sysctls(context),
        host_network=fields.get_bool("hostNetwork", False),
        host_pid=fields.get_bool("hostPID", False),
        host_ipc=fields.get_bool("hostIPC", False),
    )
    # A sysctl of a namespace shared with the node would set the node's: Kubernetes refuses it.
    for i, (name, _) in enumerate(security.sysctls):
        network = name.startswith("net.")
        if (security.host_network and network) or (security.host_ipc and not network):
            shared = "hostNetwork" if network else "hostIPC"
            context.report.add(f"{context.at('sysctls')}[{i}].name", f"must not be set with {shared}: true, got {describe(name)}")
    return security


def _capabilities(fields: Fields, key: str) -> tuple[str, ...]:
    names: list[str] = []
    for path, item in fields.items(key):
        if not isinstance(item, str) or not _CAPABILITY.fullmatch(item):
            fields.report.add(path, f"must be a capability name such as NET_BIND_SERVICE or ALL, got {describe(item)}")
        elif item.upper().startswith("CAP_"):
            fields.report.add(path, f"must be written without the CAP_ prefix, as Kubernetes names capabilities: {item[4:].upper()}")
        elif item.upper() not in names:
            names.append(item.upper())
    return tuple(names)


def parse_container_security(fields: Fields) -> ContainerSecurity:
    """A container's securityContext."""
    context = fields.sub("securityContext", CONTAINER_FIELDS)
    if context.get_choice("procMount", ("Default", "Unmasked"), "Default") == "Unmasked":
        context.fail("procMount", "Unmasked is not supported: the runtimes here always mask /proc; remove it")
    capabilities = context.sub("capabilities", ("add", "drop"))
    privileged = context.get_bool("privileged", False)
    escalation = context.get_bool("allowPrivilegeEscalation", True) if context.has("allowPrivilegeEscalation") else None
    if privileged and escalation is False:
        context.fail("allowPrivilegeEscalation", "must not be false with privileged: true")
    return ContainerSecurity(
        process=_parse_process(context),
        privileged=privileged,
        read_only_root_filesystem=context.get_bool("readOnlyRootFilesystem", False),
        allow_privilege_escalation=escalation,
        capabilities_add=_capabilities(capabilities, "add"),
        capabilities_drop=_capabilities(capabilities, "drop"),
    )


def check_pod_security(report: Report, path: str, security: PodSecurity, containers: Iterable[Container]) -> None:
    """What spans a pod and its containers: the effective user of each, and runAsGroup,
    which the runtimes set only with a user (`--user UID:GID`)."""
    for c, container in enumerate(containers):
        process = container.security.process.over(security.process)
        where = f"{path}.containers[{c}].securityContext"
        own = container.security.process
        alone = (own.run_as_non_root and own.run_as_user == 0) or (security.process.run_as_non_root and security.process.run_as_user == 0)
        if process.run_as_non_root and process.run_as_user == 0 and not alone:  # each level alone was reported
            report.add(f"{where}.runAsUser", "must not be 0 with runAsNonRoot (the container's runAsUser breaks non-root policy)")
        if process.run_as_group is not None and process.run_as_user is None:
            report.add(f"{where}.runAsUser", "is required with runAsGroup here (the runtime sets a group only with a user): set runAsUser too")


def with_host_network_ports(report: Report, path: str, containers: tuple[Container, ...]) -> tuple[Container, ...]:
    """With hostNetwork a container's ports are the node's: hostPort is containerPort, as
    Kubernetes defaults and requires it."""
    result = []
    for c, container in enumerate(containers):
        ports = []
        for p, port in enumerate(container.ports):
            if port.host_port is not None and port.host_port != port.container_port:
                report.add(f"{path}.containers[{c}].ports[{p}].hostPort", f"must equal containerPort ({port.container_port}) with hostNetwork, got {port.host_port}")
            ports.append(replace(port, host_port=port.container_port))
        result.append(replace(container, ports=tuple(ports)))
    return tuple(result)
