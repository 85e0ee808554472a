#!/usr/bin/env python3
"""Service rules at scale: render, write and check N services (DESIGN.md section 10).

Run as root from the repository:
`.venv/bin/python bench/rules.py [--services 1000] [--endpoints 5] [--runs 3] [--nodes 3]`.

Target: an iptables sync of 1000 services under 1 s per node. Each run builds a
throwaway network namespace (only its loopback device, left down; nothing is
sent anywhere) with a private /run, and deletes it whatever happens. Addresses
are in 198.18.0.0/24 (nodes, endpoints) and 198.19.0.0/16 (VIPs) only.

Rows (median and worst of the runs):
  render_restore           the restore text for one node (controller)
  no-op decision (rules)   render + sha256 + compare, from ready-made NodeRules
  no-op decision (cluster) what _rules_due decides per node when nothing changed:
                           endpoints from every pod, build_node_rules, render, sha, compare
  restore, first write     `iptables-restore -w --noflush` into the empty namespace
  sync action, first       the whole node-side sync-rules action (proxy.sync): hairpin,
                           restore, the jumps moved to the top, the sha and fingerprint files
  restore, 1 ep changed    rewrite of everything after one endpoint moved (old chain -X)
  fingerprint command      fingerprint_command(cluster) over the written rules
  rules fact               rules_command(cluster), as the gather runs it every pass
  netns exec overhead      `ip netns exec NAME true`, included in the node rows
  (SEP chains) restore, first  the first write with one chain per endpoint, as nodes with
                           fewer endpoints get (ENDPOINT_CHAINS_UP_TO), for comparison
  (legacy) restore, first  the first write with iptables-legacy-restore, when installed,
                           for comparison with the nf_tables backend
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sshorch.plan.nodescript import render_step
from sshorch.observe.cluster import NodeObservation, Observed
from sshorch.observe.nodereport import READY, NodeReport
from sshorch.observe.owned import ObservedContainer, ObservedPod, Owned
from sshorch.observe.rules import RulesState, parse_rules_state
from sshorch.plan.model import Action, ActionKind
from sshorch.plan.naming import PodIdentity, pod_labels
from sshorch.plan.podbuild import NodeTarget
from sshorch.plan.reconcile import ClusterNode, ReconcileInput, _rules_due
from sshorch.plan.services import Allocations, ServiceConfig, all_endpoints, build_node_rules
from sshorch.proxy.model import Endpoint, NodeRules, ServicePort
from sshorch.proxy.chains import cluster_chains
from sshorch.proxy.render import render_restore
from sshorch.proxy.state import fingerprint_command, rules_command
from sshorch.proxy.sync import build_rules_write
from sshorch.proxy.testing.restore import BUILTIN_CHAINS, parse_restore
from sshorch.runtime import PortBinding
from sshorch.plan.schedule import NodeInfo
from sshorch.spec import parse_documents
from sshorch.spec.model import Desired, Source

CONTROLLER = "198.18.0.1"
CIDR = "198.19.0.0/16"
CLUSTER = "bench"
NODE_PORTS = (30000, 32767)


def node_address(index: int) -> str:
    return f"198.18.0.{2 + index}"


def vip(index: int) -> str:
    return f"198.19.{index // 250}.{index % 250 + 1}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


# --- the rule set, directly -----------------------------------------------------------------


def synthetic_rules(services: int, endpoints: int, nodes: int) -> NodeRules:
    """What node 0 holds: every service with `endpoints` endpoints spread over `nodes` nodes."""
    ports = []
    for i in range(services):
        eps = []
        for j in range(endpoints):
            n = (i * endpoints + j) % nodes
            host_port = 20000 + (i * endpoints + j) // nodes
            local = n == 0
            # A local endpoint is the pod's own address; kept inside 198.18.0.0/24 here.
            address = f"198.18.0.{200 + (i * endpoints + j) % 50}" if local else node_address(n)
            eps.append(Endpoint(address, 8080 if local else host_port, local))
        unique = {(e.address, e.port): e for e in eps}  # a local pod IP may repeat across services; not within one
        node_port = NODE_PORTS[0] + i if i % 4 == 0 and NODE_PORTS[0] + i <= NODE_PORTS[1] else None
        ports.append(ServicePort("bench", f"svc-{i}", "", "tcp", vip(i), 80, node_port, tuple(unique.values())))
    allowed = (CONTROLLER, *(node_address(n) for n in range(nodes)))
    return NodeRules(CLUSTER, node_address(0), allowed, (20000, 29999), tuple(ports), protected_addresses=allowed)


def move_one_endpoint(rules: NodeRules) -> NodeRules:
    first = rules.services[0]
    moved = replace(first.endpoints[0], port=first.endpoints[0].port + 7)
    return replace(rules, services=(replace(first, endpoints=(moved, *first.endpoints[1:])), *rules.services[1:]))


def chains_of(text: str) -> dict[str, set[str]]:
    return {table: {c for c in chains if c not in BUILTIN_CHAINS} for table, chains in parse_restore(text).items()}


# --- the same through the planner's inputs ------------------------------------------------------


def cluster_input(services: int, endpoints: int, nodes: int) -> tuple[ReconcileInput, Allocations, list[ObservedPod]]:
    """Desired with `services` Services each selecting a Deployment of `endpoints` replicas, all running."""
    docs = []
    for i in range(services):
        name = f"svc-{i}"
        docs.append({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {
                "replicas": endpoints, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                    {"name": "main", "image": "localhost/web:v1", "ports": [{"containerPort": 8080}]},
                ]}},
            },
        })
        docs.append({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
        })
    desired: Desired = parse_documents([(Source("bench.yaml", i), d) for i, d in enumerate(docs)])
    names = [f"n{n}" for n in range(nodes)]
    next_port = dict.fromkeys(names, 20000)
    pods: list[ObservedPod] = []
    for i in range(services):
        for j in range(endpoints):
            node = names[(i * endpoints + j) % nodes]
            identity = PodIdentity(CLUSTER, "deployment", "default", f"svc-{i}", "0123456789", str(j))
            container = ObservedContainer(
                f"{identity.name}-main", f"id-{identity.name}", "localhost/web:v1", "0" * 64, "running", 0,
                1_700_000_000.0, 0, {"sshorch.io/container": "main"}, False,
            )
            address = node_address(names.index(node))
            pods.append(ObservedPod(
                name=identity.name, node=node, labels={**dict(pod_labels(identity)), "app": f"svc-{i}"},
                status="Running", containers=(container,), ports=(PortBinding(address, next_port[node], 8080),),
            ))
            next_port[node] += 1
    allocations = Allocations({f"default/svc-{i}": vip(i) for i in range(services)}, {})
    cluster = tuple(
        ClusterNode(NodeTarget(name, node_address(n), "podman"), NodeInfo(name, 2000, 4 << 30, labels={}))
        for n, name in enumerate(names)
    )
    observed = Observed(tuple(
        NodeObservation(
            name, node_address(n), True, "", NodeReport(name, node_address(n), READY),
            Owned(tuple(p for p in pods if p.node == name), (), (), frozenset(), {}),
        )
        for n, name in enumerate(names)
    ))
    inp = ReconcileInput(
        cluster=CLUSTER, desired=desired, nodes=cluster, observed=observed,
        services=ServiceConfig(cidr=CIDR), allocations=allocations, controller_addresses=(CONTROLLER,),
    )
    return inp, allocations, pods


def with_settled_rules(inp: ReconcileInput, allocations: Allocations, pods: Sequence[ObservedPod]) -> ReconcileInput:
    """Every node reports the rules it should hold, intact: the no-op pass."""
    addresses = {n.target.name: n.target.address for n in inp.nodes}
    allowed = tuple(sorted(set(addresses.values()) | set(inp.controller_addresses)))
    found = all_endpoints(inp.desired, pods, addresses)
    nodes = []
    for node in inp.observed.nodes:
        published = [b for p in pods if p.node == node.name for b in p.ports]
        wanted = build_node_rules(CLUSTER, node.name, inp.desired, allocations, found, addresses, allowed, inp.services, published)
        sha = hashlib.sha256(render_restore(wanted).encode()).hexdigest()
        nodes.append(replace(node, rules=RulesState(sha, "f" * 64, "f" * 64, frozenset())))
    return replace(inp, observed=Observed(tuple(nodes)))


def noop_decision(inp: ReconcileInput, allocations: Allocations, pods: Sequence[ObservedPod], node: str) -> bool:
    """One node's share of _rules_due on a no-op pass; True when it decides to write nothing."""
    addresses = {n.target.name: n.target.address for n in inp.nodes}
    allowed = tuple(sorted(set(addresses.values()) | set(inp.controller_addresses)))
    published = [b for p in pods if p.node == node for b in p.ports]
    found = all_endpoints(inp.desired, pods, addresses)
    wanted = build_node_rules(CLUSTER, node, inp.desired, allocations, found, addresses, allowed, inp.services, published)
    sha = hashlib.sha256(render_restore(wanted).encode()).hexdigest()
    observed = inp.observed.node(node)
    state = observed.rules if observed is not None else None
    return state is not None and state.rendered == sha and state.intact


