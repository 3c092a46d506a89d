"""Lesson 05 · Speech (notebook 05): ensemble → distilled single model on synthesized speech frames beside the paper's
Table 1, soft targets as a regularizer on 3 % of the data beside its Table 5, the learning curves, and the frame
posteriors of teacher and student. Every accuracy in percent, as the paper gives them."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import charts, data, lesson, overlay, ui
from kdlab import paper

ARTIFACTS = ("table1.csv", "table5.csv", "curves.csv", "posteriors.npz")


def kind(name: str) -> str:
    """baseline / ensemble / distilled / control, from a Table 1 row's model name (the matched control's name says
    "distilled model's budget", so it is tested first)."""
    name = name.lower()
    if "control" in name:
        return "control"
    return "ensemble" if "ensemble" in name else "distilled" if "distil" in name else "baseline"


def main_rows(t1: pd.DataFrame) -> dict[str, pd.Series]:
    """The row standing for each system: for the distilled model, the one chosen on validation when marked."""
    out: dict[str, pd.Series] = {}
    chosen = t1["chosen_on_val"].astype(str).str.lower().eq("true") if "chosen_on_val" in t1 else None
    for i, row in t1.iterrows():
        k = kind(str(row["model"]))
        if k not in out or (chosen is not None and chosen.loc[i]):
            out[k] = row
    return out


def gain_kept(t1: pd.DataFrame, column: str) -> float | None:
    """(distilled − baseline) / (ensemble − baseline): the paper keeps 86 % (1.9 of 2.2 points)."""
    rows = main_rows(t1)
    if set(rows) < {"baseline", "ensemble", "distilled"}:
        return None
    base, ens, dist = (float(rows[k][column]) for k in ("baseline", "ensemble", "distilled"))
    return None if ens == base or not np.isfinite([base, ens, dist]).all() else (dist - base) / (ens - base)


def table1(t1: pd.DataFrame) -> pd.DataFrame:
    """Ours beside the paper's Table 1, one row per system, percent."""
    t1_paper = pd.DataFrame(paper.TABLE1)
    ref = {kind(s): r for s, r in zip(t1_paper["system"], t1_paper.itertuples(index=False), strict=True)}
    mains = {r.name for r in main_rows(t1).values()}  # the rows that stand for the paper's three systems
    acc = {c: ui.pct(t1[c]) for c in ("frame_acc_seen", "frame_acc_unseen", "phone_error_rate") if c in t1}
    rows = []
    for i, row in t1.iterrows():
        k = kind(str(row["model"]))
        p = ref.get(k) if i in mains else None
        rows.append(
            {
                "system": ui.cell(row["model"]),
                "T": ui.fmt_t(row.get("temperature")) if k == "distilled" else "— (hard labels)",
                "chosen on validation": (
                    "✓" if str(row.get("chosen_on_val", "")).lower() == "true" else ("" if k == "distilled" else "—")
                ),
                "ours: frame acc., seen speakers": ui.fmt_pct(acc["frame_acc_seen"].loc[i]),
                "ours: frame acc., unseen speakers": ui.fmt_pct(acc["frame_acc_unseen"].loc[i]),
                "ours: phone error rate": ui.fmt_pct(acc["phone_error_rate"].loc[i]),
                "paper: frame accuracy": ui.fmt_pct(p[1]) if p else "—",
                "paper: WER": ui.fmt_pct(p[2]) if p else "—",
            }
        )
    return pd.DataFrame(rows)


def table5(t5: pd.DataFrame) -> pd.DataFrame:
    ref = table5_ref
    rows = []
    train, test = ui.pct(t5["train_frame_acc"]), ui.pct(t5["test_frame_acc"])
    for i, row in t5.iterrows():
        p = pd.DataFrame(paper.TABLE5).iloc[ref(str(row["system"]))]
        rows.append(
            {
                "system": ui.cell(row["system"]),
                "training frames": f"{int(row['train_frames']):,}" if pd.notna(row.get("train_frames")) else "—",
                "ours: train frame acc.": ui.fmt_pct(train.loc[i]),
                "ours: test frame acc.": ui.fmt_pct(test.loc[i]),
                "paper: train frame acc.": ui.fmt_pct(p["train frame accuracy (%)"]),
                "paper: test frame acc.": ui.fmt_pct(p["test frame accuracy (%)"]),
            }
        )
    return pd.DataFrame(rows)


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


def test_curves(chosen, names: dict) -> pd.DataFrame:
    """Every chosen run's test-accuracy curves, long: run, setting, epoch, acc (%)."""
    frames = []
    for run in chosen:
        c = lesson.shown(lambda run=run: data.table(run, "curves.csv"))
        if c is not None:
            frames.append(c.assign(run=names[run.run_id], acc=ui.pct(c["test_acc"]).to_numpy()))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def overlay_charts(chosen) -> None:
    """Table 1 and Table 5 as bars, every chosen run beside the paper's ticks, and the test curves of every run."""
    names, color = overlay.name_of(chosen, "05"), overlay.color(chosen, "05")
    t1_rows, t5_rows = [], []
    for run in chosen:
        t1 = lesson.shown(lambda run=run: data.table(run, "table1.csv"))
        if t1 is not None:
            for k, row in main_rows(t1).items():
                t1_rows.append({"run": names[run.run_id], "system": k, "acc": ui.pct(float(row["frame_acc_seen"]))})
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
        left.markdown("**Table 1: frame accuracy, seen speakers**")
        layers = charts.bars_with_paper(pd.DataFrame(t1_rows), "system", "acc", "frame accuracy (%)", color, ref)
        charts.show(*layers, where=left, zoom=False)
    if t5_rows:
        df = pd.DataFrame(t5_rows)
        paper5 = paper.TABLE5["test frame accuracy (%)"]
        systems = list(dict.fromkeys(df["system"]))
        ref = pd.DataFrame({"system": systems, "acc": [float(paper5[table5_ref(s)]) for s in systems]})
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


def table5_ref(system: str) -> int:
    """The paper's Table 5 row a system of ours stands beside."""
    s = system.lower()
    return 0 if "100" in s else 2 if "soft" in s else 1


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
        st.table(table1(t1), hide_index=True)
        st.markdown("**Share of the ensemble's frame-accuracy gain that the distilled model keeps**")
        m = st.columns(3)
        above = []
        for col, column, who in ((m[0], "frame_acc_seen", "seen"), (m[1], "frame_acc_unseen", "unseen")):
            kept = gain_kept(t1, column)
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

    st.subheader("Soft targets as a regularizer: 3 % of the data (Table 5)")
    t5 = lesson.shown(lambda: data.table(run, "table5.csv"))
    if t5 is not None:
        st.table(table5(t5), hide_index=True)
        st.caption(ui.source(run))

    st.subheader("Learning curves")
    curves = lesson.shown(lambda: data.table(run, "curves.csv"))
    if curves is not None:
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
