"""Lesson 04 · Missing classes (notebook 04): a student distilled without any 3 in its transfer set (or with only 7s
and 8s), the scans of the output-bias shift that repairs it, our numbers beside the paper's (§3) at the test-chosen
shift (the paper's protocol) and at a shift chosen on held-out training cases, and the confusions before and after."""

import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import charts, data, lesson, ui
from kdlab import paper

SCANS = ("bias_scan_omit3.csv", "bias_scan_only78.csv")


def at_shift(df: pd.DataFrame, shift: float, column: str) -> float:
    """The scan's value at the shift nearest ``shift``."""
    return float(df.loc[(df["shift"] - shift).abs().idxmin(), column])


def only78_sign(scans78: dict) -> float:
    """The notebook may record the lowering of the 7/8 biases as negative (usual) or positive shifts."""
    for df in scans78.values():
        if (df["shift"] > 0).sum() > (df["shift"] < 0).sum() and df.loc[df["error_rate"].idxmin(), "shift"] > 0:
            return 1.0
    return -1.0


def scan_charts(omit3: dict, only78: dict, first) -> None:
    """Three interactive scans with the paper's figures as stars and the validation-chosen shift as a dashed line."""
    metrics = first.metrics if first is not None else {}
    o = paper.OMIT3
    cols = st.columns(3)
    if omit3:
        df = pd.concat([d.assign(run=name) for name, d in omit3.items()])
        zero = max(at_shift(d, 0.0, "total_errors") for d in omit3.values())
        for col, y, title, top, ref in (
            (cols[0], "total_errors", "all test errors (of 10,000)", max(1.6 * zero, 1.2 * o["errors"]), "errors"),
            (cols[1], "errors_on_3", f"errors on the {o['n_3s']:,} test 3s", None, "errors_on_3"),
        ):
            if top is None:
                top = max(1.3 * max(at_shift(d, 0.0, y) for d in omit3.values()), 1.2 * o[ref])
            chart = charts.lines(
                df,
                "shift",
                y,
                x_title="bias added to class 3",
                y_title=title,
                color="run",
                points=False,
                y_domain=(0, top),
                height=280,
                title="no 3s in the transfer set",
                tooltip=[
                    charts.tip("run", "run", None, "N"),
                    charts.tip("shift", "shift", "+.2f"),
                    charts.tip(y, title),
                ],
            )
            after = o["errors_after"] if ref == "errors" else o["errors_on_3_after"]
            stars = pd.DataFrame({"shift": [0.0, o["shift"]], "v": [o[ref], after]})
            stars["text"] = [f"paper: {o[ref]}", f"paper: {after} at +{o['shift']:g}"]
            val = metrics.get("omit3_val_shift")
            rule = (
                charts.vrule(float(val), f"chosen on validation: {val:+g}") if isinstance(val, (int, float)) else None
            )
            charts.show(chart, charts.stars(stars, "shift", "v", "text"), rule, where=col)
    if only78:
        p = paper.ONLY78
        sign = only78_sign(only78)
        df = pd.concat([d.assign(run=name) for name, d in only78.items()])
        chart = charts.lines(
            df,
            "shift",
            "error_rate",
            x_title="shift of the biases of 7 and 8",
            y_title="test error rate (%)",
            color="run",
            points=False,
            y_domain=(0, min(100.0, float(df["error_rate"].max()) + 10)),
            height=280,
            title="only 7s and 8s in the transfer set",
            tooltip=[
                charts.tip("run", "run", None, "N"),
                charts.tip("shift", "shift", "+.2f"),
                charts.tip("error_rate", "error rate (%)", ".2f"),
            ],
        )
        stars = pd.DataFrame({"shift": [0.0, sign * abs(p["shift"])], "v": [p["error_rate"], p["error_rate_after"]]})
        stars["text"] = [
            f"paper: {p['error_rate']} %",
            f"paper: {p['error_rate_after']} % at {sign * abs(p['shift']):+g}",
        ]
        val = metrics.get("only78_val_shift")
        rule = (
            charts.vrule(float(val), f"chosen on validation: {val:+g}", align="right" if sign < 0 else "left")
            if isinstance(val, (int, float))
            else None
        )
        align = "right" if sign < 0 else "left"
        charts.show(chart, charts.stars(stars, "shift", "v", "text", align=align), rule, where=cols[2])


