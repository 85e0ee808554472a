"""How to reach a host beyond address, port, user and key: ``ansible_connection``,
``ansible_ssh_common_args`` / ``ansible_ssh_extra_args``, and ``ansible_become_*``.

Each setting is honoured or recorded as a problem naming the file, the host,
the variable and the fix. Problems do not stop the inventory from loading
(it still reads as ``ansible-inventory`` reads it): connecting to the host
raises the first one, before anything runs on any node.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sshorch.durations import parse_duration
from sshorch.errors import InventoryError, SshorchError

from .vaulted import Decrypt, Vaulted, reveal

__all__ = ["HostConnection", "parse_host_connection"]

SSH_CONNECTIONS = frozenset({"ssh", "paramiko", "paramiko_ssh", "smart"})
# ssh -o options sshorch carries out (lower-case, as ssh compares them).
HONOURED = ("proxyjump", "proxycommand", "userknownhostsfile", "stricthostkeychecking", "port", "user",
            "identityfile", "connecttimeout", "serveraliveinterval", "serveralivecountmax")
# Options whose purpose sshorch serves anyway: connection sharing (one connection per node per
# run), log verbosity, and using only the given key.
ALREADY_SO = frozenset({"controlmaster", "controlpersist", "controlpath", "loglevel", "identitiesonly"})
_SPELLING = {name.lower(): name for name in (
    "ProxyJump", "ProxyCommand", "UserKnownHostsFile", "StrictHostKeyChecking", "Port", "User", "IdentityFile",
    "ConnectTimeout", "ServerAliveInterval", "ServerAliveCountMax",
)}
_STRICT = {"yes": "yes", "ask": "yes", "accept-new": "accept-new", "no": "accept-new", "off": "accept-new"}
_FLAG_OPTIONS = {"-J": "proxyjump", "-p": "port", "-l": "user", "-i": "identityfile"}
# 'Name=value', 'Name value' or 'Name = value', as ssh reads -o.
_OPTION = re.compile(r"\s*([A-Za-z]+)\s*(?:=|\s)\s*(\S.*)", re.DOTALL)


@dataclass(frozen=True)
class HostConnection:
    """A host's connection settings besides address, port, user and key file.

    ``explicit`` names which of port, user and key the inventory set, so that
    ``~/.ssh/config`` may supply the others (Ansible leaves them to ssh).
    """

    kind: str = "ssh"  # 'ssh' or 'local'
    explicit: frozenset[str] = frozenset()
    proxy_jump: str | None = None
    proxy_command: str | None = None
    known_hosts: str | None = None
    strict_host_keys: str | None = None  # 'yes' (refuse unknown keys) or 'accept-new'
    connect_timeout: float | None = None
    alive_interval: float | None = None
    alive_count: int | None = None
    node_timeout: float | None = None  # sshorch_node_timeout: silence after which the node is lost
    become_user: str = "root"
    become_password: str | None = field(default=None, repr=False)
    problems: tuple[str, ...] = ()
    # -o Port / User / IdentityFile from the ssh arguments: used where ansible_* does not say.
    args_port: int | None = None
    args_user: str | None = None
    args_key_file: str | None = None


class _Problems:
    def __init__(self, name: str, origins: Mapping[str, str], fallback: str) -> None:
        self.name, self.origins, self.fallback = name, origins, fallback
        self.found: list[str] = []

    def add(self, key: str, problem: str) -> None:
        self.found.append(f"{self.origins.get(key, self.fallback)}: host {self.name!r}: {key} {problem}")


def parse_host_connection(
    name: str,
    variables: Mapping[str, Any],
    origins: Mapping[str, str],
    fallback: str,
    decrypt: Decrypt | None = None,
) -> HostConnection:
    """The connection settings of host ``name`` from its merged variables."""
    problems = _Problems(name, origins, fallback)
    kind = _kind(variables, problems)
    options: dict[str, str] = {}
    for key in ("ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"):
        if variables.get(key):
            _parse_args(key, variables[key], options, problems)
    become_user, become_password = _become(variables, problems, origins, fallback, decrypt)
    node_timeout = _node_timeout(variables.get("sshorch_node_timeout"), problems)
    explicit = frozenset(
        setting for setting, keys in (
            ("port", ("ansible_port", "ansible_ssh_port")),
            ("user", ("ansible_user", "ansible_ssh_user")),
            ("key", ("ansible_private_key_file", "ansible_ssh_private_key_file")),
        ) if any(variables.get(k) is not None for k in keys)
    )
    if kind == "local" and become_password is not None:
        problems.add("ansible_become_password", "is not supported with ansible_connection=local: run sshorch as"
                     f" {become_user!r}, or let sudo run without a password")
    for key in ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password"):
        if variables.get(key) is not None and kind != "local":
            problems.add(key, "is not supported: sshorch logs in with keys only (ansible_ssh_private_key_file or ssh-agent)")
    return HostConnection(
        kind=kind,
        explicit=explicit,
        proxy_jump=options.get("proxyjump"),
        proxy_command=options.get("proxycommand"),
        known_hosts=options.get("userknownhostsfile"),
        strict_host_keys=options.get("stricthostkeychecking"),
        connect_timeout=_number(options, "connecttimeout", float),
        alive_interval=_number(options, "serveraliveinterval", float),
        alive_count=_number(options, "serveralivecountmax", int),
        node_timeout=node_timeout,
        become_user=become_user,
        become_password=become_password,
        problems=tuple(problems.found),
        args_port=_number(options, "port", int),
        args_user=options.get("user"),
        args_key_file=options.get("identityfile"),
    )


# A shorter silence than this is no sign of a dead node (TCP's retransmission timer starts
# at 200 ms and backs off); a longer one is not detection any more.
NODE_TIMEOUT_RANGE = (2.0, 300.0)


def _node_timeout(value: Any, problems: _Problems) -> float | None:
    if value is None:
        return None
    low, high = NODE_TIMEOUT_RANGE
    try:
        seconds = parse_duration(str(value))
    except SshorchError:
        seconds = -1.0
    if not low <= seconds <= high:
        problems.add("sshorch_node_timeout", f"must be a duration from {low:g}s to {high:g}s (e.g. 3s), got {value!r}")
        return None
    return seconds


def _kind(variables: Mapping[str, Any], problems: _Problems) -> str:
    value = variables.get("ansible_connection")
    if value is None or value in SSH_CONNECTIONS:
        return "ssh"
    if value == "local":
        return "local"
    problems.add("ansible_connection", f"{value!r} is not supported: sshorch connects with ssh or local")
    return "ssh"


def _parse_args(key: str, value: Any, options: dict[str, str], problems: _Problems) -> None:
    if not isinstance(value, str):
        problems.add(key, f"must be a string of ssh options, got {type(value).__name__}")
        return
    try:
        words = shlex.split(value)
    except ValueError as exc:
        problems.add(key, f"cannot be split into ssh options: {exc}")
        return
    pending: str | None = None
    for word in words:
        if pending is not None:
            _option(key, pending, word, options, problems)
            pending = None
        elif word in ("-o", *_FLAG_OPTIONS):
            pending = word
        elif word.startswith("-o") and len(word) > 2:
            _option(key, "-o", word[2:], options, problems)
        elif word[:2] in _FLAG_OPTIONS and len(word) > 2:
            _option(key, word[:2], word[2:], options, problems)
        elif word == "-q":
            continue  # quiet: sshorch's ssh prints nothing anyway
        else:
            problems.add(key, f"{word!r} is not supported (sshorch takes -o Option=value, -J, -p, -l and -i)")
    if pending is not None:
        problems.add(key, f"{pending!r} needs a value")


def _option(key: str, flag: str, text: str, options: dict[str, str], problems: _Problems) -> None:
    if flag != "-o":
        name, value = _FLAG_OPTIONS[flag], text
    else:
        match = _OPTION.fullmatch(text)
        if match is None:
            problems.add(key, f"-o {text!r} needs Option=value")
            return
        name, value = match[1].lower(), match[2].strip()
    if name in ALREADY_SO:
        return
    if name not in HONOURED:
        problems.add(key, f"-o {text} is not supported (sshorch honours {', '.join(sorted(_SPELLING.values()))};"
                          " remove it for sshorch)")
        return
    checked = _CHECKS[name](value)
    if checked is None:
        problems.add(key, f"{_SPELLING[name]} {value!r} is not a valid value")
        return
    # ssh takes the first value given for an option.
    options.setdefault(name, checked)


def _check_strict(value: str) -> str | None:
    return _STRICT.get(value.lower())


def _check_number(value: str) -> str | None:
    try:
        return value if float(value) > 0 else None
    except ValueError:
        return None


def _check_integer(value: str) -> str | None:
    return value if value.isdigit() and 0 < int(value) <= 65535 else None


def _check_known_hosts(value: str) -> str | None:
    return value if len(value.split()) == 1 else None  # several files: not supported


def _check_proxy_jump(value: str) -> str | None:
    return None if value.lower() == "none" else value


def _check_text(value: str) -> str | None:
    return value


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "proxyjump": _check_proxy_jump,
    "proxycommand": _check_text,
    "userknownhostsfile": _check_known_hosts,
    "stricthostkeychecking": _check_strict,
    "port": _check_integer,
    "user": _check_text,
    "identityfile": _check_text,
    "connecttimeout": _check_number,
    "serveraliveinterval": _check_number,
    "serveralivecountmax": _check_integer,
}


def _number(options: Mapping[str, str], name: str, kind: Callable[[str], Any]) -> Any:
    return kind(options[name]) if name in options else None


def _become(
    variables: Mapping[str, Any], problems: _Problems, origins: Mapping[str, str], fallback: str, decrypt: Decrypt | None
) -> tuple[str, str | None]:
    method = variables.get("ansible_become_method")
    if method is not None and method != "sudo":
        problems.add("ansible_become_method", f"{method!r} is not supported: sshorch becomes another user with sudo")
    for key in ("ansible_become_exe", "ansible_become_flags"):
        if variables.get(key):
            problems.add(key, "is not supported: sshorch runs sudo with its own flags")
    user = variables.get("ansible_become_user")
    if user is None:
        user = "root"
    elif not isinstance(user, str) or not user or not all(c.isalnum() or c in "._-" for c in user):
        problems.add("ansible_become_user", f"must be a user name, got {user!r}")
        user = "root"
    password = None
    for key in ("ansible_become_pass", "ansible_become_password"):  # the later name wins, as in Ansible
        if variables.get(key) is not None:
            password = _password(key, variables[key], problems, origins, fallback, decrypt)
    return user, password


def _password(
    key: str, value: Any, problems: _Problems, origins: Mapping[str, str], fallback: str, decrypt: Decrypt | None
) -> str | None:
    if isinstance(value, Vaulted):
        try:
            return reveal(value, decrypt, f"{origins.get(key, fallback)}: host {problems.name!r}: {key}")
        except InventoryError as exc:  # kept until the host is used
            problems.found.append(str(exc))
            return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        if "{{" in str(value):
            problems.add(key, "is a Jinja2 template, which sshorch does not render: write the value (vaulted)")
            return None
        return str(value)
    problems.add(key, "must be text")
    return None
