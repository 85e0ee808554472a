"""A pod's registry credentials on its node: the auths of its imagePullSecrets merged into
one docker config.json (the containers-auth.json format too), for runtime/authpull.py.

Where two Secrets name one registry the first wins, as the kubelet tries them in order.
The file's directory is named by the pod, not by the content: credentials are no part of
the pod's revision (the kubelet reads them at each pull), so a changed Secret rewrites
the file in place (plan/upkeep.py's file repairs) and restarts nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sshorch.plan.model import FileUpload
from sshorch.runtime.authpull import AUTH_FILE
from sshorch.spec.model import Desired, Secret, SecretBytes
from sshorch.spec.pullsecrets import PULL_SECRET_TYPES, RegistryAuthError, registry_auths


class PullSecretError(ValueError):
    """A pull secret is gone or not of its types (a recorded state the manifests' checks did not see)."""


def merged_auths(secrets: Sequence[Secret]) -> SecretBytes:
    """The config.json of these Secrets' credentials, the first Secret's winning for a registry."""
    merged: dict[str, object] = {}
    for secret in secrets:
        try:
            auths = registry_auths(secret.type, {key: value.reveal() for key, value in secret.data.items()})
        except RegistryAuthError as error:
            raise PullSecretError(f"imagePullSecrets: Secret {secret.meta.name!r}: {error}") from None
        for registry, entry in auths.items():
            merged.setdefault(registry, entry)
    return SecretBytes(json.dumps({"auths": merged}, indent=1, sort_keys=True).encode() + b"\n")


def pull_secrets(desired: Desired, namespace: str, names: Sequence[str]) -> tuple[Secret, ...]:
    found = []
    for name in names:
        secret = desired.get("Secret", name, namespace)
        if not isinstance(secret, Secret) or secret.type not in PULL_SECRET_TYPES:
            raise PullSecretError(f"imagePullSecrets: no Secret {name!r} of a registry credentials type in namespace {namespace!r}")
        found.append(secret)
    return tuple(found)


def registry_auth_upload(directory: str, secrets: Sequence[Secret]) -> FileUpload:
    """The credentials file in `directory`: root's only, like a secret env file."""
    return FileUpload(f"{directory}/{AUTH_FILE}", merged_auths(secrets), 0o600)


def registry_auth_dir(secrets_root: str, namespace: str, pod: str) -> str:
    """The pod's own directory ('_' is in no Secret's name, so no secret volume's directory is this)."""
    return f"{secrets_root}/{namespace}/pull_{pod}"
