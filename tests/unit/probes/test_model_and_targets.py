"""Records as JSON, and targets built from observed pods and pod specs."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sshorch.observe.owned import ObservedContainer, ObservedPod
from sshorch.probes.model import ProbeKey, ProbeRecord, records_from_json, records_to_json
from sshorch.probes.probetargets import build_targets
from sshorch.runtime import PortBinding
from sshorch.spec.model import Container, ContainerPort, PodSpec
from tests.unit.probes.helpers import exec_probe, http_probe, record, tcp_probe


def test_record_round_trips_through_json() -> None:
    for original in (ProbeRecord(), record(2, 0, 12.5, True, "HTTP 200 from x", 3.25)):
        assert ProbeRecord.from_json(json.loads(json.dumps(original.to_json()))) == original


def test_records_map_round_trips_in_a_stable_order() -> None:
    records = {
        ProbeKey("b", "web", "readiness"): record(1, passed=True),
        ProbeKey("a", "web", "readiness"): record(0, 1),
        ProbeKey("a", "web", "startup"): record(1, passed=True, last_run=4.0),
    }
    text = json.dumps(records_to_json(records))
    assert [(i["pod"], i["kind"]) for i in json.loads(text)] == [("a", "startup"), ("a", "readiness"), ("b", "readiness")]
    assert records_from_json(json.loads(text)) == records


def test_bad_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown probe kind 'health'"):
        records_from_json([{"pod": "a", "container": "web", "kind": "health"}])
    with pytest.raises(ValueError, match="negative"):
        ProbeRecord.from_json({"failures": -1})


def observed(name: str, spec_name: str, state: str = "running", started_at: float | None = 50.0) -> ObservedContainer:
    return ObservedContainer(name, "id-" + name, "img", "imgid", state, 0, started_at, 0,
                             {"sshorch.io/container": spec_name}, False)


def test_build_targets_joins_spec_and_observed_containers() -> None:
    pod = ObservedPod(
        name="web-abc-1", node="n1", labels={}, status="Running",
        containers=(observed("web-abc-1-web", "web"), observed("web-abc-1-side", "side", "exited", None)),
        ports=(PortBinding("198.18.0.2", 20101, 9090), PortBinding("198.18.0.2", 20100, 8080),
               PortBinding("198.18.0.2", 20099, 8080), PortBinding("198.18.0.2", 20102, 5353, "udp")),
    )
    web = Container("web", "img", ports=(ContainerPort(8080, name="http"),),
                    liveness_probe=http_probe("http"), readiness_probe=tcp_probe(8080))
    side = Container("side", "img", startup_probe=exec_probe("true"))
    missing = Container("gone", "img")
    targets = build_targets(pod, PodSpec(containers=(web, side, missing)), "198.18.0.2")
    assert [t.container for t in targets] == ["web", "side"]
    first, second = targets
    assert first.container_name == "web-abc-1-web"
    assert (first.node, first.node_address, first.started_at, first.running) == ("n1", "198.18.0.2", 50.0, True)
    assert dict(first.probes) == {"liveness": web.liveness_probe, "readiness": web.readiness_probe}
    assert dict(first.host_ports) == {8080: 20099, 9090: 20101}  # tcp only; lowest host port of a port
    assert dict(first.named_ports) == {"http": 8080}
    assert dict(second.probes) == {"startup": side.startup_probe}
    assert (second.running, second.started_at, dict(second.named_ports)) == (False, None, {})


def test_sidecars_are_probed_and_other_init_containers_are_not() -> None:
    proxy = replace(observed("web-abc-1-proxy", "proxy"), labels={"sshorch.io/container": "proxy", "sshorch.io/init": "true"})
    seed = replace(observed("web-abc-1-seed", "seed", "exited", None), labels={"sshorch.io/container": "seed", "sshorch.io/init": "true"})
    pod = ObservedPod(name="web-abc-1", node="n1", labels={}, status="Running", containers=(observed("web-abc-1-web", "web"),),
                      ports=(), init_containers=(seed, proxy))
    spec = PodSpec(containers=(Container("web", "img"),), init_containers=(
        Container("seed", "img"), Container("proxy", "img", readiness_probe=tcp_probe(9901), sidecar=True)))
    targets = build_targets(pod, spec, "198.18.0.2")
    assert [(t.container, t.container_name) for t in targets] == [("web", "web-abc-1-web"), ("proxy", "web-abc-1-proxy")]
    assert dict(targets[1].probes) == {"readiness": tcp_probe(9901)}
