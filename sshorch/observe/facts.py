"""Facts: each a shell command and a pure parser of its real output.

All facts of a node are gathered in ONE exec: `render_gather_script` joins
their commands, framing each output with markers and its exit status, and
`split_sections` takes the combined output apart again.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sshorch.forwarding import forwarding_command, parse_forwarding
from sshorch.ipfamily import IPV4

BEGIN = "@@sshorch-fact:"
END = "@@sshorch-end:"
_SECTION = re.compile(
    rf"^{re.escape(BEGIN)}(?P<name>[\w-]+)\n(?P<body>.*?)^{re.escape(END)}(?P=name):(?P<rc>\d+)$",
    re.S | re.M,
)


@dataclass(frozen=True)
class Fact:
    """One fact: the shell command a node runs and the parser of its output."""

    name: str
    command: str
    parse: Callable[[str], Any]


@dataclass(frozen=True)
class Section:
    """One fact's output from the gather script, with its command's exit status."""

    name: str
    exit_status: int
    output: str


def parse_text(output: str) -> str:
    return output.strip()


def parse_int(output: str) -> int:
    return int(output.strip())


def parse_meminfo(output: str) -> dict[str, int]:
    """/proc/meminfo -> bytes for MemTotal and MemAvailable (and the rest)."""
    values: dict[str, int] = {}
    for line in output.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            scale = 1024 if len(parts) > 1 and parts[1] == "kB" else 1
            values[key.strip()] = int(parts[0]) * scale
    return values


def parse_ipv4_addresses(output: str) -> list[dict[str, str]]:
    """`ip -o -4 addr show scope global` -> [{"interface", "address", "prefix"}]."""
    found = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "inet":
            address, _, prefix = parts[3].partition("/")
            found.append({"interface": parts[1], "address": address, "prefix": prefix or "32"})
    return found


def parse_df_available(output: str) -> int:
    """`df -Pk PATH` -> available bytes on that filesystem."""
    lines = [line for line in output.splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError("df printed no filesystem line")
    return int(lines[-1].split()[3]) * 1024


def parse_runtime_version(output: str) -> dict[str, str]:
    """`podman --version` / `docker --version` -> {"runtime", "version"}."""
    text = output.strip()
    match = re.match(r"^(podman|Docker) version ([^\s,]+)", text)
    if not match:
        raise ValueError(f"unrecognised runtime version line {text[:80]!r}")
    return {"runtime": match.group(1).lower(), "version": match.group(2)}


def parse_runtime_path(output: str) -> dict[str, str]:
    """`command -v podman` -> {"runtime": "podman", "version": ""}: there, version not asked."""
    path = output.strip()
    if not path:
        raise ValueError("not found")
    return {"runtime": path.rsplit("/", 1)[-1], "version": ""}


# A runtime that does not answer within this is hung: the node is NotReady, and the gather
# still ends within its own timeout (observe.nodes.GATHER_TIMEOUT).
RUNTIME_TIMEOUT = 4


def bounded_runtime_call(runtime: str, command: str) -> str:
    """Shell that runs `command` (a runtime call) for at most RUNTIME_TIMEOUT; past that it
    fails with a line saying the runtime did not answer."""
    return (
        f"out=$(timeout {RUNTIME_TIMEOUT} sh -c {shlex.quote(command)}); rc=$?; "
        f"[ $rc -ne 124 ] || {{ echo '{runtime} did not answer within {RUNTIME_TIMEOUT}s'; exit 1; }}; "
        "printf '%s\\n' \"$out\"; exit $rc"
    )


# Tools a node works without, but worse: what each one's absence costs.
OPTIONAL_TOOLS = {
    "conntrack": "connections already sent to a removed endpoint are not forgotten; "
                 "a client reusing its source port may reach it again for up to 2 minutes",
}


def parse_missing_tools(output: str) -> list[str]:
    """One tool name per line, those `command -v` did not find."""
    return [line.strip() for line in output.splitlines() if line.strip()]


def missing_tools_fact() -> Fact:
    names = " ".join(sorted(OPTIONAL_TOOLS))
    return Fact("missing_tools", f"for t in {names}; do command -v \"$t\" >/dev/null || echo \"$t\"; done", parse_missing_tools)


def node_facts(runtime: str, version: bool = True) -> tuple[Fact, ...]:
    """The facts `sshorch nodes` gathers; the runtime is the inventory's sshorch_runtime.
    Without version, the runtime is only looked up (a converge pass needs no version,
    and on a node each runtime call costs tens of milliseconds of CPU)."""
    runtime_fact = (
        Fact("runtime", bounded_runtime_call(runtime, f"{runtime} --version"), parse_runtime_version) if version
        else Fact("runtime", f"command -v {runtime}", parse_runtime_path)
    )
    return (
        # What hostname and uname -r print, read by the shell itself: no process.
        Fact("hostname", "read -r name </proc/sys/kernel/hostname && echo \"$name\"", parse_text),
        Fact("kernel", "read -r release </proc/sys/kernel/osrelease && echo \"$release\"", parse_text),
        Fact("arch", "uname -m", parse_text),
        Fact("cpus", "nproc", parse_int),
        Fact("meminfo", "cat /proc/meminfo", parse_meminfo),
        Fact("addresses", "ip -o -4 addr show scope global", parse_ipv4_addresses),
        Fact("disk", "df -Pk /var/lib", parse_df_available),
        runtime_fact,
        *((missing_tools_fact(), Fact("forwarding", forwarding_command(IPV4), parse_forwarding)) if version else ()),
    )


def render_section(name: str, command: str) -> str:
    """Shell that runs `command` and frames its output and exit status for split_sections."""
    # Output may lack a final newline; the end marker must start a line.
    return f"echo '{BEGIN}{name}'\n( {command}\n); rc=$?\necho; echo \"{END}{name}:$rc\"\n"


def render_gather_script(facts: tuple[Fact, ...]) -> str:
    """One shell script printing every fact's output between markers, with its exit status."""
    return "exec 2>&1\nexport LC_ALL=C\n" + "".join(render_section(f.name, f.command) for f in facts)


def split_sections(output: str) -> dict[str, Section]:
    sections = {}
    for match in _SECTION.finditer(output):
        body = match.group("body")
        sections[match.group("name")] = Section(match.group("name"), int(match.group("rc")), body[:-1] if body.endswith("\n") else body)
    return sections


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class ParsedFacts:
    """A node's parsed facts by name, and why each of the others could not be read."""

    values: dict[str, Any]
    errors: dict[str, str]


def parse_gather_output(facts: tuple[Fact, ...], output: str) -> ParsedFacts:
    """Apply each fact's parser to its section; a failed command or parse is an error, not an exception."""
    sections = split_sections(output)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for fact in facts:
        section = sections.get(fact.name)
        if section is None:
            errors[fact.name] = "no output"
            continue
        if section.exit_status != 0:
            last = section.output.strip().splitlines()
            errors[fact.name] = f"`{fact.command}` failed ({section.exit_status}): {last[-1] if last else 'no output'}"
            continue
        try:
            values[fact.name] = fact.parse(section.output)
        except Exception as error:  # whatever a node printed, a parser that cannot read it fails that fact only
            errors[fact.name] = f"`{fact.command}`: cannot parse output: {_one_line(error)}"
    return ParsedFacts(values, errors)