# --- the node side: a throwaway network namespace -----------------------------------------------------


class Namespace:
    """A throwaway network namespace whose scripts see `run_dir` as a private /run."""

    def __init__(self, name: str, run_dir: str) -> None:
        self.name = name
        self.run_dir = run_dir
        self.last_output = ""

    def run(self, script: str, private_run: bool = True) -> float:
        """Run `script` with sh inside the namespace; returns the wall time in seconds."""
        argv = ["ip", "netns", "exec", self.name]
        if private_run:
            wrapper = 'mount --bind "$1" /run && exec sh -c "$2"'
            argv += ["unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper, "_", self.run_dir, script]
        else:
            argv += ["sh", "-c", script]
        started = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"{script[:100]!r} failed ({result.returncode}): {result.stderr.strip()[:500]}")
        self.last_output = result.stdout
        return elapsed


@contextmanager
def namespace(name: str) -> Iterator[Namespace]:
    """Create the namespace and its /run; delete both whatever happens."""
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        raise SystemExit(f"cannot create network namespace {name}: {created.stderr.strip()}")
    try:
        with tempfile.TemporaryDirectory(prefix="sshorch-rulesbench-") as run_dir:
            os.makedirs(f"{run_dir}/sshorch", mode=0o755)
            yield Namespace(name, run_dir)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def sync_action(rules: NodeRules) -> Action:
    """The sync-rules action reconcile gives a node that holds nothing yet, for these rules."""
    write = build_rules_write(rules)
    return Action(ActionKind.SYNC_RULES, "n0", "service rules", "bench", write.steps, write.files)


