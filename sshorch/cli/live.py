"""A run's progress on stderr: a table of the workloads updated in place on a
terminal, changed lines otherwise; notices and each node's actions as lines."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

from sshorch.cli.output import clean_text, progress, warn
from sshorch.run.progress import Notice, PassActed, Rollouts, RunEvent, WorkloadProgress, display_workload, fold_report

if TYPE_CHECKING:
    from rich.live import Live
    from rich.table import Table


class RunDisplay:
    """Shows what a run tells (a run.progress.Progress).

    A workload is shown from the first pass it is not done, and stays, so its
    last line says how it ended. `actions`: a line per node for what it did
    (where no plan was shown first); failures are always shown."""

    def __init__(self, actions: bool = True, terminal: bool | None = None) -> None:
        self.actions = actions
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.rows: dict[str, WorkloadProgress] = {}
        self.lines: dict[str, str] = {}
        self.live: Live | None = None

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, Notice):
            self._say(event.text, event.warning)
        elif isinstance(event, PassActed):
            lines = fold_report(event.report)
            for line in lines if self.actions else [line for line in lines if " FAILED: " in line]:
                self._say(line, " FAILED: " in line)
        elif isinstance(event, Rollouts):
            self._rollouts(event)

    def _rollouts(self, event: Rollouts) -> None:
        for row in event.workloads:
            if not row.done or row.key in self.rows:
                self.rows[row.key] = row
        if self.terminal:
            self._live().update(self._table())
            return
        for key, row in self.rows.items():
            line = row.line()
            # Until it has a pod, the plan's `waiting` line said all there is.
            if row.nothing_yet and key not in self.lines:
                continue
            if self.lines.get(key) != line:
                self.lines[key] = line
                progress(line)

    def _say(self, text: str, warning: bool) -> None:
        if self.live is not None:
            from rich.markup import escape

            mark = "[bold yellow]warning:[/bold yellow] " if warning else "[dim]•[/dim] "
            self.live.console.print(mark + escape(clean_text(text)), highlight=False)
        elif warning:
            warn(text)
        else:
            progress(text)

    def _live(self) -> Live:
        if self.live is None:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(stderr=True), refresh_per_second=8, transient=False)
            self.live.start()
        return self.live

    def _table(self) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
        for header in ("WORKLOAD", "READY", "UP-TO-DATE", "OLD", ""):
            table.add_column(header, no_wrap=True)
        for key, row in self.rows.items():
            s = row.status
            state = Text("done", style="green") if row.done else Text(clean_text(row.held or "rolling", one_line=True))
            table.add_row(display_workload(key), f"{s.available}/{s.desired}", f"{s.up_to_date}/{s.desired}", str(s.old), state)
        return table

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def __enter__(self) -> RunDisplay:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()
