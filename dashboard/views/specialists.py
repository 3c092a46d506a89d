"""Lesson 06 · Specialists (notebook 06): the confusable-class clusters found from the generalist's prediction
covariance (§5.3, Table 2 analog) as image grids and as the covariance heat map, then the Table 3 and Table 4
analogs beside the paper's (percent, test-image counts), §6.1's soft-target specialists and distilling the ensemble
back into one net."""

import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import charts, data, lesson, overlay, ui
from dashboard.views import specialists_tables as tables
from kdlab import paper

MAX_CLUSTERS = 18
ARTIFACTS = ("clusters.json", "covariance.npz", "class_images.npz", "table3.csv", "table4.csv")


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
    ax.set_xlabel(f"class ({n}, ordered by cluster)")
    ax.set_title("covariance of the generalist's predictions", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="covariance")
    fig.tight_layout()
    return fig


def _rect(start: float, size: int):
    from matplotlib.patches import Rectangle

    return Rectangle((start, start), size, size, fill=False, ec="black", lw=1.2)


def clusters_section(run) -> list[list[int]] | None:
    st.subheader("Clusters of confusable classes (Table 2 analog)")
    obj = lesson.shown(lambda: data.json_artifact(run, "clusters.json"))
    if obj is None:
        return None
    try:
        clusters = [[int(c) for c in cl] for cl in obj["clusters"]]
        outline = [[int(c) for c in cl] for cl in obj.get("base_clusters", clusters)]
    except (TypeError, ValueError) as e:
        st.warning(f"run {run.notebook}/{run.run_id}: clusters.json is malformed ({e}) {data.rerun_hint(run)}")
        return None
    images = None
    if "class_images.npz" in data.artifact_names(run):
        images = lesson.shown(lambda: data.arrays(run, "class_images.npz")["images"])
    n_classes = len(images) if images is not None else (max((c for cl in clusters for c in cl), default=-1) + 1)
    method = f" Method: {obj['method']}." if obj.get("method") else ""
    st.caption(tables.coverage(clusters, n_classes) + "." + method + " " + ui.source(run))
    shown = clusters[:MAX_CLUSTERS]
    names = [", ".join(tables.class_name(c, n_classes) for c in cl) for cl in shown]
    if images is not None and all(0 <= c < len(images) for cl in shown for c in cl):
        cols = st.columns(3)
        for k, cl in enumerate(shown):
            cols[k % 3].image(mosaic(images, cl), caption=f"cluster {k} ({len(cl)} classes): {names[k]}", clamp=True)
    else:
        st.table(pd.DataFrame({"cluster": range(len(shown)), "classes": names}), hide_index=True)
    if len(clusters) > MAX_CLUSTERS:
        st.caption(f"First {MAX_CLUSTERS} of {len(clusters)} clusters shown.")
    return outline


def relative(t3: pd.DataFrame) -> dict[str, float]:
    """Relative improvement (%) of test and conditional accuracy, generalist → with specialists, from table3.csv."""
    out: dict[str, float] = {}
    kinds = [tables.kind(str(x)) for x in t3["system"]]
    for column, name in (("test_accuracy", "test accuracy"), ("conditional_accuracy", "conditional test accuracy")):
        acc = dict(zip(kinds, ui.pct(t3[column]), strict=False))
        if acc.get("baseline") and "specialists" in acc:
            out[name] = 100 * (acc["specialists"] - acc["baseline"]) / acc["baseline"]
    return out


