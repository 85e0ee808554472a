"""Where sshorch keeps files on a node: one place for the side that writes them and the
side that reads them back (DESIGN.md section 4).

Each cluster has its own directories, so clusters sharing a node never see or clean up
each other's config and secret files or emptyDir data. Pods made before that keep the
directories they were made with (the legacy roots) until they are replaced.
"""

from __future__ import annotations

import re

RUN_DIR = "/run/sshorch"  # tmpfs: config and secret files, memory emptyDirs, the node lock
DATA_DIR = "/var/lib/sshorch"  # disk: emptyDir data
SECRET_ENV_PATH = "/run/sshorch/env"  # in the container: the secret variables, sourced before the command

CONFIGS, SECRETS, PODS = "configs", "secrets", "pods"
LEGACY_CONFIG_ROOTS = (f"{RUN_DIR}/{CONFIGS}", f"{RUN_DIR}/{SECRETS}")
LEGACY_POD_ROOTS = (f"{DATA_DIR}/{PODS}", f"{RUN_DIR}/{PODS}")

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_CLUSTER = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
# The directories a gather may report and a clean-up may remove: nothing else ever
# reaches `rm`, whatever a node prints (a name with a newline, `..`, another path).
_FILE_DIR = re.compile(rf"^{RUN_DIR}(/clusters/{_CLUSTER})?/({CONFIGS}|{SECRETS})/{_NAME}/{_NAME}$")
_POD_DIR = re.compile(rf"^({RUN_DIR}|{DATA_DIR})(/clusters/{_CLUSTER})?/{PODS}/{_NAME}$")


def cluster_run_dir(cluster: str) -> str:
    return f"{RUN_DIR}/clusters/{cluster}"


def cluster_data_dir(cluster: str) -> str:
    return f"{DATA_DIR}/clusters/{cluster}"


def config_roots(cluster: str) -> tuple[str, str]:
    """Where a cluster's ConfigMap and Secret files go: <root>/<namespace>/<dir>/<file>."""
    return f"{cluster_run_dir(cluster)}/{CONFIGS}", f"{cluster_run_dir(cluster)}/{SECRETS}"


def pod_roots(cluster: str) -> tuple[str, str]:
    """Where a cluster's pods keep emptyDirs: on disk, and in memory (medium: Memory)."""
    return f"{cluster_data_dir(cluster)}/{PODS}", f"{cluster_run_dir(cluster)}/{PODS}"


def is_file_dir(path: str) -> bool:
    """A config or secret directory of sshorch's (any cluster's, or a legacy one)."""
    return bool(_FILE_DIR.match(path)) and ".." not in path.split("/")


def is_pod_dir(path: str) -> bool:
    """A pod's emptyDir directory of sshorch's (any cluster's, or a legacy one)."""
    return bool(_POD_DIR.match(path)) and ".." not in path.split("/")


def owned_by(path: str, cluster: str) -> bool:
    """Under the cluster's own roots (legacy directories are nobody's in particular)."""
    return path.startswith((cluster_run_dir(cluster) + "/", cluster_data_dir(cluster) + "/"))


def is_secret_dir(relative: str) -> bool:
    """A directory (relative to /) that holds secrets: made 0700."""
    parts = relative.strip("/").split("/")
    return parts[:3] == ["run", "sshorch", SECRETS] or parts[:2] == ["run", "sshorch"] and parts[2:3] == ["clusters"] and parts[4:5] == [SECRETS]
