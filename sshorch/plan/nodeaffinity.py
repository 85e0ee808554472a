"""Whether a node's labels match required node affinity (nodeSelectorTerms). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sshorch.spec.model import NodeSelectorRequirement, NodeSelectorTerm


def requirement_matches(req: NodeSelectorRequirement, labels: Mapping[str, str]) -> bool:
    value = labels.get(req.key)
    if req.operator == "In":
        return value is not None and value in req.values
    if req.operator == "NotIn":
        return value is None or value not in req.values
    if req.operator == "Exists":
        return value is not None
    if req.operator == "DoesNotExist":
        return value is None
    try:  # Gt / Lt compare integers, as Kubernetes does
        number, bound = int(value or ""), int(req.values[0])
    except (ValueError, IndexError):
        return False
    return number > bound if req.operator == "Gt" else number < bound


def affinity_matches(terms: Sequence[NodeSelectorTerm], labels: Mapping[str, str]) -> bool:
    """Terms are ORed, expressions within a term ANDed; no terms matches every node."""
    if not terms:
        return True
    return any(all(requirement_matches(r, labels) for r in term.match_expressions) for term in terms)
