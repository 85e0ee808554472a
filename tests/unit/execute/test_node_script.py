"""render_node_script and parse_node_output: the rendered shell is run for real with /bin/sh,
on harmless actions (echo, true, false, touch in tmp_path)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from sshorch.plan.nodescript import (
    ActionResult,
    NodeResult,
    NodeUpload,
    Report,
    _groups,
    build_node_upload,
    parse_node_output,
    render_node_script,
    render_step,
)
from sshorch.observe.facts import Fact, parse_gather_output, render_gather_script
from sshorch.plan.model import Action, FileUpload, Step
from sshorch.spec.model import SecretBytes

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


def test_script_frames_each_action() -> None:
    script = render_node_script([
        action(sh("echo", "one"), sh("echo", "two"), undo=(sh("echo", "undo", ignore_errors=True),)),
        action(),
    ])
    assert script == (
        "exec 2>&1\n"
        "export LC_ALL=C\n"
        "echo '@@sshorch-fact:a0'\n"
        "( { echo one && echo two; } || { rc=$?; { { echo undo || true; }; } >/dev/null 2>&1; exit $rc; }\n"
        "); rc=$?\n"
        'echo; echo "@@sshorch-end:a0:$rc"\n'
        "\n"
        "echo '@@sshorch-fact:a1'\n"
        "( true\n"
        "); rc=$?\n"
        'echo; echo "@@sshorch-end:a1:$rc"\n'
        "\n"
    )


def test_each_actions_files_are_extracted_just_before_it() -> None:
    files = (FileUpload("/run/sshorch/configs/default/x/a", b"1"),)
    actions = [action(sh("true")), action(sh("echo", "one"), files=files), action(sh("true"), files=files)]
    upload = build_node_upload(actions)
    assert upload.parts == {1: (0, 20), 2: (20, 20)}  # tarfile pads each archive to 10 KiB
    script = render_node_script(actions, upload=upload)
    lines = script.splitlines()
    extract_1 = lines.index('sshorch_w1=$(sshorch_extract 0 20) && sshorch_w1= || sshorch_w1="error: files not written: $sshorch_w1"')
    assert lines.index("echo '@@sshorch-fact:a0'") < extract_1 < lines.index("echo '@@sshorch-fact:a1'")
    assert lines[extract_1 + 2] == '( [ -z "$sshorch_w1" ] || { printf \'%s\\n\' "$sshorch_w1"; exit 1; }'
    assert lines[-1] == 'rm -f "$sshorch_upload"; trap - EXIT'


def test_no_files_no_upload() -> None:
    assert "upload" not in render_node_script([action(sh("true"))])
    assert build_node_upload([action(sh("true"))]) == NodeUpload()


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


def run_with_upload(actions: list[Action], root: Path, follow_up: str = "") -> str:
    """The script as a node runs it: the upload on stdin, files extracted under `root`."""
    upload = build_node_upload(actions)
    script = render_node_script(actions, follow_up, upload, root=str(root))
    done = subprocess.run(["/bin/sh", "-c", script], input=upload.data, capture_output=True, cwd=root, timeout=20, check=False)
    assert done.stderr == b""
    return done.stdout.decode()


CONFIG = "/run/sshorch/configs/default/x"


@pytest.mark.parametrize(
    "bad",
    [
        FileUpload(f"{CONFIG}/.", b"item path '.'"),
        FileUpload(f"{CONFIG}/x/", b"item path 'x/'"),
        FileUpload(f"{CONFIG}/a", b"a file where the first action made a directory"),
    ],
    ids=["dot", "trailing-slash", "directory-in-the-way"],
)
def test_files_a_node_cannot_write_fail_their_action_only(tmp_path: Path, bad: FileUpload) -> None:
    """Such files once made `tar -x` fail before every action, which aborted all of the node's
    actions on every pass. Now only the action they belong to fails; the others run."""
    ran, never = tmp_path / "ran", tmp_path / "never"
    actions = [
        action(sh("echo", "first"), files=(FileUpload(f"{CONFIG}/ok", b"fine"), FileUpload(f"{CONFIG}/a/b", b"nested")),
               target="first"),
        action(sh("touch", str(never)), files=(bad,), target="bad"),
        action(sh("touch", str(ran)), files=(FileUpload(f"{CONFIG}/after", b"after"),), target="after"),
        action(sh("echo", "no files"), target="plain"),
    ]  # fmt: skip
    results = {r.action.target: r for r in parse_node_output(actions, run_with_upload(actions, tmp_path))}
    assert [results[t].ok for t in ("first", "bad", "after", "plain")] == [True, False, True, True]
    assert results["bad"].error_line().startswith("error: files not written: tar: "), results["bad"].output
    assert ran.exists() and not never.exists()
    written = tmp_path / CONFIG.lstrip("/")
    assert [(written / name).read_bytes() for name in ("ok", "a/b", "after")] == [b"fine", b"nested", b"after"]
    assert not list((tmp_path / "run" / "sshorch").glob(".upload.*"))  # the node's copy of stdin is gone


def test_files_land_with_their_modes_and_the_copy_of_stdin_is_removed(tmp_path: Path) -> None:
    secret = FileUpload("/run/sshorch/secrets/default/c-0123456789/pw", SecretBytes(b"hunter2"), 0o400)
    config = FileUpload(f"{CONFIG}/conf/app.conf", b"a=1", 0o644)
    actions = [action(sh("true"), files=(secret,)), action(sh("true"), files=(config,))]
    assert [r.ok for r in parse_node_output(actions, run_with_upload(actions, tmp_path))] == [True, True]
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "run").rglob("*")}
    assert modes == {
        "run/sshorch": 0o755, "run/sshorch/secrets": 0o700, "run/sshorch/secrets/default": 0o700,
        "run/sshorch/secrets/default/c-0123456789": 0o755, "run/sshorch/secrets/default/c-0123456789/pw": 0o400,
        "run/sshorch/configs": 0o755, "run/sshorch/configs/default": 0o755, "run/sshorch/configs/default/x": 0o755,
        "run/sshorch/configs/default/x/conf": 0o755, "run/sshorch/configs/default/x/conf/app.conf": 0o644,
    }  # fmt: skip


def test_a_failed_upload_fails_only_the_actions_with_files(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    actions = [action(sh("touch", str(tmp_path / "never")), files=(FileUpload(f"{CONFIG}/a", b"1"),)),
               action(sh("touch", str(ran)))]
    # The node's tmpfs cannot take the upload: mktemp fails, stdin is drained.
    (tmp_path / "run").write_text("not a directory")
    results = parse_node_output(actions, run_with_upload(actions, tmp_path))
    assert [(r.ok, r.output) for r in results] == [(False, "error: files not written: the upload did not arrive\n"), (True, "")]
    assert ran.exists() and not (tmp_path / "never").exists()


def test_batched_creations_extract_their_files_one_at_a_time_first(tmp_path: Path) -> None:
    shared = (FileUpload(f"{CONFIG}/LEVEL", b"info"),)
    actions = [create(sh("true"), target="first")] + [
        create(sh("cat", str(tmp_path / CONFIG.lstrip("/") / "LEVEL")), target=f"c{i}") for i in range(3)
    ]
    actions = [Action(a.kind, a.node, a.target, a.reason, a.steps, shared, a.workload, a.images, a.undo) for a in actions]
    results = parse_node_output(actions, run_with_upload(actions, tmp_path))
    assert [(r.ok, r.output) for r in results] == [(True, "")] + [(True, "info")] * 3


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
        create(sh("sh", "-c", "echo refused; false"), undo=(sh("sh", "-c", f"echo undone; touch {tmp_path}/undone"),), target="fails"),
    ]
    script = render_node_script(actions)
    assert script.count(" &\n") == 3
    results = parse_node_output(actions, run_script(script, tmp_path))
    assert [(r.action.target, r.ok, r.output) for r in results] == [
        ("first", True, "first\n"), ("waits", True, "saw\n"), ("makes", True, "made\n"), ("fails", False, "refused\n"),
    ]
    # The undo ran, and what it printed does not bury why the action failed.
    assert (tmp_path / "undone").exists()
