"""Charts for papers: line charts of counts or shares per period, written as SVG or PNG with matplotlib.

matplotlib and the CJK font come with the ``plot`` extra (``pip install 'news-indexer[plot]'``) and are imported
only when a chart is drawn. Chinese labels are set in Noto Sans SC, shipped by the ``pylopdf-fonts-zh-cn`` wheel
(SIL OFL 1.1), so they render on a machine without any system CJK font.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import import_module, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

FORMATS = (".svg", ".png")
FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_FILE = "NotoSansSC-Regular.otf"
MISSING = "charts need the plot extra: pip install 'news-indexer[plot]'"


def _module(name: str) -> Any:
    try:
        return import_module(name)
    except ImportError:
        raise IndexerError(f"cannot draw a chart: {name.split('.')[0]} is not installed", MISSING) from None


@cache
def cjk_font_properties() -> FontProperties:
    """The font properties of the shipped Noto Sans SC (Simplified and Traditional characters), registered with
    matplotlib so its family name can be used too."""
    font_manager = _module("matplotlib.font_manager")
    _module(FONT_PACKAGE)
    path = str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE))
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path)


def check_path(path: Path) -> Path:
    """`path` if its suffix names a format we write (.svg or .png)."""
    if path.suffix.lower() not in FORMATS:
        raise IndexerError(f"cannot write a chart to {path}: the name must end in .svg or .png")
    return path


def line_chart(
    path: Path,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    ylabel: str,
    percent: bool = False,
) -> Path:
    """Draw one line per entry of `series` (values per period of `labels`, None for no value) to `path`; the
    suffix picks SVG or PNG. With `percent` the values are fractions shown as percentages."""
    check_path(path)
    _module("matplotlib").use("Agg")
    pyplot = _module("matplotlib.pyplot")
    ticker = _module("matplotlib.ticker")
    font = cjk_font_properties()
    with pyplot.rc_context({"font.family": font.get_name(), "axes.unicode_minus": False, "svg.fonttype": "path"}):
        figure, axes = pyplot.subplots(figsize=(10, 5), dpi=150)
        positions = range(len(labels))
        for name, values in series.items():
            points = [float("nan") if value is None else value for value in values]
            axes.plot(positions, points, marker="o", markersize=3, linewidth=1.6, label=name)
        step = max(1, len(labels) // 16)
        axes.set_xticks(list(positions)[::step], list(labels)[::step], rotation=45, ha="right")
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        axes.set_ylim(bottom=0)
        if percent:
            axes.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(frameon=False)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        pyplot.close(figure)
    return path
