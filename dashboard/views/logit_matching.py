"""Lesson 02 · Logit matching is the high-temperature limit of distillation (notebook 02, §2.1, eq. 2–4): how far the
distillation gradient is from its logit-matching approximation as T grows (zero-meaned, raw and shifted logits),
how much weight each logit gets at each T, and whether students distilled at higher T end up closer to a student
trained by logit matching."""

import math

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, data, lesson, overlay, ui
from dashboard.views import temperature_section2 as section2

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
            name = (
                f"teacher logits shifted by {charts.signed(shift)}" if shift is not None else "teacher logits shifted"
            )
            frames.append(shifted.assign(logits=name))
    df = pd.concat(frames, ignore_index=True)
    long = df.melt(["temperature", "logits"], ["rel_error_eq3", "rel_error_logit_matching"], "approximation", "error")
    long["approximation"] = long["approximation"].map(
        {"rel_error_eq3": "eq. 3 (first-order)", "rel_error_logit_matching": "eq. 4 (logit matching)"}
    )
    long["error"] = 100 * pd.to_numeric(long["error"], errors="coerce")
    return long.dropna(subset=["error"])


def within(long: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per run and kind of logits: the first T from which eq. 4 stays within ``level`` % of eq. 2, in words."""
    rows = []
    eq4 = long[long["approximation"].str.startswith("eq. 4")]
    for (run, logits), g in eq4.groupby(["run", "logits"], sort=False):
        g = g.sort_values("temperature")
        ok = (g["error"] <= level)[::-1].cummin()[::-1]  # within from this T on
        first = g.loc[ok, "temperature"]
        t_max = g["temperature"].max()
        rows.append(
            {
                "run": run,
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


def gradient_section(chosen) -> None:
    st.subheader("The gradient approaches logit matching as T grows (eq. 2 → eq. 4)")
    names, frames = overlay.name_of(chosen, "02"), []
    for run in chosen:
        one = gradient_frame(run)
        if one is not None:
            frames.append(one.assign(run=names[run.run_id]))
    if not frames:
        return
    long = pd.concat(frames, ignore_index=True)
    level = 100 * float(chosen[0].params.get("ERROR_LEVEL", 0.1) or 0.1)
    approximations = list(dict.fromkeys(long["approximation"]))
    which = st.radio(
        "Approximation drawn", approximations, index=len(approximations) - 1, horizontal=True, key="approximation"
    )
    part = long[long["approximation"] == which]
    chart = charts.lines(
        part,
        "temperature",
        "error",
        x_title="temperature T",
        y_title=f"relative error of {which} against eq. 2 (%)",
        color="run",
        color_title="run",
        color_scale=overlay.scale(chosen, "02"),
        dash="logits",
        dash_title="logits",
        log_x=True,
        log_y=True,
        x_ticks=charts.t_ticks(part["temperature"]),
        tooltip=[
            charts.tip("run", "run", None, "N"),
            charts.tip("logits", "logits", None, "N"),
            charts.tip("temperature", "T", ".4~g"),
            charts.tip("error", "relative error (%)", ".3~g"),
        ],
        height=340,
    )
    charts.show(chart, charts.hrule(level, f"{level:g} % level"))
    st.caption(
        "Median over cases of ‖approximation − eq. 2‖ / ‖eq. 2‖. "
        + charts.HINT
        + " "
        + " · ".join(ui.source(r) for r in chosen)
    )
    st.markdown(
        "With **zero-meaned** logits the error falls tenfold per tenfold rise of T: distillation becomes logit "
        "matching. Shift the teacher's logits by a constant (the softmax does not notice) and eq. 4 stalls: the "
        "zero-mean assumption is not a detail."
    )
    st.table(within(long, level), hide_index=True)


def weight_section(chosen) -> None:
    runs = [r for r in chosen if "logit_weight.csv" in data.artifact_names(r)]
    if not runs:
        return
    st.subheader("What low temperatures ignore: the weight each logit gets")
    names, frames = overlay.name_of(runs, "02"), []
    for run in runs:
        df = lesson.shown(lambda run=run: data.table(run, "logit_weight.csv"))
        if df is not None:
            frames.append(df.assign(run=names[run.run_id]))
    if not frames:
        return
    df = pd.concat(frames, ignore_index=True)
    tips = [
        charts.tip("run", "run", None, "N"),
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
        color="run",
        color_title="run",
        color_scale=overlay.scale(runs, "02"),
        dash="group",
        dash_title="teacher logit (per case)",
        log_x=True,
        log_y=True,
        x_ticks=charts.t_ticks(df["temperature"]),
        tooltip=tips,
        height=320,
    )
    charts.show(chart, charts.hrule(1.0, "weight 1: as hard as logit matching"))
    st.caption(charts.HINT + " " + " · ".join(ui.source(r) for r in runs))
    deep = df[df["group"].astype(str).str.startswith("more than")].sort_values("temperature")
    text = (
        "The paper (§2.1): at lower temperatures distillation *pays much less attention to matching logits that are "
        "much more negative than the average*. The weight is the curvature of the T²-scaled soft loss at z = v, "
        "divided by its high-T limit."
    )
    for name, g in deep.groupby("run", sort=False):
        lo = g.iloc[0]
        hi = g.iloc[(g["temperature"] - 10).abs().argmin()]
        text += (
            f" {name}, logits {lo['group']}: weight {lo['mean_weight']:.2g} at T = {lo['temperature']:g}, "
            f"{hi['mean_weight']:.2g} at T = {hi['temperature']:.3g}."
        )
    st.markdown(text)


def convergence_rows(run, name: str) -> pd.DataFrame | None:
    conv = lesson.shown(lambda: data.table(run, "convergence.csv"))
    if conv is None:
        return None
    t = pd.to_numeric(conv["temperature"].astype(str), errors="coerce")
    return pd.DataFrame(
        {
            "run": name,
            "T": t,
            "student": [f"T = {v:g}" if not math.isnan(v) else "logit matching (the limit)" for v in t],
            "test errors (of 10,000)": conv["test_errors"],
            "agreement": ui.pct(conv["agreement_with_logit_matching"]).to_numpy(),
            "correlation of zero-meaned logits": [f"{v:.3f}" for v in conv["logit_corr"]],
        }
    )


def convergence_section(chosen) -> None:
    st.subheader("Training: do students distilled at higher T end up like the logit-matching student?")
    names = overlay.name_of(chosen, "02")
    frames = [f for f in (convergence_rows(r, names[r.run_id]) for r in chosen) if f is not None]
    if not frames:
        return
    rows = pd.concat(frames, ignore_index=True)
    points = rows.dropna(subset=["T"])
    chart = charts.lines(
        points,
        "T",
        "agreement",
        x_title="temperature T of the distilled student",
        y_title="agrees with the logit-matching student (% of test images)",
        color="run",
        color_title="run",
        color_scale=overlay.scale(chosen, "02"),
        log_x=True,
        x_ticks=charts.t_ticks(points["T"]),
        tooltip=[
            charts.tip("run", "run", None, "N"),
            charts.tip("T", "T", ".3~g"),
            charts.tip("agreement", "agreement (%)", ".2f"),
            charts.tip("test errors (of 10,000)", "test errors"),
        ],
        height=300,
    )
    charts.show(chart)
    st.caption(
        "The paper gives no numbers here; its claim (§2.1) is the direction: the higher T, the closer to logit "
        "matching. " + " · ".join(ui.source(r) for r in chosen)
    )
    table = rows.drop(columns=["T"]).assign(agreement=[ui.fmt_pct(v) for v in rows["agreement"]])
    st.table(table.rename(columns={"agreement": "agrees with the logit-matching student"}), hide_index=True)
    runs = [r for r in chosen if "convergence_by_epoch.csv" in data.artifact_names(r)]
    if not runs:
        return
    run = overlay.pick_one(runs, "epoch_run", "02", "Learning curves of run")
    by = lesson.shown(lambda: data.table(run, "convergence_by_epoch.csv"))
    if by is None:
        return
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
        color_title="student",
        color_scale=alt.Scale(scheme="viridis"),
        dash="student",
        height=300,
        tooltip=[
            charts.tip("student", "", None, "N"),
            charts.tip("epoch", "epoch"),
            charts.tip("agreement", "agreement (%)", ".2f"),
            charts.tip("logit_corr", "logit corr.", ".4f"),
        ],
    )
    charts.show(chart)
    st.caption(
        f"Learning curves of {names[run.run_id]}: the students share initial weights and minibatches. " + ui.source(run)
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
    all_runs = data.load_runs()
    ui.skipped_note(("02",), all_runs)
    runs = data.usable_runs(("02",), "gradient_error.csv", all_runs)
    if not runs:
        ui.no_data(("02",), "gradient_error.csv")
        return
    chosen = overlay.pick(runs, "logit_runs", "02")
    if not chosen:
        return
    gradient_section(chosen)
    weight_section(chosen)
    convergence_section(chosen)
    section2.t_squared_section(chosen)
    st.subheader("The paper's claims, as these runs tested them")
    lesson.claims_box(chosen, page_nb="02")


ui.guard(main)
