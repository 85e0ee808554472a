"""The controller's state store: desired state, revisions, allocations, node health, counters, events, run lock."""

from sshorch.state.failures import StateError
from sshorch.state.guard import ENCRYPTED_PREFIX, check_no_clear_secrets
from sshorch.state.model import (
    EVENT_NORMAL,
    EVENT_TYPES,
    EVENT_WARNING,
    NODE_NOT_READY,
    NODE_READY,
    NODE_STATUSES,
    NODE_UNKNOWN,
    REVISION_COMPLETE,
    REVISION_FAILED,
    REVISION_PENDING,
    REVISION_PROGRESSING,
    REVISION_ROLLED_BACK,
    REVISION_STATUSES,
    DesiredRecord,
    Event,
    LockHolder,
    NodeHealth,
    Revision,
    StoredSecret,
    workload_key,
)
from sshorch.state.location import open_store, state_file
from sshorch.state.paths import check_cluster_name, default_state_location, default_state_path
from sshorch.state.records import Record
from sshorch.state.schema import SCHEMA_VERSION
from sshorch.state.store import StateStore

__all__ = [
    "ENCRYPTED_PREFIX",
    "EVENT_NORMAL",
    "EVENT_TYPES",
    "EVENT_WARNING",
    "NODE_NOT_READY",
    "NODE_READY",
    "NODE_STATUSES",
    "NODE_UNKNOWN",
    "REVISION_COMPLETE",
    "REVISION_FAILED",
    "REVISION_PENDING",
    "REVISION_PROGRESSING",
    "REVISION_ROLLED_BACK",
    "REVISION_STATUSES",
    "SCHEMA_VERSION",
    "DesiredRecord",
    "Event",
    "LockHolder",
    "NodeHealth",
    "Revision",
    "Record",
    "StoredSecret",
    "StateError",
    "StateStore",
    "check_cluster_name",
    "check_no_clear_secrets",
    "default_state_location",
    "default_state_path",
    "open_store",
    "state_file",
    "workload_key",
]
