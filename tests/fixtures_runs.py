"""TEST FIXTURES: a generated run store for the dashboard tests (never written into ``runs/``).

``build_store(root)`` writes run folders that follow the artifact contract (``kdlab.artifacts``) with realistic
shapes and paper-like numbers and a ``claims.json`` each (``kdlab/claim_record.py``), plus one folder for each way a run can be
broken and one complete run for each way its ``claims.json`` can be broken (``CLAIMS_BROKEN``). Every fixture run carries
``"FIXTURE": true`` in its parameters and the store root gets a ``TEST_FIXTURE`` file, which the dashboard's sidebar
turns into a warning, so a screenshot of fixture data can never be mistaken for a result.

Run ``python tests/fixtures_runs.py DIR`` to build one by hand (e.g. to look at the dashboard without notebooks).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kdlab.claim_record import FILE as CLAIMS_FILE  # noqa: E402
from kdlab.claim_record import Claims, from_dict  # noqa: E402
from kdlab.jsonio import write_json_atomic  # noqa: E402
from kdlab.store.layout import SCHEMA_VERSION  # noqa: E402
from kdlab.syllabus import STEMS  # noqa: E402

# Run ids of the good runs (newest first within a notebook, the way list_runs sorts them).
GOOD = {
    "01": "20261101-090000-f01aaa",
    "02": "20261101-091000-f02aaa",
    "03_quick": "20261102-100000-f03qqq",
    "03_full": "20261101-100000-f03fff",
    "04": "20261103-110000-f04aaa",
    "05": "20261104-120000-f05aaa",
    "06": "20261105-130000-f06aaa",
}
BROKEN = {  # name -> (notebook folder, run id)
    "empty": ("03_mnist_distillation", "20261106-000000-bempty"),
    "half_written": ("01_softmax_temperature", "20261106-010000-bhalfw"),
    "malformed_json": ("05_speech_frames", "20261106-020000-bjsonx"),
    "missing_artifact": ("03_mnist_distillation", "20261106-030000-bnoart"),
    "unknown_schema": ("06_specialists", "20261106-040000-bschem"),
    "failed": ("04_missing_class_bias", "20261106-050000-bfaild"),
    "staging": ("03_mnist_distillation", "20261106-060000-bstage"),
}
FAILED_REASON = "RuntimeError: CUDA out of memory while training the teacher"
# Complete runs (no artifacts) whose claims.json is bad; each is the only run of its notebook × profile, so it is the
# one the Claims page reads there. name -> (notebook folder, run id, profile)
CLAIMS_BROKEN = {
    "missing": ("02_logit_matching_limit", "20261107-000000-cmissg", "full"),
    "malformed_json": ("04_missing_class_bias", "20261107-010000-cjsonx", "full"),
    "unknown_schema": ("05_speech_frames", "20261107-020000-cschem", "paper"),
}


def _digit_images(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render digits as 28x28 uint8 images (a font, lightly jittered) so screenshots look like MNIST."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = np.zeros((len(digits), 28, 28), dtype=np.uint8)
    for i, d in enumerate(digits):
        fig = Figure(figsize=(0.28, 0.28), dpi=100, facecolor="black")
        canvas = FigureCanvasAgg(fig)
        fig.text(
            0.5 + rng.uniform(-0.05, 0.05),
            0.45 + rng.uniform(-0.05, 0.05),
            str(int(d)),
            color="white",
            ha="center",
            va="center",
            fontsize=19,
            fontweight="bold",
            rotation=rng.uniform(-12, 12),
        )
        canvas.draw()
        out[i] = np.asarray(canvas.buffer_rgba())[:28, :28, 0]
    return out


def _png_bytes() -> bytes:
    """A small real PNG (a figure artifact, as ``Run.save_figure`` writes them)."""
    import io

    from matplotlib.figure import Figure

    buf = io.BytesIO()
    Figure(figsize=(1, 1), dpi=20).savefig(buf, format="png")
    return buf.getvalue()


def _logits(labels: np.ndarray, rng: np.random.Generator, margin: float) -> np.ndarray:
    """Teacher-like logits: the label far ahead, a structured runner-up (e.g. 2 looks like 3 or 7), noise."""
    z = rng.normal(0.0, 2.0, size=(len(labels), 10))
    z[np.arange(len(labels)), labels] += margin
    z[np.arange(len(labels)), (labels * 7 + 3) % 10] += margin / 3  # a consistent "similar class"
    return z.astype(np.float32)


def write_run(
    root: Path,
    notebook: str,
    run_id: str,
    params: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    env: dict[str, Any] | None = None,
    artifacts: dict[str, Any] | None = None,
    marker: str | None = "COMPLETE",
    message: str = "",
    schema_version: int = SCHEMA_VERSION,
    staging: bool = False,
    claims: list[dict[str, Any]] | None = None,
) -> Path:
    """One run folder in the store's layout; artifacts by file name (DataFrame → csv, dict of arrays → npz, else json);
    ``claims`` (keyword dicts of ``kdlab.claim_record.Claim``) go to ``claims.json`` the way a notebook's ``Claims.save`` does."""
    folder = root / notebook / (".staging" if staging else "") / run_id
    (folder / "artifacts").mkdir(parents=True, exist_ok=True)
    params = {"PROFILE": "quick", "SEED": 0, "DEVICE": "auto", "FIXTURE": True, **(params or {})}
    write_json_atomic(
        folder / "params.json", {"schema_version": schema_version, "notebook": notebook, "params": params}
    )
    write_json_atomic(folder / "metrics.json", {"schema_version": schema_version, "metrics": metrics or {}})
    env = {
        "python": "3.11.2",
        "device": "cpu",
        "torch": "2.13.0+cpu",
        "cuda_available": False,
        "cpu_count": 2,
        "git_commit": "0000000fixture",
        "wall_time_s": 42.5,
        "peak_memory_mb": 512.0,
        "schema_version": schema_version,
        **(env or {}),
    }
    write_json_atomic(folder / "env.json", env)
    for name, obj in (artifacts or {}).items():
        path = folder / "artifacts" / name
        if name.endswith(".csv"):
            obj.to_csv(path, index=False)
        elif name.endswith(".npz"):
            np.savez_compressed(path, **obj)
        elif isinstance(obj, bytes):
            path.write_bytes(obj)
        else:
            path.write_text(json.dumps(obj))
    if claims is not None:
        write_claims(folder, notebook, params["PROFILE"], claims, int(params.get("SEED", 0)))
    if marker:
        (folder / marker).write_text(message or "2026-11-01T00:00:00+00:00")
    return folder


