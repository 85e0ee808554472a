"""Pod (anti-)affinity and spread constraints in a whole pass: the pods kept on nodes and
those placed earlier in the pass count, by their labels."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .helpers import deployment, desired, moves, name_of, observe, observed_pod, run

HOST = "kubernetes.io/hostname"


def with_pod_spec(doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc["spec"]["template"]["spec"].update(fields)
    return doc


def test_required_anti_affinity_leaves_the_replica_without_a_node_pending() -> None:
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOST},
    ]}}  # fmt: skip
    d = desired(with_pod_spec(deployment("web", replicas=4), affinity=anti))
    plan = run(d, observe())
    assert sorted(node for _, node, _ in moves(plan)) == ["n1", "n2", "n3"]
    assert [p.reason for p in plan.pending] == ["0/3 nodes: 3 didn't match pod anti-affinity rules"]


def test_a_kept_pod_counts_by_the_labels_it_was_made_with() -> None:
    near = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": HOST},
    ]}}  # fmt: skip
    d = desired(deployment("db"), with_pod_spec(deployment("web"), affinity=near))
    db = observed_pod(d, "db", 0, "n3")
    db = replace(db, labels={**db.labels, "app": "db"})
    assert moves(run(d, observe(db))) == [("create-pod", "n3", name_of(d, "web", 0))]


def test_spread_counts_the_pods_of_the_same_pass() -> None:
    both = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}
    constraint = {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": both}

    def placed(**spec: Any) -> list[str]:
        d = desired(*(with_pod_spec(deployment(name, requests={"cpu": "100m"}), **spec) for name in ("a", "b")))
        return sorted(node for _, node, _ in moves(run(d, observe(), strategy="binpack")))

    assert placed() == ["n1", "n1"]  # binpack alone packs them
    assert placed(topologySpreadConstraints=[constraint]) == ["n1", "n2"]
