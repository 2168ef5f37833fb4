"""A progress bar on stderr for long runs (evaluate, impact), kept out of pipes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from escalator.cli._console import console, err

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress, TaskID


class Progress:
    """A rich progress bar on stderr, shown only when wanted (default: stderr is a terminal and
    stdout is not) and only once `after` cases have passed: below that a bar is noise."""

    def __init__(self, wanted: bool | None, label: str, after: int):
        if wanted is None:
            wanted = sys.stderr.isatty() and not sys.stdout.isatty()
        self.wanted, self.label, self.after = wanted, label, after
        self.done, self.shown = 0, 0
        self.bar: RichProgress | None = None
        self.task: TaskID | None = None

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.wanted or self.done < self.after:
            return
        if self.bar is None:
            from rich.progress import MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self.bar = bar = Bar(SpinnerColumn(), TextColumn(self.label), MofNCompleteColumn(), TimeElapsedColumn(),
                           console=console(stderr=True), redirect_stdout=False, redirect_stderr=False,
                           transient=True)
            self.task = bar.add_task("cases", total=None)
            bar.start()
        if self.done - self.shown >= 100 or count > 1:  # redrawing per case would cost more than a case
            assert self.task is not None
            self.bar.update(self.task, completed=self.done)
            self.shown = self.done

    def print(self, line: str) -> None:
        """An error line on stderr, above the bar when one is showing."""
        if self.bar is None:
            err(line)
        else:
            self.bar.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
