"""Where a cluster's state lives by default."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from sshorch.state.failures import StateError

# A cluster name becomes a file name, so it is held to DNS-1123 label rules.
_CLUSTER_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def check_cluster_name(cluster: str) -> str:
    if not _CLUSTER_NAME.fullmatch(cluster):
        raise StateError(
            f"cluster name {cluster!r} is not valid: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (set sshorch_cluster in the inventory)"
        )
    return cluster


def default_state_path(cluster: str, environ: Mapping[str, str] = os.environ) -> Path:
    """$SSHORCH_STATE, else $XDG_STATE_HOME/sshorch/<cluster>.db, else ~/.local/state/sshorch/<cluster>.db."""
    check_cluster_name(cluster)
    explicit = environ.get("SSHORCH_STATE", "")
    if explicit:
        return Path(explicit).expanduser()
    # The XDG spec says a relative value is invalid and must be ignored.
    xdg = environ.get("XDG_STATE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "sshorch" / f"{cluster}.db"
    home = environ.get("HOME", "")
    base = Path(home) if home else Path.home()
    return base / ".local" / "state" / "sshorch" / f"{cluster}.db"


def default_state_location(cluster: str, environ: Mapping[str, str] = os.environ) -> str | Path:
    """$SSHORCH_STATE as written when it is a URL (sqlite:///PATH, memory://), else default_state_path."""
    check_cluster_name(cluster)
    explicit = environ.get("SSHORCH_STATE", "")
    if "://" in explicit:
        return explicit
    return default_state_path(cluster, environ)
