from __future__ import annotations

from sshorch.rollouts import describe_rollout
from sshorch.spec.model import Deployment
from tests.unit.plan.helpers import deployment, desired, observed_pod


def test_progress_line_names_new_ready_and_old_pods_per_node() -> None:
    v1 = desired(deployment("web", replicas=2))
    v2 = desired(deployment("web", replicas=2, image="localhost/web:v2"))
    old = [observed_pod(v1, "web", 0, "n1"), observed_pod(v1, "web", 1, "n2")]
    new = [observed_pod(v2, "web", 0, "n1"), observed_pod(v2, "web", 1, "n3")]
    web = v2.get("Deployment", "web")
    assert isinstance(web, Deployment)
    line = describe_rollout(web, v2, old + new, ready={new[0].name, old[0].name, old[1].name})
    head, _, nodes = line.partition(" (")
    assert head == "deployment/default/web: 1/2 new ready, 2 old"
    n1, n2, n3 = nodes.rstrip(")").split("; ")
    assert n1.startswith("n1: ") and sorted(n1[4:].split(", ")) == ["new ready", "old ready"]
    assert (n2, n3) == ("n2: old ready", "n3: new")
