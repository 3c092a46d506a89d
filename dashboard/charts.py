"""Interactive charts for the lesson pages: Altair (Vega-Lite) through ``st.altair_chart``, with tooltips on every
point and pan / zoom on the scales. The paper's figures are drawn as black stars (with their number beside them),
its claims as shaded bands, so ours and the paper's sit on one set of axes. Static matplotlib stays for images and
matrices (``ui.pyplot``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

HINT = "Hover a point for its numbers; scroll to zoom, drag to pan, double-click to reset."
STAR = "M0,-1L0.29,-0.4L0.95,-0.31L0.48,0.15L0.59,0.81L0,0.5L-0.59,0.81L-0.48,0.15L-0.95,-0.31L-0.29,-0.4Z"
PAPER = "#111111"


def _scale(log: bool, domain: Sequence[float] | None = None, zero: bool = False) -> alt.Scale:
    kw: dict[str, Any] = {"type": "log"} if log else {"zero": zero}
    if domain is not None:
        kw["domain"] = [float(d) for d in domain]
    return alt.Scale(**kw)


DASHES = ([1, 0], [7, 4], [2, 3], [8, 3, 2, 3])
DASH_WORDS = ("solid", "dashed", "dotted", "dash-dotted")


def legend(title: str | None = None) -> alt.Legend:
    """Below the plot, never over the data; labels never cut."""
    return alt.Legend(title=title, orient="bottom", direction="vertical", labelLimit=0, titleLimit=0)


def dash_words(values: Any, title: str = "") -> str:
    """``measured on: solid test · dashed train``: the key to ``lines(dash=...)`` (drawn lines with points on them
    make an unreadable legend, so the dashes are said in words, in the order the values first appear)."""
    names = list(dict.fromkeys(str(v) for v in values))[: len(DASHES)]
    return (f"{title}: " if title else "") + " · ".join(f"{w} {n}" for w, n in zip(DASH_WORDS, names, strict=False))


def tip(field: str, title: str, fmt: str | None = None, kind: str = "Q") -> alt.Tooltip:
    return (
        alt.Tooltip(f"{field}:{kind}", title=title, format=fmt) if fmt else alt.Tooltip(f"{field}:{kind}", title=title)
    )


def lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    dash: str | None = None,
    dash_title: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    y_domain: Sequence[float] | None = None,
    x_domain: Sequence[float] | None = None,
    tooltip: list | None = None,
    points: bool = True,
    x_format: str | None = None,
    height: int = 300,
    title: str | None = None,
) -> alt.Chart:
    """Lines of ``y`` against ``x``, one per ``color`` (and ``dash``) value, with a point per datum for the tooltip
    (small ones when ``points`` is false: a line's own tooltip would show one datum for the whole line)."""
    axis = alt.Axis(format=x_format, tickMinStep=1) if x_format else alt.Axis()
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:Q", title=x_title, scale=_scale(log_x, x_domain), axis=axis),
        "y": alt.Y(f"{y}:Q", title=y_title, scale=_scale(log_y, y_domain)),
        "tooltip": tooltip or [tip(x, x_title, ".4~g"), tip(y, y_title, ".4~g")],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title, legend=legend(color_title), sort=None)
    if dash:
        names = list(dict.fromkeys(str(v) for v in df[dash]))[: len(DASHES)]
        scale = alt.Scale(domain=names, range=list(DASHES[: len(names)]))
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", title=dash_title, legend=None, scale=scale)
    point = alt.OverlayMarkDef(size=40 if points else 12, filled=True)
    chart = alt.Chart(df).mark_line(point=point, clip=True).encode(**enc).properties(height=height)
    return chart.properties(title=title) if title else chart


def stars(
    df: pd.DataFrame, x: str, y: str, text: str, tooltip: list | None = None, align: str = "left"
) -> alt.LayerChart:
    """The paper's figures: black stars with their label (column ``text``) beside them."""
    base = alt.Chart(df).encode(x=f"{x}:Q", y=f"{y}:Q", tooltip=tooltip or [alt.Tooltip(f"{text}:N", title="paper")])
    star = base.mark_point(shape=STAR, size=220, filled=True, color=PAPER, opacity=1, clip=True)
    dx = 10 if align == "left" else -10
    label = base.mark_text(align=align, dx=dx, dy=-8, fontSize=11, color=PAPER, clip=True).encode(text=f"{text}:N")
    return alt.layer(star, label)


def band(x0: float, x1: float, text: str, color: str = "#2ca02c") -> alt.Chart:
    """A shaded x-range (a claim of the paper, e.g. "best T in 2.5–4"), its words in the tooltip."""
    df = pd.DataFrame({"x0": [x0], "x1": [x1], "claim": [text]})
    return (
        alt.Chart(df)
        .mark_rect(opacity=0.13, color=color, clip=True)
        .encode(x="x0:Q", x2="x1:Q", tooltip=alt.Tooltip("claim:N", title="paper"))
    )


def vrule(x: float, text: str, color: str = "grey", align: str = "left") -> alt.LayerChart:
    """A dashed vertical line at ``x`` with its words on top (left or right of the line)."""
    df = pd.DataFrame({"x": [x], "what": [text]})
    base = alt.Chart(df).encode(x="x:Q", tooltip=alt.Tooltip("what:N", title=""))
    rule = base.mark_rule(strokeDash=[5, 4], color=color, clip=True)
    dx = 4 if align == "left" else -4
    label = base.mark_text(align=align, dx=dx, y=6, baseline="top", fontSize=10, color=color).encode(text="what:N")
    return alt.layer(rule, label)


def hrule(y: float, text: str, color: str = "grey") -> alt.LayerChart:
    """A dashed horizontal line at ``y`` with its words at the left end."""
    df = pd.DataFrame({"y": [y], "what": [text]})
    base = alt.Chart(df).encode(y="y:Q", tooltip=alt.Tooltip("what:N", title=""))
    rule = base.mark_rule(strokeDash=[2, 3], color=color, clip=True)
    label = base.mark_text(align="left", x=4, dy=-7, fontSize=10, color=color).encode(text="what:N")
    return alt.layer(rule, label)


def show(*layers: Any, where: Any = None, zoom: bool = True, under: Sequence[Any] = ()) -> None:
    """Draw the charts layered across the container: the first one's scales zoom and pan, ``under`` (e.g. the paper's
    bands) is drawn beneath everything so that hovering a point shows the point's numbers, not the band's words."""
    layers = [layer for layer in layers if layer is not None]
    main = layers[0].interactive() if zoom else layers[0]
    chart = alt.layer(*under, main, *layers[1:]) if under or len(layers) > 1 else main
    # fit the width to the container but keep the plot's own height: with Streamlit's default ("fit", padding
    # included) a legend below the plot would squeeze the plot instead of adding to the height
    chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    (where or st).altair_chart(chart, width="stretch")
