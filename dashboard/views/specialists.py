"""Specialists: the confusable-class clusters found from the generalist's prediction covariance (§5.3), shown as
image grids and as the covariance heat map ordered by cluster, plus the Table 3 / Table 4 analogs (notebook 06)."""

import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import data

PAPER_TABLE3 = pd.DataFrame(
    {
        "system": ["Baseline", "Baseline + 61 specialist models"],
        "conditional test accuracy": ["43.1%", "45.9%"],
        "test accuracy": ["25.0%", "26.1%"],
    }
)
PAPER_TABLE4 = pd.DataFrame(
    {  # JFT test set, by number of specialists covering the correct class
        "n_specialists": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10 or more"],
        "n_test_examples": [350037, 141993, 67161, 38801, 26298, 16474, 10682, 7376, 4703, 4706, 9082],
        "delta top1 correct": [0, 1421, 1572, 1124, 835, 561, 362, 232, 182, 208, 324],
        "relative accuracy change": [
            "0.0%",
            "+3.4%",
            "+7.4%",
            "+8.8%",
            "+10.5%",
            "+11.1%",
            "+11.3%",
            "+12.8%",
            "+13.6%",
            "+16.6%",
            "+14.1%",
        ],
    }
)
MAX_CLUSTERS = 12


def mosaic(images: np.ndarray, classes: list[int], per_row: int = 5, pad: int = 2) -> np.ndarray:
    """Tile the example images of ``classes`` (each H×W uint8) into one grid image, 2× upscaled."""
    h, w = images.shape[1:3]
    rows = int(np.ceil(len(classes) / per_row))
    cols = min(per_row, len(classes))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 90, dtype=np.uint8)
    for k, c in enumerate(classes):
        r, q = divmod(k, per_row)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + q * (w + pad) : pad + q * (w + pad) + w] = images[c]
    return np.kron(grid, np.ones((2, 2), dtype=np.uint8))


def covariance_figure(cov: np.ndarray, order: np.ndarray, clusters: list[list[int]] | None) -> Figure:
    c = np.asarray(cov, dtype=float)[np.ix_(order, order)]
    fig = Figure(figsize=(5.6, 4.8), dpi=100)
    ax = fig.add_subplot()
    lim = float(np.quantile(np.abs(c), 0.99)) or 1.0
    im = ax.imshow(c, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    position = {int(c): i for i, c in enumerate(order)}
    for cl in clusters or []:  # outline each cluster that sits in one contiguous block of ``order``
        idx = sorted(position[c] for c in cl if c in position)
        if idx and len(idx) == len(cl) and idx[-1] - idx[0] + 1 == len(idx):
            ax.add_patch(_rect(idx[0] - 0.5, len(idx)))
    n = len(order)
    if n <= 40:
        ax.set_xticks(range(n), [str(int(x)) for x in order], fontsize=6, rotation=90)
        ax.set_yticks(range(n), [str(int(x)) for x in order], fontsize=6)
    ax.set_title("covariance of the generalist's predictions, classes ordered by cluster", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def _rect(start: float, size: int):
    from matplotlib.patches import Rectangle

    return Rectangle((start, start), size, size, fill=False, ec="black", lw=1.2)


def main() -> None:
    st.title("Specialists")
    st.markdown(
        "§5 of the paper: a generalist plus specialists that each cover a cluster of easily confused "
        "classes (and a dustbin for the rest), combined per example by minimizing eq. 5."
    )
    all_runs = data.load_runs()
    data.skipped_note(("06",), all_runs)
    runs = [r for r in all_runs if r.ok and data.notebook_key(r) == "06" and data.artifact_names(r)]
    if not runs:
        data.no_data(("06",), "clusters.json")
        return
    run = data.pick_run(runs, "specialist_run", "Run (notebook 06)")

    st.subheader("Clusters of confusable classes")
    clusters, method = None, ""
    try:
        obj = data.json_artifact(run, "clusters.json")
        clusters = [[int(c) for c in cl] for cl in obj["clusters"]]
        method = f" (method: {obj['method']})" if obj.get("method") else ""
    except (data.ArtifactError, TypeError, ValueError) as e:
        st.warning(str(e) if isinstance(e, data.ArtifactError) else f"clusters.json is malformed ({e})")
    if clusters:
        try:
            images = data.arrays(run, "class_images.npz")["images"]
        except data.ArtifactError as e:
            images = None
            st.caption(f"{e}; showing class numbers only.")
        st.caption(f"{len(clusters)} clusters over {sum(map(len, clusters))} classes{method}. " + data.source(run))
        shown = clusters[:MAX_CLUSTERS]
        if images is not None and all(0 <= c < len(images) for cl in shown for c in cl):
            cols = st.columns(3)
            for k, cl in enumerate(shown):
                cols[k % 3].image(
                    mosaic(images, cl), caption=f"cluster {k}: classes {', '.join(map(str, cl))}", clamp=True
                )
        else:
            st.table(pd.DataFrame({"cluster": range(len(shown)), "classes": [", ".join(map(str, c)) for c in shown]}))
        if len(clusters) > MAX_CLUSTERS:
            st.caption(f"First {MAX_CLUSTERS} of {len(clusters)} clusters shown.")

    try:
        z = data.arrays(run, "covariance.npz")
        left, _ = st.columns([3, 2])
        data.pyplot(lambda: covariance_figure(z["cov"], np.asarray(z["order"]).astype(int), clusters), left)
        left.caption(data.source(run))
    except data.ArtifactError as e:
        st.warning(str(e))

    st.subheader("Generalist vs generalist + specialists (Table 3)")
    left, right = st.columns([3, 2])
    try:
        left.dataframe(data.table(run, "table3.csv"), hide_index=True, width="stretch")
        left.caption(data.source(run))
    except data.ArtifactError as e:
        left.warning(str(e))
    right.markdown("**Paper** (Table 3, JFT)")
    right.table(PAPER_TABLE3.set_index("system"))

    st.subheader("Gain by number of specialists covering the correct class (Table 4)")
    left, right = st.columns([3, 2])
    try:
        t4 = data.table(run, "table4.csv")
        left.dataframe(t4, hide_index=True, width="stretch")
        left.caption("The paper's trend: more specialists covering a class → larger gain. " + data.source(run))
    except data.ArtifactError as e:
        left.warning(str(e))
    right.markdown("**Paper** (Table 4, JFT)")
    right.dataframe(PAPER_TABLE4, hide_index=True)


data.guard(main)
