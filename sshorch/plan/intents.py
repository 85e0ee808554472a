"""What a reconcile pass decides, before any command is made of it.

One value per kind of change, each naming its ActionKind (the one closed set
that actions, events and execution share). plan/compile.py turns them into the
node actions that execute runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from sshorch.plan.jobs import JobRecord
from sshorch.plan.model import ActionKind, Blocked, FileUpload, PendingPod, PlanEvent
from sshorch.plan.podbuild import BuiltPod
from sshorch.plan.services import Allocations
from sshorch.proxy.sync import RulesDue


@dataclass(frozen=True)
class CreatePod:
    """A new pod placed on a node: built for it (identity, containers, host ports, files)."""

    kind: ClassVar[ActionKind] = ActionKind.CREATE_POD
    pod: BuiltPod
    files: tuple[FileUpload, ...] = field(default=(), repr=False)  # those of pod.files the node lacks

    @property
    def node(self) -> str:
        return self.pod.node

    @property
    def target(self) -> str:
        return self.pod.identity.name

    @property
    def reason(self) -> str:
        return f"new pod of {self.pod.identity.workload} (revision {self.pod.identity.revision})"


@dataclass(frozen=True)
class RemovePod:
    """A pod stopped and removed with its emptyDirs; `before_creates`: it goes before this
    pass's creates (it may hold a host port, or its slot is made again)."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_POD
    node: str
    target: str
    containers: tuple[str, ...]
    reason: str
    grace: int
    workload: str
    before_creates: bool = False


@dataclass(frozen=True)
class StartPod:
    """A stopped pod of the current revision, started again."""

    kind: ClassVar[ActionKind] = ActionKind.START_POD
    node: str
    target: str
    containers: tuple[str, ...]
    reason: str
    workload: str


@dataclass(frozen=True)
class StartContainers:
    """Some of a pod's containers started, in order: its init containers one by one, then
    its app containers (plan/initsteps.py)."""

    kind: ClassVar[ActionKind] = ActionKind.START_POD
    node: str
    target: str
    containers: tuple[str, ...]
    reason: str
    workload: str


@dataclass(frozen=True)
class DrainPod:
    """A pod taken out of every node's service rules now, to be stopped on the next pass."""

    node: str
    target: str
    reason: str


@dataclass(frozen=True)
class WriteFiles:
    """Config and secret files of a running pod, changed or removed by hand: written again."""

    kind: ClassVar[ActionKind] = ActionKind.WRITE_FILES
    node: str
    target: str
    files: tuple[FileUpload, ...] = field(repr=False)
    workload: str

    @property
    def reason(self) -> str:
        return f"{len(self.files)} config/secret files changed or missing"


@dataclass(frozen=True)
class SyncRules:
    """A node's service rules rewritten: the rules model it should hold and why (proxy.sync
    renders the write)."""

    kind: ClassVar[ActionKind] = ActionKind.SYNC_RULES
    due: RulesDue

    @property
    def node(self) -> str:
        return self.due.node

    @property
    def target(self) -> str:
        return self.due.served

    @property
    def reason(self) -> str:
        return self.due.reason


@dataclass(frozen=True)
class RemoveStray:
    """A container with our labels that belongs to none of our pods."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_CONTAINER
    node: str
    target: str
    reason: str = "labelled ours but in no pod of ours"


@dataclass(frozen=True)
class RemoveDirs:
    """Config, secret and pod directories of this cluster that no pod uses."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_FILES
    node: str
    dirs: tuple[str, ...]
    reason: str = "no pod uses them"

    @property
    def target(self) -> str:
        return f"{len(self.dirs)} dirs"


Intent = CreatePod | RemovePod | StartPod | StartContainers | WriteFiles | SyncRules | RemoveStray | RemoveDirs


@dataclass(frozen=True)
class Decision:
    """One pass's decision: the changes in the order they run, and what the Plan records beside them."""

    intents: tuple[Intent, ...] = ()
    draining: tuple[DrainPod, ...] = ()
    pending: tuple[PendingPod, ...] = ()
    blocked: tuple[Blocked, ...] = ()
    unreachable: tuple[str, ...] = ()
    ready: frozenset[str] = frozenset()
    allocations: Allocations | None = None
    jobs: Mapping[str, JobRecord] = field(default_factory=dict)
    events: tuple[PlanEvent, ...] = ()
    retry_at: float | None = None
