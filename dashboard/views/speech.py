"""Speech: ensemble → distilled single model on synthesized speech frames (Table 1 analog) and soft targets as a
regularizer on 3% of the data (Table 5 analog and learning curves), all from notebook 05."""

import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import data

PAPER_TABLE1 = pd.DataFrame(
    {
        "system": ["Baseline", "10xEnsemble", "Distilled Single model"],
        "test frame accuracy": ["58.9%", "61.1%", "60.8%"],
        "WER": ["10.9%", "10.7%", "10.7%"],
    }
)
PAPER_TABLE5 = pd.DataFrame(
    {
        "system": [
            "Baseline (100% of training set)",
            "Baseline (3% of training set)",
            "Soft Targets (3% of training set)",
        ],
        "train frame accuracy": ["63.4%", "67.3%", "65.4%"],
        "test frame accuracy": ["58.9%", "44.5%", "57.0%"],
    }
)


def gain_kept(table1: pd.DataFrame, column: str) -> float | None:
    """(distilled − baseline) / (ensemble − baseline): the paper keeps > 80% (1.9 of 2.2 points)."""
    names = table1["model"].astype(str).str.lower()

    def pick(word: str) -> float | None:
        hit = table1.loc[names.str.contains(word), column]
        return float(hit.iloc[0]) if len(hit) else None

    base, ens, dist = pick("baseline"), pick("ensemble"), pick("distill")
    if None in (base, ens, dist) or ens == base:
        return None
    return (dist - base) / (ens - base)


def curves_figure(curves: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(7.5, 4.0), dpi=100)
    ax = fig.add_subplot()
    for j, (setting, g) in enumerate(curves.groupby("setting", sort=False)):
        g = g.sort_values("epoch")
        ax.plot(g["epoch"], g["test_acc"], "o-", ms=3, color=f"C{j}", label=f"{setting} (test)")
        ax.plot(g["epoch"], g["train_acc"], "--", color=f"C{j}", alpha=0.6, label=f"{setting} (train)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("frame accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    return fig


def posteriors_figure(z: dict, frames: int = 200) -> Figure:
    phones = [str(p) for p in z["phones"]]
    fig = Figure(figsize=(9, 3.6), dpi=100)
    for k, key in enumerate(("teacher", "distilled")):
        ax = fig.add_subplot(2, 1, k + 1)
        post = np.asarray(z[key][:frames], dtype=float).T  # (classes, frames)
        ax.imshow(
            np.log10(np.clip(post, 1e-6, 1)), aspect="auto", cmap="magma", vmin=-6, vmax=0, interpolation="nearest"
        )
        labels = np.asarray(z["labels"][:frames]).astype(int)
        ax.plot(np.arange(len(labels)), labels, ".", color="cyan", ms=1.5)
        ax.set_ylabel(key, fontsize=8)
        if len(phones) <= 20:
            ax.set_yticks(range(len(phones)), phones, fontsize=6)
    fig.axes[-1].set_xlabel("frame (cyan: aligned phone label; colour: log10 posterior)")
    fig.tight_layout()
    return fig


def main() -> None:
    st.title("Speech")
    st.markdown(
        "§4 of the paper: an ensemble of frame classifiers is distilled into one model; §6: soft targets "
        "let a model trained on 3% of the data generalize almost as well as one trained on all of it."
    )
    all_runs = data.load_runs()
    data.skipped_note(("05",), all_runs)
    runs = [
        r
        for r in all_runs
        if r.ok and data.notebook_key(r) == "05" and {"table1.csv", "table5.csv", "curves.csv"} & data.artifact_names(r)
    ]
    if not runs:
        data.no_data(("05",), "table1.csv")
        return
    run = data.pick_run(runs, "speech_run", "Run (notebook 05)")

    st.subheader("Ensemble → distilled single model (Table 1)")
    left, right = st.columns([3, 2])
    try:
        t1 = data.table(run, "table1.csv")
        left.dataframe(t1, hide_index=True, width="stretch")
        kept = gain_kept(t1, "frame_acc_seen")
        if kept is not None:
            left.metric(
                "share of the ensemble's frame-accuracy gain kept by the distilled model",
                f"{100 * kept:.0f}%",
                help="(distilled − baseline) / (ensemble − baseline); paper: 86%",
            )
        left.caption(data.source(run))
    except data.ArtifactError as e:
        left.warning(str(e))
    right.markdown("**Paper** (Table 1, Android voice search)")
    right.table(PAPER_TABLE1.set_index("system"))

    st.subheader("Soft targets as a regularizer: 3% of the data (Table 5)")
    left, right = st.columns([3, 2])
    try:
        left.dataframe(data.table(run, "table5.csv"), hide_index=True, width="stretch")
        left.caption(data.source(run))
    except data.ArtifactError as e:
        left.warning(str(e))
    right.markdown("**Paper** (Table 5)")
    right.table(PAPER_TABLE5.set_index("system"))

    st.subheader("Learning curves")
    left, _ = st.columns([3, 1])
    try:
        data.pyplot(lambda: curves_figure(data.table(run, "curves.csv")), left)
        left.caption(
            "The paper early-stops the 3% hard-target model (it peaks at 44.5% and then drops); the "
            "soft-target model simply converges (57.0%). " + data.source(run)
        )
    except data.ArtifactError as e:
        left.warning(str(e))

    if "posteriors.npz" in data.artifact_names(run):
        st.subheader("Frame posteriors: ensemble teacher vs distilled model")
        try:
            data.pyplot(lambda: posteriors_figure(data.arrays(run, "posteriors.npz")))
            st.caption(data.source(run))
        except data.ArtifactError as e:
            st.warning(str(e))


data.guard(main)
