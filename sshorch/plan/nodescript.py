"""A node's actions as ONE shell script, and its output read back as results. Pure.

Files travel on the exec's stdin, one tar archive per action one after the
other; the script keeps them in a private file on the node's tmpfs, and each
action extracts its own archive before it runs. Each action is framed with
its exit status, so one failed action (its files included: a file tar cannot
write) is reported without stopping the others. A caller may give each node
a script to run after its actions in the same exec (the next pass's gather):
its output comes back with the results.
"""

from __future__ import annotations

import io
import shlex
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sshorch.nodefiles import dir_mode
from sshorch.observe.facts import BEGIN, END, render_section, split_sections
from sshorch.plan.model import Action, ActionKind, FileUpload, Step

UPLOAD_PREFIX = ".upload."  # the node's copy of an exec's stdin, in /run/sshorch (tmpfs)
BLOCK = 512  # tar's block size
CREATES_AT_ONCE = 4


@dataclass(frozen=True)
class ActionResult:
    """One action's exit status and output on its node."""

    action: Action
    ok: bool
    output: str = ""

    def error_line(self) -> str:
        """The runtime's error if it printed one, else the last line."""
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        errors = [line for line in lines if line.lower().startswith(("error", "time=")) or "error:" in line.lower()]
        return (errors or lines or ["failed"])[-1]


@dataclass(frozen=True)
class NodeResult:
    """One node's exec: each action's result, or why the exec failed as a whole."""

    node: str
    results: tuple[ActionResult, ...] = ()
    error: str = ""
    output: str = ""  # the exec's whole output, with what the follow-up script printed

    @property
    def ok(self) -> bool:
        return not self.error and all(r.ok for r in self.results)


@dataclass(frozen=True)
class Report:
    """A plan's execution, node by node."""

    nodes: tuple[NodeResult, ...]

    @property
    def ok(self) -> bool:
        return all(n.ok for n in self.nodes)

    def failures(self) -> list[str]:
        lines = [f"{n.node}: {n.error}" for n in self.nodes if n.error]
        lines += [f"{r.action.node}: {r.action.describe()}: {r.error_line()}" for n in self.nodes for r in n.results if not r.ok]
        return lines


def render_step(step: Step) -> str:
    command = shlex.join(step.argv)
    if step.unless is not None:
        command = f"{{ {shlex.join(step.unless)} >/dev/null 2>&1 || {command}; }}"
    if step.when is not None:
        command = f"{{ ! {shlex.join(step.when)} >/dev/null 2>&1 || {command}; }}"
    if step.ignore_errors:
        command = f"{{ {command} || true; }}"
    return command


@dataclass(frozen=True)
class NodeUpload:
    """What a node's exec gets on stdin: each action's files as a tar archive of its own, one
    after the other; `parts` maps an action's index to its archive's (first block, blocks),
    in 512-byte blocks (tar archives are made of them)."""

    data: bytes = b""
    parts: Mapping[int, tuple[int, int]] = field(default_factory=dict)


