"""Lesson 01's table of the paper's own example (§1: a 2 with p(3) = 10⁻⁶ and p(7) = 10⁻⁹ at T = 1) beside the run's most
3-like and most 7-like saved 2s (``views/temperature.py`` draws it)."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data, ui
from kdlab import paper


def example_table(run, logits: np.ndarray, labels: np.ndarray, indices: np.ndarray) -> None:
    """The paper's 2 (p(3) = 10⁻⁶, p(7) = 10⁻⁹ at T = 1) beside this run's most 3-like and most 7-like saved 2s."""
    st.subheader("The paper's example beside ours")
    twos = np.flatnonzero(labels == paper.LOOK_ALIKE_2["label"])
    if not len(twos):
        st.caption("This run saved no test image of a 2, so the paper's example (§1) has nothing to stand beside.")
        return
    p1 = data.softmax(logits[twos], 1.0)
    ratio = np.log10(np.clip(p1[:, 3], 1e-300, None)) - np.log10(np.clip(p1[:, 7], 1e-300, None))
    picks = dict.fromkeys([int(twos[np.argmax(ratio)]), int(twos[np.argmin(ratio)])])
    ex = paper.LOOK_ALIKE_2
    rows = [
        {
            "": "paper (§1): a 2",
            "p(2) at T = 1": "≈ 1",
            "p(3) at T = 1": f"{ex['p3']:.0e}",
            "p(7) at T = 1": f"{ex['p7']:.0e}",
            "p(3) / p(7)": f"{ex['p3'] / ex['p7']:.0f}× (a 3 rather than a 7)",
            f"p(3), p(7) at T = {paper.MNIST_T:g}": "not given",
        }
    ]
    for k in picks:
        p = data.softmax(logits[k], 1.0)
        hot = data.softmax(logits[k], paper.MNIST_T)
        r = p[3] / max(p[7], 1e-300)
        rows.append(
            {
                "": f"ours: test image {int(indices[k])} (a 2)",
                "p(2) at T = 1": f"{p[2]:.4f}",
                "p(3) at T = 1": f"{p[3]:.1e}",
                "p(7) at T = 1": f"{p[7]:.1e}",
                "p(3) / p(7)": f"{r:.3g}× (a 3 rather than a 7)" if r >= 1 else f"{1 / r:.3g}× (a 7 rather than a 3)",
                f"p(3), p(7) at T = {paper.MNIST_T:g}": f"{hot[3]:.3f}, {hot[7]:.3f}",
            }
        )
    st.table(pd.DataFrame(rows), hide_index=True)
    st.caption(
        "At T = 1 both numbers are tiny, so they barely move a cross-entropy; at the paper's T = 20 they become "
        "large enough to learn from while keeping their order. " + ui.source(run)
    )