def overlay_charts(chosen) -> None:
    """Table 3's relative gains and Table 4's gain by coverage: every chosen run's bars beside the paper's ticks."""
    names, color = overlay.name_of(chosen, "06"), overlay.color(chosen, "06")
    gains, cover = [], []
    for run in chosen:
        t3 = lesson.shown(lambda run=run: data.table(run, "table3.csv"))
        if t3 is not None:
            gains += [{"run": names[run.run_id], "what": k, "gain": v} for k, v in relative(t3).items()]
        t4 = lesson.shown(lambda run=run: data.table(run, "table4.csv"))
        if t4 is not None:
            rel = ui.pct(t4["relative_improvement"]).to_numpy()
            for n, r in zip(t4["n_specialists"], rel, strict=True):
                cover.append({"run": names[run.run_id], "n": str(int(n)) if n < 10 else "10 or more", "gain": r})
    left, right = st.columns([2, 3])
    if gains:
        t = pd.DataFrame(paper.TABLE3)
        ref = pd.DataFrame(
            {
                "what": ["test accuracy", "conditional test accuracy"],
                "gain": [100 * (t.iloc[1, c] - t.iloc[0, c]) / t.iloc[0, c] for c in (1, 2)],
            }
        )
        ref["text"] = [f"paper (Table 3, JFT): {ui.fmt_pct(v, sign=True)}" for v in ref["gain"]]
        left.markdown("**Table 3: relative improvement with specialists**")
        layers = charts.bars_with_paper(pd.DataFrame(gains), "what", "gain", "relative improvement (%)", color, ref)
        charts.show(*layers, where=left, zoom=False)
    if cover:
        df = pd.DataFrame(cover)
        ref = pd.DataFrame({"n": paper.TABLE4["n_specialists"], "gain": paper.TABLE4["relative_accuracy_change"]})
        ref["text"] = [f"paper (Table 4, JFT): {ui.fmt_pct(v, sign=True)}" for v in ref["gain"]]
        df = df[df["n"].isin(set(ref["n"]))]
        right.markdown("**Table 4: relative accuracy change by the number of specialists covering the class**")
        layers = charts.bars_with_paper(df, "n", "gain", "relative accuracy change (%)", color, ref)
        charts.show(*layers, where=right, zoom=False)
    st.caption(
        "Black ticks: the paper's figures on JFT (hover for the number); our task is far smaller, so only the "
        "direction and the trend compare. " + " · ".join(ui.source(r) for r in chosen)
    )


def _slope_words(metrics: dict) -> str:
    """Table 4's trend as the run measured it (``table4_slope`` ± its bootstrap s.e.), or what is missing."""
    slope, se = metrics.get("table4_slope"), metrics.get("table4_slope_se")
    if not isinstance(slope, (int, float)) or not isinstance(se, (int, float)):
        return "This run recorded no slope of the trend (it predates the Table 4 claim, or had too few buckets)."
    return (
        f"Slope of the relative change against the number of covering specialists: {ui.fmt_pct(slope, sign=True)} per "
        f"specialist, bootstrap s.e. {ui.fmt_pct(se)} (the claim below says whether that is beyond noise)."
    )


def controls_section(run) -> None:
    """The references the specialists are judged against, beside them: converged generalist, compute-matched control."""
    st.subheader("Specialists against a converged generalist and the same compute")
    if "controls.csv" not in data.artifact_names(run):
        st.info(
            "This run has no `controls.csv`: it was made before the notebook trained its generalist to convergence "
            f"and a compute-matched control; rerun it to see them {data.rerun_hint(run)}"
        )
        return
    controls = lesson.shown(lambda: data.table(run, "controls.csv"))
    if controls is None:  # unreadable, or lacking a column of the contract: ``shown`` has said which
        return
    left, right = st.columns([3, 2])
    charts.show(tables.controls_chart(controls), where=left, zoom=False)
    left.caption("Test accuracy; hover for the validation accuracy. " + ui.source(run))
    right.markdown(
        "The generalist trained until its accuracy on held-out training cases stopped improving, and the same "
        "generalist given the specialists' total extra training steps on hard labels. The specialists are judged "
        "against the one with the better *validation* accuracy (blue), and cannot hold their claim when either is "
        "more accurate on test."
    )


