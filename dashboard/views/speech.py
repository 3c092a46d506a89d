"""Lesson 05 · Speech (notebook 05): ensemble → distilled single model on synthesized speech frames beside the paper's
Table 1, soft targets as a regularizer on 3 % of the data beside its Table 5, the learning curves, and the frame
posteriors of teacher and student. Every accuracy in percent, as the paper gives them."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import charts, data, lesson, overlay, ui
from dashboard.views import speech_tables as tables
from kdlab import paper

ARTIFACTS = ("table1.csv", "table5.csv", "curves.csv", "posteriors.npz")


def curves_chart(curves: pd.DataFrame, setting: str):
    """One run's learning curves of one setting: train / validation / test differ by colour AND line style."""
    cols = [c for c in ("train_acc", "val_acc", "test_acc") if c in curves]
    part = curves[curves["setting"].astype(str) == setting]
    long = part.melt(["setting", "epoch"], cols, "split", "acc")
    long["acc"] = ui.pct(long["acc"]).to_numpy()
    long["split"] = long["split"].map({"train_acc": "train", "val_acc": "validation", "test_acc": "test"})
    return charts.lines(
        long,
        "epoch",
        "acc",
        x_title="epoch",
        x_format="d",
        y_title="frame accuracy (%)",
        color="split",
        color_title="measured on",
        color_scale=alt.Scale(domain=["train", "validation", "test"], range=["#7f7f7f", "#9467bd", "#d62728"]),
        dash="split",
        points=False,
        height=300,
        tooltip=[
            charts.tip("split", "on", None, "N"),
            charts.tip("epoch", "epoch"),
            charts.tip("acc", "frame accuracy (%)", ".1f"),
        ],
    )


def first_member(curves: pd.DataFrame) -> pd.DataFrame:
    """The first initialization's curves (a run with several, the full profile's Table 5, has a ``member`` column)."""
    return curves[pd.to_numeric(curves["member"], errors="coerce") == 0] if "member" in curves else curves


def test_curves(chosen, names: dict) -> pd.DataFrame:
    """Every chosen run's test-accuracy curves, long: run, setting, epoch, acc (%)."""
    frames = []
    for run in chosen:
        c = lesson.shown(lambda run=run: data.table(run, "curves.csv"))
        if c is not None:
            c = first_member(c)
            frames.append(c.assign(run=names[run.run_id], acc=ui.pct(c["test_acc"]).to_numpy()))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def overlay_charts(chosen) -> None:
    """Table 1 and Table 5 as bars, every chosen run beside the paper's ticks, and the test curves of every run."""
    names, color = overlay.name_of(chosen, "05"), overlay.color(chosen, "05")
    t1_rows, t5_rows = [], []
    for run in chosen:
        t1 = lesson.shown(lambda run=run: data.table(run, "table1.csv"))
        if t1 is not None:
            for k, row in tables.main_rows(t1).items():
                t1_rows.append(
                    {
                        "run": names[run.run_id],
                        "system": tables.system_label(k),
                        "acc": ui.pct(float(row["frame_acc_seen"])),
                    }
                )
        t5 = lesson.shown(lambda run=run: data.table(run, "table5.csv"))
        if t5 is not None:
            for system, acc in zip(t5["system"], ui.pct(t5["test_frame_acc"]), strict=True):
                t5_rows.append({"run": names[run.run_id], "system": str(system), "acc": float(acc)})
    left, right = st.columns(2)
    if t1_rows:
        ref = pd.DataFrame(
            {"system": ["baseline", "ensemble", "distilled"], "acc": list(paper.TABLE1["test frame accuracy (%)"])}
        )
        ref["text"] = [f"paper (Table 1): {v} %" for v in ref["acc"]]
        left.markdown(
            "**Table 1: frame accuracy, seen speakers** — the matched control is the student's budget and inputs "
            "on hard labels: the bar the distilled model must beat"
        )
        layers = charts.bars_with_paper(pd.DataFrame(t1_rows), "system", "acc", "frame accuracy (%)", color, ref)
        charts.show(*layers, where=left, zoom=False)
    if t5_rows:
        df = pd.DataFrame(t5_rows)
        paper5 = paper.TABLE5["test frame accuracy (%)"]
        systems = list(dict.fromkeys(df["system"]))
        ref = pd.DataFrame({"system": systems, "acc": [float(paper5[tables.table5_ref(s)]) for s in systems]})
        ref["text"] = [f"paper (Table 5): {v:g} %" for v in ref["acc"]]
        right.markdown("**Table 5: test frame accuracy, 3 % of the data**")
        layers = charts.bars_with_paper(df, "system", "acc", "test frame accuracy (%)", color, ref)
        charts.show(*layers, where=right, zoom=False)
    st.caption("Black ticks: the paper's figures (hover for the number). " + " · ".join(ui.source(r) for r in chosen))
    curves = test_curves(chosen, names)
    if curves.empty:
        return
    p = paper.TABLE5["test frame accuracy (%)"]
    chart = charts.lines(
        curves,
        "epoch",
        "acc",
        x_title="epoch",
        x_format="d",
        y_title="test frame accuracy (%)",
        color="run",
        color_title="run",
        color_scale=overlay.scale(chosen, "05"),
        dash="setting",
        dash_title="setting",
        points=False,
        height=320,
        tooltip=[
            charts.tip("run", "run", None, "N"),
            charts.tip("setting", "", None, "N"),
            charts.tip("epoch", "epoch"),
            charts.tip("acc", "test frame accuracy (%)", ".1f"),
        ],
    )
    st.markdown("**Test accuracy while training, every run**")
    rules = [
        (float(p[1]), f"paper, 3 % hard: {p[1]} % (early-stopped)"),
        (float(p[2]), f"paper, 3 % soft: {p[2]} %"),
    ]
    charts.show(chart, charts.hrules(rules, title="the paper (Table 5)"))


