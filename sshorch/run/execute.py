"""Run a Plan: every node in parallel, each node's actions in ONE exec (the script:
plan.nodescript), images the nodes lack streamed first."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sshorch.run.images import LocalImages, stream_missing_images
from sshorch.run.nodelock import ACTIONS_WAIT_SECONDS, NODE_LOCK, gave_up, locked
from sshorch.plan.model import Plan
from sshorch.plan.nodescript import ActionResult, NodeResult, Report, build_node_upload, parse_node_output, render_node_script
from sshorch.runtime.registry import node_runtime
from sshorch.transport import Connection, Session, SshTarget

EXEC_TIMEOUT = 600.0


def execute(
    plan: Plan,
    session: Session,
    targets: dict[str, SshTarget],
    progress: Callable[[str], None] = lambda _: None,
    runtimes: Mapping[str, str] | None = None,
    local_images: LocalImages | None = None,
    follow_ups: Mapping[str, str] | None = None,
) -> Report:
    """`follow_ups`: by node, a script to run after the node's actions in the same exec
    (its output is in NodeResult.output). `progress` hears of images streamed to nodes."""
    nodes = plan.nodes()
    local_images = local_images or LocalImages()
    # The runtime of each node that needs images, known before any node acts: never guessed.
    image_runtimes = {n: node_runtime(runtimes or {}, n) for n in nodes if any(a.images for a in plan.for_node(n))}

    def run(conn: Connection) -> tuple[tuple[ActionResult, ...], str]:
        actions = plan.for_node(conn.target.name)
        needed = {image for a in actions for image in a.images}
        if needed:
            stream_missing_images(conn, image_runtimes[conn.target.name], needed, local_images, progress)
        upload = build_node_upload(actions)
        script = render_node_script(actions, (follow_ups or {}).get(conn.target.name, ""), upload)
        result = conn.run(locked(script), stdin=upload.data or None, timeout=EXEC_TIMEOUT)
        if gave_up(result):
            busy = f"not run: an earlier run's actions held {NODE_LOCK} for {ACTIONS_WAIT_SECONDS} s"
            return tuple(ActionResult(a, False, busy) for a in actions), ""
        return parse_node_output(actions, result.text), result.text

    outcomes = session.map(run, [targets[n] for n in nodes])
    nodes_done = []
    for o in outcomes:
        results, output = o.value or ((), "")
        nodes_done.append(NodeResult(o.target.name, results, o.error or "", output))
    return Report(tuple(nodes_done))
