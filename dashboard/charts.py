"""Interactive charts for the lesson pages: Altair (Vega-Lite) through ``st.altair_chart``, with tooltips on every
point and pan / zoom on the scales. The paper's figures are drawn as black stars (with their number beside them),
its claims as shaded bands, so ours and the paper's sit on one set of axes. Static matplotlib stays for images and
matrices (``ui.pyplot``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

HINT = "Hover a point for its numbers; scroll to zoom, drag to pan, double-click to reset."
STAR = "M0,-1L0.29,-0.4L0.95,-0.31L0.48,0.15L0.59,0.81L0,0.5L-0.59,0.81L-0.48,0.15L-0.95,-0.31L-0.29,-0.4Z"
PAPER = "#111111"


MINUS = "\u2212"  # the one minus sign: Vega's axes draw U+2212, so every number typed here does too


def minus(text: str) -> str:
    """``-6.6`` → ``−6.6`` (a hyphen before a digit becomes U+2212); the rest of the text is left alone."""
    return re.sub(r"(?<![\w.])-(?=\.?\d)", MINUS, str(text))


def signed(x: float, spec: str = "+g") -> str:
    """A number with its sign, U+2212 for minus: ``+3.5``, ``−7.6``."""
    return minus(format(float(x), spec))


def log_format(values: Any) -> str:
    """One number format per log axis: plain (``0.001 … 1000``) unless the values reach below 10⁻⁴ or 10⁶, then
    exponents on every tick (``1e−7 … 1e−2``), never a mix of the two."""
    v = pd.to_numeric(pd.Series(np.ravel(values)), errors="coerce")
    v = v[np.isfinite(v) & (v > 0)]
    return "~e" if len(v) and (v.min() < 1e-4 or v.max() >= 1e6) else "~g"


def _scale(log: bool, domain: Sequence[float] | None = None, zero: bool = False) -> alt.Scale:
    kw: dict[str, Any] = {"type": "log"} if log else {"zero": zero}
    if domain is not None:
        kw["domain"] = [float(d) for d in domain]
        kw["nice"] = False
    return alt.Scale(**kw)


def t_ticks(values: Any, keep: Sequence[float] = (20.0,)) -> list[float]:
    """Ticks for a log temperature axis: 1-2-5 per decade within the data, plus ``keep`` (the paper's T = 20)."""
    v = pd.to_numeric(pd.Series(np.ravel(values)), errors="coerce")
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return list(keep)
    lo, hi = float(v.min()), float(v.max())
    ticks = {m * 10.0**e for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1) for m in (1, 2, 5)}
    ticks = {t for t in ticks if lo / 1.01 <= t <= hi * 1.01} | {float(k) for k in keep if lo / 1.5 <= k <= hi * 1.5}
    return sorted(ticks)


DASHES = ([1, 0], [7, 4], [2, 3], [8, 3, 2, 3], [14, 4], [4, 2, 1, 2, 1, 2])
DASH_WORDS = ("solid", "dashed", "dotted", "dash-dotted", "long-dashed", "dash-dot-dotted")


def legend(title: str | None = None, **kw: Any) -> alt.Legend:
    """Below the plot, never over the data; one entry a line, labels and title never cut."""
    return alt.Legend(title=title, orient="bottom", direction="vertical", labelLimit=0, titleLimit=0, **kw)


_legend = legend  # for functions whose ``legend`` argument shadows it


def dash_words(values: Any, title: str = "") -> str:
    """``measured on: solid test · dashed train``: the key to ``lines(dash=...)`` in words, in the order the values
    first appear (the legend shows the same)."""
    names = list(dict.fromkeys(str(v) for v in values))[: len(DASHES)]
    return (f"{title}: " if title else "") + " · ".join(f"{w} {n}" for w, n in zip(DASH_WORDS, names, strict=False))


def tip(field: str, title: str, fmt: str | None = None, kind: str = "Q") -> alt.Tooltip:
    return (
        alt.Tooltip(f"{field}:{kind}", title=title, format=fmt) if fmt else alt.Tooltip(f"{field}:{kind}", title=title)
    )


def axis(log: bool, values: Any, fmt: str | None = None, ticks: Sequence[float] | None = None, **kw: Any) -> alt.Axis:
    """An axis with one number format for all its ticks (``log_format`` on a log axis) and optional fixed ticks."""
    fmt = fmt or (log_format(values) if log else None)
    if fmt:
        kw["format"] = fmt
    if ticks is not None:
        kw["values"] = [float(t) for t in ticks]
    return alt.Axis(**kw)


def lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    color_scale: alt.Scale | None = None,
    dash: str | None = None,
    dash_title: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    y_domain: Sequence[float] | None = None,
    x_domain: Sequence[float] | None = None,
    x_ticks: Sequence[float] | None = None,
    tooltip: list | None = None,
    points: bool = True,
    x_format: str | None = None,
    height: int = 300,
    title: str | None = None,
) -> alt.Chart:
    """Lines of ``y`` against ``x``, one per ``color`` (and ``dash``) value, with a point per datum for the tooltip
    (small ones when ``points`` is false: a line's own tooltip would show one datum for the whole line). ``dash``
    gets its own legend below the plot; when ``dash`` is the same field as ``color`` the series differ both ways."""
    x_axis = axis(log_x, df[x], x_format, x_ticks, **({"tickMinStep": 1} if x_format == "d" else {}))
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:Q", title=x_title, scale=_scale(log_x, x_domain), axis=x_axis),
        "y": alt.Y(f"{y}:Q", title=y_title, scale=_scale(log_y, y_domain), axis=axis(log_y, df[y])),
        "tooltip": tooltip or [tip(x, x_title, ".4~g"), tip(y, y_title, ".4~g")],
    }
    if color:
        scale = color_scale if color_scale is not None else alt.Undefined
        enc["color"] = alt.Color(f"{color}:N", title=color_title, legend=legend(color_title), sort=None, scale=scale)
    if dash:
        names = list(dict.fromkeys(str(v) for v in df[dash]))[: len(DASHES)]
        dash_scale = alt.Scale(domain=names, range=list(DASHES[: len(names)]))
        stroke = {"symbolType": "stroke", "symbolStrokeWidth": 2}
        if dash == color:  # one legend: Vega-Lite merges two channels of one field under one title
            dash_title = color_title
            enc["color"] = alt.Color(
                f"{color}:N",
                title=color_title,
                legend=legend(color_title, **stroke),
                sort=None,
                scale=scale,
            )
        dash_legend = legend(dash_title, **stroke, **({} if dash == color else {"symbolStrokeColor": "#444444"}))
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", title=dash_title, legend=dash_legend, scale=dash_scale)
    point = alt.OverlayMarkDef(size=40 if points else 12, filled=True)
    chart = alt.Chart(df).mark_line(point=point, clip=True).encode(**enc).properties(height=height)
    return chart.properties(title=title) if title else chart


def stars(
    df: pd.DataFrame, x: str, y: str, text: str, tooltip: list | None = None, legend: bool = True, **_: Any
) -> alt.Chart:
    """The paper's figures: black stars, each named (column ``text``) in a legend below the plot, not on it: a label
    beside a star lands on a curve or off the edge."""
    texts = list(dict.fromkeys(df[text].astype(str)))
    shape = alt.Shape(
        f"{text}:N",
        title="the paper",
        sort=texts,
        scale=alt.Scale(domain=texts, range=[STAR] * len(texts)),
        legend=_legend("the paper", symbolFillColor=PAPER, symbolStrokeColor=PAPER, symbolSize=160) if legend else None,
    )
    return (
        alt.Chart(df)
        .mark_point(size=220, filled=True, color=PAPER, opacity=1, clip=True)
        .encode(x=f"{x}:Q", y=f"{y}:Q", shape=shape, tooltip=tooltip or [alt.Tooltip(f"{text}:N", title="paper")])
    )


def band(x0: float, x1: float, text: str, color: str = "#2ca02c") -> alt.Chart:
    """A shaded x-range (a claim of the paper, e.g. "best T in 2.5–4"), its words in the tooltip."""
    df = pd.DataFrame({"x0": [x0], "x1": [x1], "claim": [text]})
    return (
        alt.Chart(df)
        .mark_rect(opacity=0.13, color=color, clip=True)
        .encode(x="x0:Q", x2="x1:Q", tooltip=alt.Tooltip("claim:N", title="paper"))
    )


