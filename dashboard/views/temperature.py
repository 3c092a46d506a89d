"""Lesson 01 · Soft targets: a saved test image and the teacher's (and distilled student's) probabilities at temperature
T, q_i = exp(z_i/T) / Σ_j exp(z_j/T) (eq. 1), computed in numpy from the logits notebook 01 or 03 saved, beside the
paper's own example (§1: a 2 with p(3) = 10⁻⁶ and p(7) = 10⁻⁹); the entropy of the soft targets and the weight of
the tiny probabilities as T rises."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, data, lesson, overlay, ui
from dashboard.views import temperature_example as example
from dashboard.views import temperature_section2 as section2
from kdlab import paper

TEMPERATURES = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 13.0, 16.0, 20.0, 30.0, 50.0, 100.0]


def prob_chart(bars: list[tuple[str, str, np.ndarray]], floor: float, label: int, temperature: float) -> alt.Chart:
    """Bars of p(class) on a log axis (the small ones are the 'dark knowledge'), one bar per (series, class); the
    axis runs from ``floor`` (set at T = 1, so the bars visibly rise as T grows) to 1. At T = 1 on a 2, the paper's 2
    (§1: p(3) = 10⁻⁶, p(7) = 10⁻⁹) as black bars beside ours."""
    rows = [{"class": c, "who": who, "p": float(p[c])} for who, _, p in bars for c in range(len(p))]
    palette = {who: col for who, col, _ in bars}
    if label == paper.LOOK_ALIKE_2["label"] and temperature == 1.0:
        ex = paper.LOOK_ALIKE_2
        who = "the paper's 2 (§1)"
        palette[who] = charts.PAPER
        rows += [
            {"class": c, "who": who, "p": p} for c, p in ((2, 1.0 - ex["p3"] - ex["p7"]), (3, ex["p3"]), (7, ex["p7"]))
        ]
    df = pd.DataFrame(rows)
    df["p"] = df["p"].clip(lower=floor)
    df["floor"] = floor
    whos = list(palette)
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("class:O", title=f"class (true label: {label})", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("who:N", sort=whos, scale=alt.Scale(domain=whos)),
            y=alt.Y(
                "p:Q",
                title=f"probability at T = {temperature:g}",
                scale=alt.Scale(type="log", domain=[floor, 1.0], nice=False),
                axis=alt.Axis(format="~e"),
            ),
            y2="floor:Q",
            color=alt.Color(
                "who:N",
                sort=whos,
                title="net (run)",
                scale=alt.Scale(domain=whos, range=[palette[w] for w in whos]),
                legend=charts.legend("net (run)"),
            ),
            tooltip=[
                alt.Tooltip("class:O", title="class"),
                alt.Tooltip("who:N", title=""),
                alt.Tooltip("p:Q", title=f"p at T = {temperature:g}", format=".3e"),
            ],
        )
        .properties(height=320)
    )


def entropy_curve(run, logits: np.ndarray) -> tuple[pd.DataFrame, str]:
    """Mean entropy against T: notebook 01's table over the test set, else computed here from the saved logits."""
    if data.notebook_key(run) == "01" and "entropy_vs_t.csv" in data.artifact_names(run):
        curve = lesson.shown(lambda: data.table(run, "entropy_vs_t.csv"))
        if curve is not None:
            return curve[["temperature", "mean_entropy_bits"]], "mean over the test set (notebook 01)"
    ts = np.array(TEMPERATURES)
    ent = [data.entropy_bits(data.softmax(logits, t)).mean() for t in ts]
    how = f"mean over the {len(logits)} saved images (computed here)"
    return pd.DataFrame({"temperature": ts, "mean_entropy_bits": ent}), how


def entropy_section(chosen, logits: dict, temperature: float) -> None:
    st.subheader("How soft are the soft targets? Entropy against T")
    frames, hows = [], []
    names = overlay.name_of(chosen, "01")
    for run in chosen:
        if run.run_id in logits:
            curve, how = entropy_curve(run, logits[run.run_id])
            frames.append(curve.assign(run=names[run.run_id]))
            hows.append(f"{names[run.run_id]}: {how}")
    if not frames:
        return
    long = pd.concat(frames, ignore_index=True)
    chart = charts.lines(
        long,
        "temperature",
        "mean_entropy_bits",
        x_title="temperature T",
        y_title="mean entropy of the soft targets (bits)",
        color="run",
        color_title="run",
        color_scale=overlay.scale(chosen, "01"),
        log_x=True,
        x_ticks=charts.t_ticks(long["temperature"]),
        y_domain=(0, 3.5),
        tooltip=[
            charts.tip("run", "run", None, "N"),
            charts.tip("temperature", "T", ".3~g"),
            charts.tip("mean_entropy_bits", "entropy (bits)", ".3f"),
        ],
        height=260,
    )
    left = right = st.container()
    charts.show(
        chart,
        charts.hrule(float(np.log2(10)), "uniform over 10 classes: log₂ 10 = 3.32 bits"),
        charts.vrule(temperature, f"the slider's T = {temperature:g}", title="shown above"),
        where=left,
    )
    left.caption("; ".join(hows) + ". " + " · ".join(ui.source(r) for r in chosen if r.run_id in logits))
    right.markdown(
        "0 bits is a one-hot target (the label and nothing else); 3.32 bits is a uniform one, which says nothing "
        "either. The paper gives no entropy figure; its point (§1) is that *high-entropy* soft targets carry much "
        "more information per training case than hard targets."
    )


