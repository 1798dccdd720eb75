"""Bulletin charts drawn on the server with matplotlib (no browser script, works offline and
in print): SVG with the text as outlines, so a page or a PDF needs no Chinese font of its own.
The glyphs come from Debian's fonts-noto-cjk."""

from __future__ import annotations

import base64
import io
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from reports.figures import Figures

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn: it costs seconds at start-up
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))
CJK_FAMILY = "Noto Sans CJK SC"
RED, TEAL, GREY = "#c8553d", "#2e7d8c", "#8a8a8a"


@cache
def _fonts() -> None:
    import matplotlib
    from matplotlib import font_manager

    for folder in FONT_DIRS:
        for path in sorted(folder.glob("NotoSansCJK-*.ttc")):
            font_manager.fontManager.addfont(str(path))
    if not any(f.name == CJK_FAMILY for f in font_manager.fontManager.ttflist):
        log.warning("charts: %s not found (apt-get install fonts-noto-cjk); Chinese labels will be boxes", CJK_FAMILY)
    matplotlib.rcParams.update(
        {
            "font.family": [CJK_FAMILY, "DejaVu Sans"],
            "svg.fonttype": "path",
            "svg.hashsalt": "xiangyin",  # the same figures give the same file
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )


def _new(height: float, left: float = 0.08) -> Figure:
    """Fixed margins: matplotlib's automatic layout cost half a second a chart."""
    from matplotlib.figure import Figure  # a Figure, never pyplot: no global state, no display

    _fonts()
    fig = Figure(figsize=(7.0, height), dpi=100)
    fig.subplots_adjust(left=left, right=0.97, top=1 - 0.42 / height, bottom=0.32 / height)
    return fig


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _barh(title: str, labels: list[str], values: list[float], colour: str, unit: str, top: float | None = None) -> str:
    longest = max((len(label) for label in labels), default=0)
    fig = _new(max(1.6, 0.32 * len(labels) + 0.9), left=min(0.05 + 0.021 * longest, 0.45))
    ax = fig.subplots()
    ax.set_title(title, loc="left", fontsize=12)
    if not labels:
        ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", color=GREY, transform=ax.transAxes)
        ax.set_axis_off()
        return _svg(fig)
    positions = list(range(len(labels)))[::-1]
    bars = ax.barh(positions, values, color=colour, height=0.6)
    ax.set_yticks(positions, labels)
    ax.bar_label(bars, labels=[f"{v:g}{unit}" for v in values], padding=3, fontsize=9)
    ax.set_xlim(0, top if top is not None else max(max(values) * 1.18, 1))
    ax.tick_params(axis="x", labelsize=8, colors=GREY)
    return _svg(fig)


def services_chart(figures: Figures, top: int = 10) -> str:
    rows = [r for r in figures.services if r.placed or r.fulfilled][:top]
    return _barh("各项服务点单数", [r.name for r in rows], [r.placed for r in rows], RED, "")


def villages_chart(figures: Figures, top: int = 15) -> str:
    rows = sorted(figures.villages, key=lambda r: (-r.fulfilled, -r.placed, r.key))[:top]
    return _barh("各村完成服务数(排名)", [r.name for r in rows], [r.fulfilled for r in rows], TEAL, "")


def teams_chart(figures: Figures, top: int = 12) -> str:
    rows = [t for t in figures.teams if t.satisfaction.ratings][:top]
    values = [t.satisfaction.average or 0 for t in rows]
    return _barh("各服务队满意度(平均星级)", [t.name for t in rows], values, RED, "星", top=5.9)


def trend_chart(figures: Figures) -> str:
    fig = _new(2.6)
    ax = fig.subplots()
    ax.set_title("近12个月点单和完成", loc="left", fontsize=12)
    months = [m.month[2:].replace("-", "/") for m in figures.trend]
    x = list(range(len(months)))
    ax.bar([i - 0.2 for i in x], [m.placed for m in figures.trend], width=0.4, color=RED, label="点单")
    ax.bar([i + 0.2 for i in x], [m.fulfilled for m in figures.trend], width=0.4, color=TEAL, label="完成")
    ax.set_xticks(x, months, fontsize=8)
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    ax.tick_params(axis="y", labelsize=8, colors=GREY)
    return _svg(fig)


def all_charts(figures: Figures) -> dict[str, str]:
    """Name → SVG, in the bulletin's order."""
    return {
        "services": services_chart(figures),
        "trend": trend_chart(figures),
        "teams": teams_chart(figures),
        "villages": villages_chart(figures),
    }


def data_uri(svg: str) -> str:
    """For <img src=…>: the console's CSP allows data: images, and the chart's own <style>
    stays inside the image."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
