"""Kubernetes health probes (startup, liveness, readiness) without an agent.

The decisions are pure: `due_probes` says which probes a pass should run,
`apply_result` folds a result into a probe's record, `container_ready` and
`liveness_verdicts` read the records. Only `execute` does I/O: exec probes run
through the runtime on the node (all of a node's in one exec), httpGet,
tcpSocket and grpc probes run from the controller to the node's published host port.
"""

from __future__ import annotations

from sshorch.probes.prober import (
    ProbeResults,
    parse_exec_probe_output,
    render_exec_probe_script,
    run_network_probe,
    run_probes,
    script_timeout,
)
from sshorch.probes.model import (
    ProbeKey,
    ProbeKind,
    ProbeRecord,
    ProbeResult,
    ProbeTarget,
    ProbeTask,
    initial_record,
    records_from_json,
    records_to_json,
)
from sshorch.probes.timing import due_probes
from sshorch.probes.probetargets import build_targets
from sshorch.probes.verdict import (
    apply_result,
    container_ready,
    current_record,
    liveness_verdicts,
    prune_records,
    record_results,
    reset_records,
)

__all__ = [
    "ProbeKey",
    "ProbeKind",
    "ProbeRecord",
    "ProbeResult",
    "ProbeResults",
    "ProbeTarget",
    "ProbeTask",
    "apply_result",
    "build_targets",
    "container_ready",
    "current_record",
    "due_probes",
    "initial_record",
    "liveness_verdicts",
    "parse_exec_probe_output",
    "prune_records",
    "record_results",
    "records_from_json",
    "records_to_json",
    "render_exec_probe_script",
    "reset_records",
    "run_network_probe",
    "run_probes",
    "script_timeout",
]
