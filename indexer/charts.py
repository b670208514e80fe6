"""Chart pictures (PNG or SVG, by the file's suffix) drawn with matplotlib, an optional extra: ``pip install
'news-indexer[plot]'``. Matplotlib is imported inside the drawing functions, so the rest of the package never needs it.

Text on a chart can be Chinese (outlet names, terms, titles), and matplotlib's own font has no CJK glyphs.
:func:`cjk_font` finds one: the Noto Sans CJK collection the ``plot`` extra installs (PyPI package
``noto-cjk-sans-otc``, SIL Open Font License), else a CJK font the system has. Every chart draws inside
:func:`chart_style`, which puts that font first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.coverage import Coverage

FORMATS = (".png", ".svg")
SYSTEM_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
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
MISSING_FONT = "no CJK font found: Chinese text would show as boxes; install the plot extra (news-indexer[plot])"


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise IndexerError(
            "charts need matplotlib", "install the plot extra: pip install 'news-indexer[plot]'"
        ) from None
    return matplotlib


@cache
def cjk_font() -> str | None:
    """The family name of a font with Chinese (Simplified and Traditional) glyphs, registered with matplotlib;
    None when there is none."""
    from matplotlib import font_manager

    try:
        import noto_cjk_sans_otc
    except ImportError:
        available = {entry.name for entry in font_manager.fontManager.ttflist}
        return next((name for name in SYSTEM_CJK_FONTS if name in available), None)
    path = str(noto_cjk_sans_otc.FONT_PATH)
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


@contextmanager
def chart_style() -> Iterator[list[str]]:
    """matplotlib settings for every chart: the CJK font first (see :func:`cjk_font`); yields warnings to show."""
    matplotlib = _matplotlib()
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families, "svg.fonttype": "path", "figure.dpi": 100}):
        yield [] if font else [MISSING_FONT]


def check_target(path: Path) -> None:
    """Refuse a file name whose suffix is not a picture format charts write."""
    if path.suffix.lower() not in FORMATS:
        raise IndexerError(f"cannot draw {path}: the file name must end in {' or '.join(FORMATS)}")


def save(figure: Any, path: Path) -> None:
    """Write `figure` to `path` (format from the suffix); a write error names the file."""
    try:
        figure.savefig(path, bbox_inches="tight")
    except OSError as exc:
        raise IndexerError(f"cannot write {path}: {exc.strerror or exc}") from None


def coverage_heatmap(report: Coverage, path: Path) -> list[str]:
    """A heat map of articles per outlet (rows) per period (columns) over the dense span, on a log colour scale;
    periods without articles are blank. Returns warnings (a missing CJK font)."""
    check_target(path)
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
