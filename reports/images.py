"""PNG images of the key charts, for slide decks, through kaleido and Debian's chromium.

Image export is optional: without kaleido (>= 1.3, which drives an installed Chrome or
Chromium) or without a browser, the edition is built anyway and `export_images` returns
a message saying what is missing. Kaleido is pointed at the edition's own plotly.min.js
and told not to load MathJax, so it requests nothing from the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
KALEIDO_REQUIREMENT = "kaleido==1.5.0"


@dataclass
class ImageExport:
    """What the export wrote, or why it did not."""

    files: list[Path] = field(default_factory=list)
    message: str | None = None  # set when images are missing, for the build's messages
    reason: str | None = None  # no_kaleido | no_browser | failed: for the pages' wording


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido should drive: $BROWSER_PATH, else Debian's chromium."""
    configured = os.environ.get("BROWSER_PATH")
    if configured and Path(configured).exists():
        return configured
    for candidate in (shutil.which("chromium"), *CHROMIUM_PATHS):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def kaleido_status() -> str | None:
    """None when kaleido >= 1 is importable, else a message naming the missing package."""
    if importlib.util.find_spec("kaleido") is None:
        return f"kaleido is not installed (add {KALEIDO_REQUIREMENT} to the environment)"
    version = metadata.version("kaleido")
    if int(version.split(".")[0]) < 1:
        return f"kaleido {version} is too old for plotly 6+ (need {KALEIDO_REQUIREMENT})"
    return None


def image_key(figure: go.Figure, scale: float) -> str:
    """What a PNG depends on: the figure as JSON, its size and scale, plotly and kaleido.
    The JSON's keys are sorted: the same figure built in another order is the same image."""
    versions = [metadata.version(p) for p in ("plotly", "kaleido") if importlib.util.find_spec(p)]
    spec = json.loads(pio.to_json(figure, validate=False))
    text = json.dumps([spec, scale, versions], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def export_images(
    figures: dict[str, go.Figure],
    folder: Path,
    plotly_js: Path,
    *,
    scale: float = 2.0,
    cache_dir: Path | None = None,
) -> ImageExport:
    """Write each figure as `<name>.png` into folder, in one browser launch.

    With `cache_dir`, a figure exported before (same JSON, size, scale and versions) is
    copied from there instead: a browser launch and its rendering cost seconds, and most
    charts of a new edition are those of the last one. Deleting the folder is safe."""
    if not figures:
        return ImageExport()
    names = list(figures)
    folder.mkdir(parents=True, exist_ok=True)
    cached: list[Path] = []
    keys: dict[str, str] = {}
    if cache_dir is not None:
        keys = {name: image_key(fig, scale) for name, fig in figures.items()}
        for name, key in keys.items():
            if (cache_dir / f"{key}.png").exists():
                shutil.copyfile(cache_dir / f"{key}.png", folder / f"{name}.png")
                cached.append(folder / f"{name}.png")
        figures = {n: f for n, f in figures.items() if folder / f"{n}.png" not in cached}
        if not figures:
            return ImageExport(files=cached)
    exported = _export(figures, folder, plotly_js, scale)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for path in exported.files:
            shutil.copyfile(path, cache_dir / f"{keys[path.stem]}.png")
    exported.files = sorted(cached + exported.files, key=lambda p: names.index(p.stem))
    return exported


def _export(
    figures: dict[str, go.Figure], folder: Path, plotly_js: Path, scale: float
) -> ImageExport:
    problem = kaleido_status()
    if problem is not None:
        return ImageExport(message=problem, reason="no_kaleido")
    browser = find_browser()
    if browser is None:
        message = "no Chrome or Chromium found (install Debian's chromium package)"
        return ImageExport(message=message, reason="no_browser")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BROWSER_PATH", str(browser))  # choreographer reads it
    paths = [folder / f"{name}.png" for name in figures]
    specs = [
        {
            "fig": fig.to_dict(),
            "path": path,
            "opts": {
                "format": "png",
                "width": int(fig.layout.width or 1000),
                "height": int(fig.layout.height or 450),
                "scale": scale,
            },
        }
        for fig, path in zip(figures.values(), paths, strict=True)
    ]
    try:
        import kaleido  # type: ignore[import-not-found]

        # local plotly.js and no MathJax: nothing is fetched from a CDN
        kaleido.write_fig_from_object_sync(
            specs, kopts={"plotlyjs": str(plotly_js), "mathjax": False}
        )
    except Exception as exc:  # a failed export must not fail the edition
        return ImageExport(
            files=[p for p in paths if p.exists()],
            message=f"PNG export failed ({type(exc).__name__}: {exc})",
            reason="failed",
        )
    return ImageExport(files=[p for p in paths if p.exists()])
