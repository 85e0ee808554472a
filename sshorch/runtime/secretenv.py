"""Secret environment variables that never reach the runtime's container config.

podman and docker keep a container's environment in its stored config (what
`inspect` shows, and config.json on the node's disk) — `--secret type=env`
included. So a container with secret variables runs its command under a shell
that sources a file from tmpfs first:

    /bin/sh -c '. "$0" && exec "$@"' /run/sshorch/env COMMAND...

The runtime's config then holds only that line and the real command; the
values live in the file (tmpfs on the node, mounted read-only) and in the
process's own environment. The image needs /bin/sh.

Without a manifest `command` the real command is the image's ENTRYPOINT (and
CMD, without manifest `args`), which only the node knows once the image is
there: a small script reads them with the runtime's `image inspect`, each word
single-quoted by the Go template itself, and appends them.
"""

from __future__ import annotations

import re

from sshorch.runtime.model import ContainerRun

Argv = list[str]

# $0 is the file to source, so this text is the same for every container.
SOURCE_AND_EXEC = '. "$0" && exec "$@"'

# One Go template word per ENTRYPOINT/CMD element: '...' with every ' as '\''.
_QUOTED = "{{range .Config.%s}} '{{join (split . `'`) `'\\''`}}'{{end}}"

# $1 runtime, $2 image, $3 pull policy, $4 template, $5 count of manifest args,
# then those args, then the create command. The image's words go after the
# create command, and the manifest args are rotated behind them.
RESOLVE = """rt=$1 img=$2 pull=$3 format=$4 n=$5; shift 5
case $pull in
  always) "$rt" pull -q "$img" >/dev/null || exit 1 ;;
  missing) "$rt" image inspect "$img" >/dev/null 2>&1 || "$rt" pull -q "$img" >/dev/null || exit 1 ;;
esac
words=$("$rt" image inspect --format "$format" "$img") || exit 1
eval "set -- \\"\\$@\\" $words"
i=0; while [ "$i" -lt "$n" ]; do set -- "$@" "$1"; shift; i=$((i+1)); done
exec "$@"
"""

_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def image_words_format(with_cmd: bool) -> str:
    """The `image inspect --format` template for the image's ENTRYPOINT (and CMD)."""
    return _QUOTED % "Entrypoint" + (_QUOTED % "Cmd" if with_cmd else "")


def shell_quote(value: bytes) -> bytes:
    return b"'" + value.replace(b"'", b"'\\''") + b"'"


class SecretEnvNameError(ValueError):
    """A secret variable's name is not a shell name (validation at load refuses those)."""


def env_script(variables: list[tuple[str, bytes]]) -> bytes:
    """The sourced file: one `export NAME='value'` a variable. Only shell names: any other
    name (Kubernetes allows '.' and '-') could only be set by env(1) with `NAME=value` in its
    argv, where every process on the node can read it."""
    lines = []
    for name, value in variables:
        if not _SHELL_NAME.fullmatch(name):
            raise SecretEnvNameError(f"secret variable {name!r} is not a shell name (letters, digits and '_')")
        lines.append(b"export " + name.encode() + b"=" + shell_quote(value) + b"\n")
    return b"".join(lines)


def create_command(runtime: str, create: Argv, container: ContainerRun) -> Argv:
    """`create` argv (ending with the options, before the image) completed for this container.

    A manifest `command` becomes `--entrypoint` (its first word: docker takes no
    list there) with the rest in front of `args`; it replaces the image's CMD too."""
    pulled = [*create, "--pull", container.pull]
    if not container.secret_env:
        if not container.command:
            return [*pulled, container.image, *container.args]
        first, *rest = container.command
        return [*pulled, "--entrypoint", first, container.image, *rest, *container.args]
    wrapper = ["--entrypoint", "/bin/sh", container.image, "-c", SOURCE_AND_EXEC, container.secret_env]
    if container.command:
        return [*pulled, *wrapper, *container.command, *container.args]
    # The script pulls as the policy says before it reads the image: create pulls no more.
    template = image_words_format(with_cmd=not container.args)
    return ["sh", "-c", RESOLVE, "sshorch-create", runtime, container.image, container.pull, template,
            str(len(container.args)), *container.args, *create, "--pull", "never", *wrapper]
