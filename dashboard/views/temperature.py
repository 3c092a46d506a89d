"""Lesson 01 · Soft targets: a saved test image and the teacher's (and distilled student's) probabilities at temperature
T, q_i = exp(z_i/T) / Σ_j exp(z_j/T) (eq. 1), computed in numpy from the logits notebook 01 or 03 saved, beside the
paper's own example (§1: a 2 with p(3) = 10⁻⁶ and p(7) = 10⁻⁹); the entropy of the soft targets and the weight of
the tiny probabilities as T rises."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, data, lesson, ui
from kdlab import paper

TEMPERATURES = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 13.0, 16.0, 20.0, 30.0, 50.0, 100.0]


def prob_chart(teacher: np.ndarray, student: np.ndarray | None, label: int, temperature: float) -> alt.Chart:
    """Bars of p(class) on a log axis (the small ones are the 'dark knowledge'), teacher beside student; at T = 1 on a
    2, the paper's 2 (§1: p(3) = 10⁻⁶, p(7) = 10⁻⁹) as grey bars beside ours."""
    rows = [{"class": c, "who": "teacher", "p": float(teacher[c])} for c in range(len(teacher))]
    if student is not None:
        rows += [{"class": c, "who": "distilled student", "p": float(student[c])} for c in range(len(student))]
    if label == paper.LOOK_ALIKE_2["label"] and temperature == 1.0:
        ex = paper.LOOK_ALIKE_2
        rows += [
            {"class": c, "who": "the paper's 2 (§1)", "p": p}
            for c, p in ((2, 1.0 - ex["p3"] - ex["p7"]), (3, ex["p3"]), (7, ex["p7"]))
        ]
    df = pd.DataFrame(rows)
    floor = max(1e-30, float(df["p"].min()) / 3)
    df["floor"] = floor
    whos = list(dict.fromkeys(df["who"]))
    palette = {"teacher": "#1f77b4", "distilled student": "#ff7f0e", "the paper's 2 (§1)": "#555555"}
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("class:O", title=f"class (true label: {label})", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("who:N", sort=whos, scale=alt.Scale(domain=whos)),
            y=alt.Y(
                "p:Q",
                title=f"probability at T = {temperature:g}",
                scale=alt.Scale(type="log", domain=[floor, 1.5]),
                axis=alt.Axis(format="~e"),
            ),
            y2="floor:Q",
            color=alt.Color(
                "who:N",
                sort=whos,
                scale=alt.Scale(domain=whos, range=[palette[w] for w in whos]),
                legend=charts.legend(),
            ),
            tooltip=[
                alt.Tooltip("class:O", title="class"),
                alt.Tooltip("who:N", title=""),
                alt.Tooltip("p:Q", title=f"p at T = {temperature:g}", format=".3e"),
            ],
        )
        .properties(height=320)
    )


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


def entropy_section(run, teacher_logits: np.ndarray, temperature: float, n: int) -> None:
    st.subheader("How soft are the soft targets? Entropy against T")
    curve, how = None, ""
    if data.notebook_key(run) == "01":
        try:
            curve = data.table(run, "entropy_vs_t.csv")
            how = "mean over the test set, as saved by notebook 01"
        except data.ArtifactError as e:
            st.caption(f"{e}; computing from the saved images instead.")
    if curve is None:
        ts = np.array(TEMPERATURES)
        ent = [data.entropy_bits(data.softmax(teacher_logits, t)).mean() for t in ts]
        curve = pd.DataFrame({"temperature": ts, "mean_entropy_bits": ent})
        how = f"mean over the {n} saved images (computed here from their logits)"
    long = curve.melt("temperature", [c for c in ("mean_entropy_bits", "median_entropy_bits") if c in curve])
    long["variable"] = long["variable"].str.replace("_entropy_bits", "", regex=False)
    chart = charts.lines(
        long,
        "temperature",
        "value",
        x_title="temperature T",
        y_title="entropy of the soft targets (bits)",
        color="variable",
        color_title=how,
        log_x=True,
        y_domain=(0, 3.5),
        tooltip=[charts.tip("temperature", "T", ".3~g"), charts.tip("value", "entropy (bits)", ".3f")],
        height=260,
    )
    left, right = st.columns([3, 2])
    charts.show(
        chart,
        charts.hrule(float(np.log2(10)), "uniform over 10 classes: log₂ 10 = 3.32 bits"),
        charts.vrule(temperature, f"T = {temperature:g}"),
        where=left,
    )
    left.caption(ui.source(run))
    right.markdown(
        "0 bits is a one-hot target (the label and nothing else); 3.32 bits is a uniform one, which says nothing "
        "either. The paper gives no entropy figure; its point (§1) is that *high-entropy* soft targets carry much "
        "more information per training case than hard targets."
    )


