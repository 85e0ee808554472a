"""A pod's service account fields: accepted, with an info line, since there is no token to mount.

There is no API server, so a pod gets no service account token. A container that
mounts something at the token's path would expect one there: that is an error.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from .fields import Fields
from .model import Container
from .notices import SERVICE_ACCOUNTS

# serviceAccount is the deprecated alias of serviceAccountName.
SERVICE_ACCOUNT_FIELDS = ("serviceAccountName", "serviceAccount", "automountServiceAccountToken")
# /var/run is /run on the images that have both.
TOKEN_PATHS = ("/var/run/secrets/kubernetes.io/serviceaccount", "/run/secrets/kubernetes.io/serviceaccount")


def _is_token_path(path: str) -> bool:
    path = posixpath.normpath(path)
    return any(path == token or path.startswith(token + "/") for token in TOKEN_PATHS)


def read_service_account(fields: Fields, containers: Sequence[Container]) -> None:
    """Check a pod spec's service account fields and its containers' mounts; note what they mean."""
    fields.optional_str("serviceAccountName")
    fields.optional_str("serviceAccount")
    fields.get_bool("automountServiceAccountToken", True)
    if any(fields.has(key) for key in SERVICE_ACCOUNT_FIELDS):
        fields.report.note(SERVICE_ACCOUNTS)
    for c, container in enumerate(containers):
        for m, mount in enumerate(container.volume_mounts):
            if mount.mount_path and _is_token_path(mount.mount_path):
                fields.report.add(
                    f"{fields.at('containers')}[{c}].volumeMounts[{m}].mountPath",
                    "no API server, so there is no service account token to mount; remove this mount",
                )