def write_claims(folder: Path, notebook: str, profile: str, claims: list[dict[str, Any]], seed: int = 0) -> Path:
    """``claims.json`` in a run folder, built with ``kdlab.claim_record.Claims`` (so it follows the current schema);
    a dict without ``verdict`` is a schema-1 claim (``holds``, ``ours`` as text), upgraded as ``read_claims`` would."""
    made = Claims(notebook)
    for fields in claims:
        made.append(from_dict(fields, 2 if "verdict" in fields else 1))
    path = folder / CLAIMS_FILE
    write_json_atomic(path, made.to_json(profile, seed))
    return path


def soft_targets(rng: np.random.Generator, n: int = 12, student: bool = False) -> dict[str, np.ndarray]:
    labels = np.array([3, 2, 7, 1, 0, 4, 9, 5, 6, 8, 3, 2][:n])
    out = {
        "images": _digit_images(labels, rng),
        "labels": labels,
        "indices": rng.choice(10000, n, replace=False),
        "teacher_logits": _logits(labels, rng, 14.0),
        "temperatures": np.array([1.0, 2.0, 5.0, 10.0, 20.0]),
    }
    if student:
        out["student_logits"] = (0.6 * out["teacher_logits"] + rng.normal(0, 0.8, (n, 10))).astype(np.float32)
    return out


