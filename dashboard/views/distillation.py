"""Lesson 03 · Distillation and temperature sweeps (notebook 03): teacher, baseline and distilled net beside the
paper's §3 errors, the MNIST test errors against T for each student width (several runs overlaid, the paper's
statements as bands), what each width's sweep says in words, per-class errors, and the run's own claims.
Also served at the old ``/sweeps`` URL (the missing-class scans that used to be there are lesson 04's page)."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, data, lesson, overlay, ui
from dashboard.views import distillation_controls
from kdlab import paper


def results_section(runs) -> None:
    """Teacher, baseline and distilled net: the paper's test errors beside each run's (one column per run)."""
    st.subheader("Teacher, baseline and distilled net")
    names = overlay.name_of(runs, "03")
    table = pd.DataFrame({"model": list(paper.MNIST_ERRORS), "paper (§3)": list(paper.MNIST_ERRORS.values())})
    long = []
    for run in runs:
        df = lesson.shown(lambda run=run: data.table(run, "results.csv"))
        if df is None:
            continue
        errors = dict(zip(df["model"].astype(str), df["test_errors"], strict=True))
        extra = [m for m in errors if m not in set(table["model"])]
        if extra:
            table = pd.concat([table, pd.DataFrame({"model": extra})], ignore_index=True)
        table[names[run.run_id]] = [errors.get(m) for m in table["model"]]
        long += [{"run": names[run.run_id], "model": m, "errors": int(v)} for m, v in errors.items() if pd.notna(v)]
    if not long:
        ui.no_data(("03",), "results.csv")
        return
    shown = table.astype(object).where(table.notna(), "—")
    left, right = st.columns([3, 2])
    left.table(shown.set_index("model"))
    left.markdown(
        "Test errors of the 10,000 MNIST test images. The paper's teacher is a 1200-1200 net with dropout; its small "
        "net has 800 units per layer, trained on the labels (baseline) or on the teacher's soft targets at "
        f"T = {paper.MNIST_T:g} (distilled)."
    )
    df = pd.DataFrame(long)
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("model:N", sort=list(table["model"]), title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("run:N", sort=None),
            y=alt.Y("errors:Q", title="test errors (of 10,000)"),
            color=overlay.color(runs, "03"),
            tooltip=["run:N", "model:N", alt.Tooltip("errors:Q", title="test errors")],
        )
        .properties(height=260)
    )
    ref = pd.DataFrame({"model": list(paper.MNIST_ERRORS), "errors": list(paper.MNIST_ERRORS.values())})
    ref["text"] = [f"paper (§3): {m} {v} errors" for m, v in zip(ref["model"], ref["errors"], strict=True)]
    base = alt.Chart(ref).encode(
        x=alt.X("model:N", sort=list(table["model"])), y="errors:Q", tooltip=alt.Tooltip("text:N", title="")
    )
    ticks = base.mark_tick(color=charts.PAPER, thickness=3, size=60)
    charts.show(bars, ticks, where=right, zoom=False)
    right.caption("Black ticks: the paper's test errors (§3; hover one for its number).")
    st.caption(" · ".join(ui.source(r) for r in runs))


def sweep_frames(runs) -> pd.DataFrame:
    frames = []
    for run in runs:
        df = lesson.shown(lambda run=run: data.table(run, "sweep.csv"))
        if df is not None:
            frames.append(df.assign(run=overlay.name_of([run], "03")[run.run_id]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def width_chart(part: pd.DataFrame, width: int, chosen, t_max: float, legend: bool) -> tuple[list, list]:
    """Mean test errors over seeds against T (min–max as a bar), one line per run; the paper's statement as a band.
    Returns (layers, bands): the bands are drawn beneath the points."""
    stats = part.groupby(["run", "temperature"], sort=False)["test_errors"].agg(["mean", "min", "max", "count"])
    stats = stats.reset_index()
    color = overlay.color(chosen, "03", title="run (all panels)")
    if not legend:
        color.legend = None
    t_min = float(part["temperature"].min())
    domain = [t_min / 1.15, max(t_max, paper.MNIST_T if width == 800 else t_max) * 1.15]
    ticks = charts.t_ticks(part["temperature"], keep=(paper.MNIST_T,))
    x = alt.X(
        "temperature:Q",
        title="temperature T",
        scale=alt.Scale(type="log", domain=domain, nice=False),
        axis=alt.Axis(values=ticks, format="~g"),
    )
    tips = [
        alt.Tooltip("run:N"),
        alt.Tooltip("temperature:Q", title="T", format=".3~g"),
        alt.Tooltip("mean:Q", title="test errors (mean over seeds)", format=".1f"),
        alt.Tooltip("min:Q", title="min"),
        alt.Tooltip("max:Q", title="max"),
        alt.Tooltip("count:Q", title="seeds"),
    ]
    base = alt.Chart(stats).encode(x=x, color=color)
    line = (
        base.mark_line(point=alt.OverlayMarkDef(size=40, filled=True), clip=True)
        .encode(y=alt.Y("mean:Q", title="test errors (of 10,000)", scale=alt.Scale(zero=False)), tooltip=tips)
        .properties(height=260)
    )
    layers = [line, base.mark_rule(clip=True).encode(y="min:Q", y2="max:Q", tooltip=tips)]
    bands = []
    if width >= paper.WIDE and t_max > paper.HIGH_T:
        bands.append(charts.band(paper.HIGH_T, domain[1], "≥ 300 units: all T above 8 fairly similar"))
    if width <= paper.NARROW:
        bands.append(charts.band(*paper.NARROW_BAND, "30 units: T in 2.5–4 significantly better", "#ff7f0e"))
    if width == 800:
        ref = pd.DataFrame({"temperature": [paper.MNIST_T], "errors": [paper.MNIST_ERRORS["distilled"]]})
        ref["text"] = f"distilled 800-unit net: {paper.MNIST_ERRORS['distilled']} errors at T = {paper.MNIST_T:g}"
        layers.append(charts.stars(ref, "temperature", "errors", "text", legend=False))
    return layers, bands


def words(g: pd.DataFrame, width: int) -> tuple[str, str]:
    """(the paper's statement for this width, what this run's sweep says about it, in words)."""
    mean = g.groupby("temperature")["test_errors"].mean()
    seeds = g["seed"].nunique() if "seed" in g else 1
    seed_note = f"{seeds} seed{'s' if seeds != 1 else ''}"
    if width >= paper.WIDE:
        high = mean[mean.index >= paper.HIGH_T]
        ts = ", ".join(f"{t:g}" for t in high.index)
        if len(high) < 2:
            only = f"only T = {ts}" if len(high) else "no T"
            return "all T above 8 fairly similar", f"not testable in this run: {only} at 8 or above"
        spread, overall = high.max() - high.min(), mean.max() - mean.min()
        strictly = high[high.index > paper.HIGH_T]
        note = f"; only T = {strictly.index[0]:g} lies strictly above 8" if len(strictly) == 1 else ""
        return (
            "all T above 8 fairly similar",
            f"{spread:.0f} error{'s' if round(spread) != 1 else ''} apart over T = {ts} ({seed_note}{note}), "
            f"against {overall:.0f} over all T",
        )
    if width <= paper.NARROW:
        lo, hi = paper.NARROW_BAND
        inside = mean[(mean.index >= lo) & (mean.index <= hi)]
        outside = mean[(mean.index < lo) | (mean.index > hi)]
        if not len(inside) or not len(outside):
            return "T in 2.5–4 significantly better", "not testable in this run: it needs T inside and outside 2.5–4"
        best = float(mean.idxmin())
        return (
            "T in 2.5–4 significantly better",
            f"best T = {best:g}; mean {inside.mean():.0f} errors inside 2.5–4 against {outside.mean():.0f} outside "
            f"({seed_note}{': no seed spread to judge significance' if seeds < 2 else ''})",
        )
    return "no statement for this width", "—"


def claims_table(sweep: pd.DataFrame, runs) -> pd.DataFrame:
    """Per run and width: best T, and the paper's statement beside this run's numbers in words and its verdict."""
    by_label = {overlay.name_of([r], "03")[r.run_id]: lesson.run_claims(r) for r in runs}
    rows = []
    for (name, width), g in sweep.groupby(["run", "width"], sort=False):
        mean = g.groupby("temperature")["test_errors"].mean()
        said, ours = words(g, int(width))
        cid = f"03.sweep_{'high_t_similar' if width >= paper.WIDE else 'mid_t_best'}_{int(width)}"
        claim = by_label.get(name, {}).get(cid)
        rows.append(
            {
                "run": name,
                "width": int(width),
                "best T": f"{float(mean.idxmin()):g}",
                "errors at best T": f"{float(mean.min()):.0f}",
                "paper (§3)": said,
                "this run, in words": ours,
                "run's verdict": lesson.verdict(claim) if claim else "no claim recorded",
            }
        )
    return pd.DataFrame(rows)


def sweep_section(chosen) -> None:
    st.subheader("Test errors against temperature, per student width")
    sweep = sweep_frames(chosen)
    if sweep.empty:
        return
    weights = sorted(sweep["hard_weight"].dropna().unique())
    if len(weights) > 1:
        w = st.selectbox("Hard-target weight", weights, key="hard_weight")
        sweep = sweep[sweep["hard_weight"] == w]
    t_max = float(sweep["temperature"].max())
    widths = sorted(sweep["width"].unique())
    star = f"the paper (800 units): {paper.MNIST_ERRORS['distilled']} errors at T = {paper.MNIST_T:g}"
    st.markdown(overlay.key_html(chosen, "03", [star]), unsafe_allow_html=True)
    for k in range(0, len(widths), 3):
        cols = st.columns(3)
        for col, w in zip(cols, widths[k : k + 3], strict=False):
            col.markdown(f"**{int(w)} units per layer**")
            layers, bands = width_chart(sweep[sweep["width"] == w], int(w), chosen, t_max, legend=False)
            charts.show(*layers, where=col, under=bands)
    st.caption(
        "Points: mean over seeds; vertical bars: min–max over seeds. Shaded: the paper's statements (§3); star: the "
        "paper's distilled 800-unit net. " + charts.HINT + " " + " · ".join(ui.source(r) for r in chosen)
    )
    st.table(claims_table(sweep, chosen), hide_index=True)


def per_class_section(run) -> None:
    df = lesson.shown(lambda: data.table(run, "per_class_errors.csv"))
    if df is None:
        return
    st.subheader("Where the errors are: test errors per digit")
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("class:O", title="true digit", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("model:N", sort=None),
            y=alt.Y("errors:Q", title="test errors"),
            color=alt.Color("model:N", sort=None, legend=charts.legend(), scale=alt.Scale(scheme="dark2")),
            tooltip=["model:N", alt.Tooltip("class:O", title="digit"), "errors:Q"],
        )
        .properties(height=240)
    )
    left, right = st.columns([3, 2])
    charts.show(chart, where=left, zoom=False)
    left.caption(ui.source(run))
    right.markdown("The paper gives only totals; this shows which digits the distilled net still gets wrong.")


def main() -> None:
    lesson.header(
        "03",
        "Distillation & temperature sweeps",
        "A small net trained on a big net's soft targets at a high temperature makes far fewer MNIST test errors than "
        "the same net trained on the labels, and the sweep shows how the best temperature depends on the net's width.",
        "It is compared with §3 of the paper: teacher {teacher}, small net {baseline} and distilled small net "
        "{distilled} test errors of 10,000, and its two statements on temperature (≥ {wide} units: every T above "
        "{high:g} about as good; {narrow} units: T from {lo:g} to {hi:g} best).".format(
            **paper.MNIST_ERRORS,
            wide=paper.WIDE,
            high=paper.HIGH_T,
            narrow=paper.NARROW,
            lo=paper.NARROW_BAND[0],
            hi=paper.NARROW_BAND[1],
        ),
    )
    st.page_link(
        "views/missing_classes.py",
        label="The missing-class experiments (bias scans, confusion matrices) are lesson 04's page",
        icon=":material/arrow_forward:",
    )
    all_runs = data.load_runs()
    ui.skipped_note(("03",), all_runs)
    runs = data.usable_runs(("03",), "sweep.csv", all_runs)
    results = data.usable_runs(("03",), "results.csv", all_runs)
    if not runs and not results:
        ui.no_data(("03",), "results.csv")
        return
    has_sweep = {r.run_id for r in runs}
    pool = runs + [r for r in results if r.run_id not in has_sweep]  # runs with a sweep first, newest first
    chosen = overlay.pick(pool, "sweep_runs", "03")
    if not chosen:
        return
    results_section([r for r in chosen if r.run_id in {q.run_id for q in results}])
    if any(r.run_id in has_sweep for r in chosen):
        sweep_section([r for r in chosen if r.run_id in has_sweep])
    else:
        ui.no_data(("03",), "sweep.csv")
    per_class_section(chosen[0])
    distillation_controls.section(chosen[0])
    st.subheader("The paper's claims, as these runs tested them")
    lesson.claims_box(chosen, page_nb="03")


ui.guard(main)
