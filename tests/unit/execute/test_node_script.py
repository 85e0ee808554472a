"""render_node_script and parse_node_output: the rendered shell is run for real with /bin/sh,
on harmless actions (echo, true, false, touch in tmp_path)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sshorch.execute import (
    ActionResult,
    NodeResult,
    Report,
    _groups,
    parse_node_output,
    render_node_script,
    render_step,
)
from sshorch.observe.facts import Fact, parse_gather_output, render_gather_script
from sshorch.plan.model import Action, FileUpload, Step
from sshorch.spec.model import SecretBytes

UPLOAD_COMMAND = "umask 077 && mkdir -p /run/sshorch && tar -x -f - -C /"


def action(
    *steps: Step, undo: tuple[Step, ...] = (), files: tuple[FileUpload, ...] = (), target: str = "p", kind: str = "start-pod"
) -> Action:
    return Action(kind, "n1", target, "test", tuple(steps), files, "deployment/default/web", (), undo)


def sh(
    *argv: str, unless: tuple[str, ...] | None = None, ignore_errors: bool = False, when: tuple[str, ...] | None = None
) -> Step:
    return Step(tuple(argv), unless, ignore_errors, when)


def run_script(script: str, cwd: Path) -> str:
    done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, cwd=cwd, timeout=20, check=False)
    assert done.stderr == ""  # the script sends everything to stdout
    return done.stdout


# --- rendering ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "rendered"),
    [
        (sh("echo", "hi there"), "echo 'hi there'"),
        (sh("podman", "volume", "create", "d", unless=("podman", "volume", "exists", "d")),
         "{ podman volume exists d >/dev/null 2>&1 || podman volume create d; }"),
        (sh("false", ignore_errors=True), "{ false || true; }"),
        (sh("rm", "x; reboot", unless=("test", "-e", "$HOME"), ignore_errors=True),
         "{ { test -e '$HOME' >/dev/null 2>&1 || rm 'x; reboot'; } || true; }"),
    ],
    ids=["plain", "unless", "ignore_errors", "both-and-quoting"],
)
def test_render_step(step: Step, rendered: str) -> None:
    assert render_step(step) == rendered


def test_script_frames_the_upload_then_each_action() -> None:
    files = (FileUpload("/run/sshorch/configs/default/x/a", b"1"),)
    script = render_node_script([
        action(sh("echo", "one"), sh("echo", "two"), undo=(sh("echo", "undo", ignore_errors=True),), files=files),
        action(),
    ])
    assert script == (
        "exec 2>&1\n"
        "export LC_ALL=C\n"
        "echo '@@sshorch-fact:upload'\n"
        f"( {UPLOAD_COMMAND}\n"
        "); rc=$?\n"
        'echo; echo "@@sshorch-end:upload:$rc"\n'
        "\n"
        '[ "$rc" -eq 0 ] || exit "$rc"\n'
        "echo '@@sshorch-fact:a0'\n"
        "( { echo one && echo two; } || { rc=$?; { echo undo || true; }; exit $rc; }\n"
        "); rc=$?\n"
        'echo; echo "@@sshorch-end:a0:$rc"\n'
        "\n"
        "echo '@@sshorch-fact:a1'\n"
        "( true\n"
        "); rc=$?\n"
        'echo; echo "@@sshorch-end:a1:$rc"\n'
        "\n"
    )


def test_no_files_no_upload_section() -> None:
    assert "upload" not in render_node_script([action(sh("true"))])


def test_secret_content_is_never_in_the_script() -> None:
    files = (FileUpload("/run/sshorch/secrets/default/c/pw", SecretBytes(b"hunter2"), 0o400),)
    assert "hunter2" not in render_node_script([action(sh("true"), files=files)])


# --- running it -----------------------------------------------------------------------


def test_each_action_reports_its_own_status_and_output(tmp_path: Path) -> None:
    actions = [
        action(sh("echo", "hello"), sh("true"), target="ok"),
        action(sh("echo", "about to fail"), sh("sh", "-c", "echo boom >&2; exit 3"), sh("echo", "never"), target="bad"),
        action(sh("false", ignore_errors=True), sh("echo", "after"), target="ignored"),
        action(target="empty"),
    ]
    results = parse_node_output(actions, run_script(render_node_script(actions), tmp_path))
    assert [(r.action.target, r.ok, r.output) for r in results] == [
        ("ok", True, "hello\n"),
        ("bad", False, "about to fail\nboom\n"),
        ("ignored", True, "after\n"),
        ("empty", True, ""),
    ]
    assert results[1].error_line() == "boom"


def test_a_follow_up_runs_after_the_actions_and_its_sections_come_back_with_them(tmp_path: Path) -> None:
    made = tmp_path / "made"
    actions = [action(sh("touch", str(made)), target="first"), action(sh("false"), target="failing")]
    # The follow-up (the next pass's gather) sees what the actions did, even after a failed one.
    follow_up = render_gather_script((Fact("made", f"test -e {made} && echo yes", str.strip),))
    output = run_script(render_node_script(actions, follow_up), tmp_path)
    assert [(r.action.target, r.ok) for r in parse_node_output(actions, output)] == [("first", True), ("failing", False)]
    assert parse_gather_output((Fact("made", "", str.strip),), output).values == {"made": "yes"}


def test_unless_skips_the_step_when_its_check_succeeds(tmp_path: Path) -> None:
    marker = tmp_path / "exists"
    actions = [
        action(sh("echo", "created"), sh("touch", str(marker)), target="first"),
        action(sh("echo", "created again", unless=("test", "-e", str(marker))), target="second"),
        action(sh("echo", "made", unless=("test", "-e", str(tmp_path / "absent"))), target="third"),
    ]
    results = parse_node_output(actions, run_script(render_node_script(actions), tmp_path))
    assert [(r.ok, r.output) for r in results] == [(True, "created\n"), (True, ""), (True, "made\n")]


def test_when_runs_the_step_only_when_its_check_succeeds(tmp_path: Path) -> None:
    actions = [
        action(sh("echo", "ran", when=("test", "-e", str(tmp_path))), target="first"),
        action(sh("echo", "never", when=("test", "-e", str(tmp_path / "absent"))), sh("echo", "next"), target="second"),
    ]
    results = parse_node_output(actions, run_script(render_node_script(actions), tmp_path))
    assert [(r.ok, r.output) for r in results] == [(True, "ran\n"), (True, "next\n")]


def test_a_failed_action_runs_its_undo_and_keeps_the_failure_status(tmp_path: Path) -> None:
    made, undone = tmp_path / "made", tmp_path / "undone"
    failing = action(
        sh("touch", str(made)),
        sh("sh", "-c", "exit 7"),
        undo=(sh("rm", "-f", str(made), ignore_errors=True), sh("false", ignore_errors=True),
              sh("touch", str(undone), ignore_errors=True)),
        target="half-made",
    )
    after = action(sh("echo", "next action still runs"), target="next")
    output = run_script(render_node_script([failing, after]), tmp_path)
    assert "@@sshorch-end:a0:7" in output
    results = parse_node_output([failing, after], output)
    assert [(r.action.target, r.ok) for r in results] == [("half-made", False), ("next", True)]
    assert not made.exists() and undone.exists()


def test_undo_does_not_run_when_the_action_succeeds(tmp_path: Path) -> None:
    undone = tmp_path / "undone"
    ok = action(sh("true"), undo=(sh("touch", str(undone), ignore_errors=True),))
    (result,) = parse_node_output([ok], run_script(render_node_script([ok]), tmp_path))
    assert result.ok and not undone.exists()


def test_output_is_exactly_what_the_action_printed(tmp_path: Path) -> None:
    """With or without a final newline: the frame's own newline is taken off again."""
    actions = [action(sh("printf", "no newline"), target="a"), action(sh("printf", "x\n\n"), target="b")]
    results = parse_node_output(actions, run_script(render_node_script(actions), tmp_path))
    assert [(r.ok, r.output) for r in results] == [(True, "no newline"), (True, "x\n\n")]