def compare_table(omit3: dict, only78: dict, runs: dict) -> pd.DataFrame:
    """Ours beside the paper, each row in the paper's unit: errors of 10,000 test images, or percent."""
    o, p = paper.OMIT3, paper.ONLY78
    rows = {
        "no 3s · test errors before the shift": f"{o['errors']}",
        f"no 3s · of them on the {o['n_3s']:,} test 3s": f"{o['errors_on_3']}",
        "no 3s · shift of the bias of 3, chosen on the test set (the paper's protocol)": f"+{o['shift']:g}",
        "no 3s · test errors at that shift": f"{o['errors_after']}",
        "no 3s · of them on 3s": f"{o['errors_on_3_after']}",
        "no 3s · shift chosen on held-out training cases (validation)": "not done in the paper",
        "no 3s · test errors at the validation-chosen shift": "not done in the paper",
        "only 7s and 8s · test error rate before": f"{p['error_rate']} %",
        "only 7s and 8s · shift of the 7 and 8 biases, test-chosen": f"{p['shift']:+g}",
        "only 7s and 8s · test error rate at that shift": f"{p['error_rate_after']} %",
        "only 7s and 8s · test error rate at the validation-chosen shift": "not done in the paper",
    }
    out = pd.DataFrame({"": list(rows), "paper (§3)": list(rows.values())})
    for name, run in runs.items():
        col = ["—"] * len(rows)
        if name in omit3:
            df = omit3[name]
            best = df.loc[df["total_errors"].idxmin()]
            col[0] = f"{at_shift(df, 0, 'total_errors'):.0f}"
            col[1] = f"{at_shift(df, 0, 'errors_on_3'):.0f}"
            col[2:5] = [f"{best['shift']:+g}", f"{best['total_errors']:.0f}", f"{best['errors_on_3']:.0f}"]
            val = run.metrics.get("omit3_val_shift")
            if isinstance(val, (int, float)):
                col[5], col[6] = f"{val:+g}", f"{at_shift(df, val, 'total_errors'):.0f}"
        if name in only78:
            df = only78[name]
            best = df.loc[df["error_rate"].idxmin()]
            col[7] = ui.fmt_pct(at_shift(df, 0, "error_rate"))
            col[8], col[9] = f"{best['shift']:+g}", ui.fmt_pct(best["error_rate"])
            val = run.metrics.get("only78_val_shift")
            if isinstance(val, (int, float)):
                col[10] = ui.fmt_pct(at_shift(df, val, "error_rate")) + f" (shift {val:+g})"
        out[f"ours: {name}"] = col
    return out


def confusion_figure(z: dict) -> Figure:
    fig = Figure(figsize=(8, 3.6), dpi=100)
    for k, key in enumerate(("before", "after")):
        ax = fig.add_subplot(1, 2, k + 1)
        m = np.asarray(z[key], dtype=float)
        off = m.copy()
        np.fill_diagonal(off, 0)  # the diagonal would swamp the colour scale
        im = ax.imshow(off, cmap="Reds")
        ax.set_title(f"off-diagonal confusions, {key} the bias shift", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        fig.colorbar(im, ax=ax, fraction=0.046, label="test images")
    fig.tight_layout()
    return fig


def main() -> None:
    lesson.header(
        "04",
        "Missing classes",
        "A student whose transfer set holds no 3 at all still learns to recognise 3s from the teacher's soft "
        "targets; only the output bias of class 3 comes out wrong, and raising it repairs most of the errors.",
        "It is compared with §3 of the paper: {errors} test errors ({errors_on_3} on the {n_3s:,} test 3s) before and "
        "{errors_after} ({errors_on_3_after} on 3s) after raising the bias by {shift:g}, and, with only 7s and 8s to "
        "learn from, {rate:g} % errors lowered to {rate_after:g} %.".format(
            **paper.OMIT3, rate=paper.ONLY78["error_rate"], rate_after=paper.ONLY78["error_rate_after"]
        ),
    )
    all_runs = data.load_runs()
    ui.skipped_note(("04",), all_runs)
    runs = [r for r in all_runs if r.ok and data.notebook_key(r) == "04" and set(SCANS) & data.artifact_names(r)]
    if not runs:
        ui.no_data(("04",), SCANS[0])
        return
    chosen = ui.pick_runs(runs, "bias_runs", "Runs to show (overlaid)", default_n=2)
    if not chosen:
        st.info("Pick at least one run.")
        return
    omit3, only78 = {}, {}
    for run in chosen:
        for name, bucket in zip(SCANS, (omit3, only78), strict=True):
            df = lesson.shown(lambda run=run, name=name: data.table(run, name))
            if df is not None:
                bucket[ui.label(run)] = df.sort_values("shift")
    st.subheader("The bias scans")
    if omit3 or only78:
        scan_charts(omit3, only78, chosen[0])
        st.caption(
            "Stars: the paper (§3). Dashed: the shift chosen on held-out training cases, never on the test set "
            f"(first run). {charts.HINT} " + " · ".join(ui.source(r) for r in chosen)
        )
        st.subheader("Ours beside the paper")
        st.table(compare_table(omit3, only78, {ui.label(r): r for r in chosen}), hide_index=True)
        st.caption(
            "The paper picks the shift that minimizes the test errors (test-chosen), which flatters the result; the "
            "validation-chosen rows are what a practitioner without the test labels would get. "
            + " · ".join(ui.source(r) for r in chosen)
        )
    run = chosen[0]
    z = lesson.shown(lambda: data.arrays(run, "confusion.npz"))
    if z is not None:
        st.subheader("Where the errors go: confusions before and after the shift")
        left, right = st.columns([3, 2])
        ui.pyplot(lambda: confusion_figure(z), left)
        left.caption(ui.source(run))
        right.markdown(
            "Rows: true digit, columns: prediction, diagonal left out. Before the shift the 3s leak into the digits "
            "that look like them; after it, row 3 empties while column 3 gains a few false alarms."
        )
    st.subheader("The paper's claims, as this run tested them")
    tabs = st.tabs([ui.label(r) for r in chosen])
    for tab, r in zip(tabs, chosen, strict=True):
        with tab:
            lesson.claims_box(r)


ui.guard(main)