def _rules(
    rows: Sequence[tuple[float, str]], channel: str, title: str | None, color: str, dash: Sequence[int]
) -> alt.Chart:
    """Dashed reference lines, each named in a legend below the plot (never a label lying on a curve)."""
    df = pd.DataFrame({"at": [float(v) for v, _ in rows], "what": [minus(t) for _, t in rows]})
    names = list(dict.fromkeys(df["what"]))
    patterns = [list(dash), [8, 3, 2, 3], [1, 3], [12, 4]]
    stroke = alt.StrokeDash(
        "what:N",
        title=title,
        sort=names,
        scale=alt.Scale(domain=names, range=[patterns[k % len(patterns)] for k in range(len(names))]),
        legend=legend(title, symbolType="stroke", symbolStrokeColor=color, symbolStrokeWidth=2) if title else None,
    )
    pos = alt.X("at:Q") if channel == "x" else alt.Y("at:Q")
    if title is None:  # no legend: the dash is the mark's own, so the chart's line-style legend stays whole
        rule = alt.Chart(df).mark_rule(color=color, strokeWidth=1.5, clip=True, strokeDash=list(dash))
        return rule.encode(pos, tooltip=alt.Tooltip("what:N", title=""))
    return (
        alt.Chart(df)
        .mark_rule(color=color, strokeWidth=1.5, clip=True)
        .encode(pos, strokeDash=stroke, tooltip=alt.Tooltip("what:N", title=""))
    )


def vrule(x: float, text: str, color: str = "#555555", title: str | None = "marked", **_: Any) -> alt.Chart:
    """A dashed vertical line at ``x``, named in the legend."""
    return _rules([(x, text)], "x", title, color, (5, 4))


def vrules(rows: Sequence[tuple[float, str]], color: str = "#555555", title: str = "marked") -> alt.Chart:
    return _rules(rows, "x", title, color, (5, 4))


def hrule(y: float, text: str, color: str = "#555555", title: str | None = "marked") -> alt.Chart:
    """A dashed horizontal line at ``y``, named in the legend."""
    return _rules([(y, text)], "y", title, color, (2, 3))


def hrules(rows: Sequence[tuple[float, str]], color: str = "#555555", title: str = "marked") -> alt.Chart:
    return _rules(rows, "y", title, color, (2, 3))


def _uses(layer: Any, channel: str) -> bool:
    """Whether a chart (or any layer inside it) encodes ``channel``."""
    if isinstance(layer, alt.LayerChart):
        return any(_uses(inner, channel) for inner in layer.layer)
    encoding = getattr(layer, "encoding", alt.Undefined)
    return encoding is not alt.Undefined and getattr(encoding, channel, alt.Undefined) is not alt.Undefined


def show(*layers: Any, where: Any = None, zoom: bool = True, under: Sequence[Any] = ()) -> None:
    """Draw the charts layered across the container: the first one's scales zoom and pan, ``under`` (e.g. the paper's
    bands) is drawn beneath everything so that hovering a point shows the point's numbers, not the band's words.
    Each layer's dashes and shapes keep their own legend (a run's line styles, the paper's stars, reference lines)."""
    layers = [layer for layer in layers if layer is not None]
    main = layers[0].interactive() if zoom else layers[0]
    chart = alt.layer(*under, main, *layers[1:]) if under or len(layers) > 1 else main
    if isinstance(chart, alt.LayerChart):  # keep apart only the channels that two layers use for different things
        kept = {c: "independent" for c in ("strokeDash", "shape") if sum(_uses(layer, c) for layer in layers) > 1}
        chart = chart.resolve_scale(**kept) if kept else chart
    # fit the width to the container but keep the plot's own height: with Streamlit's default ("fit", padding
    # included) a legend below the plot would squeeze the plot instead of adding to the height
    chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    (where or st).altair_chart(chart, width="stretch")


def bars_with_paper(
    df: pd.DataFrame, x: str, y: str, y_title: str, color: alt.Color, paper: pd.DataFrame | None, height: int = 260
) -> list:
    """Grouped bars (one per run within each ``x`` group) and the paper's figure per group as a black tick, its
    number in the tooltip (``paper`` has ``x``, ``y`` and ``text`` columns). Returns the layers for ``show``."""
    order = list(dict.fromkeys(df[x].astype(str)))
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=0)),
            xOffset=alt.XOffset("run:N", sort=None),
            y=alt.Y(f"{y}:Q", title=y_title),
            color=color,
            tooltip=[alt.Tooltip("run:N"), alt.Tooltip(f"{x}:N", title=""), alt.Tooltip(f"{y}:Q", title=y_title)],
        )
        .properties(height=height)
    )
    if paper is None or paper.empty:
        return [bars]
    ticks = (
        alt.Chart(paper)
        .mark_tick(color=PAPER, thickness=3, size=50)
        .encode(x=alt.X(f"{x}:N", sort=order), y=f"{y}:Q", tooltip=alt.Tooltip("text:N", title=""))
    )
    return [bars, ticks]
