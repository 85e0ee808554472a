"""The dependency graph of a desired state (networkx): batches and cycle errors.

Edges run from what is needed to what needs it: a workload needs the
ConfigMaps and Secrets it reads and whatever its `sshorch.io/depends-on`
annotation names. A Service needs nothing, and the workloads it selects do
not wait for it.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from sshorch.errors import SshorchError
from sshorch.plan.naming import workload_key
from sshorch.plan.revision import used_objects
from sshorch.spec.workloadkinds import workload_template
from sshorch.spec import DEPENDS_ON, parse_depends_on
from sshorch.spec.model import Desired, ManifestObject

if TYPE_CHECKING:  # networkx is imported where a graph is built: a converge pass needs only the edges
    import networkx as nx

class CycleError(SshorchError):
    pass


def object_key(obj: ManifestObject) -> str:
    return workload_key(obj.meta.kind, obj.meta.namespace, obj.meta.name)


def _template_refs(obj: ManifestObject) -> Iterable[tuple[str, str]]:
    template = workload_template(obj)
    return used_objects(template) if template is not None else ()


def _edges(desired: Desired) -> Iterator[tuple[str, str, str]]:
    """(needed, needer, why) for every dependency of the desired state."""
    keys = {object_key(obj) for obj in desired.objects}
    for obj in desired.objects:
        key = object_key(obj)
        ns = obj.meta.namespace
        for kind, name in _template_refs(obj):
            needed = workload_key(kind, ns, name)
            if needed in keys:
                yield needed, key, "uses"
        if DEPENDS_ON in obj.meta.annotations:
            for kind, name in parse_depends_on(obj.meta.annotations[DEPENDS_ON]):
                yield workload_key(kind, ns, name), key, "depends-on"


def build_graph(desired: Desired) -> nx.DiGraph[str]:
    import networkx as nx

    graph: nx.DiGraph[str] = nx.DiGraph()
    for obj in desired.objects:
        graph.add_node(object_key(obj), ref=obj.meta.ref)
    for needed, key, why in _edges(desired):
        graph.add_edge(needed, key, why=why)
    return graph


def desired_dependencies(desired: Desired) -> dict[str, tuple[str, ...]]:
    """Each object's direct prerequisites, as `dependencies(build_graph(desired))`, without building a graph."""
    needs: dict[str, set[str]] = {object_key(obj): set() for obj in desired.objects}
    for needed, key, _ in _edges(desired):
        needs.setdefault(needed, set())
        needs[key].add(needed)
    return {key: tuple(sorted(found)) for key, found in needs.items()}


def check_acyclic(needs: Mapping[str, Iterable[str]], refs: Mapping[str, str]) -> None:
    """needs: each object's prerequisites (graphlib's, from the standard library: every
    apply checks this, and importing networkx would cost it a tenth of a second)."""
    try:
        graphlib.TopologicalSorter(needs).prepare()
    except graphlib.CycleError as error:
        path = error.args[1]  # each one a prerequisite of the next; first == last
        raise CycleError("dependency cycle: " + " -> ".join(refs.get(n, n) for n in path)) from None


def check_desired_acyclic(desired: Desired) -> None:
    check_acyclic(desired_dependencies(desired), {object_key(obj): obj.meta.ref for obj in desired.objects})


def generations(graph: nx.DiGraph[str]) -> list[list[str]]:
    """Batches in order: everything in a batch can go in parallel."""
    import networkx as nx

    check_acyclic({n: graph.predecessors(n) for n in graph}, {n: graph.nodes[n].get("ref", n) for n in graph})
    return [sorted(batch) for batch in nx.topological_generations(graph)]


def dependencies(graph: nx.DiGraph[str]) -> dict[str, tuple[str, ...]]:
    """Each object's direct prerequisites."""
    return {node: tuple(sorted(graph.predecessors(node))) for node in graph.nodes}


def render_text(graph: nx.DiGraph[str]) -> str:
    lines = []
    for index, batch in enumerate(generations(graph), 1):
        lines.append(f"batch {index}:")
        for node in batch:
            needs = sorted(graph.nodes[p].get("ref", p) for p in graph.predecessors(node))
            suffix = f"  <- {', '.join(needs)}" if needs else ""
            lines.append(f"  {graph.nodes[node].get('ref', node)}{suffix}")
    return "\n".join(lines) + "\n"


def render_dot(graph: nx.DiGraph[str]) -> str:
    lines = ["digraph sshorch {", "  rankdir=LR;"]
    for node in sorted(graph.nodes):
        lines.append(f'  "{graph.nodes[node].get("ref", node)}";')
    for a, b, data in sorted(graph.edges(data=True)):
        style = ' [style=dashed]' if data.get("why") == "uses" else ""
        lines.append(f'  "{graph.nodes[a].get("ref", a)}" -> "{graph.nodes[b].get("ref", b)}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"
