"""Open a page in headless Chromium (Debian's package) with the network cut off."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # every request to another host goes to a proxy that does not exist: the page must
    # render from its own files or not at all
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium() -> str:
    """Path of the chromium binary; in CI its absence is a failure, elsewhere a skip."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
    pytest.skip("chromium is not installed (run `make browser`)")


def render(page: Path, *, budget_ms: int = 10_000) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and Chromium's log (console messages included)."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return done.stdout, done.stderr
