"""Open a page in headless Chromium (Debian's package) with the network cut off."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def render(
    page: Path,
    *,
    budget_ms: int = 10_000,
    window: tuple[int, int] | None = None,
    flags: tuple[str, ...] = (),
    timeout: int = 120,
) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and Chromium's log (console messages included).
    window: the browser window's (width, height) in CSS pixels; Chromium's default if None.
    flags: more Chromium switches."""
    size = [f"--window-size={window[0]},{window[1]}"] if window else []
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium(),
                *FLAGS,
                *size,
                *flags,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    return done.stdout, done.stderr


def _mirror(edition: Path, tmp: Path, linked: Callable[[Path], bool]) -> Path:
    """A folder in `tmp` standing for `edition`, its `linked` entries symlinked, beside a
    link to the shared `../assets`: pages written into it open as the originals would."""
    mirror = tmp / edition.name
    mirror.mkdir()
    for entry in edition.iterdir():
        if linked(entry):
            (mirror / entry.name).symlink_to(entry)
    assets = edition.parent / "assets"
    if assets.is_dir():
        (tmp / "assets").symlink_to(assets)
    return mirror


# axe-core, pinned by package.json / package-lock.json and installed by `make test` (npm ci)
REPO = Path(__file__).resolve().parents[1]
AXE_DIR = REPO / "node_modules" / "axe-core"
WCAG21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# What both probes share: wait (up to chart_wait_ms) for every plotly chart to draw its
# SVG, then call back; `leave` puts a result as JSON in a hidden <pre> that --dump-dom
# carries out.
_WHEN_DRAWN = """
  const charts = () => Array.from(document.querySelectorAll(".plotly-graph-div"));
  const drawn = () => charts().every((div) => div.querySelector(".main-svg"));
  const leave = (id, result) => {
    const pre = document.createElement("pre");
    pre.id = id;
    pre.hidden = true;
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  };
  const whenDrawn = (then) => {
    let waited = 0;
    const check = () => {
      if (!drawn() && waited < %(chart_wait_ms)d) {
        waited += 50;
        setTimeout(check, 50);
        return;
      }
      then();
    };
    window.addEventListener("load", check);
  };
"""

# Injected before </body>: once the page has loaded and every plotly chart has drawn its
# SVG, open every <details>, run axe and leave the violations (trimmed to what is needed to fix them) as JSON in
# a hidden <pre> that --dump-dom carries out.
_AXE_RUNNER = (
    """
<script src="%(axe)s"></script>
<script>
(function () {"""
    + _WHEN_DRAWN
    + """
  const report = (result) => leave("axe-result", result);
  const run = () => {
    axe.run(document, {runOnly: {type: "tag", values: %(tags)s}, resultTypes: ["violations"]})
      .then((results) => report({
        drawn: drawn(),
        violations: results.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary})),
        })),
      }))
      .catch((error) => report({error: String(error && error.stack || error)}));
  };
  whenDrawn(() => {
    // what a reader can reveal is checked too (chart data tables are in <details>)
    document.querySelectorAll("details").forEach((d) => { d.open = true; });
    // plotly finishes some parts (automargins, resizes) after its first SVG: let them settle
    setTimeout(run, 1000);
  });
})();
</script>
"""
)
_AXE_RESULT = re.compile(r'<pre id="axe-result"[^>]*>(.*?)</pre>', re.DOTALL)


def axe_script() -> Path:
    """axe-core's axe.min.js at the version package-lock.json pins; in CI its absence is a
    failure, elsewhere a skip."""
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/axe-core"]["version"]
    installed = AXE_DIR / "package.json"
    if not installed.exists():
        problem = "axe-core is not installed"
    else:
        version = json.loads(installed.read_text(encoding="utf-8"))["version"]
        if version == pinned and (AXE_DIR / "axe.min.js").exists():
            return AXE_DIR / "axe.min.js"
        problem = f"axe-core {version} is installed, package-lock.json pins {pinned}"
    if os.environ.get("CI"):
        pytest.fail(f"{problem}: `make test` runs `npm ci` (needs node and npm)")
    pytest.skip(f"{problem} (run `npm ci`, or `make test`)")