def posteriors_figure(z: dict, frames: int = 200) -> Figure:
    phones = [str(p) for p in z["phones"]]
    fig = Figure(figsize=(10, 4.2), dpi=100)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, key in zip(axes, ("teacher", "distilled"), strict=True):
        post = np.asarray(z[key][:frames], dtype=float).T  # (classes, frames)
        im = ax.imshow(
            np.log10(np.clip(post, 1e-6, 1)), aspect="auto", cmap="magma", vmin=-6, vmax=0, interpolation="nearest"
        )
        labels = np.asarray(z["labels"][:frames]).astype(int)
        ax.plot(np.arange(len(labels)), labels, ".", color="cyan", ms=1.5)
        ax.set_ylabel(f"{key}\n(class of {len(phones)})", fontsize=8)
        if len(phones) <= 20:
            ax.set_yticks(range(len(phones)), phones, fontsize=6)
    fig.colorbar(im, ax=list(axes), fraction=0.03, pad=0.01, label="log₁₀ posterior")
    axes[-1].set_xlabel("frame (cyan dots: the aligned label)")
    return fig


def newer_tables(run) -> None:
    """The epochs each hard-label model kept and the gain kept at each temperature (issue 26); a run made before
    the notebook wrote them is said to lack them."""
    names = data.artifact_names(run)
    missing = [f for f in ("member_epochs.csv", "gain_by_t.csv") if f not in names]
    if "member_epochs.csv" in names:
        m = lesson.shown(lambda: data.table(run, "member_epochs.csv"))
        if m is not None:
            st.markdown("**Trained to the validation optimum** — " + tables.epochs_text(m))
    if "gain_by_t.csv" in names:
        gt = lesson.shown(lambda: data.table(run, "gain_by_t.csv"))
        if gt is not None:
            st.markdown("**The gain kept at each of the paper's temperatures** (validation utterances)")
            st.table(tables.gain_by_t(gt), hide_index=True)
    if missing:
        st.caption(f"This run has no {' or '.join(missing)}: it was made before notebook 05 wrote them (issue 26).")


