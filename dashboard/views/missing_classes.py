"""Lesson 04 · Missing classes (notebook 04): a student distilled without any 3 in its transfer set (or with only 7s
and 8s), the scans of the output-bias shift that repairs it, our numbers beside the paper's (§3) at the test-chosen
shift (the paper's protocol) and at a shift chosen on held-out training cases, and the confusions before and after."""

import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import charts, data, lesson, overlay, ui
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


def scan_charts(omit3: dict, only78: dict, chosen) -> None:
    """Three interactive scans, every chosen run on the same axes, the paper's figures as stars and each run's
    validation-chosen shift as a dashed line in its colour. One key above the row (a legend in a third of the page
    would be cut)."""
    o, p = paper.OMIT3, paper.ONLY78
    sign = only78_sign(only78) if only78 else -1.0
    key = [
        f"no 3s: {o['errors']} → {o['errors_after']} errors, {o['errors_on_3']} → {o['errors_on_3_after']} on 3s "
        f"at {charts.signed(o['shift'])}",
        f"only 7s and 8s: {p['error_rate']} % → {p['error_rate_after']} % at {charts.signed(sign * abs(p['shift']))}",
    ]
    st.markdown(overlay.key_html(chosen, "04", ["the paper (§3), " + k for k in key]), unsafe_allow_html=True)
    names = overlay.name_of(chosen, "04")
    color = overlay.color(chosen, "04")
    color.legend = None
    cols = st.columns(3)
    panels = []
    if omit3:
        df = pd.concat([d.assign(run=name) for name, d in omit3.items()])
        zero = max(at_shift(d, 0.0, "total_errors") for d in omit3.values())
        on3 = max(at_shift(d, 0.0, "errors_on_3") for d in omit3.values())
        panels += [
            (
                cols[0],
                df,
                "total_errors",
                "test errors (of 10,000)",
                max(1.6 * zero, 1.2 * o["errors"]),
                "All test errors · no 3s in the transfer set",
                "bias added to class 3",
                [(0.0, o["errors"]), (o["shift"], o["errors_after"])],
                "omit3_val_shift",
            ),
            (
                cols[1],
                df,
                "errors_on_3",
                f"errors on the {o['n_3s']:,} test 3s",
                max(1.3 * on3, 1.2 * o["errors_on_3"]),
                "Errors on the 3s alone · no 3s in the transfer set",
                "bias added to class 3",
                [(0.0, o["errors_on_3"]), (o["shift"], o["errors_on_3_after"])],
                "omit3_val_shift",
            ),
        ]
    if only78:
        df = pd.concat([d.assign(run=name) for name, d in only78.items()])
        panels.append(
            (
                cols[2],
                df,
                "error_rate",
                "test error rate (%)",
                min(100.0, float(df["error_rate"].max()) + 10),
                "Error rate · only 7s and 8s in the transfer set",
                "shift of the biases of 7 and 8",
                [(0.0, p["error_rate"]), (sign * abs(p["shift"]), p["error_rate_after"])],
                "only78_val_shift",
            )
        )
    for col, df, y, y_title, top, title, x_title, stars, metric in panels:
        chart = charts.lines(
            df,
            "shift",
            y,
            x_title=x_title,
            y_title=y_title,
            color="run",
            points=False,
            y_domain=(0, top),
            height=280,
            tooltip=[charts.tip("run", "run", None, "N"), charts.tip("shift", "shift", "+.2f"), charts.tip(y, y_title)],
        )
        chart = chart.encode(color=color)
        col.markdown(f"**{title}**")
        marks = pd.DataFrame({"shift": [s for s, _ in stars], "v": [v for _, v in stars]})
        marks["text"] = [f"paper: {charts.minus(format(v, 'g'))} at shift {charts.signed(s)}" for s, v in stars]
        rules = [
            (float(r.metrics[metric]), f"{names[r.run_id]}: chosen on validation, {charts.signed(r.metrics[metric])}")
            for r in chosen
            if isinstance(r.metrics.get(metric), (int, float))
        ]
        rule = charts.vrules(rules, title=None) if rules else None
        charts.show(chart, charts.stars(marks, "shift", "v", "text", legend=False), rule, where=col)


