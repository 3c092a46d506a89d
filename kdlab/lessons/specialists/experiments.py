"""Notebook 06's recipes: profiles, the generalist, the §6.1 experiment, distilling the generalist + specialists back
into one net (the figures are in ``kdlab.figures.specialists``). The method itself lives in
``kdlab.lessons.specialists``; this module only wires it into experiments (the sentences a run prints are in
``kdlab.lessons.specialists.verdicts``).

Profiles (docs/architecture.md): ``quick`` ≈ 3 CPU-minutes (≈ 1.5–2 min wall on an idle 2-core CPU; CI); ``full`` the
60k/10k MNIST-100; ``paper`` larger widths and budgets, meant for a GPU. The generalist trains until its accuracy on
held-out training cases stops improving (``controls.train_converged_generalist``), as the paper's six-month JFT
generalist had (§5.1): a short-trained one would let any extra training pass for a gain from specialists. The
specialists are then also measured against a compute-matched control (``controls.compute_matched_control``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from kdlab.core.config import TrainConfig
from kdlab.core.models import MLP
from kdlab.core.train import fit
from kdlab.lessons import specialists as sp


@dataclass(frozen=True)
class SpecialistProfile:
    """Sizes and budgets of one notebook-06 run."""

    n_train_per_class: int  # MNIST-100 pairs per class (×100 classes)
    n_test_per_class: int
    hidden: int  # generalist: 1568-hidden-hidden-100 ReLU MLP; specialists copy it
    val_fraction: float  # the last this fraction of the training pairs: held-out cases for every choice (never test)
    generalist_max_epochs: int  # early stopping on the held-out cases…
    generalist_patience: int  # …once validation accuracy has not improved for this many epochs
    n_clusters: int  # K of the K-means (§5.3)
    overlap: float  # each cluster also takes ⌈overlap·size⌉ nearest classes of other clusters (Table 4)
    specialist_steps: int  # §5.2 dustbin specialists on the full training set
    specialist_batch: int
    soft_data_fraction: float  # §6.1: specialists trained on this fraction of the training set…
    soft_specialists: int  # …the most confusable clusters only…
    soft_steps: int  # …for this many steps (long enough to overfit)
    eval_every: int
    distill_epochs: int  # beyond the paper: generalist + specialists → one net
    combine_steps: int  # gradient steps of eq. 5
    claim_seeds: int = 1  # seeds the claims are judged over (the notebook's own + replicates.replicate for the rest)

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES = {
    "quick": SpecialistProfile(
        n_train_per_class=200,
        n_test_per_class=100,
        hidden=128,
        val_fraction=0.1,
        generalist_max_epochs=30,
        generalist_patience=3,
        n_clusters=16,
        overlap=0.5,
        specialist_steps=400,
        specialist_batch=64,
        soft_data_fraction=0.1,
        soft_specialists=6,
        soft_steps=300,
        eval_every=50,
        distill_epochs=2,
        combine_steps=100,
    ),
    "full": SpecialistProfile(
        n_train_per_class=600,
        n_test_per_class=100,
        hidden=256,
        val_fraction=0.1,
        generalist_max_epochs=40,
        generalist_patience=4,
        n_clusters=20,
        overlap=0.5,
        specialist_steps=800,
        specialist_batch=128,
        soft_data_fraction=0.05,
        soft_specialists=8,
        soft_steps=1000,
        eval_every=100,
        distill_epochs=3,
        combine_steps=200,
        claim_seeds=3,
    ),
    "paper": SpecialistProfile(
        n_train_per_class=600,
        n_test_per_class=100,
        hidden=1200,
        val_fraction=0.1,
        generalist_max_epochs=60,
        generalist_patience=5,
        n_clusters=25,
        overlap=0.5,
        specialist_steps=5000,
        specialist_batch=256,
        soft_data_fraction=0.03,
        soft_specialists=25,
        soft_steps=5000,
        eval_every=250,
        distill_epochs=10,
        combine_steps=300,
        claim_seeds=3,
    ),
}


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of (N, C) probabilities or logits."""
    return float((probs.argmax(-1).cpu() == labels.cpu()).float().mean())


def finetune(
    model: MLP,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    teacher_logits: torch.Tensor | None = None,
    temperature: float = 1.0,
    hard_weight: float = 0.0,
    seed: int = 0,
    lr: float = 0.02,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> MLP:
    """A copy of ``model`` trained ``epochs`` more on hard labels, or on a teacher's soft targets (distillation)."""
    student = MLP(model.widths[0], model.widths[1:-1], model.widths[-1])
    student.load_state_dict(model.state_dict())
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=128,
        lr=lr,
        seed=seed,
        temperature=temperature,
        hard_weight=hard_weight,
        progress=progress,
        desc="finetune",
    )
    fit(student, x, y, config=cfg, teacher_logits=teacher_logits, device=device)
    return student


def paired_change(before: torch.Tensor, after: torch.Tensor, labels: torch.Tensor) -> dict:
    """How two systems' top-1 answers differ on the same test cases: ``fixed`` (wrong → right), ``broken``
    (right → wrong), ``net`` = fixed − broken, and its standard error √(fixed + broken) (McNemar's test): a net
    change within ±2 s.e. is not distinguishable from noise."""
    labels = labels.cpu()
    ok_before = before.cpu().argmax(-1) == labels
    ok_after = after.cpu().argmax(-1) == labels
    fixed, broken = int((~ok_before & ok_after).sum()), int((ok_before & ~ok_after).sum())
    se = math.sqrt(fixed + broken)
    return {
        "fixed": fixed,
        "broken": broken,
        "net": fixed - broken,
        "se": se,
        "significant": abs(fixed - broken) > 2 * se and fixed != broken,
    }