def tail_section(run) -> None:
    """Notebook 01's tail_weight_vs_t.csv: how much the tiny probabilities count in the cost as T rises."""
    if data.notebook_key(run) != "01":
        return
    st.subheader("How much do the tiny probabilities count?")
    tail = lesson.shown(lambda: data.table(run, "tail_weight_vs_t.csv"))
    if tail is None:
        return
    long = tail.melt("temperature", ["tail_mass", "tail_gradient"])
    long["value"] = 100 * long["value"]
    long["variable"] = long["variable"].map(
        {"tail_mass": "share of the soft cost", "tail_gradient": "gradient, as a share of logit matching's"}
    )
    left, right = st.columns([3, 2])
    chart = charts.lines(
        long,
        "temperature",
        "value",
        x_title="temperature T",
        y_title="weight of the classes with p < 0.001 at T = 1 (%)",
        color="variable",
        log_x=True,
        tooltip=[
            charts.tip("temperature", "T", ".3~g"),
            charts.tip("value", "%", ".3~g"),
            charts.tip("variable", "", None, "N"),
        ],
        height=260,
    )
    charts.show(chart, charts.vrule(paper.MNIST_T, f"paper's T = {paper.MNIST_T:g}"), where=left)
    left.caption(ui.source(run))
    right.markdown(
        "The paper (§1): the tiny probabilities have *very little influence on the cross-entropy cost* at T = 1; "
        "raising T makes them count. Both curves are percentages: 100 % would be the full weight logit matching "
        "gives them (notebook 02)."
    )


def main() -> None:
    lesson.header(
        "01",
        "Soft targets",
        "Raising the temperature T of the softmax (eq. 1) lifts the tiny probabilities a trained net gives to the "
        "wrong classes — which 2s look like a 3 and which like a 7 — and distillation trains the student on them.",
        "It is compared with the paper's own example (§1): a 2 given probability 10⁻⁶ of being a 3 and 10⁻⁹ of "
        "being a 7.",
    )
    runs = data.usable_runs(("01", "03"), "soft_targets.npz")
    runs = sorted(runs, key=lambda r: data.notebook_key(r) != "01")  # this lesson's own runs first, newest first
    ui.skipped_note(("01", "03"))
    if not runs:
        ui.no_data(("01", "03"), "soft_targets.npz")
        return
    run = ui.pick_run(runs, "soft_run", "Run (notebook 01 or 03)")
    z = lesson.shown(lambda: data.arrays(run, "soft_targets.npz", required=("images", "labels", "teacher_logits")))
    if z is None:
        return
    images, labels, teacher_logits = z["images"], z["labels"].astype(int), z["teacher_logits"]
    student_logits = z.get("student_logits")
    indices = z.get("indices", np.arange(len(labels)))
    n = len(labels)
    c1, c2 = st.columns([2, 3])
    i = c1.selectbox(
        "Test image",
        list(range(n)),
        key="image",
        format_func=lambda k: f"#{k} · test index {int(indices[k])} · label {int(labels[k])}",
    )
    temperature = c2.select_slider(
        "Temperature T", options=TEMPERATURES, value=1.0, key="temperature", format_func=lambda t: f"{t:g}"
    )
    teacher = data.softmax(teacher_logits[i], temperature)
    student = data.softmax(student_logits[i], temperature) if student_logits is not None else None
    label = int(labels[i])
    runner_up = int(np.argsort(teacher)[-2])

    m = st.columns(4)
    m[0].metric(f"teacher p(label {label}) at T={temperature:g}", f"{teacher[label]:.4f}")
    m[1].metric(f"teacher p(runner-up {runner_up})", f"{teacher[runner_up]:.2e}")
    m[2].metric("teacher entropy (bits)", f"{data.entropy_bits(teacher):.3f}")
    if student is not None:
        m[3].metric("student entropy (bits)", f"{data.entropy_bits(student):.3f}")
    else:
        m[3].metric("student", "not saved", help="notebook 01 trains no student; notebook 03's runs save one")

    left, right = st.columns([1, 4])
    img = np.asarray(images[i], dtype=np.uint8)
    left.image(
        np.kron(img, np.ones((6, 6), dtype=np.uint8)),
        caption=f"test image {int(indices[i])}, label {label}",
        width=168,
        clamp=True,
    )
    charts.show(prob_chart(teacher, student, label, temperature), where=right, zoom=False)
    right.caption(
        "Log scale: on a linear one every bar but the label's would look like zero. "
        + ("Grey: the paper's 2 (§1), beside ours. " if label == 2 and temperature == 1.0 else "")
        + ui.source(run)
        + f" · image {i} of {n} saved test images"
    )
    probs = {"class": list(range(10)), "teacher": teacher}
    if student is not None:
        probs["student"] = student
    with st.expander(f"Probabilities at T = {temperature:g} (numbers)"):
        st.dataframe(pd.DataFrame(probs).style.format({"teacher": "{:.3e}", "student": "{:.3e}"}), hide_index=True)

    example_table(run, teacher_logits, labels, indices)
    entropy_section(run, teacher_logits, temperature, n)
    tail_section(run)
    st.subheader("The paper's claims, as this run tested them")
    if data.notebook_key(run) == "01":
        lesson.claims_box(run)
    else:
        st.caption("Lesson 01's claims come from runs of notebook 01; pick one above (this run is notebook 03's).")


ui.guard(main)