def sweep_table(rng: np.random.Generator, offset: float = 0.0) -> pd.DataFrame:
    """Test errors vs T per width shaped like the paper's claims (30 units best near T=3; wide nets flat for T>8)."""
    rows = []
    for width in (30, 300, 800):
        for t in (1.0, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0):
            for seed in (0, 1):
                if width == 30:
                    base = 260 + 55 * (np.log(t) - np.log(3.0)) ** 2
                else:
                    base = (95 if width == 300 else 78) + 30 * np.exp(-t / 3.0)
                rows.append(
                    {
                        "width": width,
                        "temperature": t,
                        "seed": seed,
                        "hard_weight": 0.0,
                        "test_errors": int(base + offset + rng.integers(-4, 5)),
                    }
                )
    return pd.DataFrame(rows)


def good_artifacts(nb: str, rng: np.random.Generator, offset: float = 0.0) -> dict[str, Any]:
    """Every contract artifact of notebook ``nb`` ('01'..'06')."""
    if nb == "01":
        temps = np.array([1, 2, 3, 5, 8, 10, 20, 50], dtype=float)
        return {
            # the real notebook saves a figure under the same stem as the table: the reader must keep both
            "entropy_vs_t.png": _png_bytes(),
            "soft_targets.npz": soft_targets(rng),
            "entropy_vs_t.csv": pd.DataFrame(
                {"temperature": temps, "mean_entropy_bits": np.round(3.32 * (1 - np.exp(-temps / 6)), 3)}
            ),
            # beyond the contract (the dashboard reads it when present)
            "tail_weight_vs_t.csv": pd.DataFrame(
                {
                    "temperature": temps,
                    "tail_mass": 0.8 * (1 - np.exp(-temps / 5)),
                    "tail_gradient": 1 - np.exp(-temps / 4),
                }
            ),
        }
    if nb == "02":
        temps = np.array([1, 2, 5, 10, 20, 50], dtype=float)
        students = ["1", "5", "20", "logit_matching"]
        groups = ["top class", "above the mean (not top)", "more than 10 below the mean"]
        return {
            "gradient_error.csv": pd.DataFrame(
                {
                    "temperature": np.concatenate([temps, temps]),
                    "zero_mean": [True] * len(temps) + [False] * len(temps),
                    "rel_error_eq3": np.concatenate([1 / temps, 1 / temps]),
                    "rel_error_logit_matching": np.concatenate([1 / temps, 1 / temps + 0.04]),
                }
            ),
            "convergence.csv": pd.DataFrame(
                {
                    "temperature": students,
                    "test_errors": [120, 95, 90, 92],
                    "agreement_with_logit_matching": [0.97, 0.985, 0.99, 1.0],
                    "logit_corr": [0.9, 0.96, 0.99, 1.0],
                }
            ),
            # beyond the contract (the dashboard reads them when present)
            "gradient_error_shifted.csv": pd.DataFrame(
                {
                    "temperature": temps,
                    "zero_mean": False,
                    "rel_error_eq3": 1 / temps,
                    "rel_error_logit_matching": 1.6 + 0 * temps,
                    "shift": 5.0,
                }
            ),
            "logit_weight.csv": pd.DataFrame(
                [
                    {"temperature": t, "group": g, "mean_weight": min(1.0, (t / 20) ** (2 * k + 1)), "n_logits": 1000}
                    for t in temps
                    for k, g in enumerate(groups)
                ]
            ),
            "convergence_by_epoch.csv": pd.DataFrame(
                [
                    {
                        "epoch": e,
                        "temperature": t,
                        "agreement_with_logit_matching": 1.0 if t == "logit_matching" else 0.9 + 0.02 * e,
                        "logit_corr": 1.0 if t == "logit_matching" else 0.8 + 0.05 * e,
                    }
                    for e in (1, 2, 3)
                    for t in students
                ]
            ),
        }
    if nb == "03":
        labels = rng.integers(0, 10, 10000)
        logits = {m: _logits(labels, rng, s) for m, s in (("teacher", 12.0), ("baseline", 9.0), ("distilled", 11.0))}
        return {
            "results.csv": pd.DataFrame(
                {
                    "model": ["teacher", "baseline", "distilled"],
                    "test_errors": [int(70 + offset), int(150 + offset), int(80 + offset)],
                    "paper_errors": [67, 146, 74],
                    "wall_time_s": [120.0, 60.0, 65.0],
                }
            ),
            "sweep.csv": sweep_table(rng, offset),
            "soft_targets.npz": soft_targets(rng, student=True),
            "test_logits.npz": {**logits, "labels": labels},
            "per_class_errors.csv": pd.DataFrame(
                [
                    {"model": m, "class": c, "errors": int(rng.integers(2, 20))}
                    for m in ("teacher", "baseline", "distilled")
                    for c in range(10)
                ]
            ),
        }
    if nb == "04":
        shifts = np.round(np.arange(0, 6.01, 0.5), 2)
        on3 = np.round(133 * np.exp(-shifts / 1.2)).astype(int) + 10
        total = (on3 + 70 + np.round(3 * np.maximum(shifts - 3, 0) ** 2)).astype(int)
        lows = -np.round(np.arange(0, 10.01, 1.0), 1)
        before = np.diag(np.full(10, 980)).astype(int)
        before[3, 5] = 120
        after = np.diag(np.full(10, 990)).astype(int)
        after[3, 5] = 12
        return {
            "bias_scan_omit3.csv": pd.DataFrame({"shift": shifts, "total_errors": total, "errors_on_3": on3}),
            "bias_scan_only78.csv": pd.DataFrame(
                {"shift": lows, "error_rate": np.round(13 + 34 * ((lows + 8) / 8) ** 2, 2)}
            ),
            "confusion.npz": {"before": before, "after": after},
        }
    if nb == "05":
        curves = [
            {
                "setting": s,
                "epoch": e,
                "train_acc": round(100 * (a + 0.02 * e), 2),
                "val_acc": round(100 * (b - 0.01 + (0.01 * e if "hard" not in s else 0.03 * e - 0.006 * e * e)), 2),
                "test_acc": round(100 * (b + (0.01 * e if "hard" not in s else 0.03 * e - 0.006 * e * e)), 2),
            }
            for s, a, b in (
                ("baseline (3% of training set)", 0.55, 0.30),
                ("soft targets (3% of training set)", 0.52, 0.42),
            )
            for e in range(1, 11)
        ]
        phones = np.array(["sil", "aa", "iy", "s", "t", "n", "m", "ah"])
        labels = rng.integers(0, len(phones), 300)
        teacher = np.exp(_logits(labels, rng, 4.0)[:, : len(phones)])
        distilled = np.exp(_logits(labels, rng, 3.5)[:, : len(phones)])
        return {
            # percent, as notebook 05 writes them; baseline and ensemble have no temperature (empty cells)
            "table1.csv": pd.DataFrame(
                {
                    "model": ["baseline", "10x ensemble", "distilled T=2", "distilled T=1"],
                    "temperature": [None, None, 2.0, 1.0],
                    "frame_acc_seen": [58.9, 61.1, 60.8, 60.1],
                    "frame_acc_unseen": [52.0, 55.0, 54.5, 54.0],
                    "chosen_on_val": [False, False, True, False],
                    "phone_error_rate": [31.0, 29.0, 29.5, None],
                }
            ),
            "table5.csv": pd.DataFrame(
                {
                    "system": ["baseline (100% of training set)", "baseline (3% of training set)", "soft targets (3%)"],
                    "train_frames": [80000, 2400, 2400],
                    "train_frame_acc": [63.4, 67.3, 65.4],
                    "test_frame_acc": [58.9, 44.5, 57.0],
                }
            ),
            "curves.csv": pd.DataFrame(curves),
            "posteriors.npz": {
                "teacher": (teacher / teacher.sum(1, keepdims=True)).astype(np.float32),
                "distilled": (distilled / distilled.sum(1, keepdims=True)).astype(np.float32),
                "labels": labels,
                "phones": phones,
            },
        }
    if nb == "06":
        n_classes = 20
        clusters = [[0, 5, 10, 15, 19], [1, 6, 11, 16], [2, 7, 12, 17], [3, 8, 13, 18], [4, 9, 14]]
        order = np.array([c for cl in clusters for c in cl])
        cov = rng.normal(0, 0.02, (n_classes, n_classes))
        for cl in clusters:
            cov[np.ix_(cl, cl)] += 0.3
        cov = (cov + cov.T) / 2
        pairs = np.array([(c // 10, c % 10) for c in range(n_classes)])
        imgs = np.concatenate([_digit_images(pairs[:, 0], rng), _digit_images(pairs[:, 1], rng)], axis=2)
        overlapping = [cl + [(cl[0] + 1) % n_classes] for cl in clusters[:2]] + clusters[2:]  # 2 shared classes
        curves = [
            {"step": st, "specialist": m, "split": sp, "cond_acc": a, "cond_nll": 1 - a, "kind": k}
            for k, top in (("dustbin", 0.86), ("soft", 0.9))
            for m in (0, 1)
            for sp in ("train", "test", "val")
            for st, a in ((0, 0.8), (50, 1.0 if sp == "train" else top), (100, 1.0 if sp == "train" else top - 0.01))
        ]
        return {
            "clusters.json": {"clusters": overlapping, "base_clusters": clusters, "method": "covariance"},
            "covariance.npz": {"cov": cov.astype(np.float32), "order": order},
            "class_images.npz": {"images": imgs},
            "table3.csv": pd.DataFrame(
                {
                    "system": ["generalist (baseline)", "+ 5 specialist models (dustbin, eq. 5)", "one net distilled"],
                    "test_accuracy": [0.810, 0.826, 0.815],
                    "conditional_accuracy": [0.702, 0.731, 0.71],
                }
            ),
            "table4.csv": pd.DataFrame(
                {
                    "n_specialists": [0, 1, 2],
                    "n_test_examples": [4000, 3500, 2500],
                    "n_changed_correct": [0, 41, -3],
                    "relative_improvement": [0.0, 0.014, -0.0015],
                }
            ),
            # beyond the contract (the dashboard reads them when present)
            "curves.csv": pd.DataFrame(curves),
            "table61.csv": pd.DataFrame(
                {
                    "kind": ["dustbin", "soft"],
                    "test_cond_acc_final": [0.85, 0.89],
                    "combined_test_accuracy": [0.80, 0.81],
                }
            ),
            "distill.csv": pd.DataFrame(
                {"system": ["generalist", "generalist + 5 specialists (eq. 5)"], "test_accuracy": [0.810, 0.826]}
            ),
            "specialists.csv": pd.DataFrame(
                {"specialist": range(5), "classes": [" ".join(map(str, c)) for c in overlapping], "n_classes": 5}
            ),
            "controls.csv": pd.DataFrame(
                {
                    "system": ["converged generalist", "compute-matched control", "generalist + 5 specialists (eq. 5)"],
                    "test_accuracy": [0.810, 0.829, 0.826],
                    "val_accuracy": [0.812, 0.831, float("nan")],
                    "chosen": [False, True, False],
                }
            ),
        }
    raise ValueError(nb)


NB_PARAMS = {
    "01": {"N_IMAGES": 12},
    "02": {"TEMPERATURES": [1, 2, 5, 10, 20, 50]},
    "03": {"EPOCHS": 3, "WIDTHS": [30, 300, 800], "TEMPERATURES": [1, 2, 2.5, 3, 4, 6, 8, 10, 15, 20]},
    "04": {"SHIFT_MAX": 6.0},
    "05": {"N_ENSEMBLE": 10, "TEMPERATURE": 2.0, "HARD_WEIGHT": 0.5},
    "06": {"N_SPECIALISTS": 5},
}
METRICS = {
    "01": {"teacher_errors": 71, "mean_entropy_bits_t1": 0.05},
    "02": {"max_rel_error_eq3": 1e-7},
    "03": {"teacher_errors": 70, "baseline_errors": 150, "distilled_errors": 80},
    "04": {
        "omit3_errors": 206,
        "omit3_errors_on_3": 133,
        "omit3_best_shift": 3.5,
        "omit3_val_shift": 3.0,
        "only78_val_shift": -7.0,
    },
    "05": {"baseline_frame_acc": 0.589, "ensemble_frame_acc": 0.611, "distilled_frame_acc": 0.608},
    "06": {
        "baseline_accuracy": 0.810,
        "specialists_accuracy": 0.826,
        "n_specialists": 5,
        "table4_slope": -1.55,
        "table4_slope_se": 0.8,
    },
}


def _claim(
    cid: str,
    section: str,
    statement: str,
    paper: str,
    ours: str,
    holds: bool,
    margin=None,
    noise=None,
    judged_by: str = "",
) -> dict[str, Any]:
    return {
        "id": cid,
        "section": section,
        "statement": statement,
        "paper": paper,
        "ours": ours,
        "holds": holds,
        "margin": margin,
        "noise": noise,
        "judged_by": judged_by,
    }


BEATS = (
    "03.distilled_beats_baseline",
    "§3",
    "A small net distilled from a big one makes fewer test errors than the same net trained on hard labels.",
    "74 vs 146 errors",
)
NEAR = (
    "03.distilled_near_teacher",
    "§3",
    "The distilled net comes within noise of its teacher's test errors.",
    "74 vs 67 errors",
)
CLAIMS = {  # good run name -> its claims (newest quick runs: 7 of 8 hold; 03 full adds a claim quick does not test)
    "01": [
        _claim(
            "01.entropy_rises_with_t",
            "§2",
            "Raising the temperature gives a softer distribution over classes.",
            "softer as T grows",
            "0.05 → 3.3 bits from T = 1 to 50",
            True,
            3.25,
            None,
            "mean entropy increases with T",
        )
    ],
    "02": [
        _claim(
            "02.gradient_eq2",
            "§2.1",
            "Eq. 2: the gradient of the soft cross-entropy is (q − p)/T.",
            "exact",
            "max relative error 1e-07",
            True,
            1e-5,
            None,
            "relative error < 1e-5",
        ),
        _claim(
            "02.logit_matching_limit",
            "§2.1",
            "At high temperature distillation matches logits (eq. 4).",
            "relative error → 0 as T → ∞",
            "0.0004 at T = 50",
            True,
            0.0096,
            None,
            "relative error < 0.01 at T = 50",
        ),
    ],
    "03_quick": [
        _claim(*BEATS, "80 vs 150 errors", True, 70.0, 9.5, "difference > 2 × McNemar noise"),
        _claim(*NEAR, "80 vs 70 errors", False, -4.4, 7.2, "difference < 2 × McNemar noise"),
    ],
    "03_full": [
        _claim(*BEATS, "76 vs 146 errors", True, 70.0, 9.4, "difference > 2 × McNemar noise"),
        _claim(*NEAR, "76 vs 66 errors", True, 4.6, 7.3, "difference < 2 × McNemar noise"),
        _claim(
            "03.sweep_mid_t_best_30",
            "§3",
            "A 30-unit student learns best at temperatures 2.5 to 4.",
            "best T in 2.5–4",
            "best T = 3",
            True,
            0.5,
            None,
            "best mean T inside 2.5–4",
        ),
    ],
    "04": [
        _claim(
            "04.bias_recovers_3s",
            "§3",
            "Without 3s in the transfer set, raising the bias of 3 recovers them.",
            "133 → 14 errors on 3s",
            "143 → 13 errors on 3s",
            True,
            119.0,
            12.0,
            "drop > 2 × √errors",
        )
    ],
    "05": [
        _claim(
            "05.distilled_keeps_gain",
            "§4",
            "One distilled model keeps most of the ensemble's gain.",
            "80% of 2.2 points",
            "86% of 2.2 points",
            True,
            6.0,
            3.0,
            "share kept > 80% − noise",
        )
    ],
    "06": [
        _claim(
            "06.specialists_improve",
            "§5",
            "Specialists raise the test accuracy of the generalist.",
            "25.0% → 26.1%",
            "81.0% → 82.6%",
            True,
            1.6,
            0.6,
            "gain > 2 × binomial noise",
        )
    ],
}


def build_store(root: str | Path) -> dict[str, Path]:
    """Write the fixture store under ``root``; returns run name -> folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "TEST_FIXTURE").write_text("generated by tests/fixtures_runs.py; not results\n")
    rng = np.random.default_rng(0)
    out: dict[str, Path] = {}
    for name, run_id in GOOD.items():
        nb = name[:2]
        profile = "full" if name.endswith("full") else "quick"
        offset = -4.0 if profile == "full" else 0.0
        out[name] = write_run(
            root,
            STEMS[nb],
            run_id,
            params={"PROFILE": profile, **NB_PARAMS[nb], **({"EPOCHS": 30} if profile == "full" else {})},
            metrics=METRICS[nb],
            artifacts=good_artifacts(nb, rng, offset),
            env={"wall_time_s": 900.0 if profile == "full" else 42.5},
            claims=CLAIMS[name],
        )
    nb_dir, run_id = BROKEN["empty"]
    (root / nb_dir / run_id).mkdir(parents=True)
    out["empty"] = root / nb_dir / run_id
    nb_dir, run_id = BROKEN["half_written"]
    out["half_written"] = write_run(
        root, nb_dir, run_id, marker=None, artifacts={"entropy_vs_t.csv": good_artifacts("01", rng)["entropy_vs_t.csv"]}
    )
    nb_dir, run_id = BROKEN["malformed_json"]
    out["malformed_json"] = write_run(root, nb_dir, run_id, artifacts={})
    (out["malformed_json"] / "params.json").write_text('{"schema_version": 1, "params": {"PROFILE": "quick",')
    nb_dir, run_id = BROKEN["missing_artifact"]
    arts = good_artifacts("03", rng)
    del arts["sweep.csv"], arts["soft_targets.npz"]
    out["missing_artifact"] = write_run(
        root, nb_dir, run_id, params=NB_PARAMS["03"], metrics=METRICS["03"], artifacts=arts, claims=CLAIMS["03_quick"]
    )  # the newest complete quick run of 03: the Claims page reads its claims
    nb_dir, run_id = BROKEN["unknown_schema"]
    out["unknown_schema"] = write_run(root, nb_dir, run_id, schema_version=99, artifacts=good_artifacts("06", rng))
    nb_dir, run_id = BROKEN["failed"]
    out["failed"] = write_run(
        root, nb_dir, run_id, marker="FAILED", message=f"Traceback (most recent call last):\n  ...\n{FAILED_REASON}"
    )
    nb_dir, run_id = BROKEN["staging"]
    out["staging"] = write_run(root, nb_dir, run_id, marker=None, staging=True)
    for name, (nb_dir, run_id, profile) in CLAIMS_BROKEN.items():
        folder = out["claims_" + name] = write_run(root, nb_dir, run_id, params={"PROFILE": profile})
        if name == "malformed_json":
            (folder / CLAIMS_FILE).write_text('{"schema": "kdlab.claims/1", "claims": [{"id": "04.bias_recovers_3s",')
        elif name == "unknown_schema":
            (folder / CLAIMS_FILE).write_text(json.dumps({"schema": "kdlab.claims/99", "claims": []}))
    return out


REFERENCE = {nb: f"20261020-0{k}0000-ref0{nb}" for k, nb in enumerate(STEMS, start=1)}  # one full run each


def build_reference(root: str | Path) -> dict[str, Path]:
    """A stand-in for the published reference store: one complete full-profile run per notebook (paper-like numbers
    a little better than the quick runs'), each with its claims."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "TEST_FIXTURE").write_text("generated by tests/fixtures_runs.py; not results\n")
    rng = np.random.default_rng(1)
    return {
        nb: write_run(
            root,
            STEMS[nb],
            run_id,
            params={"PROFILE": "full", **NB_PARAMS[nb], "EPOCHS": 30},
            metrics=METRICS[nb],
            artifacts=good_artifacts(nb, rng, -6.0),
            env={"wall_time_s": 1800.0},
            claims=CLAIMS["03_full" if nb == "03" else nb],
        )
        for nb, run_id in REFERENCE.items()
    }


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/kdlab-fixture-runs")
    for name, folder in build_store(target).items():
        print(f"{name:18s} {folder}")