def describe_change(change: dict, n: int) -> str:
    """One line for a ``paired_change``: net change, its parts, and whether it exceeds noise."""
    verdict = "beyond noise (> 2 s.e.)" if change["significant"] else "within noise (≤ 2 s.e.)"
    return (
        f"{change['net']:+d} correct of {n} test cases ({change['fixed']} fixed, {change['broken']} broken; "
        f"s.e. ±{change['se']:.1f}) — {verdict}"
    )


def table3(rows: Sequence[tuple[str, float, float]]) -> pd.DataFrame:
    """Table 3 analog: (system, test accuracy, conditional accuracy) per row, as the dashboard reads it."""
    return pd.DataFrame(rows, columns=["system", "test_accuracy", "conditional_accuracy"])


def clusters_record(
    classes: Sequence[np.ndarray],
    confusabilities: Sequence[float],
    partition: Sequence[np.ndarray],
    confusion: Sequence[np.ndarray],
    *,
    temperature: float,
    profile: SpecialistProfile,
) -> dict:
    """clusters.json (§5.3): the special subsets (``clusters``, what the dashboard reads), the disjoint covariance
    and confusion-matrix partitions they are compared with, and the choices that made them."""
    return {
        "clusters": [c.tolist() for c in classes],
        "method": "covariance",
        "base_clusters": [c.tolist() for c in partition],
        "confusion_clusters": [c.tolist() for c in confusion],
        "confusability": list(confusabilities),
        "temperature": temperature,
        "overlap": profile.overlap,
        "n_clusters": profile.n_clusters,
    }


@dataclass
class SoftTargetExperiment:
    """§6.1's comparison: which specialists, on how many training images, their curves and the table of results."""

    chosen: list[np.ndarray]  # the special subsets trained (most confusable first)
    n_small: int  # training images both kinds saw
    curves: pd.DataFrame  # step, specialist, split, cond_acc, cond_nll, kind
    table: pd.DataFrame  # one row per kind ("dustbin", "soft")


def soft_target_experiment(
    generalist: MLP,
    classes: Sequence[np.ndarray],
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    p_test: torch.Tensor,
    profile: SpecialistProfile,
    *,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    lr: float,
    temperature: float,
    top_n: int,
    seed: int,
) -> SoftTargetExperiment:
    """§6.1: dustbin specialists vs full-softmax specialists trained with the generalist's soft targets (at
    ``temperature``) on the non-special examples — both on the same small slice of the training set (a fraction
    ``profile.soft_data_fraction``, at least 200 images), for the ``profile.soft_specialists`` most confusable
    subsets that occur in it, long enough to overfit. Each kind is scored on its own classes during training
    (``curves``: its small training slice, the test set, and the held-out training cases ``x_val`` the §6.1 claim is
    judged on), combined with the generalist by eq. 5, and — the soft kind — read on its own over all classes."""
    cfg = profile
    n_small = max(int(cfg.soft_data_fraction * len(y_train)), 200)
    x_small, y_small = x_train[:n_small], y_train[:n_small]
    chosen = [c for c in classes[: cfg.soft_specialists] if np.isin(c, y_small.cpu().numpy()).any()]
    rows, curves = [], []
    for kind in ("dustbin", "soft"):
        kcfg = sp.SpecialistConfig(kind=kind, steps=cfg.soft_steps, batch_size=cfg.specialist_batch, lr=lr,
                                   temperature=temperature, eval_every=cfg.eval_every, seed=seed)  # fmt: skip
        trained = sp.train_specialists(generalist, chosen, x_small, y_small, kcfg, x_eval=x_test, y_eval=y_test,
                                       x_train_eval=x_small, y_train_eval=y_small, x_val=x_val, y_val=y_val)  # fmt: skip
        frame = pd.DataFrame(trained.curves).assign(kind=kind)
        curves.append(frame)
        test = frame[frame.split == "test"].groupby("step")[["cond_acc", "cond_nll"]].mean()
        val = frame[frame.split == "val"].groupby("step").cond_nll.mean()  # held-out training cases (§6.1's claim)
        q_kind = sp.combine(p_test, trained.probs(x_test), chosen, steps=cfg.combine_steps, top_n=top_n,
                            full_softmax=(kind == "soft"))  # fmt: skip
        own = trained.logits(x_test)  # full-softmax specialists can also be read on their own, over all classes
        rows.append({
            "kind": kind,
            "test_cond_acc_final": test.cond_acc.iloc[-1],
            "test_cond_acc_best": test.cond_acc.max(),
            "best_step": int(test.cond_acc.idxmax()),
            "test_cond_nll_final": test.cond_nll.iloc[-1],
            "test_cond_nll_min": test.cond_nll.min(),
            "val_cond_nll_start": val.iloc[0],
            "val_cond_nll_final": val.iloc[-1],
            "val_cond_nll_min": val.min(),
            "train_cond_acc_final": frame[frame.split == "train"].groupby("step").cond_acc.mean().iloc[-1],
            "combined_test_accuracy": accuracy(q_kind, y_test),
            "own_full_test_accuracy": float(np.mean([accuracy(own[m], y_test) for m in range(len(chosen))]))
            if kind == "soft" else float("nan"),
        })  # fmt: skip
    return SoftTargetExperiment(chosen, n_small, pd.concat(curves, ignore_index=True), pd.DataFrame(rows))
