"""Pod affinity, pod anti-affinity and topology spread constraints as tables of
(requests, nodes, placed) -> placements, with Kubernetes' skew and reasons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from sshorch.inventory import Host
from sshorch.inventory.model import FrozenMap
from sshorch.observe.nodereport import READY, NodeReport
from sshorch.plan.clusternodes import build_cluster_node
from sshorch.plan.placement import pod_request
from sshorch.plan.schedule import NodeInfo, PlacedPod, PodRequest, schedule
from sshorch.spec.model import (
    LabelSelector, LabelSelectorRequirement, PodAffinityRules, PodAffinityTerm, PodSpec, PodTemplate, TopologySpreadConstraint,
    WeightedPodAffinityTerm,
)  # fmt: skip
from sshorch.taints import Taint

GiB = 1024**3
HOST = "kubernetes.io/hostname"
WEB = {"app": "web"}
DB = {"app": "db"}


def node(name: str, zone: str | None = None, cpu: int = 2000, **labels: str) -> NodeInfo:
    own = {HOST: name, **labels} | ({"zone": zone} if zone else {})
    return NodeInfo(name, cpu, 4 * GiB, labels=own)


def pod(on: str, labels: dict[str, str] = WEB, namespace: str = "shop", **more: Any) -> PlacedPod:
    return PlacedPod(on, "other", cpu_millis=500, namespace=namespace, labels=labels, **more)


def web(name: str = "p", **more: Any) -> PodRequest:
    return PodRequest(name, "web", namespace="shop", labels=WEB, **more)


def spread(key: str = HOST, skew: int = 1, when: str = "DoNotSchedule", selector: dict[str, str] = WEB, **more: Any) -> TopologySpreadConstraint:
    return TopologySpreadConstraint(skew, key, when, LabelSelector(FrozenMap(selector)), **more)  # type: ignore[arg-type]


def term(selector: dict[str, str] = WEB, key: str = HOST, **more: Any) -> PodAffinityTerm:
    return PodAffinityTerm(LabelSelector(FrozenMap(selector)), key, **more)


def where(requests: list[PodRequest], nodes: list[NodeInfo], placed: Sequence[PlacedPod] = ()) -> list[str | None]:
    return [p.node for p in schedule(requests, nodes, placed)]


def reason(request: PodRequest, nodes: list[NodeInfo], placed: Sequence[PlacedPod] = ()) -> str:
    (placement,) = schedule([request], nodes, placed)
    assert placement.node is None
    return placement.reason


ZONES = [node("n1", "a"), node("n2", "a"), node("n3", "b")]


@pytest.mark.parametrize(
    ("constraint", "nodes", "placed", "expected"),
    [
        # zone a holds 1, b holds 0: a would reach skew 2.
        (spread("zone"), ZONES, [pod("n1")], "n3"),
        # Without the constraint, the emptier node of zone a wins the tie on name.
        (None, ZONES, [pod("n1")], "n2"),
        # Within maxSkew 2, zone a is allowed.
        (spread("zone", 2), ZONES, [pod("n1")], "n2"),
        # Pods of another namespace or not selected are not counted.
        (spread("zone"), [node("n1", "a"), node("n3", "b")], [pod("n1", namespace="other"), pod("n1", DB), PlacedPod("n3", "x", 1500)], "n1"),
        # Domains are those of eligible nodes: n3 fails the node selector, so only zone a counts (Honor).
        (spread("zone"), [node("n1", "a", disk="ssd"), node("n3", "b")], [pod("n1")], "n1"),
        # Ignore: zone b counts with 0 pods, so zone a would reach skew 2.
        (spread("zone", node_affinity_policy="Ignore"), [node("n1", "a", disk="ssd"), node("n3", "b")], [pod("n1")], None),
        # minDomains above the domains there are: the minimum is 0.
        (spread(HOST, min_domains=3), [node("n1"), node("n2")], [pod("n1"), pod("n2")], None),
        (spread(HOST), [node("n1"), node("n2")], [pod("n1"), pod("n2")], "n1"),
        # ScheduleAnyway never refuses; it prefers the emptier domain.
        (spread("zone", when="ScheduleAnyway"), ZONES, [pod("n1"), pod("n3"), pod("n3")], "n2"),
        (spread("zone", when="ScheduleAnyway"), ZONES, [pod("n1"), pod("n2"), pod("n1")], "n3"),
    ],
)
def test_topology_spread(constraint: TopologySpreadConstraint | None, nodes: list[NodeInfo], placed: list[PlacedPod], expected: str | None) -> None:
    selector = {"disk": "ssd"} if any("disk" in n.labels for n in nodes) else {}
    request = web(spread=(constraint,) if constraint else (), node_selector=selector)
    assert where([request], nodes, placed) == [expected]


def test_a_pod_the_selector_does_not_match_does_not_count_itself() -> None:
    # skew = 1 (n1) + 0 (itself) - 0 (n2) <= 1
    request = PodRequest("p", "web", namespace="shop", labels=DB, spread=(spread(),))
    assert where([request], [node("n1"), node("n2", cpu=0)], [pod("n1")]) == ["n1"]


def test_taints_count_only_with_honor() -> None:
    tainted = NodeInfo("n2", 2000, 4 * GiB, labels={HOST: "n2"}, taints=(Taint("gpu", "NoSchedule"),))
    nodes = [node("n1"), tainted]
    assert where([web(spread=(spread(),))], nodes, [pod("n1")]) == [None]  # n2 counts as a domain with 0
    assert where([web(spread=(spread(node_taints_policy="Honor"),))], nodes, [pod("n1")]) == ["n1"]


def test_pods_of_the_same_pass_spread_across_zones() -> None:
    requests = [web(f"p{i}", spread=(spread("zone"),)) for i in range(4)]
    assert where(requests, ZONES) == ["n1", "n3", "n2", "n3"]


def test_spread_reasons_are_kubernetes_words() -> None:
    nodes = [node("n1", "a"), node("n2", "b", cpu=0), node("n3")]
    assert reason(web(cpu_millis=100, spread=(spread("zone"),)), nodes, [pod("n1")]) == (
        "0/3 nodes: 1 didn't match pod topology spread constraints, "
        "1 didn't match pod topology spread constraints (missing required label), 1 insufficient cpu"
    )


def test_required_anti_affinity_keeps_replicas_apart() -> None:
    anti = PodAffinityRules(required=(term(),))
    requests = [web(f"p{i}", pod_anti_affinity=anti) for i in range(3)]
    placements = schedule(requests, [node("n1"), node("n2")])
    assert [p.node for p in placements] == ["n1", "n2", None]
    assert placements[2].reason == "0/2 nodes: 2 didn't match pod anti-affinity rules"


def test_an_existing_pods_anti_affinity_keeps_the_new_pod_out_of_its_domain() -> None:
    placed = [pod("n1", DB, pod_anti_affinity=PodAffinityRules(required=(term(WEB, "zone"),)))]
    assert where([web()], ZONES, placed) == ["n3"]
    assert reason(web(), ZONES[:2], placed) == "0/2 nodes: 2 didn't satisfy existing pods anti-affinity rules"
    # Its term's namespace is its own: a pod of another namespace is not kept out.
    assert where([PodRequest("p", "web", namespace="else", labels=WEB)], ZONES, placed) == ["n2"]


def test_required_affinity_follows_the_pods_it_names() -> None:
    affinity = PodAffinityRules(required=(term(DB, "zone"),))
    assert where([web(pod_affinity=affinity)], ZONES, [pod("n3", DB)]) == ["n3"]
    assert where([web(pod_affinity=affinity)], ZONES, [pod("n1", DB)]) == ["n2"]  # same zone, fewer pods
    assert reason(web(pod_affinity=affinity), ZONES) == "0/3 nodes: 3 didn't match pod affinity rules"
    # The term's namespaces: the pod's own unless listed, or every one with namespaceSelector {}.
    assert where([web(pod_affinity=affinity)], ZONES, [pod("n3", DB, namespace="data")]) == [None]
    listed = PodAffinityRules(required=(term(DB, "zone", namespaces=("data",)),))
    assert where([web(pod_affinity=listed)], ZONES, [pod("n3", DB, namespace="data")]) == ["n3"]
    everywhere = PodAffinityRules(required=(term(DB, "zone", all_namespaces=True),))
    assert where([web(pod_affinity=everywhere)], ZONES, [pod("n3", DB, namespace="data")]) == ["n3"]


def test_the_first_pod_of_a_group_with_affinity_to_itself_is_placed_and_the_rest_follow() -> None:
    together = PodAffinityRules(required=(term(WEB, "zone"),))
    requests = [web(f"p{i}", pod_affinity=together) for i in range(3)]
    assert where(requests, [node("n3", "b"), *ZONES[:2]]) == ["n1", "n2", "n1"]


def test_a_node_without_the_topology_key_is_refused_by_required_affinity() -> None:
    itself = PodAffinityRules(required=(term(WEB, "zone"),))
    assert reason(web(pod_affinity=itself), [node("n1")]) == "0/1 nodes: 1 didn't match pod affinity rules"


def test_preferred_terms_weigh_matching_pods() -> None:
    near_db = PodAffinityRules(preferred=(WeightedPodAffinityTerm(10, term(DB, "zone")),))
    assert where([web(pod_affinity=near_db)], ZONES, [pod("n3", DB)]) == ["n3"]
    away = PodAffinityRules(preferred=(WeightedPodAffinityTerm(10, term(DB, "zone")),))
    assert where([web(pod_anti_affinity=away)], ZONES, [pod("n1", DB)]) == ["n3"]
    # Anti 20 against a db pod outweighs affinity 10 to a cache pod in the same zone.
    both = {
        "pod_affinity": PodAffinityRules(preferred=(WeightedPodAffinityTerm(10, term({"app": "cache"}, "zone")),)),
        "pod_anti_affinity": PodAffinityRules(preferred=(WeightedPodAffinityTerm(20, term(DB, "zone")),)),
    }
    assert where([web(**both)], ZONES, [pod("n3", DB), pod("n3", {"app": "cache"})]) == ["n1"]


def test_an_existing_pods_terms_for_the_new_pod_weigh_too() -> None:
    avoids_web = PodAffinityRules(preferred=(WeightedPodAffinityTerm(10, term(WEB, "zone")),))
    assert where([web()], ZONES, [pod("n1", DB, pod_anti_affinity=avoids_web), pod("n3")]) == ["n3"]
    assert where([web()], ZONES, [pod("n3", DB, pod_affinity=avoids_web)]) == ["n3"]
    wants_web = PodAffinityRules(required=(term(WEB, "zone"),))
    assert where([web()], ZONES, [pod("n3", DB, pod_affinity=wants_web)]) == ["n3"]
    # Only pods it selects: another namespace's pod is not drawn.
    assert where([PodRequest("p", "web", namespace="else", labels=WEB)], ZONES, [pod("n3", DB, pod_affinity=wants_web)]) == ["n1"]


def test_labels_and_namespaces_alone_change_no_placement() -> None:
    nodes = [node(f"n{i}", "ab"[i % 2]) for i in range(4)]
    placed = [PlacedPod("n1", "web"), PlacedPod("n2", "db", cpu_millis=500)]
    labelled = [PlacedPod(p.node, p.owner, p.cpu_millis, namespace="shop", labels=WEB) for p in placed]
    plain = [PodRequest(f"p{i}", "web", cpu_millis=100) for i in range(6)]
    assert where([web(f"p{i}", cpu_millis=100) for i in range(6)], nodes, labelled) == where(plain, nodes, placed)


def test_a_pod_request_carries_labels_namespace_and_match_label_keys() -> None:
    constraint = spread(match_label_keys=("tier", "absent"))
    spec = PodSpec(containers=(), topology_spread=(constraint,), pod_anti_affinity=PodAffinityRules(required=(term(),)))
    request = pod_request("p", "deployment/shop/web", PodTemplate(labels=FrozenMap({"app": "web", "tier": "front"}), spec=spec))
    assert (request.namespace, dict(request.labels)) == ("shop", {"app": "web", "tier": "front"})
    assert request.pod_anti_affinity.required == (term(),)
    (merged,) = request.spread
    assert merged.selector is not None and dict(merged.selector.match_labels) == {"app": "web", "tier": "front"}


def test_affinity_terms_take_the_pods_own_values_for_their_label_keys() -> None:
    keyed = PodAffinityTerm(LabelSelector(FrozenMap(WEB)), HOST, match_label_keys=("tier", "absent"), mismatch_label_keys=("track",))
    spec = PodSpec(containers=(), pod_anti_affinity=PodAffinityRules(required=(keyed,), preferred=(WeightedPodAffinityTerm(5, keyed),)))
    labels = FrozenMap({"app": "web", "tier": "front", "track": "canary"})
    request = pod_request("p", "deployment/shop/web", PodTemplate(labels=labels, spec=spec))
    expected = (LabelSelectorRequirement("tier", "In", ("front",)), LabelSelectorRequirement("track", "NotIn", ("canary",)))
    (required,) = request.pod_anti_affinity.required
    (preferred,) = request.pod_anti_affinity.preferred
    assert required.selector is not None and required.selector.match_expressions == expected
    assert preferred.term == required
    # Only front pods that are not canaries keep it away.
    placed = [pod("n1", {"app": "web", "tier": "front", "track": "stable"}), pod("n2", {"app": "web", "tier": "front", "track": "canary"})]
    assert where([request], [node("n1"), node("n2")], placed) == ["n2"]


def test_every_node_carries_its_hostname_label_as_kubernetes_sets_it() -> None:
    host = Host("web1", "10.0.0.1", 22, "root", None, False, (), {}, {"zone": "a", HOST: "other"}, "podman", {})
    assert build_cluster_node(host, None).info.labels == {"zone": "a", HOST: "web1", "kubernetes.io/os": "linux"}


@pytest.mark.parametrize(("machine", "arch"), [("x86_64", "amd64"), ("aarch64", "arm64"), ("armv7l", "arm"), ("mips", "mips")])
def test_a_gathered_node_carries_the_kubelets_os_and_arch_labels(machine: str, arch: str) -> None:
    # Manifests select nodes by these (nodeSelector: {kubernetes.io/os: linux}); `uname -m` as Go names it.
    host = Host("web1", "10.0.0.1", 22, "root", None, False, (), {}, {}, "podman", {})
    report = NodeReport("web1", "10.0.0.1", READY, arch=machine)
    labels = build_cluster_node(host, report).info.labels
    assert (labels["kubernetes.io/os"], labels["kubernetes.io/arch"]) == ("linux", arch)
