"""Progress of a multi-step command (materialize): per view and stage.

On a terminal, a live line shows the views done and the stage under way. Off a
terminal (a log, CI), one plain line is printed per finished step, with its time,
so a long run is never silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape

__all__ = ["StepReporter", "step_reporter"]


@dataclass
class StepReporter:
    """Callbacks for ``Project.materialize(stage=..., progress=...)``."""

    console: Console
    total: int
    update: Callable[[str], None]
    clock: Callable[[], float] = time.perf_counter
    finished: int = 0
    _current: tuple[str, str, float] | None = field(default=None, repr=False)

    def stage(self, view: str, stage: str) -> None:
        self._close()
        self._current = (view, stage, self.clock())
        self.update(f"materialize {self.finished}/{self.total} views · {view}: {stage}")

    def view_done(self, _result: object) -> None:
        self._close()
        self.finished += 1
        self.update(f"materialize {self.finished}/{self.total} views")

    def _close(self) -> None:
        if self._current is None:
            return
        view, stage, began = self._current
        self._current = None
        if not self.console.is_terminal:
            self.console.print(f"{escape(view)}: {escape(stage)} done "
                               f"({self.clock() - began:.1f} s)", soft_wrap=True)


@contextmanager
def step_reporter(console: Console, total: int) -> Iterator[StepReporter]:
    if not console.is_terminal:
        yield StepReporter(console, total, update=lambda _: None)
        return
    with console.status(f"materialize 0/{total} views") as status:
        yield StepReporter(console, total, update=lambda text: status.update(escape(text)))
