"""Builders for probe tests: probes, targets and records in one line each."""

from __future__ import annotations

from collections.abc import Mapping

from sshorch.probes.model import ProbeKey, ProbeKind, ProbeRecord, ProbeTarget, ProbeTask
from sshorch.spec.model import ExecAction, HttpGetAction, Probe, ProbeAction, TcpSocketAction

STARTED = 1000.0


def exec_probe(*command: str, **timing: int) -> Probe:
    return Probe(ExecAction(command or ("true",)), **timing)


def http_probe(port: int | str = 8080, path: str = "/healthz", **timing: int) -> Probe:
    return Probe(HttpGetAction(port=port, path=path), **timing)


def tcp_probe(port: int | str = 8080, **timing: int) -> Probe:
    return Probe(TcpSocketAction(port), **timing)


def probe(action: ProbeAction | None = None, **timing: int) -> Probe:
    return Probe(action or ExecAction(("true",)), **timing)


def target(
    probes: Mapping[ProbeKind, Probe] | None = None,
    *,
    pod: str = "web-abc-1",
    container: str = "web",
    node: str = "n1",
    address: str = "198.18.0.2",
    started_at: float | None = STARTED,
    host_ports: Mapping[int, int] | None = None,
    named_ports: Mapping[str, int] | None = None,
    running: bool = True,
) -> ProbeTarget:
    return ProbeTarget(
        pod=pod,
        container=container,
        container_name=f"{pod}-{container}",
        node=node,
        node_address=address,
        started_at=started_at,
        probes=dict(probes or {}),
        host_ports=dict(host_ports if host_ports is not None else {8080: 20100}),
        named_ports=dict(named_ports if named_ports is not None else {"http": 8080}),
        running=running,
    )


def key(kind: ProbeKind, pod: str = "web-abc-1", container: str = "web") -> ProbeKey:
    return ProbeKey(pod, container, kind)


def task(kind: ProbeKind, the_target: ProbeTarget) -> ProbeTask:
    return ProbeTask(the_target.key(kind), the_target, the_target.probes[kind])


def record(successes: int = 0, failures: int = 0, last_run: float | None = None, passed: bool = False,
           message: str = "", started_at: float | None = None) -> ProbeRecord:
    return ProbeRecord(successes, failures, last_run, passed, message, started_at)
