"""Chart pictures (PNG or SVG, by the file's suffix) drawn with matplotlib: line charts of counts or shares per
period (``histogram``/``compare --plot``) and the coverage heat map (``coverage --plot``).

matplotlib and the CJK font come with the ``plot`` extra (``pip install 'news-indexer[plot]'``) and are imported
only when a chart is drawn. Chinese labels are set in Noto Sans SC, shipped by the ``pylopdf-fonts-zh-cn`` wheel
(SIL OFL 1.1; Simplified and Traditional characters), so they render on a machine without any system CJK font;
without the wheel a CJK font the system has is used. Every chart draws inside :func:`chart_style`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import import_module, resources
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.coverage import Coverage

FORMATS = (".png", ".svg")
FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_FILE = "NotoSansSC-Regular.otf"
SYSTEM_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "SimHei",
)
"""CJK fonts looked for among the system's fonts when the bundled one isn't installed, best first."""
MAX_WIDTH = 18.0
"""Inches: a wider heat map (many days) gets narrower cells instead."""
LABELS_PER_INCH = 1.5
"""Period labels on the time axis, at most."""
MISSING = "charts need the plot extra: pip install 'news-indexer[plot]'"
MISSING_FONT = "no CJK font found: Chinese text would show as boxes; install the plot extra (news-indexer[plot])"


def _module(name: str) -> Any:
    try:
        return import_module(name)
    except ImportError:
        raise IndexerError(f"cannot draw a chart: {name.split('.')[0]} is not installed", MISSING) from None


@cache
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs, registered with matplotlib; None when there is none."""
    font_manager = _module("matplotlib.font_manager")
    if find_spec(FONT_PACKAGE) is None:
        available = {entry.name for entry in font_manager.fontManager.ttflist}
        return next((name for name in SYSTEM_CJK_FONTS if name in available), None)
    path = str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE))
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


@contextmanager
def chart_style() -> Iterator[list[str]]:
    """matplotlib settings for every chart: the CJK font first (see :func:`cjk_font`); yields warnings to show."""
    matplotlib = _module("matplotlib")
    matplotlib.use("Agg")
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    style = {"font.family": families, "axes.unicode_minus": False, "svg.fonttype": "path", "figure.dpi": 100}
    with matplotlib.rc_context(style):
        yield [] if font else [MISSING_FONT]


def check_path(path: Path) -> Path:
    """`path` if its suffix names a format charts write and matplotlib is installed (checked without importing
    it, so a command can refuse before it does any work)."""
    if path.suffix.lower() not in FORMATS:
        raise IndexerError(f"cannot draw {path}: the file name must end in {' or '.join(FORMATS)}")
    if find_spec("matplotlib") is None:
        raise IndexerError("cannot draw a chart: matplotlib is not installed", MISSING)
    return path


def save(figure: Any, path: Path) -> None:
    """Write `figure` to `path` (format from the suffix); a write error names the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(path, bbox_inches="tight")
    except OSError as exc:
        raise IndexerError(f"cannot write {path}: {exc.strerror or exc}") from None


Series = Mapping[str, Sequence[float | None]]
"""Named lines: one value per period (None where there is none)."""


def line_chart(
    path: Path,
    labels: Sequence[str],
    panels: Mapping[str, Series],
    title: str,
    ylabel: str,
    percent: bool = False,
) -> list[str]:
    """Draw `panels` (name -> lines, one value per period of `labels`) to `path`, the suffix picking SVG or PNG.

    One panel fills the figure; several are small multiples with a shared y axis, the same colour for the same
    line name in each and one legend. With `percent` the values are fractions shown as percentages.
    Returns warnings (a missing CJK font)."""
    check_path(path)
    columns = min(len(panels), 2)
    rows = -(-len(panels) // columns)
    with chart_style() as warnings:
        pyplot = _module("matplotlib.pyplot")
        ticker = _module("matplotlib.ticker")
        figure, grid = pyplot.subplots(
            rows,
            columns,
            figsize=(10 if columns == 1 else 12, 5 if rows == 1 else 3.2 * rows + 1),
            dpi=150,
            sharex=True,
            sharey=True,
            squeeze=False,
        )
        positions = list(range(len(labels)))
        step = max(1, len(labels) // (16 if columns == 1 else 8))
        for axes, (name, series) in zip(grid.flat, panels.items(), strict=False):
            for line, values in series.items():
                points = [float("nan") if value is None else value for value in values]
                axes.plot(positions, points, marker="o", markersize=3, linewidth=1.6, label=line)
            axes.set_title(name, fontsize=11)
            axes.set_xticks(positions[::step], list(labels)[::step], rotation=45, ha="right")
            if percent:
                axes.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
            axes.grid(axis="y", alpha=0.3)
            axes.spines[["top", "right"]].set_visible(False)
            axes.tick_params(labelbottom=True)
        for axes in list(grid.flat)[len(panels) :]:
            axes.set_visible(False)
        for axes in grid[:, 0]:
            axes.set_ylabel(ylabel)
            axes.set_ylim(bottom=0)  # after every line is drawn: the axes share their limits
        handles, names = grid.flat[0].get_legend_handles_labels()
        figure.suptitle(title)
        figure.legend(handles, names, loc="upper right", frameon=False, ncols=min(len(names), 4))
        figure.tight_layout(rect=(0, 0, 1, 0.95))
        save(figure, path)
        pyplot.close(figure)
    return warnings


def coverage_heatmap(report: Coverage, path: Path) -> list[str]:
    """A heat map of articles per outlet (rows) per period (columns) over the dense span, on a log colour scale;
    periods without articles are blank. Returns warnings (a missing CJK font)."""
    check_path(path)
    if not report.labels:
        raise IndexerError(f"nothing to draw in {path}: no article has a publish time")
    with chart_style() as warnings:
        from matplotlib.colors import LogNorm
        from matplotlib.figure import Figure
        from numpy import ma

        rows = [row for row in report.outlets if row.total]
        counts = ma.masked_equal([row.counts for row in rows] or [[0] * len(report.labels)], 0)
        width = min(max(7.0, 3 + 0.2 * len(report.labels)), MAX_WIDTH)
        figure = Figure(figsize=(width, 1.6 + 0.32 * max(len(rows), 1)))
        axes = figure.add_subplot()
        axes.set_facecolor("#f2f2f2")
        peak = max((max(row.counts, default=0) for row in rows), default=0)
        image = axes.imshow(counts, aspect="auto", cmap="viridis", norm=LogNorm(1, max(peak, 2)), interpolation="none")
        axes.set_yticks(range(len(rows)), [f"{row.outlet} ({row.total:,})" for row in rows])
        step = max(1, math.ceil(len(report.labels) / (width * LABELS_PER_INCH)))
        axes.set_xticks(range(0, len(report.labels), step), report.labels[::step], rotation=45, ha="right")
        figure.colorbar(image, ax=axes, label=f"articles per {report.interval}", pad=0.01)
        axes.set_title(f"Articles per outlet per {report.interval} (grey: none archived)", loc="left")
        notes = [f"{report.outlier_total:,} outliers", f"{report.undated:,} undated articles"]
        axes.set_xlabel(f"{' and '.join(notes)} are not drawn (see `indexer coverage`)")
        save(figure, path)
    return warnings