def main() -> None:
    lesson.header(
        "06",
        "Specialists",
        "A generalist plus specialists — each trained on a cluster of classes the generalist confuses, found from the "
        "covariance of its predictions, and combined per image by eq. 5 — classifies more test images correctly.",
        "It is compared with the paper's Table 2 (the clusters), Table 3 (JFT: {:.1f} % → {:.1f} % test accuracy with "
        "{} specialists) and Table 4 (the gain by the number of specialists covering the correct class).".format(
            *paper.TABLE3["test accuracy (%)"], paper.N_SPECIALISTS
        ),
    )
    all_runs = data.load_runs()
    ui.skipped_note(("06",), all_runs)
    runs = [r for r in all_runs if r.ok and data.notebook_key(r) == "06" and set(ARTIFACTS) & data.artifact_names(r)]
    if not runs:
        ui.no_data(("06",), ARTIFACTS[0])
        return
    chosen = overlay.pick(runs, "specialist_runs", "06")
    if not chosen:
        return
    st.subheader("Every run beside the paper")
    overlay_charts(chosen)
    run = overlay.pick_one(chosen, "specialist_run", "06", "Clusters and tables of run")
    outline = clusters_section(run)
    if "covariance.npz" in data.artifact_names(run) or outline is not None:
        z = lesson.shown(lambda: data.arrays(run, "covariance.npz"))
        if z is not None:
            left, right = st.columns([3, 2])
            ui.pyplot(lambda: covariance_figure(z["cov"], np.asarray(z["order"]).astype(int), outline), left)
            left.caption(ui.source(run))
            right.markdown(
                "Two classes the generalist tends to predict *together* have a positive covariance (red). Ordered by "
                "cluster, the clusters K-means found show as red blocks along the diagonal (outlined)."
            )

    n_spec = run.metrics.get("n_specialists") if isinstance(run.metrics.get("n_specialists"), int) else None
    st.subheader("Generalist with and without specialists (Table 3)")
    t3 = lesson.shown(lambda: data.table(run, "table3.csv"))
    if t3 is not None:
        table, words = tables.table3(t3, n_spec)
        st.table(table, hide_index=True)
        st.caption(
            (words + " " if words else "") + "Conditional accuracy: over the test images whose true class some "
            "specialist covers, top-1 among the classes of those specialists. " + ui.source(run)
        )

    controls_section(run)

    st.subheader("Gain by the number of specialists covering the correct class (Table 4)")
    t4 = lesson.shown(lambda: data.table(run, "table4.csv"))
    if t4 is not None:
        charts.show(tables.table4_chart(t4), zoom=False)
        st.caption(_slope_words(run.metrics) + " " + ui.source(run))
        st.table(tables.table4(t4), hide_index=True)
        st.markdown(
            "The paper's trend: the more specialists cover a class, the larger the gain. A dash: no test image of "
            "ours is covered by that many specialists. Our test set has thousands of images, not JFT's million, so "
            "a change of a few dozen images can be noise (the claims below say which)."
        )

    names = data.artifact_names(run)
    if "curves.csv" in names:
        st.subheader("§6.1: specialists trained on soft targets overfit less")
        curves = lesson.shown(lambda: data.table(run, "curves.csv"))
        if curves is not None:
            left, right = st.columns([3, 2])
            charts.show(tables.curves61_chart(curves), where=left)
            splits = sorted(curves["split"].astype(str).unique())  # the chart's order: groupby sorts
            words = charts.dash_words(splits)
            held_out = (
                "'val' is the held-out training cases the claim is judged on."
                if "val" in splits
                else "This run has no held-out ('val') curves: it predates the held-out §6.1 claim."
            )
            left.caption(
                f"Conditional NLL (the claim's quantity). Lines: {words}; mean over the specialists. {held_out} "
                + charts.HINT
                + " "
                + ui.source(run)
            )
            right.markdown(
                "The paper proposes (§6.1) but does not test specialists with a full softmax and the generalist's "
                "soft targets on the other classes; there is no figure of the paper to compare with."
            )
            if "table61.csv" in names:
                t61 = lesson.shown(lambda: data.table(run, "table61.csv"), right)
                if t61 is not None:
                    cols = {
                        "test_cond_acc_final": "test cond. accuracy",
                        "combined_test_accuracy": "combined test acc.",
                    }
                    right.table(tables.accuracy_table(t61, cols), hide_index=True)
    if "distill.csv" in names:
        st.subheader("Beyond the paper: distilling generalist + specialists back into one net")
        d = lesson.shown(lambda: data.table(run, "distill.csv"))
        if d is not None:
            st.table(tables.accuracy_table(d, {"test_accuracy": "test accuracy"}), hide_index=True)
            st.caption("§7 of the paper leaves this open: it has no figure to compare with. " + ui.source(run))

    st.subheader("The paper's claims, as these runs tested them")
    lesson.claims_box(chosen, page_nb="06")


ui.guard(main)
