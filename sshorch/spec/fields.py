"""Reading one manifest document field by field.

Every getter reports a bad value as a Problem at its dotted path and returns a
fallback, so one pass finds every problem of a document.  A value that is
wrong is reported once: a mapping of the wrong type does not also report each
of its required fields as missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sshorch.inventory.model import FrozenMap

from .notices import Notice
from .problems import Problem
from .limits import INT32_MAX

L = TypeVar("L", bound=str)

# A check returns None when the value is fine, else what is allowed ("must be ...").
Check = Callable[[str], "str | None"]


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def describe(value: object) -> str:
    """A value as it appears in a message: short, on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int) and abs(value) >= 10**20:
        digits = len(str(abs(value)))
        return f"{str(value)[:12]}... ({digits} digits)"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{describe(str(value))} (a {type(value).__name__})"


def describe_type(value: object) -> str:
    """Only the kind of a value, for values that must not be shown (secrets)."""
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    names = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return names.get(type(value), f"a {type(value).__name__}")


def one_of(choices: Iterable[str]) -> str:
    items = [c if c else "''" for c in choices]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class Ref:
    """A reference from one object to another of the same namespace, checked against the whole set."""

    kind: str
    name: str
    path: str
    optional: bool = False
    key: str | None = None  # a ConfigMap key the reference needs
    env_prefix: str | None = None  # an envFrom Secret: its keys, after this prefix, must be shell names
    types: tuple[str, ...] = ()  # the Secret types the reference takes (any, when empty)


class Report:
    """The problems, references and notices found in one document."""

    def __init__(self, file: str, obj: str | None) -> None:
        self.file = file
        self.obj = obj
        self.problems: list[Problem] = []
        self.refs: list[Ref] = []
        self.notices: list[Notice] = []

    def add(self, path: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, self.obj, path or None, message))

    def has_problems_under(self, path: str) -> bool:
        return any(p.path is not None and (p.path == path or p.path.startswith((path + ".", path + "["))) for p in self.problems)

    def note(self, notice: Notice) -> None:
        self.notices.append(notice)

    def refer(self, ref: Ref) -> None:
        if ref.name:  # an invalid name was already reported
            self.refs.append(ref)


