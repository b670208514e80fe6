"""Charts for papers: line charts of counts or shares per period, written as SVG or PNG with matplotlib.

matplotlib and the CJK font come with the ``plot`` extra (``pip install 'news-indexer[plot]'``) and are imported
only when a chart is drawn. Chinese labels are set in Noto Sans SC, shipped by the ``pylopdf-fonts-zh-cn`` wheel
(SIL OFL 1.1), so they render on a machine without any system CJK font.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import import_module, resources
from importlib.util import find_spec
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
    """`path` if its suffix names a format we write (.svg or .png) and the plot extra is installed (checked
    without importing it, so a command can refuse before it does any work)."""
    if path.suffix.lower() not in FORMATS:
        raise IndexerError(f"cannot write a chart to {path}: the name must end in .svg or .png")
    for name in ("matplotlib", FONT_PACKAGE):
        if find_spec(name) is None:
            raise IndexerError(f"cannot draw a chart: {name} is not installed", MISSING)
    return path


Series = Mapping[str, Sequence[float | None]]
"""Named lines: one value per period (None where there is none)."""


def line_chart(
    path: Path,
    labels: Sequence[str],
    panels: Mapping[str, Series],
    title: str,
    ylabel: str,
    percent: bool = False,
) -> Path:
    """Draw `panels` (name -> lines, one value per period of `labels`) to `path`, the suffix picking SVG or PNG.

    One panel fills the figure; several are small multiples with a shared y axis, the same colour for the same
    line name in each and one legend. With `percent` the values are fractions shown as percentages."""
    check_path(path)
    _module("matplotlib").use("Agg")
    pyplot = _module("matplotlib.pyplot")
    ticker = _module("matplotlib.ticker")
    font = cjk_font_properties()
    columns = min(len(panels), 2)
    rows = -(-len(panels) // columns)
    style = {"font.family": font.get_name(), "axes.unicode_minus": False, "svg.fonttype": "path"}
    with pyplot.rc_context(style):
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
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        pyplot.close(figure)
    return path
