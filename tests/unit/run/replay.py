"""A transport that replays captured node outputs, for running the run layer without a cluster.

A fixture (fixtures/*.json, written by fixtures/capture.py) holds, per node and in
order, every command the real run layer ran there and what it gave back. ReplaySession
stands in for sshorch.transport.Session: each command asked of a node gets that node's
next recorded result. The scripts' text is not compared (gathers embed the time they
were rendered), only the argv around them (the node lock's wrapper tells a gather from
a node's actions), so a run that asks something else than was recorded, or more than
was recorded, fails the test at once instead of reading the wrong output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from sshorch.errors import TransportError
from sshorch.run.passes import Outcome
from sshorch.transport import CommandResult, Connection, NodeOutcome, Session, SshTarget

T = TypeVar("T")

FIXTURES = Path(__file__).parent / "fixtures"


class ReplayMismatch(AssertionError):
    """The run asked a node something the capture did not: more commands, or another kind."""


@dataclass(frozen=True)
class Exchange:
    """One command run on a node and what it gave: the argv without its last
    element (the script, whose text is not kept), the sizes of that script and of
    stdin, and the result (or the transport error the command raised)."""

    argv_head: tuple[str, ...]
    script_bytes: int
    stdin_bytes: int
    at: float = 0.0  # seconds after the scenario started when the command ended
    exit_status: int = 0
    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # a TransportError's message: the node did not answer

    @property
    def kind(self) -> str:
        """What the command was, for people reading a fixture: a gather under the
        shared node lock, actions under the exclusive one, else another script."""
        wrapper = self.argv_head[2] if len(self.argv_head) > 2 else ""
        if "flock -s -o" in wrapper:
            return "gather"
        if "flock -o" in wrapper:
            return "actions"
        return "script"

    @staticmethod
    def of(
        argv: Sequence[str], stdin: bytes | None, result: CommandResult | None, error: str | None = None, at: float = 0.0
    ) -> Exchange:
        return Exchange(
            argv_head=tuple(argv[:-1]),
            script_bytes=len(argv[-1].encode()) if argv else 0,
            stdin_bytes=len(stdin or b""),
            at=at,
            exit_status=result.exit_status if result else 0,
            stdout=result.stdout.decode() if result else "",
            stderr=result.stderr.decode() if result else "",
            error=error,
        )

    def result(self, argv: Sequence[str]) -> CommandResult:
        if self.error is not None:
            raise TransportError(self.error)
        return CommandResult(tuple(argv), self.exit_status, self.stdout.encode(), self.stderr.encode())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "argv_head": list(self.argv_head), "script_bytes": self.script_bytes,
                                "stdin_bytes": self.stdin_bytes, "at": round(self.at, 3), "exit_status": self.exit_status,
                                "stdout": self.stdout.splitlines(keepends=True), "stderr": self.stderr}
        if self.error is not None:
            data["error"] = self.error
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Exchange:
        return Exchange(
            argv_head=tuple(data["argv_head"]),
            script_bytes=data["script_bytes"],
            stdin_bytes=data["stdin_bytes"],
            at=data["at"],
            exit_status=data["exit_status"],
            stdout="".join(data["stdout"]),
            stderr=data["stderr"],
            error=data.get("error"),
        )


@dataclass(frozen=True)
class Capture:
    """One scenario as captured: the wall-clock time it started at, the controller's
    addresses as the nodes saw them, every node's commands in order, and what the real
    run decided (per acting pass, node -> action kinds; settled; passes)."""

    scenario: str
    wall_clock: float
    controller_addresses: tuple[str, ...]
    execs: Mapping[str, tuple[Exchange, ...]]
    decided: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "wall_clock": self.wall_clock,
            "controller_addresses": list(self.controller_addresses),
            "decided": dict(self.decided),
            "execs": {node: [e.to_json() for e in exchanges] for node, exchanges in sorted(self.execs.items())},
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Capture:
        return Capture(
            scenario=data["scenario"],
            wall_clock=data["wall_clock"],
            controller_addresses=tuple(data["controller_addresses"]),
            execs={node: tuple(Exchange.from_json(e) for e in exchanges) for node, exchanges in data["execs"].items()},
            decided=data["decided"],
        )


def load_capture(name: str) -> Capture:
    return Capture.from_json(json.loads((FIXTURES / f"{name}.json").read_text()))


def save_capture(capture: Capture, directory: Path = FIXTURES) -> Path:
    path = directory / f"{capture.scenario}.json"
    path.write_text(json.dumps(capture.to_json(), indent=1) + "\n")
    return path


class ReplayClock:
    """Monotonic and wall-clock time for a replay: time moves as it did in the capture,
    to each command's recorded end as its output is served, and by what the run sleeps.
    So the nodes' output is never from the future (a pod started after "now"), and
    nothing really sleeps."""

    def __init__(self) -> None:
        self.wall_start = 0.0
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def start(self, capture: Capture) -> None:
        """A scenario's run starts: the time its capture started."""
        self.wall_start, self.elapsed = capture.wall_clock, 0.0

    def reach(self, elapsed: float) -> None:
        self.elapsed = max(self.elapsed, elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def wall(self) -> float:
        return self.wall_start + self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


class ReplayConnection:
    """A node's connection that answers from the node's recorded exchanges, in order."""

    def __init__(self, target: SshTarget, session: ReplaySession) -> None:
        self.target = target
        self._session = session
        self.alive = True

    def run(self, argv: Sequence[str], *, stdin: bytes | None = None, timeout: float = 300.0,
            max_output: int = 0) -> CommandResult:  # fmt: skip
        return self._session.answer(self.target.name, argv, stdin)

    def run_script(self, script: str, *, timeout: float = 300.0) -> CommandResult:
        return self.run(["sh", "-c", script], timeout=timeout)

    def close(self) -> None:
        pass


class ReplaySession:
    """Stands in for sshorch.transport.Session: serves each node's recorded exchanges in
    order, nodes one after the other (map keeps the target order as Session does), and
    keeps what was asked (each argv, its script included), per node, for the test to
    read and count. Opens no socket."""

    def __init__(self, execs: Mapping[str, Sequence[Exchange]], clock: ReplayClock | None = None) -> None:
        self._left = {node: list(exchanges) for node, exchanges in execs.items()}
        self.asked: dict[str, list[tuple[str, ...]]] = {node: [] for node in execs}  # argv served, per node
        self._clock = clock or ReplayClock()

    @staticmethod
    def of(capture: Capture, clock: ReplayClock) -> ReplaySession:
        return ReplaySession(capture.execs, clock)

    def as_session(self) -> Session:
        """This replay where the run layer's types want a Session (it has what they use of one)."""
        return cast(Session, self)

    def answer(self, node: str, argv: Sequence[str], stdin: bytes | None) -> CommandResult:
        asked = Exchange.of(argv, stdin, None)
        if node not in self._left:
            raise ReplayMismatch(f"{node}: no such node in the capture; asked for {asked.kind}: {asked.argv_head}")
        if not self._left[node]:
            done = ", ".join(self.kinds()[node])
            raise ReplayMismatch(
                f"{node}: the capture has no more outputs ({len(self.asked[node])} served: {done}); asked for {asked.kind}"
            )
        recorded = self._left[node][0]
        if recorded.argv_head != asked.argv_head:
            raise ReplayMismatch(
                f"{node}: command {len(self.asked[node]) + 1}: asked for {asked.kind}, the capture has {recorded.kind}"
                f"\n  asked:    {asked.argv_head}\n  recorded: {recorded.argv_head}"
            )
        self._left[node].pop(0)
        self.asked[node].append(tuple(argv))
        self._clock.reach(recorded.at)
        return recorded.result(argv)

    def connection(self, target: SshTarget) -> Connection:
        return cast(Connection, ReplayConnection(target, self))

    def map(self, work: Callable[[Connection], T], targets: Iterable[SshTarget]) -> list[NodeOutcome[T]]:
        outcomes = []
        for target in targets:
            try:
                outcomes.append(NodeOutcome(target, value=work(self.connection(target))))
            except TransportError as error:  # as Session: a node that fails is data
                outcomes.append(NodeOutcome(target, error=str(error), unreachable=True))
        return outcomes

    def kinds(self) -> dict[str, list[str]]:
        """Per node, the kinds of the commands served so far, in order."""
        return {node: [Exchange.of(argv, None, None).kind for argv in asked] for node, asked in self.asked.items()}

    def left(self) -> dict[str, int]:
        """Per node, how many recorded commands were not asked."""
        return {node: len(exchanges) for node, exchanges in self._left.items() if exchanges}

    def close(self) -> None:
        pass

    def __enter__(self) -> ReplaySession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def decided(outcome: Outcome) -> dict[str, Any]:
    """What a run's passes decided, as plain data: per acting pass, node -> its actions
    ("kind target"); whether it settled or timed out; what was stuck; what failed."""
    return {
        "passes": outcome.passes,
        "settled": outcome.settled,
        "timed_out": outcome.timed_out,
        "stuck": sorted(outcome.stuck),
        "failures": outcome.failures,
        "actions": [
            {node.node: [f"{r.action.kind} {r.action.target}" for r in node.results] for node in report.nodes}
            for report in outcome.reports
        ],
    }