class Fields:
    """A mapping at ``path`` whose keys must all be in ``allowed``."""

    def __init__(self, report: Report, value: object, path: str, allowed: Iterable[str]) -> None:
        self.report = report
        self.path = path
        # Broken: the mapping itself was reported, so its contents are not.
        self.broken = False
        allowed = tuple(allowed)
        data: dict[Any, Any] = {}
        if isinstance(value, dict):
            data = value
        elif value is not None:
            report.add(path, f"must be a mapping, got {describe(value)}")
            self.broken = True
        # Unsupported keys were reported: "exactly one of" checks stay quiet about them.
        self.unsupported = any(key not in allowed for key in data)
        for key in data:
            if key not in allowed:
                report.add(join(path, str(key)), f"unsupported field; supported here: {', '.join(allowed)}")
        # null is the same as absent, as in Kubernetes.
        self._data = {k: v for k, v in data.items() if k in allowed and v is not None}

    # --- plumbing ---

    def at(self, key: str) -> str:
        return join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self._data

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def fail(self, key: str, message: str) -> None:
        self.report.add(self.at(key), message)

    def missing(self, key: str, message: str = "is required") -> None:
        # A misspelt key was reported as unsupported; the field it meant is not also reported missing.
        if not self.broken and not self.unsupported:
            self.fail(key, message)

    def exactly_one(self, choices: tuple[str, ...]) -> str | None:
        """The one of ``choices`` given; None (reported unless something else was) otherwise."""
        given = [choice for choice in choices if self.has(choice)]
        if len(given) == 1:
            return given[0]
        if not self.broken and not (self.unsupported and not given):  # see missing()
            self.report.add(self.path, f"must have exactly one of {', '.join(choices)}")
        return None

    def sub(self, key: str, allowed: Iterable[str], *, required: bool = False) -> Fields:
        if required and not self.has(key):
            self.missing(key)
            sub = Fields(self.report, None, self.at(key), allowed)
            sub.broken = True
            return sub
        return Fields(self.report, self.raw(key), self.at(key), allowed)

    def items(self, key: str, *, required: bool = False) -> list[tuple[str, Any]]:
        """The elements of a list field with their paths."""
        value = self.raw(key)
        if value is None or value == []:
            if required:
                self.missing(key, "is required and must not be empty")
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list, got {describe(value)}")
            return []
        return [(index(self.at(key), i), item) for i, item in enumerate(value)]

    # --- scalars ---

    def _str(self, key: str, check: Check | None) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(key, f"must be a string, got {describe(value)}")
            return None
        if check is not None:
            rule = check(value)
            if rule is not None:
                self.fail(key, f"{rule}, got {describe(value)}")
                return None
        return value

    def optional_str(self, key: str, check: Check | None = None) -> str | None:
        return self._str(key, check)

    def get_str(self, key: str, default: str, check: Check | None = None) -> str:
        value = self._str(key, check)
        return default if value is None else value

    def required_str(self, key: str, check: Check | None = None) -> str:
        """The value, or "" when missing or invalid (reported)."""
        if not self.has(key):
            self.missing(key)
            return ""
        return self.get_str(key, "", check)

    def _int(self, key: str, minimum: int | None, maximum: int | None) -> int | None:
        value = self.raw(key)
        if value is None:
            return None
        ok = isinstance(value, int) and not isinstance(value, bool)
        # Without a bound of its own, a field takes what Kubernetes' int32 fields take.
        limit = INT32_MAX if maximum is None else maximum
        if ok and (minimum is None or value >= minimum) and value <= limit:
            return int(value)
        if minimum is not None and maximum is not None:
            what = f"an integer {minimum}-{maximum}"
        elif ok and value > limit:
            what = f"an integer at most {limit}"
        elif minimum is not None and ok:
            what = f"an integer >= {minimum}"
        else:
            what = "an integer"
        self.fail(key, f"must be {what}, got {describe(value)}")
        return None

    def optional_int(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int | None:
        return self._int(key, minimum, maximum)

    def get_int(self, key: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._int(key, minimum, maximum)
        return default if value is None else value

    def required_int(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int | None:
        if not self.has(key):
            self.missing(key)
            return None
        return self._int(key, minimum, maximum)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {describe(value)}")
            return default
        return value

    def get_choice(self, key: str, choices: tuple[L, ...], default: L) -> L:
        value = self.raw(key)
        if value is None:
            return default
        for choice in choices:
            if value == choice:
                return choice
        self.fail(key, f"must be {one_of(choices)}, got {describe(value)}")
        return default

    # --- collections of strings ---

    def str_list(self, key: str) -> tuple[str, ...]:
        result = []
        for path, item in self.items(key):
            if isinstance(item, str):
                result.append(item)
            else:
                self.report.add(path, f"must be a string, got {describe(item)}")
        return tuple(result)

    def str_map(self, key: str, check_key: Check, check_value: Check | None = None) -> FrozenMap[str, str]:
        value = self.raw(key)
        if value is None:
            return FrozenMap()
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {describe(value)}")
            return FrozenMap()
        result: dict[str, str] = {}
        for name, item in value.items():
            path = f"{self.at(key)}[{name}]"
            rule = check_key(name) if isinstance(name, str) else "must be a string"
            if rule is not None:
                self.report.add(path, f"key {rule}, got {describe(name)}")
            elif not isinstance(item, str):
                self.report.add(path, f"must be a string, got {describe(item)}")
            elif check_value is not None and (rule := check_value(item)) is not None:
                self.report.add(path, f"{rule}, got {describe(item)}")
            else:
                result[name] = item
        return FrozenMap(result)
