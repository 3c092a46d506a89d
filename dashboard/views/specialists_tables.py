"""Lesson 06's tables beside the paper's, in the paper's units (percent, test-image counts): Table 3 (accuracy of the
generalist with and without specialists), Table 4 (the gain by the number of specialists covering the correct class),
how the clusters cover the classes, and the §6.1 learning curves. Used by ``views/specialists.py``."""

from __future__ import annotations

from collections import Counter

import altair as alt
import pandas as pd

from dashboard import charts, ui
from kdlab import paper


def class_name(c: int, n_classes: int) -> str:
    """``07`` on a 100-class task (MNIST-100's classes are two-digit numbers), ``7`` on a 10-class one."""
    return f"{int(c):0{len(str(max(n_classes - 1, 1)))}d}"


def coverage(clusters: list[list[int]], n_classes: int | None) -> str:
    """How the clusters cover the classes, counting each class once (clusters overlap: memberships ≠ classes)."""
    count = Counter(c for cl in clusters for c in cl)
    distinct, memberships = len(count), sum(count.values())
    shared = sum(v > 1 for v in count.values())
    of = f" of the {n_classes}" if n_classes else ""
    text = f"{len(clusters)} clusters (one specialist each) cover {distinct}{of} classes"
    if shared:
        return (
            text + f"; they overlap: {shared} classes sit in two or more clusters ({memberships} memberships in all), "
            "which is what lets several specialists vote on one image (Table 4)"
        )
    return text + " (no class in two clusters)"


def kind(system: str) -> str:
    s = system.lower()
    return "distilled" if "distil" in s else "specialists" if "special" in s else "baseline"


def table3(t3: pd.DataFrame, n_specialists: int | None) -> tuple[pd.DataFrame, str]:
    """Ours beside the paper's Table 3 (percent), and the relative improvement of both in words."""
    t3_paper = pd.DataFrame(paper.TABLE3)
    ref = {kind(s): r for s, r in zip(t3_paper["system"], t3_paper.itertuples(index=False), strict=True)}
    test, cond = ui.pct(t3["test_accuracy"]), ui.pct(t3["conditional_accuracy"])
    rows, ours = [], {}
    for i, row in t3.iterrows():
        k = kind(str(row["system"]))
        ours.setdefault(k, float(test.loc[i]))
        p = ref.get(k)
        rows.append(
            {
                "system": ui.cell(row["system"]),
                "ours: test accuracy": ui.fmt_pct(test.loc[i]),
                "ours: conditional test accuracy": ui.fmt_pct(cond.loc[i]),
                "paper: test accuracy": ui.fmt_pct(p[1]) if p else "— (not in the paper: §7 left it open)",
                "paper: conditional test accuracy": ui.fmt_pct(p[2]) if p else "—",
            }
        )
    words = ""
    if "baseline" in ours and "specialists" in ours and ours["baseline"]:
        rel = 100 * (ours["specialists"] - ours["baseline"]) / ours["baseline"]
        many = f"{n_specialists} specialists" if n_specialists else "specialists"
        words = (
            f"Relative improvement of the test accuracy: ours {ui.fmt_pct(rel, sign=True)} with {many}, the paper's "
            f"{ui.fmt_pct(paper.TABLE3_RELATIVE, sign=True)} with {paper.N_SPECIALISTS}. The accuracies themselves differ because the "
            "tasks do (MNIST-100's 100 classes against JFT's 15,000); the relative gain is what compares."
        )
    return pd.DataFrame(rows), words


def table4(t4: pd.DataFrame) -> pd.DataFrame:
    """Ours and the paper's Table 4 on one row per number of covering specialists (all the paper's rows shown)."""
    rel = ui.pct(t4["relative_improvement"])
    ours: dict[str, dict[str, str]] = {}
    for i, row in t4.iterrows():
        n = int(row["n_specialists"])
        key = str(n) if n < 10 else "10 or more"
        ours[key] = {
            "ours: test images": f"{int(row['n_test_examples']):,}",
            "ours: net change in top-1 correct": charts.minus(f"{int(row['n_changed_correct']):+d}"),
            "ours: relative accuracy change": ui.fmt_pct(rel.loc[i], sign=True),
        }
    rows = []
    keys = list(paper.TABLE4["n_specialists"]) + [k for k in ours if k not in set(paper.TABLE4["n_specialists"])]
    ref = pd.DataFrame(paper.TABLE4).set_index("n_specialists")
    for key in keys:
        row = {"specialists covering the correct class": key}
        row.update(ours.get(key, dict.fromkeys(("ours: test images", "ours: net change in top-1 correct"), "—")))
        row.setdefault("ours: relative accuracy change", "—")
        if key in ref.index:
            p = ref.loc[key]
            row["paper: test images"] = f"{int(p['n_test_examples']):,}"
            row["paper: net change in top-1 correct"] = charts.minus(f"{int(p['delta_top1_correct']):+d}")
            row["paper: relative accuracy change"] = ui.fmt_pct(p["relative_accuracy_change"], sign=True)
        rows.append(row)
    return pd.DataFrame(rows).fillna("—")


