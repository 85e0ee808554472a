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


def in_secrets(path: str) -> bool:
    """A secret volume's or env file's directory (absolute, or relative to /)."""
    parts = _under_run_dir(path)
    return parts[:1] == [SECRETS] or parts[:1] == ["clusters"] and parts[2:3] == [SECRETS]


def dir_mode(path: str) -> int:
    """The mode of a directory sshorch makes (absolute, or relative to /). A secrets root
    and its namespace directories are 0700, so that no one but root on the node reaches
    them; the rest is 0755, a secret volume's own directory too, so that a container user
    who is not root reaches the files whose modes let it."""
    parts = _under_run_dir(path)
    if parts[:1] == ["clusters"]:
        parts = parts[2:]
    return 0o700 if parts[:1] == [SECRETS] and len(parts) <= 2 else 0o755


def _under_run_dir(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return parts[2:] if parts[:2] == RUN_DIR.strip("/").split("/") else []
