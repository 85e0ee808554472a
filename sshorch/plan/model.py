"""A Plan: per-node actions, each a few runtime commands, plus what could not be placed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from sshorch.spec.model import SecretBytes

if TYPE_CHECKING:
    from sshorch.plan.jobs import JobRecord
    from sshorch.plan.services import Allocations

Argv = tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One command; `unless` skips it when that command succeeds (`unless || argv`), `when`
    runs it only when that one succeeds (`when && argv`)."""

    argv: Argv
    unless: Argv | None = None
    ignore_errors: bool = False
    when: Argv | None = None


@dataclass(frozen=True)
class FileUpload:
    """A file delivered over the SSH channel's stdin, never on a command line."""

    path: str
    content: bytes | SecretBytes
    mode: int = 0o444
    gid: int = 0  # the file's group (a pod's fsGroup)
    uid: int = 0  # the file's owner (a container's runAsUser, for its secret env file)

    @property
    def secret(self) -> bool:
        return isinstance(self.content, SecretBytes)

    def data(self) -> bytes:
        return self.content.reveal() if isinstance(self.content, SecretBytes) else self.content


class ActionKind(str, Enum):
    """What an action does: the closed set that the plan, execution, events and output share."""

    CREATE_POD = "create-pod"
    REMOVE_POD = "remove-pod"
    START_POD = "start-pod"
    RESTART_CONTAINER = "restart-container"
    REMOVE_CONTAINER = "remove-container"
    WRITE_FILES = "write-files"
    REMOVE_FILES = "remove-files"
    SYNC_RULES = "sync-rules"

    def __str__(self) -> str:
        return self.value

    @property
    def subject(self) -> str:
        """The kind of object the action is about, as events name it (pod/NAME, node/NAME)."""
        return _SUBJECTS[self]

    @property
    def reason(self) -> str:
        """The event reason of a done action, in Kubernetes' style."""
        return _REASONS[self]


_SUBJECTS = {
    ActionKind.CREATE_POD: "pod", ActionKind.REMOVE_POD: "pod", ActionKind.START_POD: "pod",
    ActionKind.RESTART_CONTAINER: "pod", ActionKind.WRITE_FILES: "pod", ActionKind.REMOVE_CONTAINER: "container",
    ActionKind.REMOVE_FILES: "node", ActionKind.SYNC_RULES: "node",
}
_REASONS = {
    ActionKind.CREATE_POD: "Created", ActionKind.REMOVE_POD: "Removed", ActionKind.START_POD: "Started",
    ActionKind.RESTART_CONTAINER: "Restarted", ActionKind.WRITE_FILES: "FilesWritten",
    ActionKind.REMOVE_CONTAINER: "RemovedStray", ActionKind.REMOVE_FILES: "CleanedFiles", ActionKind.SYNC_RULES: "RulesSynced",
}


@dataclass(frozen=True)
class Action:
    """One thing to do on one node: its commands and files, and the commands that undo a half-done one."""

    kind: ActionKind
    node: str
    target: str
    reason: str
    steps: tuple[Step, ...] = ()
    files: tuple[FileUpload, ...] = field(default=(), repr=False)
    workload: str = ""
    uses: tuple[str, ...] = ()  # config/secret directories the new pod reads
    undo: tuple[Step, ...] = ()  # run when a step fails, so no half-made pod is left
    images: tuple[str, ...] = ()  # images the new pod runs

    def describe(self) -> str:
        return f"{self.kind} {self.target}: {self.reason}"

    @property
    def subject(self) -> str:
        """The object the action is about: `pod/NAME`, or `node/NAME` for a node's rules and files."""
        return f"node/{self.node}" if self.kind.subject == "node" else f"{self.kind.subject}/{self.target}"


@dataclass(frozen=True)
class PendingPod:
    """A pod the plan cannot create (no node fits it, or it cannot be built), and why."""

    workload: str
    pod: str
    reason: str


@dataclass(frozen=True)
class Blocked:
    """A workload with no pods yet that waits for its dependencies to be ready."""

    workload: str
    waiting_for: tuple[str, ...]


@dataclass(frozen=True)
class PlanEvent:
    """Something a pass decided that belongs in `sshorch events` (a Job's progress)."""

    object: str
    reason: str
    message: str


@dataclass(frozen=True)
class Plan:
    """What one pass decides: actions per node, pods pending, workloads waiting, and what to record in state."""

    actions: tuple[Action, ...] = ()
    pending: tuple[PendingPod, ...] = ()
    blocked: tuple[Blocked, ...] = ()
    unreachable: tuple[str, ...] = ()
    # Workloads whose pods are all present, current and running.
    ready: frozenset[str] = frozenset()
    # Service VIPs and node ports after this plan (recorded in state).
    allocations: Allocations | None = None
    # Pods this plan takes out of the service rules, and why; the next pass stops them.
    draining: tuple[tuple[str, str], ...] = ()
    # Each Job's record after this pass (recorded in state), what happened, and the
    # earliest time a Job in back-off may start a pod again.
    jobs: Mapping[str, JobRecord] = field(default_factory=dict)
    events: tuple[PlanEvent, ...] = ()
    retry_at: float | None = None

    @property
    def empty(self) -> bool:
        return not self.actions and not self.draining

    def nodes(self) -> tuple[str, ...]:
        return tuple(sorted({a.node for a in self.actions}))

    def for_node(self, node: str) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.node == node)
