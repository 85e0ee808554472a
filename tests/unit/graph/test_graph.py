from __future__ import annotations

import pytest

from sshorch.plan.graph import CycleError, build_graph, check_desired_acyclic, dependencies, generations, render_dot, render_text
from sshorch.spec import parse_documents
from sshorch.spec.model import Source


def desired(*docs: dict):  # type: ignore[no-untyped-def,type-arg]
    return parse_documents([(Source("app.yaml", i), d) for i, d in enumerate(docs)])


def deployment(name: str, depends: str = "", config: str = "") -> dict:  # type: ignore[type-arg]
    annotations = {"sshorch.io/depends-on": depends} if depends else {}
    container: dict = {"name": "main", "image": "localhost/sshorch/web:v1"}  # type: ignore[type-arg]
    if config:
        container["envFrom"] = [{"configMapRef": {"name": config}}]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}},
    }


CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"A": "1"}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}


def test_generations_follow_depends_on_and_references() -> None:
    graph = build_graph(desired(CONFIG, SERVICE, deployment("db"), deployment("web", "deployment/db", "settings")))
    assert generations(graph) == [
        ["configmap/default/settings", "deployment/default/db", "service/default/web"],
        ["deployment/default/web"],
    ]
    assert dependencies(graph)["deployment/default/web"] == ("configmap/default/settings", "deployment/default/db")
    assert dependencies(graph)["service/default/web"] == ()


CYCLE = r"dependency cycle: deployment/(a|b) -> deployment/(b|a) -> deployment/\1"


def test_cycle_is_an_error_that_prints_the_cycle() -> None:
    graph = build_graph(desired(deployment("a", "deployment/b"), deployment("b", "deployment/a")))
    with pytest.raises(CycleError, match=CYCLE):
        generations(graph)


def test_apply_finds_the_same_cycle_without_building_a_graph() -> None:
    with pytest.raises(CycleError, match=CYCLE):
        check_desired_acyclic(desired(CONFIG, deployment("a", "deployment/b"), deployment("b", "deployment/a")))
    check_desired_acyclic(desired(CONFIG, deployment("db"), deployment("web", "deployment/db", "settings")))


def test_a_longer_cycle_is_printed_in_dependency_order() -> None:
    cycle = desired(deployment("a", "deployment/c"), deployment("b", "deployment/a"), deployment("c", "deployment/b"))
    with pytest.raises(CycleError) as raised:
        check_desired_acyclic(cycle)
    names = str(raised.value).removeprefix("dependency cycle: ").split(" -> ")
    order = ["deployment/a", "deployment/b", "deployment/c"] * 2  # a before b before c: b depends on a
    assert names[0] == names[-1] and " ".join(names[:-1]) in " ".join(order)


def test_text_and_dot_rendering() -> None:
    graph = build_graph(desired(deployment("db"), deployment("web", "deployment/db")))
    assert render_text(graph) == "batch 1:\n  deployment/db\nbatch 2:\n  deployment/web  <- deployment/db\n"
    dot = render_dot(graph)
    assert dot.startswith("digraph sshorch {") and '"deployment/db" -> "deployment/web";' in dot


def test_dependencies_without_a_graph_match_the_graphs() -> None:
    from sshorch.plan.graph import desired_dependencies

    d = desired(CONFIG, SERVICE, deployment("db"), deployment("web", "deployment/db", "settings"))
    assert desired_dependencies(d) == dependencies(build_graph(d))