def tail_section(chosen) -> None:
    """Notebook 01's tail_weight_vs_t.csv: how much the tiny probabilities count in the cost as T rises."""
    runs = [r for r in chosen if data.notebook_key(r) == "01"]
    if not runs:
        return
    st.subheader("How much do the tiny probabilities count?")
    names, frames = overlay.name_of(runs, "01"), []
    for run in runs:
        tail = lesson.shown(lambda run=run: data.table(run, "tail_weight_vs_t.csv"))
        if tail is not None:
            frames.append(tail.melt("temperature", ["tail_mass", "tail_gradient"]).assign(run=names[run.run_id]))
    if not frames:
        return
    long = pd.concat(frames, ignore_index=True)
    long["value"] = 100 * long["value"]
    long["variable"] = long["variable"].map(
        {"tail_mass": "share of the soft cost", "tail_gradient": "gradient, as a share of logit matching's"}
    )
    left = right = st.container()
    chart = charts.lines(
        long,
        "temperature",
        "value",
        x_title="temperature T",
        y_title="weight of the classes with p < 0.001 at T = 1 (%)",
        color="run",
        color_title="run",
        color_scale=overlay.scale(runs, "01"),
        dash="variable",
        dash_title="measured",
        log_x=True,
        x_ticks=charts.t_ticks(long["temperature"]),
        tooltip=[
            charts.tip("run", "run", None, "N"),
            charts.tip("variable", "", None, "N"),
            charts.tip("temperature", "T", ".3~g"),
            charts.tip("value", "%", ".3~g"),
        ],
        height=260,
    )
    charts.show(chart, charts.vrule(paper.MNIST_T, f"the paper's T = {paper.MNIST_T:g}", title="the paper"), where=left)
    left.caption(" · ".join(ui.source(r) for r in runs))
    right.markdown(
        "The paper (§1): the tiny probabilities have *very little influence on the cross-entropy cost* at T = 1; "
        "raising T makes them count. Both curves are percentages: 100 % would be the full weight logit matching "
        "gives them (notebook 02)."
    )


def same_image(chosen, saved: dict, run, i: int, temperature: float) -> tuple[list, float]:
    """The bars of every chosen run that saved the test image ``i`` of ``run`` (its teacher, and its distilled
    student when notebook 03 saved one) at ``temperature``, and the axis floor: the smallest of them at T = 1 (so the
    axis stays put as T moves and the flattening shows)."""
    index = np.asarray(saved[run.run_id].get("indices", np.arange(len(saved[run.run_id]["labels"]))))[i]
    names, everything = overlay.name_of(chosen, "01"), data.load_runs()
    bars, at_one = [], []
    for r in chosen:
        zr = saved.get(r.run_id)
        where = (
            [] if zr is None else np.flatnonzero(np.asarray(zr.get("indices", np.arange(len(zr["labels"])))) == index)
        )
        if r.run_id == run.run_id:
            where = [i]
        if not len(where):
            continue
        nets = [(names[r.run_id], overlay.colour(r, everything), zr["teacher_logits"][int(where[0])])]
        if zr.get("student_logits") is not None:  # notebook 03 saves its distilled student's logits too
            nets.append((f"{names[r.run_id]}: its distilled student", "#8c8c8c", zr["student_logits"][int(where[0])]))
        bars += [(who, col, data.softmax(z, temperature)) for who, col, z in nets]
        at_one += [data.softmax(z, 1.0) for _, _, z in nets]
    return bars, max(1e-30, float(min(p.min() for p in at_one)) / 3)


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
    chosen = overlay.pick(runs, "soft_runs", "01")  # notebook 03 saves its teacher's soft targets too
    if not chosen:
        return
    saved = {}
    for run in chosen:
        z = lesson.shown(lambda run=run: data.arrays(run, "soft_targets.npz", ("images", "labels", "teacher_logits")))
        if z is not None:
            saved[run.run_id] = z
    if not saved:
        return
    run = next(r for r in chosen if r.run_id in saved)  # the image explorer browses the first run's saved images
    z = saved[run.run_id]
    images, labels, teacher_logits = z["images"], z["labels"].astype(int), z["teacher_logits"]
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
    label, test_index = int(labels[i]), int(indices[i])
    bars, floor = same_image(chosen, saved, run, i, temperature)
    teacher = bars[0][2]
    student_logits = z.get("student_logits")
    student = data.softmax(student_logits[i], temperature) if student_logits is not None else None
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
        caption=f"test image {test_index}, label {label}",
        width=168,
        clamp=True,
    )
    charts.show(prob_chart(bars, floor, label, temperature), where=right, zoom=False)
    right.caption(
        "Log scale from the smallest probability at T = 1 up to 1, the same at every T: as T rises the bars grow "
        "towards each other. "
        + ("Black: the paper's 2 (§1), beside ours. " if label == 2 and temperature == 1.0 else "")
        + ui.source(run)
        + f" · image {i} of {n} saved test images · drawn for the {len({w.split(': ')[0] for w, _, _ in bars})} of "
        + f"{len(chosen)} chosen runs that saved this test image"
    )
    with st.expander(f"Probabilities at T = {temperature:g} (numbers)"):
        probs = pd.DataFrame({"class": list(range(10)), **{who: p for who, _, p in bars}})
        st.dataframe(probs.style.format({who: "{:.3e}" for who, _, _ in bars}), hide_index=True)

    example.example_table(run, teacher_logits, labels, indices)
    entropy_section(chosen, {k: v["teacher_logits"] for k, v in saved.items()}, temperature)
    tail_section(chosen)
    section2.gradient_noise_section(chosen)
    st.subheader("The paper's claims, as these runs tested them")
    own = [r for r in chosen if data.notebook_key(r) == "01"]
    if own:
        lesson.claims_box(own, page_nb="01")
    else:
        st.caption("Lesson 01's claims come from runs of notebook 01; pick one above.")


ui.guard(main)
