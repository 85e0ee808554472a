"""The values the state store hands back: frozen, with no reference to the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]

REVISION_PENDING = "pending"
REVISION_PROGRESSING = "progressing"
REVISION_COMPLETE = "complete"
REVISION_FAILED = "failed"
REVISION_ROLLED_BACK = "rolled-back"
REVISION_STATUSES = (REVISION_PENDING, REVISION_PROGRESSING, REVISION_COMPLETE, REVISION_FAILED, REVISION_ROLLED_BACK)

NODE_READY = "Ready"
NODE_NOT_READY = "NotReady"
# A node cordoned before any pass has observed it.
NODE_UNKNOWN = "Unknown"
NODE_STATUSES = (NODE_READY, NODE_NOT_READY)

EVENT_NORMAL = "Normal"
EVENT_WARNING = "Warning"
EVENT_TYPES = (EVENT_NORMAL, EVENT_WARNING)


def workload_key(kind: str, namespace: str, name: str) -> str:
    """The key revisions are filed under: "deployment/default/web"."""
    return f"{kind.lower()}/{namespace}/{name}"


@dataclass(frozen=True)
class DesiredRecord:
    """The complete set of manifest documents of one apply."""

    id: int
    documents: tuple[Document, ...] = field(hash=False)
    applied_at: float
    source: str
    # Each document's apply set; None in a record made before apply sets.
    applysets: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Revision:
    """One pod template of a workload; number is 1-based and per workload, highest is current."""

    workload: str
    number: int
    template_hash: str
    template: Document = field(hash=False)
    created_at: float
    status: str = REVISION_PENDING
    reason: str = ""
    cause: str = ""


@dataclass(frozen=True)
class NodeHealth:
    """since: when the status last changed; last_seen: the last time the node was Ready."""

    node: str
    status: str
    since: float
    reason: str = ""
    last_seen: float | None = None
    cordoned: bool = False


@dataclass(frozen=True)
class Event:
    """One entry of `sshorch events`: Normal or Warning, a reason, the object, a message and the node."""

    time: float
    type: str
    reason: str
    object: str
    message: str
    node: str = ""


@dataclass(frozen=True)
class LockHolder:
    """Who runs: process id and host name, the command line, and since when."""

    pid: int
    host: str
    command: str
    since: float


@dataclass(frozen=True)
class StoredSecret:
    """A secret kept by `sshorch secret set`: its keys, never its values."""

    namespace: str
    name: str
    keys: tuple[str, ...]
    updated_at: float
