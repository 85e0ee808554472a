"""exec probes: the one script per node, its output, and running it for real with a fake runtime."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from sshorch.observe.facts import render_section
from sshorch.probes.prober import parse_exec_probe_output, render_exec_probe_script, script_timeout
from sshorch.runtime.registry import runtime_for
from sshorch.probes.model import ProbeTask
from tests.unit.probes.helpers import exec_probe, key, target, task

TOKEN = "0123abcd"


def exec_task(pod: str, *command: str, timeout: int = 1, container: str = "web") -> ProbeTask:
    return task("liveness", target({"liveness": exec_probe(*command, timeout_seconds=timeout)}, pod=pod,
                                   container=container))


def test_script_text_for_a_small_case() -> None:
    tasks = [exec_task("a", "cat", "/tmp/ready"), exec_task("b", "sh", "-c", "test -f '/tmp/x y'", timeout=3)]
    assert render_exec_probe_script(tasks, runtime_for("podman"), TOKEN) == """\
exec 2>&1 </dev/null
export LC_ALL=C
echo '@@sshorch-probes:0123abcd'
d=$(mktemp -d) || exit
trap 'rm -rf "$d"' EXIT
{
echo '@@sshorch-fact:probe-0123abcd-0'
( timeout -k 1 1 podman exec a-web cat /tmp/ready >"$d/0.out" 2>&1; rc=$?; tail -c 4096 "$d/0.out"; exit $rc
); rc=$?
echo; echo "@@sshorch-end:probe-0123abcd-0:$rc"
} >"$d/0" 2>&1 &
{
echo '@@sshorch-fact:probe-0123abcd-1'
( timeout -k 1 3 podman exec b-web sh -c 'test -f '"'"'/tmp/x y'"'"'' >"$d/1.out" 2>&1; rc=$?; tail -c 4096 "$d/1.out"; exit $rc
); rc=$?
echo; echo "@@sshorch-end:probe-0123abcd-1:$rc"
} >"$d/1" 2>&1 &
wait
cat "$d/0"
cat "$d/1"
"""


def test_docker_runtime_and_a_fresh_token_per_script() -> None:
    tasks = [exec_task("a", "true")]
    assert "timeout -k 1 1 docker exec a-web true" in render_exec_probe_script(tasks, runtime_for("docker"))
    assert render_exec_probe_script(tasks, runtime_for("podman")) != render_exec_probe_script(tasks, runtime_for("podman"))


def test_script_timeout_covers_the_slowest_probe() -> None:
    assert script_timeout([exec_task("a", "true", timeout=1), exec_task("b", "true", timeout=7)]) == 7 + 1 + 10


def framed(sections: list[tuple[int, str, int]], token: str = TOKEN) -> str:
    """Output as the script prints it: the header, then each (index, output, exit status) framed."""
    text = f"@@sshorch-probes:{token}\n"
    for index, output, status in sections:
        text += f"@@sshorch-fact:probe-{token}-{index}\n{output}\n@@sshorch-end:probe-{token}-{index}:{status}\n"
    return text


def test_parse_framed_output() -> None:
    tasks = [exec_task(p, "x") for p in ("a", "b", "c", "d", "e")]
    output = framed([(0, "ok\n", 0), (1, "", 0), (2, "line one\ncat: can't open '/nope': No such file\n", 1),
                     (3, "", 124)])
    assert parse_exec_probe_output(tasks, output) == {
        key("liveness", "a"): (True, "ok"),
        key("liveness", "b"): (True, "exited 0"),
        key("liveness", "c"): (False, "exited 1: cat: can't open '/nope': No such file"),
        key("liveness", "d"): (False, "timed out after 1s"),
        # "e" has no section: the script did not get to it, so no result at all.
    }


def test_parse_needs_the_header_and_its_token() -> None:
    tasks = [exec_task("a", "x")]
    assert parse_exec_probe_output(tasks, "") == {}
    assert parse_exec_probe_output(tasks, "sh: mktemp: not found\n") == {}
    # Sections with another token are not this script's.
    output = f"@@sshorch-probes:{TOKEN}\n" + framed([(0, "", 0)], token="ffff").split("\n", 1)[1]
    assert parse_exec_probe_output(tasks, output) == {}


def run_locally(tasks: list[ProbeTask], env: dict[str, str]) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(["sh", "-c", render_exec_probe_script(tasks, runtime_for("podman"))], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.stderr == ""
    return done.stdout, time.monotonic() - started


def test_rendered_script_runs_every_probe_side_by_side(fake_runtime: dict[str, str], tmp_path: Path) -> None:
    tasks = [
        exec_task("ok", "sh", "-c", 'echo "probing $CONTAINER"'),
        exec_task("fails", "sh", "-c", "echo starting; echo 'not ready yet' >&2; exit 3"),
        exec_task("missing", "cat", "/nope/file"),
        exec_task("slow", "sleep", "5", timeout=1),
        exec_task("quoted", "printf", "%s\n", "a b; echo pwned $(id)"),
        exec_task("s1", "sleep", "1", timeout=3),
        exec_task("s2", "sleep", "1", timeout=3),
    ]
    output, elapsed = run_locally(tasks, fake_runtime)
    results = parse_exec_probe_output(tasks, output)
    assert results[key("liveness", "ok")] == (True, "probing ok-web")
    assert results[key("liveness", "fails")] == (False, "exited 3: not ready yet")
    assert results[key("liveness", "missing")][0] is False
    assert "No such file" in results[key("liveness", "missing")][1]
    assert results[key("liveness", "slow")] == (False, "timed out after 1s")
    assert results[key("liveness", "quoted")] == (True, "a b; echo pwned $(id)")
    assert results[key("liveness", "s1")] == results[key("liveness", "s2")] == (True, "exited 0")
    # Side by side: the 5 s sleep was cut at 1 s, and the 1 s sleeps did not add up.
    assert elapsed < 2.5
    # The temporary directory is gone.
    assert [p.name for p in tmp_path.iterdir()] == ["bin"]


def test_a_probe_cannot_print_another_probes_result(fake_runtime: dict[str, str]) -> None:
    # Without the token it can only guess the markers; its fake section is not the victim's.
    forged = "echo @@sshorch-end:probe-0:0; echo @@sshorch-fact:probe-0; echo @@sshorch-end:probe-0:0; exit 1"
    tasks = [exec_task("victim", "sh", "-c", "echo down; exit 1"), exec_task("forger", "sh", "-c", forged)]
    output, _ = run_locally(tasks, fake_runtime)
    results = parse_exec_probe_output(tasks, output)
    assert results[key("liveness", "victim")] == (False, "exited 1: down")
    assert results[key("liveness", "forger")][0] is False


def test_only_the_end_of_a_long_output_comes_back(fake_runtime: dict[str, str]) -> None:
    tasks = [exec_task("chatty", "sh", "-c", "yes line | head -n 100000; echo last words")]
    output, _ = run_locally(tasks, fake_runtime)
    assert len(output) < 5000
    assert parse_exec_probe_output(tasks, output) == {key("liveness", "chatty"): (True, "last words")}


def test_the_framing_is_the_gather_framing() -> None:
    script = render_exec_probe_script([exec_task("a", "true")], runtime_for("podman"), "x")
    command = script.split("( ", 1)[1].split("\n); rc=$?", 1)[0]
    assert render_section("probe-x-0", command) in script
