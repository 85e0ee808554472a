"""Printing: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

# rich is imported where it prints: a run with nothing to show (a no-op
# converge from cron) does not pay for its import.
if TYPE_CHECKING:
    from rich.console import Console

OUTPUT_FORMATS = ("table", "json")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


# What a terminal would obey rather than show: C0 and C1 controls (ESC starts its escape
# sequences), DEL, and the marks that reorder text on screen. Reasons, messages and names that
# nodes and containers send reach tables and lines here; none may move the cursor, retitle
# the window or hide what is printed.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str, *, one_line: bool = False) -> str:
    """`text` with each control character shown as '?' (newlines kept unless `one_line`, tabs as a space)."""
    text = text.replace("\t", " ")
    if one_line:
        text = text.replace("\r\n", " ").replace("\n", " ")
    return _CONTROL.sub("?", text)


def say(line: str, *, err: bool = False) -> None:
    """A line of a run's output (which carries what nodes said), cleaned of control characters."""
    click.echo(clean_text(line), err=err)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in rows:
        # Text, not markup: a '[' in a node's message is shown, not read as style (or a markup error).
        table.add_row(*(Text("" if cell is None else clean_text(str(cell), one_line=True)) for cell in row))
    _stdout_console().print(table)


def _stdout_console() -> Console:
    from rich.console import Console

    # A pipe or a log file has no width: never wrap cells there.
    return Console() if sys.stdout.isatty() else Console(width=1000)


def human_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}TiB"


def progress(message: str) -> None:
    """Progress of long work goes to stderr so stdout stays clean for JSON."""
    _stderr_print(f"[dim]•[/dim] {_escape(message)}")


def warn(message: str) -> None:
    _stderr_print(f"[bold yellow]warning:[/bold yellow] {_escape(message)}")


def print_error(message: str) -> None:
    _stderr_print(f"[bold red]error:[/bold red] {_escape(message)}")


def _stderr_print(markup: str) -> None:
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(markup, highlight=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(clean_text(text))
