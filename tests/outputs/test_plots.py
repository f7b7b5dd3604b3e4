"""Every plot the report, compare and the history dashboard draw, checked as drawn: no two
pieces of text overlap, no legend covers a plot's data area, no point label sits on a point, and
no two series of a plot share one style."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.outputs import compare, compare_report, plots
from bench.outputs.report import write_report
from bench.results import load
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backend_bases import RendererBase
from matplotlib.collections import PathCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "reference" / "results.json"
SLACK = 1.0
"""Pixels two boxes may share at their edges (antialiasing), not an overlap."""


def _drawn_ticks(axis: Axis) -> Iterator[Text]:
    low, high = sorted(axis.get_view_interval())
    for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
        if low <= tick.get_loc() <= high and tick.label1.get_visible() and tick.label1.get_text():
            yield tick.label1


def _texts(axes: Axes) -> Iterator[Text]:
    yield from (axes.title, axes.xaxis.label, axes.yaxis.label)
    yield from axes.texts
    yield from _drawn_ticks(axes.xaxis)
    yield from _drawn_ticks(axes.yaxis)


def _boxes(figure: Figure, renderer: RendererBase) -> list[tuple[str, Bbox]]:
    found = []
    for axes in figure.axes:
        for text in _texts(axes):
            if text.get_visible() and text.get_text().strip():
                found.append((f"text {text.get_text()!r}", text.get_window_extent(renderer)))
        for legend in [*axes.artists, axes.get_legend()]:
            if legend is not None and hasattr(legend, "get_texts"):
                found.append(("a legend", legend.get_window_extent(renderer)))
    found += [("a legend", legend.get_window_extent(renderer)) for legend in figure.legends]
    return found


def _overlap(a: Bbox, b: Bbox) -> bool:
    width: float = min(a.x1, b.x1) - max(a.x0, b.x0)
    height: float = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > SLACK and height > SLACK


def _style(handle: object) -> tuple[object, ...]:
    line = handle.lines[0] if isinstance(handle, ErrorbarContainer) else handle
    if not isinstance(line, Line2D):
        return (id(line),)
    return (line.get_color(), line.get_marker(), line.get_linestyle(), line.get_markerfacecolor())


def _problems(name: str, figure: Figure) -> list[str]:
    figure.tight_layout()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    figure.canvas.draw()
    found = []
    boxes = _boxes(figure, renderer)
    for (what, a), (other, b) in itertools.combinations(boxes, 2):
        if _overlap(a, b):
            found.append(f"{name}: {what} overlaps {other}")
    plot_areas = [axes.get_window_extent(renderer) for axes in figure.axes]
    for what, box in boxes:
        if what == "a legend" and any(_overlap(box, area) for area in plot_areas):
            found.append(f"{name}: a legend covers a plot's data area")
    for axes in figure.axes:
        points = [
            point
            for collection in axes.collections
            if isinstance(collection, PathCollection)
            for point in collection.get_offset_transform().transform(collection.get_offsets())
        ]
        for text in axes.texts:
            box = text.get_window_extent(renderer).expanded(0.98, 0.9)
            if any(box.contains(x, y) for x, y in points):
                found.append(f"{name}: label {text.get_text()!r} sits on a point")
        handles, labels = axes.get_legend_handles_labels()
        styles: dict[tuple[object, ...], str] = {}
        for handle, label in zip(handles, labels, strict=True):
            style = _style(handle)
            if style in styles and styles[style] != label:
                found.append(f"{name}: {label!r} is drawn as {styles[style]!r} is")
            styles.setdefault(style, label)
    return found


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Problems of every figure saved while the test runs, found before it is saved."""
    problems: list[str] = []
    save = plots._save

    def checking(figure: Figure, path: Path) -> Path:
        problems.extend(_problems(path.name, figure))
        return save(figure, path)

    monkeypatch.setattr(plots, "_save", checking)
    return problems


def test_the_reference_reports_plots_read_cleanly(checked: list[str], tmp_path: Path) -> None:
    write_report(load(REFERENCE), tmp_path)
    assert len(list(tmp_path.glob("*.png"))) >= 5
    assert checked == []


def test_the_comparison_plot_reads_cleanly(
    checked: list[str], tmp_path: Path, run_folder: Path
) -> None:
    run = load(run_folder / "results.json")
    compare_report.write(compare.compare([[run], [run]]), tmp_path)
    assert checked == []