def main() -> None:
    lesson.header(
        "05",
        "Speech",
        "An ensemble of ten frame classifiers beats one, and a single model distilled from the ensemble keeps most "
        "of that gain; trained on 3 % of the data, soft targets keep a model close to the full-data one.",
        "It is compared with the paper's Table 1 (§4: {0:.1f} % → {1:.1f} % frame accuracy, {2:.1f} % distilled) and "
        "Table 5 (§6: {4:.1f} % with hard and {5:.1f} % with soft targets on 3 % of the data).".format(
            *paper.TABLE1["test frame accuracy (%)"], *paper.TABLE5["test frame accuracy (%)"]
        ),
    )
    all_runs = data.load_runs()
    ui.skipped_note(("05",), all_runs)
    runs = [r for r in all_runs if r.ok and data.notebook_key(r) == "05" and set(ARTIFACTS) & data.artifact_names(r)]
    if not runs:
        ui.no_data(("05",), ARTIFACTS[0])
        return
    chosen = overlay.pick(runs, "speech_runs", "05")
    if not chosen:
        return
    st.subheader("Every run beside the paper")
    overlay_charts(chosen)
    names = overlay.name_of(chosen, "05")
    run = overlay.pick_one(chosen, "speech_run", "05", "Tables and curves of run")
    st.subheader(f"Ensemble → distilled single model (Table 1) · {names[run.run_id]}")
    t1 = lesson.shown(lambda: data.table(run, "table1.csv"))
    if t1 is not None:
        st.table(tables.table1(t1), hide_index=True)
        st.markdown("**Share of the ensemble's frame-accuracy gain that the distilled model keeps**")
        m = st.columns(3)
        above = []
        for col, column, who in ((m[0], "frame_acc_seen", "seen"), (m[1], "frame_acc_unseen", "unseen")):
            kept = tables.gain_kept(t1, column)
            if kept is not None and kept > 1:
                above.append(f"{who} speakers ({100 * kept:.0f} %)")
            col.metric(
                f"gain kept, {who} speakers",
                f"{100 * kept:.0f}%" if kept is not None else "—",
                help="(distilled − baseline) / (ensemble − baseline), frame accuracy",
            )
        b, e, d = paper.TABLE1["test frame accuracy (%)"]
        m[2].metric("gain kept, paper (Table 1)", f"{100 * paper.gain_kept():.0f}%", help=f"({d} − {b}) / ({e} − {b})")
        if above:
            st.markdown(
                f"More than 100 % kept ({', '.join(above)}): in this run the distilled single model is *more* "
                "accurate than the ensemble it learned from; the paper's distilled model stays below its ensemble "
                f"({100 * paper.gain_kept():.0f} % kept)."
            )
        st.caption(
            "Our phone error rate is not the paper's word error rate (a full recogniser with a language model): the "
            "two columns are not comparable number for number. " + ui.source(run)
        )
    newer_tables(run)

    st.subheader("Soft targets as a regularizer: 3 % of the data (Table 5)")
    t5 = lesson.shown(lambda: data.table(run, "table5.csv"))
    if t5 is not None:
        st.table(tables.table5(t5), hide_index=True)
        st.caption(ui.source(run))

    st.subheader("Learning curves")
    curves = lesson.shown(lambda: data.table(run, "curves.csv"))
    if curves is not None:
        curves = first_member(curves)
        settings = list(dict.fromkeys(curves["setting"].astype(str)))
        cols = st.columns(len(settings) or 1)
        _, hard, soft = paper.TABLE5["test frame accuracy (%)"]
        for col, setting in zip(cols, settings, strict=False):
            ref = float(soft if "soft" in setting.lower() else hard)
            col.markdown(f"**{setting}** · grey dotted line: the paper's test accuracy, {ref:g} %")
            charts.show(
                curves_chart(curves, setting),
                charts.hrule(ref, f"paper's test accuracy: {ref:g} %", title=None),  # one legend: split by colour+dash
                where=col,
            )
        st.caption(charts.HINT + " " + ui.source(run))
        st.markdown(
            f"The paper early-stops the 3 % hard-target model (it peaks at {hard} % and then drops); the soft-target "
            f"model simply converges ({soft} %)."
        )

    if "posteriors.npz" in data.artifact_names(run):
        st.subheader("Frame posteriors: ensemble teacher and distilled model")
        z = lesson.shown(lambda: data.arrays(run, "posteriors.npz"))
        if z is not None:
            ui.pyplot(lambda: posteriors_figure(z))
            st.caption(ui.source(run))
    st.subheader("The paper's claims, as these runs tested them")
    lesson.claims_box(chosen, page_nb="05")


ui.guard(main)
