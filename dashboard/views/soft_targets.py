"""Soft targets: a saved test image and the teacher's (and distilled student's) probabilities at temperature T,
q_i = exp(z_i/T) / Σ_j exp(z_j/T) (eq. 1), computed in numpy from the logits notebook 01 or 03 saved."""

import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard import data

TEMPERATURES = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 13.0, 16.0, 20.0, 30.0, 50.0, 100.0]


def prob_figure(teacher: np.ndarray, student: np.ndarray | None, label: int, temperature: float) -> Figure:
    """Bars of p(class) on a log axis: the small probabilities are the 'dark knowledge'."""
    fig = Figure(figsize=(6.4, 3.4), dpi=100)
    ax = fig.add_subplot()
    x = np.arange(10)
    width = 0.4 if student is not None else 0.7
    ax.bar(x - (width / 2 if student is not None else 0), teacher, width, label="teacher", color="#1f77b4")
    if student is not None:
        ax.bar(x + width / 2, student, width, label="distilled student", color="#ff7f0e")
    ax.set_yscale("log")
    floor = max(1e-30, min(float(teacher.min()), float(student.min()) if student is not None else 1.0) / 3)
    ax.set_ylim(floor, 1.5)
    ax.set_xticks(x)
    ax.get_xticklabels()[label].set_fontweight("bold")
    ax.set_xlabel("class (true label in bold)")
    ax.set_ylabel(f"probability at T = {temperature:g}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def entropy_figure(curve: pd.DataFrame, temperature: float, how: str) -> Figure:
    fig = Figure(figsize=(6.4, 2.6), dpi=100)
    ax = fig.add_subplot()
    ax.plot(curve["temperature"], curve["mean_entropy_bits"], "o-")
    ax.axvline(temperature, color="grey", ls="--", lw=1)
    ax.axhline(np.log2(10), color="grey", ls=":", lw=1)
    ax.text(curve["temperature"].min(), np.log2(10), " uniform: log2(10) bits", va="bottom", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("mean entropy (bits)")
    ax.set_title(how, fontsize=9)
    fig.tight_layout()
    return fig


def main() -> None:
    st.title("Soft targets")
    st.markdown(
        "Raising the temperature *T* in the softmax (eq. 1) lifts the tiny probabilities a trained net gives "
        "to wrong classes: which 2s look like 3s or 7s. Distillation trains the student on these soft "
        "targets."
    )
    runs = data.usable_runs(("01", "03"), "soft_targets.npz")
    data.skipped_note(("01", "03"))
    if not runs:
        data.no_data(("01", "03"), "soft_targets.npz")
        return
    run = data.pick_run(runs, "soft_run", "Run (notebook 01 or 03)")
    try:
        z = data.arrays(run, "soft_targets.npz", required=("images", "labels", "teacher_logits"))
    except data.ArtifactError as e:
        st.warning(str(e))
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
        m[3].metric("student", "not saved")

    left, right = st.columns([1, 3])
    img = np.asarray(images[i], dtype=np.uint8)
    left.image(
        np.kron(img, np.ones((6, 6), dtype=np.uint8)),
        caption=f"test image {int(indices[i])}, label {label}",
        width=168,
        clamp=True,
    )
    data.pyplot(lambda: prob_figure(teacher, student, label, temperature), right)
    probs = {"class": list(range(10)), "teacher": teacher}
    if student is not None:
        probs["student"] = student
    with st.expander(f"Probabilities at T = {temperature:g} (numbers)"):
        st.dataframe(pd.DataFrame(probs).style.format({"teacher": "{:.3e}", "student": "{:.3e}"}), hide_index=True)
    st.caption(data.source(run) + f" · image {i} of {n} saved test images")

    st.subheader("Entropy of the soft targets vs T")
    curve, how = None, ""
    if data.notebook_key(run) == "01":
        try:
            curve = data.table(run, "entropy_vs_t.csv")
            how = "mean over the test set, as saved by notebook 01"
        except data.ArtifactError as e:
            st.caption(f"{e}; computing from the saved images instead.")
    if curve is None:
        ts = np.array(TEMPERATURES)
        curve = pd.DataFrame(
            {
                "temperature": ts,
                "mean_entropy_bits": [data.entropy_bits(data.softmax(teacher_logits, t)).mean() for t in ts],
            }
        )
        how = f"mean over the {n} saved images (computed here from their logits)"
    left, _ = st.columns([3, 2])
    data.pyplot(lambda: entropy_figure(curve, temperature, how), left)
    left.caption(data.source(run))


data.guard(main)
