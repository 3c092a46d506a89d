"""Notebook 06's experiment again with another seed, end to end, for the claims' seed spread (DESIGN.md §3).

The notebook walks through one seed step by step; the full profile's claims need ≥ 3 seeds, so ``replicate`` reruns
what the claims use — the converged generalist (§5.1), its covariance clusters (§5.3), the dustbin specialists
(§5.2) combined by eq. 5 (§5.4), the compute-matched control, Table 4's slope and the §6.1 comparison on held-out
cases — with a new seed for the initialization, the batches and the K-means, on the same data. It returns the
numbers the claims take (``kdlab.lessons.claims.specialists``), nothing else: no figures, no tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kdlab.core.evaluate import predict_logits
from kdlab.lessons.specialists import controls, coverage_gain, overfitting
from kdlab.lessons.specialists.clustering import covariance_clusters, prediction_covariance, rank_by_confusability
from kdlab.lessons.specialists.eq5 import active_specialists, combine
from kdlab.lessons.specialists.experiments import (
    SpecialistProfile,
    accuracy,
    paired_change,
    soft_target_experiment,
)
from kdlab.lessons.specialists.training import SpecialistConfig, train_specialists


@dataclass(frozen=True)
class Knobs:
    """The notebook's parameters that the claims' numbers depend on (its parameters cell)."""

    cluster_temperature: float
    min_cluster_size: int
    top_n: int
    specialist_lr: float
    soft_temperature: float


def references_of(
    converged: controls.Converged,
    matched: torch.nn.Module,
    q_test: torch.Tensor,
    *,
    test: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    extra_steps: int,
) -> dict[str, dict]:
    """The two references as ``beat_generalist_claim`` takes them: test and validation accuracy, words, and the
    paired change reference → specialists (``q_test``) on the test set."""
    (x_test, y_test), (x_val, y_val) = test, val
    out = {}
    for name, model, what in (
        ("converged generalist", converged.model, f"the generalist early-stopped at epoch {converged.best_epoch}"),
        ("compute-matched control", matched,
         f"the generalist given the specialists' {extra_steps:,} extra steps on hard labels"),
    ):  # fmt: skip
        logits = predict_logits(model, x_test)
        out[name] = {"acc": accuracy(logits, y_test), "val_acc": accuracy(predict_logits(model, x_val), y_val),
                     "what": what, "change": paired_change(logits, q_test, y_test)}  # fmt: skip
    return out


def replicate(
    data: dict[str, torch.Tensor],
    profile: SpecialistProfile,
    knobs: Knobs,
    seed: int,
    device: str | torch.device = "cpu",
) -> dict:
    """One seed of the experiment: ``spec_acc``, ``references``, ``reference``, ``trend`` and ``overfit``, as the
    claims take them. ``data`` holds ``x_train, y_train, x_val, y_val, x_test, y_test`` (the held-out cases split
    off the training set, as in the notebook)."""
    x, y = data["x_train"], data["y_train"]
    x_val, y_val, x_test, y_test = data["x_val"], data["y_val"], data["x_test"], data["y_test"]
    C = int(y.max()) + 1
    conv = controls.train_converged_generalist(x, y, x_val, y_val, profile.hidden, profile.generalist_max_epochs,
                                               profile.generalist_patience, seed=seed, device=device,
                                               progress=False)  # fmt: skip
    gen = conv.model
    logits_test = predict_logits(gen, x_test)
    p_test = torch.softmax(logits_test, -1)
    p_cluster = torch.softmax(predict_logits(gen, x) / knobs.cluster_temperature, -1).cpu()
    clusters = covariance_clusters(p_cluster, profile.n_clusters, seed=seed, overlap=profile.overlap)
    classes, _ = rank_by_confusability(clusters, prediction_covariance(p_cluster), knobs.min_cluster_size)
    cfg = SpecialistConfig(kind="dustbin", steps=profile.specialist_steps, batch_size=profile.specialist_batch,
                           lr=knobs.specialist_lr, eval_every=profile.eval_every, seed=seed, progress=False)  # fmt: skip
    specialists = train_specialists(gen, classes, x, y, cfg)
    active = active_specialists(p_test, classes, knobs.top_n)
    q_test = combine(p_test, specialists.probs(x_test), classes, active=active, steps=profile.combine_steps)
    extra_steps = len(classes) * cfg.steps
    matched = controls.compute_matched_control(gen, x, y, extra_steps, cfg.batch_size, lr=knobs.specialist_lr,
                                               seed=seed, progress=False)  # fmt: skip
    refs = references_of(conv, matched, q_test, test=(x_test, y_test), val=(x_val, y_val), extra_steps=extra_steps)
    soft = soft_target_experiment(gen, classes, x, y, x_test, y_test, p_test, profile, x_val=x_val, y_val=y_val,
                                  lr=knobs.specialist_lr, temperature=knobs.soft_temperature, top_n=knobs.top_n,
                                  seed=seed)  # fmt: skip
    return {
        "seed": seed,
        "spec_acc": accuracy(q_test, y_test),
        "references": refs,
        "reference": controls.pick_reference({k: r["val_acc"] for k, r in refs.items()}),
        "trend": coverage_gain.coverage_gain_trend(p_test, q_test, y_test, classes, C, seed=seed),
        "overfit": overfitting.overfit_summary(overfitting.own_class_nll(soft.curves)),
        "n_specialists": len(classes),
    }
