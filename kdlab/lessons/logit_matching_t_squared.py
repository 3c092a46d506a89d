"""§2's T² factor: it keeps "the relative contributions of the hard and soft targets roughly unchanged if the
temperature used for distillation is changed" — measured on a student's real gradients.

§2: "Since the magnitudes of the gradients produced by the soft targets scale as 1/T² it is important to multiply
them by T² when using both hard and soft targets." The combined objective (``kdlab.core.losses.distillation_loss``)
is T²·C_soft(T) + w·C_hard with the lab's hard weight w. For a student and a batch of real transfer cases this
module takes the gradient of each term w.r.t. all the student's parameters and reports, per T:

* ``soft_norm`` ‖∇ T²·C_soft(T)‖ and ``hard_norm`` ‖∇ w·C_hard‖ (the hard term does not depend on T);
* ``relative`` = soft_norm / hard_norm: the *relative contribution* of the soft targets, the claim's figure;
* ``share`` = soft_norm / (soft_norm + hard_norm): the soft term's share of the two gradients' norms, shown beside
  it. The share is not judged: with the lab's small hard weight it sits near 1 at every T, where a threefold change
  of the soft gradient moves it by a few points only, so a band on the share would hold almost by construction.

Without the T² factor both figures are the same gradients with the soft one divided by T² — exactly, by linearity
of the gradient — so the 1/T² collapse without the factor is algebra, shown in the figure, not judged. What could
fail is the paper's "roughly unchanged" *with* the factor: the soft gradient T²·(q − p)/T (eq. 2) tends to
(z − v)/N (eq. 4) at high T, whose size is set by the logits, not by the soft targets at T = 1, so the ratio
between the two need not be near 1. ``relative_spread`` measures it: log₂ of the largest over the smallest
``relative`` across the temperature grid (0: unchanged; 1: a factor of 2). The hard weight cancels in it.

Noise: the measurement is repeated on disjoint subsets of the transfer cases (and student seeds in the full
profile). Introduced in notebook 02 (``02_logit_matching_limit.ipynb``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from kdlab.core.losses import distillation_loss

Tensor = torch.Tensor


def _grad_norm(loss: Tensor, params: list[Tensor]) -> float:
    grads = torch.autograd.grad(loss, params)
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))


def term_norms(model: torch.nn.Module, x: Tensor, y: Tensor, teacher_logits: Tensor, temperatures: Sequence[float],
               hard_weight: float) -> list[dict]:  # fmt: skip
    """Rows (temperature, t_squared, soft_norm, hard_norm, relative, share) for the batch ``x``: the gradient norms
    of T²·C_soft(T) and hard_weight·C_hard w.r.t. every parameter, with the T² factor and without it (/T²)."""
    if not hard_weight > 0:
        raise ValueError(f"the relative contribution of the hard term needs hard_weight > 0, got {hard_weight!r}")
    model = model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    z = model(x)
    hard = _grad_norm(hard_weight * F.cross_entropy(z, y), params)
    rows = []
    for T in temperatures:
        soft = _grad_norm(distillation_loss(model(x), None, teacher_logits, float(T)), params)  # T²·C_soft, eq. 2
        for t_squared, s in ((True, soft), (False, soft / float(T) ** 2)):
            rows.append({"temperature": float(T), "t_squared": t_squared, "soft_norm": s, "hard_norm": hard,
                         "relative": s / hard, "share": s / (s + hard)})  # fmt: skip
    return rows


def relative_spread(rows: Sequence[dict], t_squared: bool = True) -> float:
    """log₂(max / min) of ``relative`` over the temperatures of ``rows`` (one subset, one seed)."""
    rel = [float(r["relative"]) for r in rows if bool(r["t_squared"]) == t_squared]
    return math.log2(max(rel) / min(rel))


def scale_study(students: Sequence[torch.nn.Module], x: Tensor, y: Tensor, teacher_logits: Tensor,
                temperatures: Sequence[float], hard_weight: float, n_subsets: int, subset_size: int,
                seed: int) -> list[dict]:  # fmt: skip
    """``term_norms`` for each student (``seed`` + its index) on each of ``n_subsets`` disjoint subsets of
    ``subset_size`` cases of ``x`` (a seeded permutation): the ``t_squared_scale.csv`` rows of notebook 02."""
    if n_subsets * subset_size > x.shape[0]:
        raise ValueError(f"{n_subsets} disjoint subsets of {subset_size} need {n_subsets * subset_size} cases")
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    rows = []
    for m, student in enumerate(students):
        dev = next(student.parameters()).device
        for k in range(n_subsets):
            idx = perm[k * subset_size : (k + 1) * subset_size]
            xs, ys, vs = x[idx].to(dev), y[idx].to(dev), teacher_logits[idx].to(dev).float()
            for r in term_norms(student, xs, ys, vs, temperatures, hard_weight):
                rows.append({"seed": seed + m, "subset": k, **r})
    return rows


def spread_by_seed(rows: Sequence[dict], t_squared: bool = True) -> tuple[list[float], float]:
    """(per seed: the mean over subsets of ``relative_spread``, the SD (ddof 1) of the per-subset spreads around
    their seed's mean, pooled over seeds)."""
    per_seed, sq, dof = [], 0.0, 0
    for seed in dict.fromkeys(r["seed"] for r in rows):
        mine = [r for r in rows if r["seed"] == seed]
        values = [relative_spread([r for r in mine if r["subset"] == k], t_squared)
                  for k in dict.fromkeys(r["subset"] for r in mine)]  # fmt: skip
        mean = sum(values) / len(values)
        per_seed.append(mean)
        sq += sum((v - mean) ** 2 for v in values)
        dof += len(values) - 1
    if not per_seed or dof < 1:
        raise ValueError("need at least 2 subsets to measure a spread")
    return per_seed, (sq / dof) ** 0.5
