"""Jinja2 manifest templates (``*.j2``) and the values they are rendered with.

Context precedence, lowest first: inventory variables, values files (in order,
merged deeply), ``--set key=value`` (dotted keys make nested mappings; the
value is read as a YAML scalar, so ``replicas=3`` is the integer 3).

Templates render in Jinja2's immutable sandbox: a template reaches no Python
internals (``cycler.__init__.__globals__`` and the like are refused), changes
none of its values, ``range()`` gives at most MAX_TEMPLATE_RANGE items,
``*`` and ``**`` cannot build huge strings, lists or numbers, and the output
stops at MAX_RENDERED_BYTES. A template is a manifest, not a program.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml

from .problems import ManifestError, Problem
from .limits import MAX_RENDERED_BYTES, MAX_TEMPLATE_RANGE

if TYPE_CHECKING:
    import jinja2
    import jinja2.sandbox

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


class TemplateTooBig(Exception):
    """A template asked for more than a manifest needs (the message says what); `line` when
    the error is not raised from the template's own code."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_TEMPLATE_RANGE:
        raise TemplateTooBig(f"range() of {len(numbers)} items; a template may use at most {MAX_TEMPLATE_RANGE}")
    return numbers


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _checked_binop(operator: str, left: Any, right: Any) -> None:
    """`*` and `**` build their result at once, before any output limit could see it."""
    if operator == "*":
        size, count = (_sized(left), right) if _sized(left) is not None else (_sized(right), left)
        if size is not None and isinstance(count, int) and size * count > MAX_RENDERED_BYTES:
            raise TemplateTooBig(f"'*' would make {size * count} items or characters; a template renders at most {MAX_RENDERED_BYTES}")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
        if left.bit_length() * right > 64 * 1024:
            raise TemplateTooBig(f"'**' would make a number of about {left.bit_length() * right} bits; refused")


def _environment() -> jinja2.sandbox.ImmutableSandboxedEnvironment:
    # Here: only templates need Jinja2, and commands that read no manifest start faster.
    import jinja2
    import jinja2.sandbox

    class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
            _checked_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    env = Sandbox(undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.globals["range"] = _bounded_range
    env.globals.pop("lipsum", None)  # paragraphs of filler text, as many as asked for
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


def _render_bounded(template: jinja2.Template, context: Mapping[str, Any], file: str) -> str:
    """The template's output, stopped once it passes MAX_RENDERED_BYTES (as Template.render, whose
    error handling this keeps: Jinja2 rewrites a failure's traceback to the template's lines)."""
    chunks: list[str] = []
    size = 0
    output = template.root_render_func(template.new_context(dict(context)))
    try:
        for chunk in output:
            size += len(chunk)
            if size > MAX_RENDERED_BYTES:
                raise TemplateTooBig(f"the output passes {MAX_RENDERED_BYTES // 2**20} MiB, the most a manifest may be",
                                     _suspended_line(output, template, file))
            chunks.append(chunk)
    except TemplateTooBig as exc:
        if exc.line is not None:
            raise
        template.environment.handle_exception()
    except Exception:
        template.environment.handle_exception()
    return "".join(chunks)


def _suspended_line(output: Any, template: jinja2.Template, file: str) -> int | None:
    """The template line a paused render is at: its innermost generator frame of the template's code."""
    line = None
    while output is not None and hasattr(output, "gi_frame"):
        frame = output.gi_frame
        if frame is not None and frame.f_code.co_filename == file:
            line = template.get_corresponding_lineno(frame.f_lineno)
        output = output.gi_yieldfrom
    return line


def render_template(text: str, context: Mapping[str, Any], *, file: str) -> str:
    """One rendered template; a syntax error, an undefined variable or an unsafe or too big
    operation is a ManifestError naming the line."""
    import jinja2
    import jinja2.sandbox

    env = _environment()
    try:
        # Frames of the compiled template carry this file name, so errors can name its lines.
        template = env.template_class.from_code(env, env.compile(text, name=file, filename=file), env.globals)
        return _render_bounded(template, context, file)
    except jinja2.TemplateSyntaxError as exc:
        message = f"line {exc.lineno}: template syntax error: {exc.message}"
    except Exception as exc:  # any error raised by the template's own code is the user's to fix
        if isinstance(exc, jinja2.UndefinedError):
            kind = "undefined variable"
        elif isinstance(exc, jinja2.exceptions.SecurityError):
            kind = "not allowed in a template"
        elif isinstance(exc, TemplateTooBig):
            kind = "too big"
        else:
            kind = "template error"
        line = exc.line if isinstance(exc, TemplateTooBig) and exc.line else _template_line(exc.__traceback__, file)
        where = f"line {line}: " if line is not None else ""
        message = f"{where}{kind}: {_one_line(str(exc))}"
    raise ManifestError([Problem(file, None, None, message)])


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


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
