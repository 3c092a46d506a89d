"""Lesson 03's controls and §2 experiments (notebook 03, sections 2 and 6): the matched baseline, the sweep of the
hard-target weight at T = 20 and the 1 % transfer set at several learning rates. Every choice was made on held-out
training cases; the page shows validation and test errors side by side. A run from before these experiments lacks
the files, and the section says so instead of failing. Used by ``views/distillation.py``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, lesson, ui

FILES = ("hard_weight_sweep.csv", "small_transfer.csv")


def matched_line(run) -> str:
    """The matched baseline's figures from ``metrics.json``, or '' for a run without one."""
    m = run.metrics or {}
    if m.get("matched_baseline_errors") is None:
        return ""
    val = m.get("validation_errors") or {}
    return (
        f"Matched baseline (the distilled net's epochs, stopped at validation epoch {m.get('matched_best_epoch')}): "
        f"{m['matched_baseline_errors']} test errors against the plain baseline's {m.get('baseline_errors')}; "
        f"validation errors {val.get('matched', '?')} and {val.get('baseline', '?')} of "
        f"{m.get('validation_cases', '?')} held-out training cases."
    )


def section(run) -> None:
    st.subheader("§2 as experiments: a matched baseline, the hard-target weight, much less data")
    have = data.artifact_names(run)
    if not any(f in have for f in FILES):
        st.caption(
            f"Run `{run.run_id}` predates these experiments (no {' or '.join(f'`{f}`' for f in FILES)}); rerun "
            "notebook 03 to see them."
        )
        return
    line = matched_line(run)
    if line:
        st.markdown(line)
    left, right = st.columns(2)
    if "hard_weight_sweep.csv" in have:
        weights = lesson.shown(
            lambda: data.table(run, "hard_weight_sweep.csv", ("hard_weight", "val_errors", "test_errors"))
        )
        if weights is not None:
            left.markdown("**Hard-target weight** beside T²·soft (1 = equal weight), mean over seeds")
            left.table(weights.groupby("hard_weight")[["val_errors", "test_errors"]].mean().round(1))
    if "small_transfer.csv" in have:
        lrs = lesson.shown(
            lambda: data.table(run, "small_transfer.csv", ("targets", "lr", "val_errors", "test_errors"))
        )
        if lrs is not None:
            right.markdown("**1 % transfer set**: soft against hard targets per learning rate, mean over seeds")
            table = lrs.pivot_table(index="lr", columns="targets", values=["val_errors", "test_errors"], dropna=False)
            right.table(table.round(1).astype(object).where(pd.notna(table), "diverged"))
    st.caption(
        "Each weight and learning rate is chosen on the validation errors (training cases no student trains on); the "
        "claims below judge the test errors of the chosen ones. " + ui.source(run)
    )
