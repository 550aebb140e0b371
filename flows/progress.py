"""What a long command is doing now, for the CLI to show while it runs.

A national register's run takes minutes per step; a spinner with one line for the whole
run says nothing of where it is. The steps say it here: `stage` marks a step of the run
(its start, and its end with its time and a one-line summary), `doing` what the step is
busy with (the file being loaded, the program being estimated). The CLI listens
(`listening`): the spinner shows the current step, and each finished step leaves a line
with its time. Without a listener (tests, Prefect deployments, Dask workers) they cost
nothing. A Prefect run's tasks run in threads of the CLI's process, so the listener is
process-wide, not per thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol


class Listener(Protocol):
    """Who shows the progress (the CLI's spinner)."""

    def doing(self, what: str) -> None:
        """The run is now busy with `what`."""

    def done(self, what: str, seconds: float) -> None:
        """The step `what` (its summary) finished in `seconds`."""


_lock = threading.Lock()
_listener: Listener | None = None


@dataclass
class Stage:
    """A step in progress; set `summary` to say what it did (shown when it ends)."""

    name: str
    summary: str | None = None


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the steps' progress to `listener` within the block."""
    global _listener
    with _lock:
        previous, _listener = _listener, listener
    try:
        yield
    finally:
        with _lock:
            _listener = previous


def doing(what: str) -> None:
    """Say what the current step is busy with."""
    listener = _listener
    if listener is not None:
        listener.doing(what)


@contextmanager
def stage(name: str) -> Iterator[Stage]:
    """One step of a run: announced when it starts; when it ends without an error, its
    summary (else its name) with its time. A failed step says nothing here: the
    command reports the error."""
    step = Stage(name)
    doing(name)
    started = time.perf_counter()
    yield step
    listener = _listener
    if listener is not None:
        listener.done(step.summary or name, time.perf_counter() - started)


def count(n: int, noun: str) -> str:
    """'1 program', '3 programs', with thousands separators."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
