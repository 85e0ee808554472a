"""The secret-env wrapper: exact argv, and its shell run for real by /bin/sh."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.runtime import ContainerRun, PodRun
from sshorch.runtime.docker import Docker
from sshorch.runtime.podman import Podman
from sshorch.runtime.secretenv import RESOLVE, SOURCE_AND_EXEC, SecretEnvNameError, env_script, image_words_format, shell_quote

ENV = "/run/sshorch/env"


def create(container: ContainerRun) -> list[str]:
    return Podman().create_pod(PodRun("p", "p", (), (container,)))[1]


def test_without_secret_env_the_command_is_the_entrypoint_and_the_rest_args() -> None:
    argv = create(ContainerRun("c", "img", command=("sh", "-c"), args=("echo hi",)))
    assert argv[-5:] == ["--entrypoint", "sh", "img", "-c", "echo hi"]


def test_with_a_manifest_command_the_wrapper_needs_no_lookup() -> None:
    argv = create(ContainerRun("c", "img", command=("/bin/app", "--x"), args=("y",), secret_env=ENV))
    assert argv[0] == "podman"
    assert argv[-9:] == ["--entrypoint", "/bin/sh", "img", "-c", SOURCE_AND_EXEC, ENV, "/bin/app", "--x", "y"]


def test_without_a_command_the_image_words_are_read_on_the_node_and_pulled_once() -> None:
    argv = create(ContainerRun("c", "img", args=("--port", "80"), secret_env=ENV, pull="always"))
    assert argv[:11] == ["sh", "-c", RESOLVE, "sshorch-create", "podman", "img", "always",
                         image_words_format(with_cmd=False), "2", "--port", "80"]
    assert argv.count("--pull") == 1  # the script pulled; create does not again
    assert argv[11:14] == ["podman", "run", "-d"]
    assert argv[-8:] == ["--pull", "never", "--entrypoint", "/bin/sh", "img", "-c", SOURCE_AND_EXEC, ENV]


def test_docker_uses_the_same_wrapper() -> None:
    commands = Docker(pause_image="pause").create_pod(PodRun("p", "p", (), (ContainerRun("c", "img", secret_env=ENV),)))
    assert commands[1][:9] == ["sh", "-c", RESOLVE, "sshorch-create", "docker", "img", "missing",
                               image_words_format(with_cmd=True), "0"]
    assert commands[1][9:11] == ["docker", "create"]


def test_the_template_quotes_every_word() -> None:
    assert image_words_format(with_cmd=True) == (
        "{{range .Config.Entrypoint}} '{{join (split . `'`) `'\\''`}}'{{end}}"
        "{{range .Config.Cmd}} '{{join (split . `'`) `'\\''`}}'{{end}}"
    )


@pytest.fixture
def fake_runtime(tmp_path: Path) -> Path:
    """A runtime whose `image inspect --format` prints what the template would for
    ENTRYPOINT ["/bin/it's", "a b"] and CMD ["$HOME", "x"], and logs pulls."""
    runtime = tmp_path / "rt"
    words = " " + " ".join(shell_quote(w.encode()).decode() for w in ["/bin/it's", "a b"])
    cmd = " " + " ".join(shell_quote(w.encode()).decode() for w in ["$HOME", "x"])
    runtime.write_text(
        "#!/bin/sh\n"
        f'case "$1 $2" in\n'
        f'  "image inspect") [ -f {tmp_path}/present ] || exit 1\n'
        f'    case "$3" in --format) case "$4" in *Cmd*) printf "%s%s\\n" {shell_quote(words.encode()).decode()} '
        f'{shell_quote(cmd.encode()).decode()};; *) printf "%s\\n" {shell_quote(words.encode()).decode()};; esac;; esac;;\n'
        f'  "pull -q") echo pulled >> {tmp_path}/log; touch {tmp_path}/present;;\n'
        '  *) exit 2;;\n'
        "esac\n"
    )
    runtime.chmod(0o755)
    return runtime


def run_resolve(runtime: Path, pull: str, args: list[str]) -> list[str]:
    show = ["sh", "-c", 'for a in "$@"; do printf "[%s]" "$a"; done', "show", "create", "..."]
    template = image_words_format(with_cmd=not args)
    out = subprocess.run(["sh", "-c", RESOLVE, "sshorch-create", str(runtime), "img", pull, template, str(len(args)), *args, *show],
                         capture_output=True, text=True, check=True).stdout
    return out[1:-1].split("][")


def test_resolve_appends_entrypoint_and_cmd_after_pulling_a_missing_image(fake_runtime: Path) -> None:
    assert run_resolve(fake_runtime, "missing", []) == ["create", "...", "/bin/it's", "a b", "$HOME", "x"]
    assert (fake_runtime.parent / "log").read_text() == "pulled\n"
    run_resolve(fake_runtime, "missing", [])
    assert (fake_runtime.parent / "log").read_text() == "pulled\n"  # present now: no second pull


def test_resolve_puts_manifest_args_after_the_entrypoint_and_drops_cmd(fake_runtime: Path) -> None:
    (fake_runtime.parent / "present").touch()
    assert run_resolve(fake_runtime, "never", ["--port", "8 0", "'"]) == ["create", "...", "/bin/it's", "a b", "--port", "8 0", "'"]


def test_resolve_fails_when_the_image_is_missing_and_pulling_is_not_allowed(fake_runtime: Path) -> None:
    done = subprocess.run(["sh", "-c", RESOLVE, "x", str(fake_runtime), "img", "never", "{{.}}", "0", "true"])
    assert done.returncode == 1


def source_and_run(tmp_path: Path, variables: list[tuple[str, bytes]], command: list[str]) -> bytes:
    env_file = tmp_path / "env"
    env_file.write_bytes(env_script(variables))
    return subprocess.run(["sh", "-c", SOURCE_AND_EXEC, str(env_file), *command], capture_output=True, check=True,
                          env={"PATH": os.environ["PATH"]}).stdout


def test_the_wrapper_exports_the_variables_then_runs_the_command(tmp_path: Path) -> None:
    variables = [("PW", b"it's $x `y`\nz"), ("_under_score9", b"v'1")]
    out = source_and_run(tmp_path, variables, ["sh", "-c", 'printf "%s|" "$PW" "$0" "$1"', "a 0", "b"])
    assert out == b"it's $x `y`\nz|a 0|b|"
    environment = source_and_run(tmp_path, variables, ["env"]).split(b"\n")
    assert b"_under_score9=v'1" in environment


@pytest.mark.parametrize("name", ["dotted.name", "dash-name", "9lives", "a b", ""])
def test_names_a_shell_cannot_hold_are_refused_never_put_in_an_argv(name: str) -> None:
    """They went through `set -- env 'NAME=value' "$@"`: the value in env(1)'s argv, which any
    process on the node could read in /proc. The manifest check refuses them at load."""
    with pytest.raises(SecretEnvNameError, match="is not a shell name"):
        env_script([("OK", b"1"), (name, b"hunter2")])


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=0, max_size=64).filter(lambda b: b"\0" not in b))
def test_any_value_without_nul_arrives_unchanged(value: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = source_and_run(Path(tmp), [("V", value)], ["sh", "-c", 'printf "%s" "$V"'])
    assert out == value