def test_a_failed_upload_stops_the_actions(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    actions = [action(sh("touch", str(ran)), files=(FileUpload("/run/sshorch/configs/default/x/a", b"1"),))]
    script = render_node_script(actions)
    assert UPLOAD_COMMAND in script
    # The real upload extracts under /; here it fails the way a full tmpfs would.
    output = run_script(script.replace(UPLOAD_COMMAND, "echo 'tar: short write' && false"), tmp_path)
    (result,) = parse_node_output(actions, output)
    assert not result.ok and result.output == "file upload failed: tar: short write"
    assert not ran.exists()  # reported as failed, so it must not have run


# --- parsing ---------------------------------------------------------------------------


def frame(name: str, rc: int, body: str) -> str:
    return f"@@sshorch-fact:{name}\n{body}\n@@sshorch-end:{name}:{rc}\n"


THREE = [action(target="a"), action(target="b"), action(target="c")]


def test_sections_map_to_results_in_order() -> None:
    output = frame("a0", 0, "fine") + frame("a1", 125, "Error: image not known") + frame("a2", 0, "")
    assert parse_node_output(THREE, output) == (
        ActionResult(THREE[0], True, "fine"),
        ActionResult(THREE[1], False, "Error: image not known"),
        ActionResult(THREE[2], True, ""),
    )


def test_a_missing_section_means_the_run_was_cut_short() -> None:
    output = frame("a0", 0, "fine") + "@@sshorch-fact:a1\npartial output"
    results = parse_node_output(THREE, output)
    assert [(r.ok, r.output) for r in results] == [
        (True, "fine"),
        (False, "no result (the node's run was cut short)"),
        (False, "no result (the node's run was cut short)"),
    ]


def test_a_failed_upload_fails_every_action() -> None:
    output = frame("upload", 2, "tar: /run/sshorch: Cannot mkdir: No space left on device\n") + frame("a0", 0, "") + frame("a1", 0, "")
    results = parse_node_output(THREE[:2], output)
    assert [(r.ok, r.output) for r in results] == [
        (False, "file upload failed: tar: /run/sshorch: Cannot mkdir: No space left on device"),
    ] * 2


def test_a_good_upload_is_not_a_result() -> None:
    output = frame("upload", 0, "") + frame("a0", 0, "done")
    assert parse_node_output(THREE[:1], output) == (ActionResult(THREE[0], True, "done"),)


def test_report_failures_name_node_action_and_last_line() -> None:
    bad = ActionResult(THREE[1], False, "pulling\nError: image not known\n\n")
    report = Report((
        NodeResult("n1", (ActionResult(THREE[0], True), bad)),
        NodeResult("n2", error="unreachable: timed out"),
        NodeResult("n3", (ActionResult(THREE[2], True),)),
    ))
    assert not report.ok and report.nodes[2].ok and not report.nodes[0].ok
    assert report.failures() == ["n2: unreachable: timed out", "n1: start-pod b: test: Error: image not known"]
    assert ActionResult(THREE[0], False, "").error_line() == "failed"


def test_the_error_line_is_the_runtimes_error_not_the_undos_output() -> None:
    output = (
        "5f1c0e9a\nError: initializing source docker://localhost/x:latest: pinging container registry localhost: "
        "connection refused\n5f1c0e9a\n"
    )
    assert ActionResult(THREE[0], False, output).error_line().startswith("Error: initializing source")


# --- pod creations at once -------------------------------------------------------


def create(*steps: Step, target: str = "p", undo: tuple[Step, ...] = ()) -> Action:
    return action(*steps, target=target, undo=undo, kind="create-pod")


def test_creations_after_the_first_are_batched_until_another_kind_of_action() -> None:
    kinds = ["create-pod"] * 6 + ["sync-rules", "create-pod", "create-pod"]
    actions = [action(target=str(i), kind=kind) for i, kind in enumerate(kinds)]
    assert [[index for index, _ in group] for group in _groups(actions)] == [[0], [1, 2, 3, 4], [5], [6], [7, 8]]


def test_batched_creations_run_at_once_and_report_in_order(tmp_path: Path) -> None:
    # The second waits for the third's file: run one after the other, it would give up after 5 s.
    flag = tmp_path / "flag"
    wait_for_flag = f"i=0; while [ ! -e {flag} ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; test -e {flag} && echo saw"
    actions = [
        create(sh("echo", "first"), target="first"),
        create(sh("sh", "-c", wait_for_flag), target="waits"),
        create(sh("touch", str(flag)), sh("echo", "made"), target="makes"),
        create(sh("false"), undo=(sh("echo", "undone"),), target="fails"),
    ]
    script = render_node_script(actions)
    assert script.count(" &\n") == 3
    results = parse_node_output(actions, run_script(script, tmp_path))
    assert [(r.action.target, r.ok, r.output) for r in results] == [
        ("first", True, "first\n"), ("waits", True, "saw\n"), ("makes", True, "made\n"), ("fails", False, "undone\n"),
    ]