def compare_table(omit3: dict, only78: dict, runs: dict) -> pd.DataFrame:
    """Ours beside the paper, each row in the paper's unit: errors of 10,000 test images, or percent."""
    o, p = paper.OMIT3, paper.ONLY78
    rows = {
        "no 3s · test errors before the shift": f"{o['errors']}",
        f"no 3s · of them on the {o['n_3s']:,} test 3s": f"{o['errors_on_3']}",
        "no 3s · shift of the bias of 3, chosen on the test set (the paper's protocol)": charts.signed(o["shift"]),
        "no 3s · test errors at that shift": f"{o['errors_after']}",
        "no 3s · of them on 3s": f"{o['errors_on_3_after']}",
        "no 3s · shift chosen on held-out training cases (validation)": "not done in the paper",
        "no 3s · test errors at the validation-chosen shift": "not done in the paper",
        "only 7s and 8s · test error rate before": f"{p['error_rate']} %",
        "only 7s and 8s · shift of the 7 and 8 biases, test-chosen": charts.signed(p["shift"]),
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
            col[2:5] = [charts.signed(best["shift"]), f"{best['total_errors']:.0f}", f"{best['errors_on_3']:.0f}"]
            val = run.metrics.get("omit3_val_shift")
            if isinstance(val, (int, float)):
                col[5], col[6] = charts.signed(val), f"{at_shift(df, val, 'total_errors'):.0f}"
        if name in only78:
            df = only78[name]
            best = df.loc[df["error_rate"].idxmin()]
            col[7] = ui.fmt_pct(at_shift(df, 0, "error_rate"))
            col[8], col[9] = charts.signed(best["shift"]), ui.fmt_pct(best["error_rate"])
            val = run.metrics.get("only78_val_shift")
            if isinstance(val, (int, float)):
                col[10] = ui.fmt_pct(at_shift(df, val, "error_rate")) + f" (shift {charts.signed(val)})"
        out[f"ours: {name}"] = col
    return out


def confusion_figure(z: dict) -> Figure:
    """Off-diagonal confusions before and after the shift on ONE colour scale (the larger maximum), so the two
    panels compare by colour."""
    fig = Figure(figsize=(8, 3.6), dpi=100)
    offs = []
    for key in ("before", "after"):
        m = np.asarray(z[key], dtype=float).copy()
        np.fill_diagonal(m, 0)  # the diagonal would swamp the colour scale
        offs.append(m)
    top = max(float(m.max()) for m in offs) or 1.0
    for k, key in enumerate(("before", "after")):
        ax = fig.add_subplot(1, 2, k + 1)
        im = ax.imshow(offs[k], cmap="Reds", vmin=0, vmax=top)
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
    chosen = overlay.pick(runs, "bias_runs", "04")
    if not chosen:
        return
    omit3, only78 = {}, {}
    for run in chosen:
        for name, bucket in zip(SCANS, (omit3, only78), strict=True):
            df = lesson.shown(lambda run=run, name=name: data.table(run, name))
            if df is not None:
                bucket[overlay.name_of([run], "04")[run.run_id]] = df.sort_values("shift")
    st.subheader("The bias scans")
    if omit3 or only78:
        scan_charts(omit3, only78, chosen)
        st.caption(
            "Stars: the paper (§3). Dashed: the shift each run chose on held-out training cases, never on the test "
            f"set (hover a line for its run). {charts.HINT} " + " · ".join(ui.source(r) for r in chosen)
        )
        st.subheader("Ours beside the paper")
        st.table(
            compare_table(omit3, only78, {overlay.name_of([r], "04")[r.run_id]: r for r in chosen}), hide_index=True
        )
        st.caption(
            "The paper picks the shift that minimizes the test errors (test-chosen), which flatters the result; the "
            "validation-chosen rows are what a practitioner without the test labels would get. "
            + " · ".join(ui.source(r) for r in chosen)
        )
    run = chosen[0]
    z = lesson.shown(lambda: data.arrays(run, "confusion.npz"))
    if z is not None:
        st.subheader("Where the errors go: confusions before and after the shift")
        st.caption(f"Of {overlay.name_of([run], '04')[run.run_id]} (the first run picked above).")
        left, right = st.columns([3, 2])
        ui.pyplot(lambda: confusion_figure(z), left)
        left.caption(ui.source(run))
        right.markdown(
            "Rows: true digit, columns: prediction, diagonal left out. Before the shift the 3s leak into the digits "
            "that look like them; after it, row 3 empties while column 3 gains a few false alarms."
        )
    st.subheader("The paper's claims, as these runs tested them")
    lesson.claims_box(chosen, page_nb="04")


ui.guard(main)
