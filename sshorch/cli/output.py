"""Printing: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# rich is imported where it prints: a run with nothing to show (a no-op
# converge from cron) does not pay for its import.
if TYPE_CHECKING:
    from rich.console import Console

OUTPUT_FORMATS = ("table", "json")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
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

    return escape(text)