def table4_chart(t4: pd.DataFrame) -> alt.Chart:
    """Relative accuracy change by the number of covering specialists, ours beside the paper's."""
    ours = pd.DataFrame(
        {
            "n": [str(int(n)) if n < 10 else "10 or more" for n in t4["n_specialists"]],
            "change": ui.pct(t4["relative_improvement"]).to_numpy(),
            "images": t4["n_test_examples"].astype(int).to_numpy(),
            "who": "ours",
        }
    )
    ref = pd.DataFrame(
        {
            "n": paper.TABLE4["n_specialists"],
            "change": paper.TABLE4["relative_accuracy_change"],
            "images": paper.TABLE4["n_test_examples"],
            "who": "paper (JFT)",
        }
    )
    df = pd.concat([ref, ours], ignore_index=True)
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(
                "n:N",
                sort=list(paper.TABLE4["n_specialists"]),
                title="specialists covering the correct class",
                axis=alt.Axis(labelAngle=0),
            ),
            xOffset=alt.XOffset("who:N"),
            y=alt.Y("change:Q", title="relative accuracy change (%)"),
            color=alt.Color("who:N", legend=charts.legend(), scale=alt.Scale(range=["#1f77b4", "#999999"])),
            tooltip=[
                alt.Tooltip("who:N", title=""),
                alt.Tooltip("n:N", title="specialists"),
                alt.Tooltip("change:Q", title="relative change (%)", format="+.1f"),
                alt.Tooltip("images:Q", title="test images", format=","),
            ],
        )
        .properties(height=260)
    )


def controls_chart(controls: pd.DataFrame) -> alt.Chart:
    """Test accuracy of the references (converged generalist, compute-matched control) beside generalist +
    specialists, one dot each on a zoomed axis (the differences are tenths of a percent), the reference chosen on
    validation marked."""
    df = pd.DataFrame(
        {
            "system": controls["system"].astype(str).to_numpy(),
            "test accuracy (%)": ui.pct(controls["test_accuracy"]).to_numpy(),
            "validation accuracy (%)": ui.pct(controls["val_accuracy"]).to_numpy(),
            "role": [
                "specialists" if "special" in str(s) else "reference, chosen on validation" if c else "reference"
                for s, c in zip(controls["system"], controls["chosen"].astype(str).str.lower() == "true", strict=True)
            ],
        }
    )
    base = alt.Chart(df).encode(
        y=alt.Y("system:N", sort=None, title=None, axis=alt.Axis(labelLimit=0)),
        x=alt.X("test accuracy (%):Q", scale=alt.Scale(zero=False, padding=20)),
        tooltip=[
            alt.Tooltip("system:N", title=""),
            alt.Tooltip("test accuracy (%):Q", format=".2f"),
            alt.Tooltip("validation accuracy (%):Q", format=".2f"),
            alt.Tooltip("role:N"),
        ],
    )
    dots = base.mark_point(filled=True, size=160).encode(
        color=alt.Color(
            "role:N",
            legend=charts.legend(),
            scale=alt.Scale(
                domain=["reference, chosen on validation", "reference", "specialists"],
                range=["#1f77b4", "#999999", "#d62728"],
            ),
        )
    )
    labels = base.mark_text(align="left", dx=10).encode(text=alt.Text("test accuracy (%):Q", format=".2f"))
    return alt.layer(dots, labels).properties(height=40 * len(df) + 40)


def curves61_chart(curves: pd.DataFrame) -> alt.Chart:
    """§6.1: conditional NLL — the quantity the claim is judged on — of dustbin vs soft-target specialists over
    training steps (mean over specialists), on every split the run recorded (held-out cases: the claim's)."""
    mean = curves.groupby(["kind", "split", "step"], as_index=False)[["cond_acc", "cond_nll"]].mean()
    mean["cond_acc"] = ui.pct(mean["cond_acc"]).to_numpy()
    return charts.lines(
        mean,
        "step",
        "cond_nll",
        x_title="training step",
        y_title="conditional NLL on the specialist's classes (nats)",
        color="kind",
        color_title="specialist",
        dash="split",
        dash_title="measured on",
        points=False,
        height=300,
        tooltip=[
            charts.tip("kind", "specialist", None, "N"),
            charts.tip("split", "on", None, "N"),
            charts.tip("step", "step"),
            charts.tip("cond_acc", "cond. accuracy (%)", ".1f"),
            charts.tip("cond_nll", "cond. NLL", ".3f"),
        ],
    )


def accuracy_table(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """A table whose accuracy columns (fractions or percent) are shown as percent under readable names."""
    out = pd.DataFrame({"system": [ui.cell(v) for v in df.iloc[:, 0]]})
    for col, title in columns.items():
        if col in df:
            out[title] = [ui.fmt_pct(v) for v in ui.pct(df[col])]
    return out