def build_node_upload(actions: Sequence[Action]) -> NodeUpload:
    archives = [(index, build_upload(action.files)) for index, action in enumerate(actions) if action.files]
    parts: dict[int, tuple[int, int]] = {}
    block = 0
    for index, archive in archives:
        parts[index] = (block, len(archive) // BLOCK)
        block += len(archive) // BLOCK
    return NodeUpload(b"".join(archive for _, archive in archives), parts)


def _receive(root: str) -> str:
    """Shell that keeps stdin in a private file ($sshorch_upload; empty, and stdin drained, when
    that fails). Files left by a run that was killed (no EXIT trap then) go after an hour."""
    directory = shlex.quote(f"{root.rstrip('/')}/run/sshorch")
    return "\n".join([
        f"find {directory} -maxdepth 1 -name '{UPLOAD_PREFIX}*' -mmin +60 -exec rm -f {{}} + 2>/dev/null",
        f"sshorch_upload=$(umask 077 && mkdir -p {directory} && mktemp {directory}/{UPLOAD_PREFIX}XXXXXX) "
        '&& cat >"$sshorch_upload" || { rm -f "$sshorch_upload"; sshorch_upload=; cat >/dev/null; }',
        "trap 'rm -f \"$sshorch_upload\"' EXIT",
        # An action's archive: blocks $1.. ($2 of them) of the upload, extracted under the root.
        'sshorch_extract() { [ -n "$sshorch_upload" ] || { echo "the upload did not arrive"; return 1; }; '
        f'dd if="$sshorch_upload" bs={BLOCK} skip="$1" count="$2" 2>/dev/null '
        f'| (umask 077 && tar -x -f - -C {shlex.quote(root)}) 2>&1; }}',
    ])


def _extract(index: int, part: tuple[int, int]) -> str:
    """Extract action `index`'s files now (in order, never two at once); $sshorch_w<index> says why not."""
    var = f"sshorch_w{index}"
    return f'{var}=$(sshorch_extract {part[0]} {part[1]}) && {var}= || {var}="error: files not written: ${var}"'


def render_node_script(actions: Sequence[Action], follow_up: str = "", upload: NodeUpload | None = None,
                       root: str = "/") -> str:  # fmt: skip
    """The shell a node runs for its actions, given `upload` on stdin: each action framed, its
    files extracted (under `root`) just before it, then `follow_up` (sections of its own, whose
    names are not a<N>). An action whose files cannot be written fails; the others go on."""
    upload = upload if upload is not None else build_node_upload(actions)
    parts = ["exec 2>&1", "export LC_ALL=C"]
    if upload.parts:
        parts.append(_receive(root))
    for group in _groups(actions):
        parts += [_extract(index, upload.parts[index]) for index, _ in group if index in upload.parts]
        bodies = [(f"a{index}", _body(action, index if index in upload.parts else None)) for index, action in group]
        parts.append(render_section(*bodies[0]) if len(bodies) == 1 else _render_together(bodies))
    if upload.parts:
        parts.append('rm -f "$sshorch_upload"; trap - EXIT')
    if follow_up:
        parts.append(follow_up)
    return "\n".join(parts) + "\n"


def _body(action: Action, files: int | None = None) -> str:
    """The action's shell; with `files` (its index) it first fails if its files were not written."""
    body = " && ".join(render_step(s) for s in action.steps) or "true"
    if action.undo:
        # Quiet: what undo prints (removed ids) would bury the error that made it run.
        undo = "; ".join(render_step(s) for s in action.undo)
        body = f"{{ {body}; }} || {{ rc=$?; {{ {undo}; }} >/dev/null 2>&1; exit $rc; }}"
    if files is not None:
        body = f'[ -z "$sshorch_w{files}" ] || {{ printf \'%s\\n\' "$sshorch_w{files}"; exit 1; }}\n{body}'
    return body


def _groups(actions: Sequence[Action]) -> list[list[tuple[int, Action]]]:
    """Actions in order, consecutive pod creations batched to run at once.

    A node's pod creations are independent of each other and spend much of their
    time waiting (locks, conmon, the network set-up), so a few at a time finish
    sooner. The node's first creation runs alone: it may have podman build its pause image."""
    groups: list[list[tuple[int, Action]]] = []
    created = batching = False
    for index, action in enumerate(actions):
        creates = action.kind == ActionKind.CREATE_POD
        if creates and batching and len(groups[-1]) < CREATES_AT_ONCE:
            groups[-1].append((index, action))
        else:
            groups.append([(index, action)])
            batching = creates and created
        created = created or creates
    return groups


def _render_together(sections: Sequence[tuple[str, str]]) -> str:
    """Run the bodies at once, then print their sections in order, as render_section would."""
    lines = ['d=$(mktemp -d) || exit 1']
    for number, (_, body) in enumerate(sections):
        lines.append(f'{{ ( {body}\n) >"$d/{number}" 2>&1; echo $? >"$d/{number}.rc"; }} &')
    lines.append("wait")
    for number, (name, _) in enumerate(sections):
        lines.append(f"echo '{BEGIN}{name}'; cat \"$d/{number}\"; echo; echo \"{END}{name}:$(cat \"$d/{number}.rc\")\"")
    lines.append('rm -rf "$d"')
    return "\n".join(lines) + "\n"


def build_upload(files: Sequence[FileUpload]) -> bytes:
    """A tar of the files (owner and group theirs, root unless set) with their parent directories, relative to /."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        added: set[str] = set()
        for upload in sorted(files, key=lambda f: f.path):
            relative = upload.path.lstrip("/")
            parts = relative.split("/")[:-1]
            for depth in range(2, len(parts) + 1):  # skip "run" itself
                directory = "/".join(parts[:depth])
                if directory not in added:
                    added.add(directory)
                    info = tarfile.TarInfo(directory)
                    info.type = tarfile.DIRTYPE
                    info.mode = dir_mode(directory)
                    tar.addfile(info)
            data = upload.data()
            info = tarfile.TarInfo(relative)
            info.size = len(data)
            info.mode = upload.mode
            info.uid, info.gid = upload.uid, upload.gid
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def parse_node_output(actions: Sequence[Action], output: str) -> tuple[ActionResult, ...]:
    sections = split_sections(output)
    results = []
    for index, action in enumerate(actions):
        section = sections.get(f"a{index}")
        if section is None:
            results.append(ActionResult(action, False, "no result (the node's run was cut short)"))
        else:
            results.append(ActionResult(action, section.exit_status == 0, section.output))
    return tuple(results)
