"""One writer at a time: a run holds an exclusive lock on its warehouse from start to end.

DuckDB itself allows one read-write process per file, but a run opens and closes the
file between steps, so two runs could interleave their steps. The lock (an advisory
`flock` on `<warehouse>.lock`, released by the kernel if the process dies) makes the
second run wait, and fail with a clear message if the first does not finish in time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from warehouse.db import WarehouseError


class WarehouseBusy(WarehouseError):
    """Another run holds the warehouse."""


def lock_path(warehouse: Path) -> Path:
    """The lock file beside the warehouse."""
    return warehouse.with_name(warehouse.name + ".lock")


@contextlib.contextmanager
def writer_lock(
    warehouse: Path, *, wait_seconds: float = 0.0, poll_seconds: float = 0.5
) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait up to `wait_seconds` for another run to end."""
    path = lock_path(Path(warehouse))
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    with open(path, "a+", encoding="utf-8") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise WarehouseBusy(
                        f"{warehouse}: another run holds the warehouse ({holder}); "
                        f"waited {wait_seconds:.0f} s. Try again when it has finished."
                    ) from None
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
