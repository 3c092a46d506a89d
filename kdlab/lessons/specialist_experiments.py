"""Notebook 06's recipes: profiles, the generalist, distilling the generalist + specialists back into one net (the
figures are in ``kdlab.figures``). The method itself lives in ``kdlab.lessons.specialists``; this module only wires it into experiments.

Profiles (DESIGN.md §2): ``quick`` ≈ 3 CPU-minutes (≈ 1.5–2 min wall on an idle 2-core CPU; CI); ``full`` the
60k/10k MNIST-100 (≈ 7 min measured with one thread on a busy 2-core CPU); ``paper`` larger widths and budgets,
meant for a GPU. The generalist is deliberately given a small budget (a few epochs): the paper's JFT generalist was limited by compute, not data, and specialists are
worth having only while the generalist still confuses classes it could learn to separate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from kdlab.core.models import MLP
from kdlab.core.train import TrainConfig, fit
from kdlab.lessons.common import gain_kept  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class SpecialistProfile:
    """Sizes and budgets of one notebook-06 run."""

    n_train_per_class: int  # MNIST-100 pairs per class (×100 classes)
    n_test_per_class: int
    hidden: int  # generalist: 1568-hidden-hidden-100 ReLU MLP; specialists copy it
    generalist_epochs: int
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

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES = {
    "quick": SpecialistProfile(
        n_train_per_class=200,
        n_test_per_class=100,
        hidden=128,
        generalist_epochs=3,
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
        generalist_epochs=2,
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
    ),
    "paper": SpecialistProfile(
        n_train_per_class=600,
        n_test_per_class=100,
        hidden=1200,
        generalist_epochs=10,
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
    ),
}


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of (N, C) probabilities or logits."""
    return float((probs.argmax(-1).cpu() == labels.cpu()).float().mean())


def train_generalist(
    x: torch.Tensor,
    y: torch.Tensor,
    hidden: int,
    epochs: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
    lr: float = 0.05,
    progress: bool = True,
) -> MLP:
    """The full model: a 1568-hidden-hidden-100 ReLU MLP on hard labels (kept simple: no dropout, few epochs)."""
    torch.manual_seed(seed)
    model = MLP(x.shape[1], [hidden, hidden], int(y.max()) + 1)
    fit(
        model,
        x,
        y,
        config=TrainConfig(epochs=epochs, batch_size=128, lr=lr, seed=seed, progress=progress, desc="generalist"),
        device=device,
    )
    return model


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


def __getattr__(name: str):
    """The figures moved to ``kdlab.figures`` (a lesson module computes, it does not draw); old names resolve there."""
    if name in ("cluster_grid_figure", "covariance_figure", "curves_figure"):
        import importlib

        return getattr(importlib.import_module("kdlab.figures"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
