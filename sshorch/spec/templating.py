"""Jinja2 manifest templates (``*.j2``) and the values they are rendered with.

Context precedence, lowest first: inventory variables, values files (in order,
merged deeply), ``--set key=value`` (dotted keys make nested mappings; the
value is read as a YAML scalar, so ``replicas=3`` is the integer 3).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml

from .errors import ManifestError, Problem

if TYPE_CHECKING:
    import jinja2

SET_SOURCE = "--set"


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``; mappings present in both are merged, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_set_value(text: str) -> Any:
    """A ``--set`` value: a YAML scalar (``3`` int, ``true`` bool, ``v2`` string); "" stays ""."""
    if text == "":
        return ""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # Only scalars: 'a,b' or '[x' stay the text as written.
    return text if isinstance(value, (list, dict)) else value


def parse_set_values(items: Sequence[str]) -> dict[str, Any]:
    """``["image.tag=v2", "replicas=3"]`` -> ``{"image": {"tag": "v2"}, "replicas": 3}``."""
    result: dict[str, Any] = {}
    problems = []
    for item in items:
        key, equals, text = item.partition("=")
        parts = key.split(".")
        if not equals or not all(part.strip() for part in parts):
            problems.append(Problem(SET_SOURCE, None, None, f"expected key=value (dotted keys for nested values), got {item!r}"))
            continue
        nested: Any = parse_set_value(text)
        for part in reversed(parts[1:]):
            nested = {part.strip(): nested}
        result = merge_values(result, {parts[0].strip(): nested})
    if problems:
        raise ManifestError(problems)
    return result


def build_template_context(
    variables: Mapping[str, Any], values: Sequence[Mapping[str, Any]] = (), set_values: Sequence[str] = ()
) -> dict[str, Any]:
    context = dict(variables)
    for layer in values:
        context = merge_values(context, layer)
    return merge_values(context, parse_set_values(set_values))


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1_000_000).rstrip("\n").removesuffix("\n...")


def _b64encode(value: str | bytes) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


def _b64decode(value: str) -> str:
    return base64.b64decode(value).decode()


def _environment() -> jinja2.Environment:
    import jinja2  # here: only templates need it, and commands that read no manifest start faster

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters.update(
        b64encode=_b64encode,
        b64decode=_b64decode,
        to_json=lambda value: json.dumps(value, sort_keys=True),
        to_yaml=_to_yaml,
    )
    return env


def _template_line(tb: TracebackType | None, name: str) -> int | None:
    """The template line an exception was raised at: Jinja2 rewrites its frames to the template's lines."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_template(text: str, context: Mapping[str, Any], *, file: str) -> str:
    """One rendered template; a syntax error or undefined variable is a ManifestError naming the line."""
    import jinja2

    env = _environment()
    try:
        # Frames of the compiled template carry this file name, so errors can name its lines.
        template = env.template_class.from_code(env, env.compile(text, name=file, filename=file), env.globals)
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        message = f"line {exc.lineno}: template syntax error: {exc.message}"
    except Exception as exc:  # any error raised by the template's own code is the user's to fix
        kind = "undefined variable" if isinstance(exc, jinja2.UndefinedError) else "template error"
        line = _template_line(exc.__traceback__, file)
        where = f"line {line}: " if line is not None else ""
        message = f"{where}{kind}: {exc}"
    raise ManifestError([Problem(file, None, None, message)])


def render_templates(templates: Sequence[tuple[str, str]], context: Mapping[str, Any]) -> list[str]:
    """``(file, text)`` templates rendered in order; one ManifestError names every failing template."""
    rendered: list[str] = []
    problems: list[Problem] = []
    for file, text in templates:
        try:
            rendered.append(render_template(text, context, file=file))
        except ManifestError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ManifestError(problems)
    return rendered
