"""A container's securityContext, over its pod's, as runtime options. Pure."""

from __future__ import annotations

from sshorch.runtime.model import ContainerSecurityRun
from sshorch.spec.model import Container
from sshorch.spec.security import SECCOMP_ROOT, PodSecurity, Profile, ProcessSecurity


def _profile_option(kind: str, profile: Profile | None, localhost: str) -> tuple[str, ...]:
    """RuntimeDefault (and unset) is the runtime's own default profile: no option."""
    if profile is None or profile.type == "RuntimeDefault":
        return ()
    if profile.type == "Unconfined":
        return (f"{kind}=unconfined",)
    return (f"{kind}={localhost}",)


def security_opts(process: ProcessSecurity, allow_privilege_escalation: bool | None) -> tuple[str, ...]:
    """--security-opt values, spelt the same by podman and docker."""
    opts: tuple[str, ...] = ("no-new-privileges",) if allow_privilege_escalation is False else ()
    seccomp = process.seccomp_profile
    opts += _profile_option("seccomp", seccomp, f"{SECCOMP_ROOT}/{seccomp.localhost_profile}" if seccomp else "")
    apparmor = process.app_armor_profile
    opts += _profile_option("apparmor", apparmor, (apparmor.localhost_profile or "") if apparmor else "")
    selinux = process.se_linux_options
    if selinux is not None:
        parts = (("user", selinux.user), ("role", selinux.role), ("type", selinux.type), ("level", selinux.level))
        opts += tuple(f"label={key}:{value}" for key, value in parts if value is not None)
    return opts


def container_security(pod: PodSecurity, container: Container, pod_name: str) -> ContainerSecurityRun:
    own = container.security
    process = own.process.over(pod.process)
    user = None
    if process.run_as_user is not None:
        user = str(process.run_as_user) if process.run_as_group is None else f"{process.run_as_user}:{process.run_as_group}"
    # With a runAsUser the check was made on load (0 is refused); without one the image decides.
    check = (pod_name, container.name) if process.run_as_non_root and process.run_as_user is None else None
    return ContainerSecurityRun(
        user=user,
        groups=pod.groups,
        read_only_root=own.read_only_root_filesystem,
        privileged=own.privileged,
        cap_add=own.capabilities_add,
        cap_drop=own.capabilities_drop,
        security_opts=security_opts(process, own.allow_privilege_escalation),
        non_root_check=check,
    )


def container_uid(pod: PodSecurity, container: Container) -> int:
    """The user the container runs as, where the manifest says (0 otherwise): owner of its
    secret env file, which only it may read."""
    return container.security.process.over(pod.process).run_as_user or 0
