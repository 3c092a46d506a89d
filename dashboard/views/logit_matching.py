"""Lesson 02 · Logit matching is the high-temperature limit of distillation (notebook 02, §2.1, eq. 2–4): how far the
distillation gradient is from its logit-matching approximation as T grows (zero-meaned, raw and shifted logits),
how much weight each logit gets at each T, and whether students distilled at higher T end up closer to a student
trained by logit matching."""

import math

import pandas as pd
import streamlit as st

from dashboard import charts, data, lesson, ui

VARIANT = {True: "zero-meaned logits", False: "logits as the nets output them"}


def truthy(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower().isin(("true", "1", "1.0"))


def gradient_frame(run) -> pd.DataFrame | None:
    """gradient_error.csv (+ gradient_error_shifted.csv when present) as long rows: T, logits, approximation, %."""
    base = lesson.shown(lambda: data.table(run, "gradient_error.csv"))
    if base is None:
        return None
    frames = [base.assign(logits=truthy(base["zero_mean"]).map(VARIANT))]
    if "gradient_error_shifted.csv" in data.artifact_names(run):
        shifted = lesson.shown(lambda: data.table(run, "gradient_error_shifted.csv"))
        if shifted is not None:
            shift = shifted["shift"].iloc[0] if "shift" in shifted and len(shifted) else None
            name = f"teacher logits shifted by {shift:+g}" if shift is not None else "teacher logits shifted"
            frames.append(shifted.assign(logits=name))
    df = pd.concat(frames, ignore_index=True)
    long = df.melt(["temperature", "logits"], ["rel_error_eq3", "rel_error_logit_matching"], "approximation", "error")
    long["approximation"] = long["approximation"].map(
        {"rel_error_eq3": "eq. 3 (first-order)", "rel_error_logit_matching": "eq. 4 (logit matching)"}
    )
    long["error"] = 100 * pd.to_numeric(long["error"], errors="coerce")
    return long.dropna(subset=["error"])


def within(long: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per kind of logits: the first T from which eq. 4 stays within ``level`` % of eq. 2, in words."""
    rows = []
    for logits, g in long[long["approximation"].str.startswith("eq. 4")].groupby("logits", sort=False):
        g = g.sort_values("temperature")
        ok = (g["error"] <= level)[::-1].cummin()[::-1]  # within from this T on
        first = g.loc[ok, "temperature"]
        t_max = g["temperature"].max()
        rows.append(
            {
                "logits": logits,
                "eq. 4 within the level from": f"T = {first.iloc[0]:.3g}"
                if len(first)
                else f"never (up to T = {t_max:,.0f})",
                "relative error at the largest T": ui.fmt_pct(g["error"].iloc[-1], 2) + f" (T = {t_max:,.0f})",
                "paper (§2.1)": "→ 0 as T → ∞"
                if logits == VARIANT[True]
                else "not covered: eq. 4 assumes zero-meaned logits",
            }
        )
    return pd.DataFrame(rows)


def gradient_section(run) -> None:
    st.subheader("The gradient approaches logit matching as T grows (eq. 2 → eq. 4)")
    long = gradient_frame(run)
    if long is None:
        return
    level = 100 * float(run.params.get("ERROR_LEVEL", 0.1) or 0.1)
    chart = charts.lines(
        long,
        "temperature",
        "error",
        x_title="temperature T",
        y_title="relative error against eq. 2 (%)",
        color="logits",
        color_title="logits",
        dash="approximation",
        dash_title="approximation",
        log_x=True,
        log_y=True,
        tooltip=[
            charts.tip("logits", "logits", None, "N"),
            charts.tip("approximation", "", None, "N"),
            charts.tip("temperature", "T", ".4~g"),
            charts.tip("error", "relative error (%)", ".3~g"),
        ],
        height=340,
    )
    left, right = st.columns([3, 2])
    charts.show(chart, charts.hrule(level, f"{level:g} % level"), where=left)
    left.caption(
        f"Lines: {charts.dash_words(long['approximation'])}. Median over cases of ‖approximation − eq. 2‖ / ‖eq. 2‖. "
        + charts.HINT
        + " "
        + ui.source(run)
    )
    right.markdown(
        "With **zero-meaned** logits the error falls tenfold per tenfold rise of T: distillation becomes logit "
        "matching. Shift the teacher's logits by a constant (the softmax does not notice) and eq. 4 stalls: the "
        "zero-mean assumption is not a detail."
    )
    right.table(within(long, level), hide_index=True)


def weight_section(run) -> None:
    if "logit_weight.csv" not in data.artifact_names(run):
        return
    st.subheader("What low temperatures ignore: the weight each logit gets")
    df = lesson.shown(lambda: data.table(run, "logit_weight.csv"))
    if df is None:
        return
    tips = [
        charts.tip("group", "logits", None, "N"),
        charts.tip("temperature", "T", ".3~g"),
        charts.tip("mean_weight", "weight (logit matching = 1)", ".3~g"),
    ]
    if "n_logits" in df:
        tips.append(charts.tip("n_logits", "logits in the group", ","))
    chart = charts.lines(
        df,
        "temperature",
        "mean_weight",
        x_title="temperature T",
        y_title="weight relative to logit matching",
        color="group",
        color_title="teacher logit (per case)",
        log_x=True,
        log_y=True,
        tooltip=tips,
        height=320,
    )
    left, right = st.columns([3, 2])
    charts.show(chart, charts.hrule(1.0, "as hard as logit matching"), where=left)
    left.caption(charts.HINT + " " + ui.source(run))
    deep = df[df["group"].astype(str).str.startswith("more than")].sort_values("temperature")
    text = (
        "The paper (§2.1): at lower temperatures distillation *pays much less attention to matching logits that are "
        "much more negative than the average*. The weight is the curvature of the T²-scaled soft loss at z = v, "
        "divided by its high-T limit."
    )
    if len(deep):
        lo = deep.iloc[0]
        hi = deep.iloc[(deep["temperature"] - 10).abs().argmin()]
        text += (
            f" Here, logits {lo['group']}: weight {lo['mean_weight']:.2g} at T = {lo['temperature']:g}, "
            f"{hi['mean_weight']:.2g} at T = {hi['temperature']:.3g}."
        )
    right.markdown(text)


def convergence_section(run) -> None:
    st.subheader("Training: do students distilled at higher T end up like the logit-matching student?")
    conv = lesson.shown(lambda: data.table(run, "convergence.csv"))
    if conv is None:
        return
    conv["temperature"] = conv["temperature"].astype(str)
    t = pd.to_numeric(conv["temperature"], errors="coerce")
    rows = pd.DataFrame(
        {
            "student": [f"T = {v:g}" if not math.isnan(v) else "logit matching (the limit)" for v in t],
            "test errors (of 10,000)": conv["test_errors"],
            "agrees with the logit-matching student (% of test images)": [
                ui.fmt_pct(v) for v in ui.pct(conv["agreement_with_logit_matching"])
            ],
            "correlation of zero-meaned logits": [f"{v:.3f}" for v in conv["logit_corr"]],
        }
    )
    left, right = st.columns([3, 2])
    if "convergence_by_epoch.csv" in data.artifact_names(run):
        by = lesson.shown(lambda: data.table(run, "convergence_by_epoch.csv"), left)
        if by is not None:
            by = by[by["temperature"].astype(str) != "logit_matching"].copy()
            by["student"] = "T = " + by["temperature"].astype(str)
            by["agreement"] = ui.pct(by["agreement_with_logit_matching"])
            chart = charts.lines(
                by,
                "epoch",
                "agreement",
                x_title="epoch",
                x_format="d",
                y_title="agrees with the logit-matching student (%)",
                color="student",
                height=300,
                tooltip=[
                    charts.tip("student", "", None, "N"),
                    charts.tip("epoch", "epoch"),
                    charts.tip("agreement", "agreement (%)", ".2f"),
                    charts.tip("logit_corr", "logit corr.", ".4f"),
                ],
            )
            charts.show(chart, where=left)
            left.caption("Learning curves: the six students share initial weights and minibatches. " + ui.source(run))
    right.table(rows, hide_index=True)
    right.caption(
        "The paper gives no numbers here; its claim (§2.1) is the direction: the higher T, the closer to logit "
        "matching. " + ui.source(run)
    )


def main() -> None:
    lesson.header(
        "02",
        "Logit matching",
        "At a high temperature the gradient of the distillation loss, (q − p)/T (eq. 2), turns into (z − v)/(N T²) "
        "(eq. 4), so distillation becomes matching the teacher's logits — provided the logits are zero-meaned.",
        "The paper has no figure for this; it is compared with §2.1's equations 2–4 and its two statements: the "
        "approximation becomes exact as T → ∞, and low temperatures pay little attention to very negative logits.",
    )
    run = lesson.pick("02", ("gradient_error.csv", "convergence.csv"), "logit_run")
    if run is None:
        return
    gradient_section(run)
    weight_section(run)
    convergence_section(run)
    st.subheader("The paper's claims, as this run tested them")
    lesson.claims_box(run)


ui.guard(main)