def axe(
    page: Path,
    *,
    tags: tuple[str, ...] = WCAG21_AA,
    budget_ms: int = 30_000,
    chart_wait_ms: int = 10_000,
    window: tuple[int, int] = (1280, 800),
) -> list[dict[str, Any]]:
    """axe-core's violations of the rules with `tags` on `page`, opened in headless Chromium
    of `window` size, after its charts have drawn and with every <details> open: one dict
    per rule broken (id, impact, help, and nodes, each with its CSS `target`, `html` and a
    `summary` of what to fix).

    The page is not modified: a copy with axe injected is opened from a temporary folder
    that mirrors the page's edition folder and the shared `../assets` (symlinks)."""
    script = axe_script()
    page = page.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        mirror = _mirror(page.parent, Path(tmp), lambda entry: entry.name != page.name)
        source = page.read_text(encoding="utf-8")
        runner = _AXE_RUNNER % {
            "axe": script.as_uri(),
            "tags": json.dumps(list(tags)),
            "chart_wait_ms": chart_wait_ms,
        }
        at = source.rfind("</body>")
        if at < 0:
            raise ValueError(f"{page} has no </body>")
        (mirror / page.name).write_text(source[:at] + runner + source[at:], encoding="utf-8")
        dom, log = render(
            mirror / page.name,
            budget_ms=budget_ms,
            window=window,
            # axe reads the page's style sheets (CSS rules such as orientation locks)
            flags=("--allow-file-access-from-files",),
            timeout=180,
        )
    found = _AXE_RESULT.search(dom)
    # no result means axe did not finish within the virtual time budget: never a pass
    if found is None:
        raise AssertionError(f"axe did not finish on {page.name} within {budget_ms} ms:\n{log}")
    # without the style sheets the CSS rules would pass unchecked
    if "Couldn't load preload assets" in log:
        raise AssertionError(f"axe could not read the style sheets of {page.name}:\n{log}")
    result = json.loads(html.unescape(found.group(1)))
    if "error" in result:
        raise AssertionError(f"axe failed on {page.name}: {result['error']}")
    if not result["drawn"]:
        raise AssertionError(f"the charts of {page.name} did not draw:\n{log}")
    violations: list[dict[str, Any]] = result["violations"]
    return violations


# Injected before </body>: once every plotly chart has drawn, open every <details> (a
# reader may) and measure what a reader at this window size would have to scroll
# sideways, and where the headline block ends; left as JSON in a hidden <pre>.
_LAYOUT_PROBE = (
    """
<script>
(function () {"""
    + _WHEN_DRAWN
    + """
  whenDrawn(() => {
    document.querySelectorAll("details").forEach((d) => { d.open = true; });
    const root = document.documentElement;
    const tables = Array.from(document.querySelectorAll("table")).map((table, i) => {
      const wrap = table.closest(".table-wrap") || table.parentElement;
      return {
        table: table.dataset.table || "table-" + i,
        wrap_scroll: wrap.scrollWidth,
        wrap_client: wrap.clientWidth,
        table_scroll: table.scrollWidth,
        table_client: table.clientWidth,
      };
    });
    const headline = document.getElementById("headline");
    leave("layout-result", {
      viewport: [window.innerWidth, window.innerHeight],
      page_scroll: root.scrollWidth,
      page_client: root.clientWidth,
      tables: tables,
      headline_bottom: headline ? headline.getBoundingClientRect().bottom + window.scrollY : null,
      charts_drawn: drawn(),
    });
  });
})();
</script>
"""
)
_LAYOUT_RESULT = re.compile(r'<pre id="layout-result"[^>]*>(.*?)</pre>', re.DOTALL)


def layout(
    edition: Path,
    *,
    window: tuple[int, int] = (1280, 800),
    budget_ms: int = 15_000,
    chart_wait_ms: int = 10_000,
) -> dict[str, dict[str, Any]]:
    """How every page of an edition lays out in headless Chromium at `window` (width,
    height), by page file name: `viewport`, the page's `page_scroll` and `page_client`
    widths, per table (`table`: its data-table) the `wrap_scroll` / `wrap_client` widths of
    its `.table-wrap` and its own `table_scroll` / `table_client`, measured with every
    <details> open, and `headline_bottom`: how far down the page the element
    `#headline` ends (None without one).

    The pages are not modified: copies with the probe injected are opened from a temporary
    folder that mirrors the edition and the shared `../assets` (symlinks)."""
    edition = edition.resolve()
    pages = sorted(edition.glob("*.html"))
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        mirror = _mirror(edition, Path(tmp), lambda entry: entry.suffix != ".html")
        probe = _LAYOUT_PROBE % {"chart_wait_ms": chart_wait_ms}
        for page in pages:
            source = page.read_text(encoding="utf-8")
            at = source.rfind("</body>")
            if at < 0:
                raise ValueError(f"{page} has no </body>")
            copy = mirror / page.name
            copy.write_text(source[:at] + probe + source[at:], encoding="utf-8")
            dom, log = render(copy, budget_ms=budget_ms, window=window)
            found = _LAYOUT_RESULT.search(dom)
            if found is None:  # the probe did not run: never a pass
                raise AssertionError(f"no layout measured on {page.name}:\n{log}")
            out[page.name] = json.loads(html.unescape(found.group(1)))
    return out