def time_node_side(rules: NodeRules, changed: NodeRules, run_index: int) -> dict[str, float]:
    first_text = render_restore(rules)
    second_text = render_restore(changed, chains_of(first_text))
    sep = f"{cluster_chains(CLUSTER).prefix}SEP-"
    if sep in first_text:
        assert f"-X {sep}" in second_text, "the moved endpoint's old chain should be deleted"
    per_endpoint = render_restore(rules, endpoint_chains_up_to=sys.maxsize)
    times: dict[str, float] = {}
    prefix = f"sshorch-rulesbench-{os.getpid()}-{run_index}"
    with namespace(f"{prefix}a") as ns:
        Path(ns.run_dir, "sshorch", "first.rules").write_text(first_text)
        Path(ns.run_dir, "sshorch", "second.rules").write_text(second_text)
        times["netns exec overhead"] = ns.run("true", private_run=False)
        times["restore, first write"] = ns.run("iptables-restore -w --noflush /run/sshorch/first.rules")
        times["restore, 1 ep changed"] = ns.run("iptables-restore -w --noflush /run/sshorch/second.rules")
        times["fingerprint command"] = ns.run(fingerprint_command(CLUSTER))
    if per_endpoint != first_text:
        with namespace(f"{prefix}d") as ns:
            Path(ns.run_dir, "sshorch", "chains.rules").write_text(per_endpoint)
            times["(SEP chains) restore, first"] = ns.run("iptables-restore -w --noflush /run/sshorch/chains.rules")
    with namespace(f"{prefix}b") as ns:
        action = sync_action(rules)
        (upload,) = action.files
        target = Path(ns.run_dir, upload.path.removeprefix("/run/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(upload.data())
        times["sync action, first"] = ns.run(" && ".join(render_step(s) for s in action.steps))
        times["rules fact"] = ns.run(rules_command(CLUSTER))
        state = parse_rules_state(ns.last_output)
        assert state.intact and state.rendered == hashlib.sha256(upload.data()).hexdigest(), state
    if shutil.which("iptables-legacy-restore"):
        with namespace(f"{prefix}c") as ns:
            Path(ns.run_dir, "first.rules").write_text(first_text)
            times["(legacy) restore, first"] = ns.run("iptables-legacy-restore -w --noflush /run/first.rules")
    return times


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=3, help="nodes the endpoints are spread over")
    args = parser.parse_args()
    if not 1 <= args.nodes <= 150:
        raise SystemExit("--nodes must be 1-150 (node addresses stay inside 198.18.0.0/24)")
    node_side = os.geteuid() == 0 and all(shutil.which(t) for t in ("ip", "unshare", "iptables-restore", "iptables-save"))

    rules = synthetic_rules(args.services, args.endpoints, args.nodes)
    changed = move_one_endpoint(rules)
    text = render_restore(rules)
    sha = hashlib.sha256(text.encode()).hexdigest()
    rows: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        rows.setdefault(name, []).append(seconds)

    started = time.perf_counter()
    inp, allocations, pods = cluster_input(args.services, args.endpoints, args.nodes)
    inp = with_settled_rules(inp, allocations, pods)
    setup = time.perf_counter() - started
    reachable = {n.name for n in inp.observed.nodes}
    assert _rules_due(inp, reachable, allocations, pods, {}) == [], "the settled cluster should need no write"

    for index in range(args.runs):
        add("render_restore", timed(lambda: render_restore(rules)))
        add("no-op decision (rules)", timed(lambda: hashlib.sha256(render_restore(rules).encode()).hexdigest() == sha))
        add("no-op decision (cluster)", timed(lambda: noop_decision(inp, allocations, pods, "n0")))
        add(f"_rules_due, {args.nodes} nodes", timed(lambda: _rules_due(inp, reachable, allocations, pods, {})))
        if node_side:
            for name, seconds in time_node_side(rules, changed, index).items():
                add(name, seconds)

    lines = text.count("\n")
    print(f"{args.services} services x {args.endpoints} endpoints over {args.nodes} nodes: "
          f"{lines} restore lines, {len(text) / 1024:.0f} KiB; {args.runs} runs (planner setup {setup:.1f} s)")
    if not node_side:
        print("(not root or no iproute2/iptables: node-side rows skipped)")
    print(f"{'':28}{'median':>12}{'worst':>13}")
    for name, values in rows.items():
        print(f"{name:28}{ms(statistics.median(values)):>12}{ms(max(values)):>13}")
    ok = node_side and statistics.median(rows["sync action, first"]) < 1.0
    print(f"target: sync of {args.services} services under 1 s per node: {'met' if ok else 'NOT met' if node_side else 'not measured'}")


if __name__ == "__main__":
    main()
