"""PNG export reuses the images of charts it has exported before."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import pytest

from reports import images
from reports.images import ImageExport, export_images, find_browser, kaleido_status


def figures(*ys: int) -> dict[str, go.Figure]:
    return {f"chart_{i}": go.Figure(go.Bar(x=["a", "b"], y=[1, y])) for i, y in enumerate(ys)}


def test_only_charts_not_exported_before_reach_the_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported: list[list[str]] = []

    def fake_export(
        figs: dict[str, go.Figure], folder: Path, js: Path, scale: float
    ) -> ImageExport:
        exported.append(list(figs))
        for name, fig in figs.items():  # a stand-in for kaleido: the figure's JSON as bytes
            (folder / f"{name}.png").write_bytes(fig.to_json().encode())
        return ImageExport(files=[folder / f"{n}.png" for n in figs])

    monkeypatch.setattr(images, "_export", fake_export)
    cache = tmp_path / "cache"
    first = export_images(figures(1, 2), tmp_path / "e1", tmp_path / "p.js", cache_dir=cache)
    second = export_images(figures(1, 2), tmp_path / "e2", tmp_path / "p.js", cache_dir=cache)
    third = export_images(figures(1, 3), tmp_path / "e3", tmp_path / "p.js", cache_dir=cache)
    assert exported == [["chart_0", "chart_1"], ["chart_1"]]  # none for e2; e3 only the change
    for result, folder in ((first, "e1"), (second, "e2"), (third, "e3")):
        assert [p.name for p in result.files] == ["chart_0.png", "chart_1.png"]
        assert all(p.parent == tmp_path / folder for p in result.files)
    assert second.files[1].read_bytes() == first.files[1].read_bytes()
    assert third.files[1].read_bytes() != first.files[1].read_bytes()
    assert third.files[0].read_bytes() == first.files[0].read_bytes()
    assert images.image_key(figures(1)["chart_0"], 2.0) != images.image_key(
        figures(1)["chart_0"], 1.0
    )


@pytest.mark.skipif(
    kaleido_status() is not None or find_browser() is None, reason="needs kaleido and chromium"
)
def test_a_cached_image_is_the_image_the_browser_draws(tmp_path: Path) -> None:
    import plotly

    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    cache = tmp_path / "cache"
    drawn = export_images(figures(4), tmp_path / "a", js, cache_dir=cache)
    reused = export_images(figures(4), tmp_path / "b", js, cache_dir=cache)
    assert drawn.message is None and len(drawn.files) == 1
    assert reused.files[0].read_bytes() == drawn.files[0].read_bytes()
    assert reused.files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
