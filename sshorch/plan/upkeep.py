"""Upkeep of what pods leave on nodes: config files changed by hand, stray containers, unused directories."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from sshorch.labels import FILES_LABEL
from sshorch.nodefiles import LEGACY_CONFIG_ROOTS, RUN_DIR, is_file_dir, is_pod_dir, owned_by
from sshorch.observe.owned import ObservedPod
from sshorch.plan.inputs import ReconcileInput
from sshorch.plan.intents import CreatePod, RemoveDirs, RemoveStray, WriteFiles
from sshorch.plan.naming import KIND_NAMES, PodIdentity, pod_template
from sshorch.plan.podbuild import build_pod
from sshorch.spec.workloadkinds import as_workload


def file_repairs(inp: ReconcileInput, reachable: set[str], kept: Sequence[ObservedPod]) -> list[WriteFiles]:
    """Config and secret files of running pods that were changed or removed by hand: written again."""
    targets = {n.target.name: n.target for n in inp.nodes}
    sums = {n.name: n.checksums for n in inp.observed.nodes if n.checksums is not None}
    repairs = []
    for pod in kept:
        template = pod_template(pod, inp.desired)
        workload = as_workload(inp.desired.get(KIND_NAMES.get(pod.kind, pod.kind), pod.owner, pod.namespace))
        if template is None or pod.node not in sums or pod.node not in reachable or workload is None:
            continue
        if pod.revision != inp.revision(workload):
            continue
        files = pod.labels.get(FILES_LABEL, "")
        legacy = bool(files) and not files.startswith("clusters/")
        identity = PodIdentity(inp.cluster, pod.kind, pod.namespace, pod.owner, pod.revision, pod.slot, pod.name, legacy)
        built = build_pod(identity, template, inp.desired, targets[pod.node], defaultdict(int))
        stale = tuple(
            f for f in built.files if sums[pod.node].get(f.path) != hashlib.sha256(f.data()).hexdigest()
        )
        if stale:
            repairs.append(WriteFiles(pod.node, pod.name, stale, identity.workload))
    return repairs


def stray_and_file_cleanup(
    inp: ReconcileInput, reachable: set[str], kept: Sequence[ObservedPod], creates: Sequence[CreatePod],
) -> list[RemoveStray | RemoveDirs]:
    """Containers with our labels outside our pods, and config/secret dirs no pod needs.

    Only the cluster's own directories are cleaned, and those of the legacy layout that
    held config and secret files; emptyDir data of the legacy layout stays, for the
    cluster that owns it to remove with its pod."""
    cleanups: list[RemoveStray | RemoveDirs] = []
    needed: dict[str, set[str]] = defaultdict(set)
    for pod in kept:
        needed[pod.node].update(f"{RUN_DIR}/{d}" for d in pod.labels.get(FILES_LABEL, "").split(",") if d)
    for create in creates:
        needed[create.node].update(create.pod.file_dirs)
    for node in inp.observed.nodes:
        if node.name not in reachable or node.owned is None:
            continue
        cleanups += [RemoveStray(node.name, container.name) for container in node.owned.stray_containers]
        pod_names = {p.name for p in node.owned.pods}
        stale = sorted(
            d for d in node.owned.file_dirs
            if is_file_dir(d) and d not in needed[node.name] and (owned_by(d, inp.cluster) or d.startswith(LEGACY_CONFIG_ROOTS))
            or is_pod_dir(d) and owned_by(d, inp.cluster) and d.rsplit("/", 1)[1] not in pod_names
        )
        if stale:
            cleanups.append(RemoveDirs(node.name, tuple(stale)))
    return cleanups
