from pathlib import Path

from sshorch.observe.cluster import (
    NodeObservation,
    Observed,
    build_node_observation,
    gather_facts,
)
from sshorch.observe.facts import BEGIN, END, render_gather_script
from sshorch.observe.nodereport import NOT_READY, READY
from sshorch.run.gather import gather_cluster
from sshorch.transport import CommandResult, ConnectOptions, NodeOutcome, Session, SshTarget, Unreachable

FIXTURES = Path(__file__).parent / "fixtures"
NODE1 = SshTarget("node1", "198.18.0.66")
GHOST = SshTarget("ghost", "198.18.0.126")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def observe(text: str, runtime: str = "podman", target: SshTarget = NODE1) -> NodeObservation:
    return build_node_observation(target, runtime, "obs", NodeOutcome(target, value=text))


def test_reachable_node_gives_report_and_owned() -> None:
    node = observe(fixture("gather-owned-podman.txt"))
    assert (node.name, node.address, node.reachable, node.error) == ("node1", "198.18.0.66", True, "")
    assert node.report.status == READY and node.report.cpus == 2 and node.report.fact_errors == {}
    assert node.owned is not None
    assert len(node.owned.pods) == 5 and len(node.owned.stray_containers) == 1


def test_empty_node_owns_nothing_but_is_read() -> None:
    node = observe(fixture("gather-owned-empty-podman.txt"))
    assert node.owned is not None and node.owned.pods == () and node.error == ""


def test_unreachable_node_is_not_reachable_and_not_ready() -> None:
    outcome: NodeOutcome[str] = NodeOutcome(GHOST, error="root@198.18.0.126:22: connection timed out after 1s", unreachable=True)
    node = build_node_observation(GHOST, "podman", "obs", outcome)
    assert not node.reachable and node.owned is None
    assert node.report.status == NOT_READY and "timed out" in node.error


def test_failed_exec_after_connecting_is_not_a_read_node() -> None:
    outcome: NodeOutcome[str] = NodeOutcome(NODE1, error="node1: command did not finish within 30s")
    node = build_node_observation(NODE1, "podman", "obs", outcome)
    assert not node.reachable and node.owned is None and "did not finish" in node.error


def test_broken_owned_section_leaves_owned_unknown_and_the_node_not_ready() -> None:
    # What runs there is not known, so nothing may be planned on it: NotReady, saying why.
    text = fixture("gather-owned-podman.txt").replace('"IsInfra":true', '"IsInfra":tru', 1)
    node = observe(text)
    assert node.reachable and node.report.status == NOT_READY
    assert node.owned is None
    assert node.error.startswith("cannot read what sshorch owns here: containers:")
    assert node.report.reason == node.error
    assert "containers" not in node.report.fact_errors


def test_truncated_output_leaves_owned_unknown() -> None:
    text = fixture("gather-owned-podman.txt")
    node = observe(text[: text.index("@@sshorch-fact:files")])
    assert node.owned is None and "files: no output" in node.error
    assert node.report.status == NOT_READY


def test_node_without_runtime_is_not_ready_and_owned_unknown() -> None:
    node = observe(fixture("gather-no-runtime.txt"))
    assert node.reachable and node.report.status == NOT_READY and node.owned is None


def test_docker_node() -> None:
    # A converge gather looks the runtime up (`command -v docker`) instead of asking its version.
    node_text = fixture("gather-sandbox-node-docker.txt").replace("Docker version 28.2.2, build e6534b4", "/usr/bin/docker")
    node = observe(node_text + fixture("docker-gather-owned.txt"), runtime="docker")
    assert node.report.status == READY and node.report.runtime == "docker"
    assert node.owned is not None and len(node.owned.pods) == 5


def test_observed_lists_pods_of_read_nodes_only() -> None:
    read = observe(fixture("gather-owned-podman.txt"))
    lost = build_node_observation(GHOST, "podman", "obs", NodeOutcome(GHOST, error="gone", unreachable=True))
    observed = Observed((read, lost))
    assert len(observed.pods()) == 5
    assert observed.node("ghost") is lost and observed.node("nope") is None


class FakeConnection:
    def __init__(self, target: SshTarget, output: str, scripts: list[str]) -> None:
        self.target = target
        self.output = output
        self.scripts = scripts

    def run(self, argv: list[str], *, timeout: float = 300.0) -> CommandResult:
        script = argv[-1]  # the gather, wrapped to wait for the node lock
        self.scripts.append(script)
        return CommandResult(tuple(argv), 0, self.output.encode(), b"")


class FakeSession(Session):
    """Connections without a network: node1 answers with the captured output, others are unreachable."""

    def __init__(self) -> None:
        super().__init__(ConnectOptions(known_hosts=Path("/nonexistent/known_hosts")))
        self.scripts: list[str] = []

    def connection(self, target: SshTarget):  # type: ignore[no-untyped-def]
        if target.name != "node1":
            raise Unreachable(f"root@{target.address}:22: connection refused")
        return FakeConnection(target, fixture("gather-owned-podman.txt"), self.scripts)


def test_gather_cluster_runs_one_exec_per_node_and_returns_failures_as_data() -> None:
    session = FakeSession()
    observed = gather_cluster(session, [(NODE1, "podman"), (GHOST, "podman")], "obs")
    assert session.scripts == [render_gather_script(gather_facts("podman", "obs"))]
    node1, ghost = observed.nodes
    assert node1.reachable and node1.owned is not None and len(node1.owned.pods) == 5
    assert not ghost.reachable and ghost.error == "root@198.18.0.126:22: connection refused"
    assert ghost.report.status == NOT_READY


def test_gather_cluster_of_no_nodes() -> None:
    assert gather_cluster(FakeSession(), [], "obs") == Observed(())



def complete_gather() -> str:
    """A whole converge gather's output: the captured one, with the sections read since."""
    rules = (FIXTURES / "rules-written.txt").read_text()
    return (
        fixture("gather-owned-podman.txt") + f"{BEGIN}rules\n{rules}\n{END}rules:0\n{BEGIN}checksums\n\n{END}checksums:0\n"
        f"{BEGIN}oom_kills\n1796329571.80 40606.83 45683.74\n{END}oom_kills:0\n"
    )


def test_a_node_whose_gather_came_with_its_actions_is_not_asked_again() -> None:
    session = FakeSession()
    after_actions = f"{BEGIN}a0\n\n{END}a0:0\n" + complete_gather()
    observed = gather_cluster(session, [(NODE1, "podman")], "obs", gathered={"node1": after_actions})
    assert session.scripts == []
    node = observed.nodes[0]
    assert node.owned is not None and len(node.owned.pods) == 5 and node.rules is not None and node.rules.intact


def test_a_gather_cut_short_after_the_actions_is_made_again() -> None:
    session = FakeSession()
    whole = complete_gather()
    observed = gather_cluster(session, [(NODE1, "podman")], "obs", gathered={"node1": whole[: whole.index(f"{BEGIN}rules")]})
    assert session.scripts == [render_gather_script(gather_facts("podman", "obs"))]
    assert observed.nodes[0].owned is not None
