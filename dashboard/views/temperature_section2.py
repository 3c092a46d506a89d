"""§2's two gradient experiments, one section each: lesson 01's gradient noise between training cases
(``gradient_noise.csv``: hard labels against soft targets, per student state) and lesson 02's T² factor
(``t_squared_scale.csv``: the soft/hard gradient-norm ratio across T, with and without T²). ``views/temperature.py``
and ``views/logit_matching.py`` draw them; a run made before these files existed still renders, with a line saying
what is missing."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, data, lesson, overlay, ui

NOISE_FILE = "gradient_noise.csv"
SCALE_FILE = "t_squared_scale.csv"


def _missing(runs, name: str, nb: str) -> list:
    """The runs that have ``name``; one caption naming those that do not (older runs), if any."""
    have = [r for r in runs if name in data.artifact_names(r)]
    old = [r for r in runs if name not in data.artifact_names(r)]
    if old:
        st.caption(
            f"{', '.join(ui.label(r) for r in old)}: no `{name}` (a run made before this experiment was added; "
            f"rerun notebook {nb} to see it)."
        )
    return have


def _frames(runs, name: str, nb: str) -> pd.DataFrame | None:
    names, frames = overlay.name_of(runs, nb), []
    for run in runs:
        df = lesson.shown(lambda run=run: data.table(run, name))
        if df is not None:
            frames.append(df.assign(run=names[run.run_id]))
    return pd.concat(frames, ignore_index=True) if frames else None


def gradient_noise_section(chosen) -> None:
    """Lesson 01: tr Var / ‖mean‖² of the per-case gradients, hard labels against soft targets, per state."""
    st.subheader("Less variance in the gradient between training cases (§2)")
    runs = _missing([r for r in chosen if data.notebook_key(r) == "01"], NOISE_FILE, "01")
    df = _frames(runs, NOISE_FILE, "01") if runs else None
    if df is None:
        return
    df["loss"] = df["loss"].map({"hard": "hard labels", "soft": "soft targets (× T²)"}).fillna(df["loss"])
    mean = df.groupby(["run", "state", "loss"], sort=False)[["noise_ratio", "trace_variance"]].mean().reset_index()
    tips = [charts.tip("run", "run", None, "N"), charts.tip("state", "student", None, "N"),
            charts.tip("loss", "loss", None, "N"), charts.tip("noise_ratio", "tr Var / ‖mean‖²", ".3~g"),
            charts.tip("trace_variance", "tr Var", ".3~g")]  # fmt: skip
    chart = (
        alt.Chart(mean)
        .mark_bar()
        .encode(
            x=alt.X("loss:N", title=None, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("noise_ratio:Q", title="gradient noise tr Var / ‖mean‖²", scale=alt.Scale(type="log")),
            color=alt.Color("loss:N", title="loss", legend=charts.legend("loss")),
            column=alt.Column("state:N", title=None, sort=None),
            row=alt.Row("run:N", title=None),
            tooltip=tips,
        )
        .properties(width=110, height=220)
    )
    st.altair_chart(chart)
    st.caption(
        "The paper (§2): soft targets give *much less variance in the gradient between training cases*. The claim "
        "is judged at initialization on the scale-free noise (the raw tr Var is in the tooltip: a loss with larger "
        "gradients has a larger raw variance). " + " · ".join(ui.source(r) for r in runs)
    )


def t_squared_section(chosen) -> None:
    """Lesson 02: the soft/hard gradient-norm ratio against T, with and without the T² factor."""
    st.subheader("Why the soft term is multiplied by T² (§2)")
    runs = _missing(chosen, SCALE_FILE, "02")
    df = _frames(runs, SCALE_FILE, "02") if runs else None
    if df is None:
        return
    df["factor"] = (
        df["t_squared"].astype(str).str.lower().isin(("true", "1")).map({True: "with T²", False: "without T²"})
    )
    mean = df.groupby(["run", "factor", "temperature"], sort=False)[["relative", "share"]].mean().reset_index()
    mean["series"] = mean["run"] + " · " + mean["factor"]
    tips = [charts.tip("series", "run · factor", None, "N"), charts.tip("temperature", "T", ".3~g"),
            charts.tip("relative", "‖∇ soft‖ / ‖∇ hard‖", ".3~g"), charts.tip("share", "soft share", ".2%")]  # fmt: skip
    chart = charts.lines(
        mean,
        "temperature",
        "relative",
        x_title="temperature T",
        y_title="‖∇ soft term‖ / ‖∇ hard term‖",
        color="series",
        color_title="run · factor",
        dash="factor",
        dash_title="T² factor",
        log_x=True,
        log_y=True,
        x_ticks=charts.t_ticks(mean["temperature"]),
        tooltip=tips,
        height=320,
    )
    charts.show(chart)
    st.caption(
        "The paper (§2): multiplying the soft term by T² keeps *the relative contributions of the hard and soft "
        "targets roughly unchanged* as T changes. Without T² the ratio is the same gradient divided by T². "
        + " · ".join(ui.source(r) for r in runs)
    )
