"""Distillation losses, each next to the equation it implements (Hinton, Vinyals & Dean 2015).

Conventions (the two most common bugs in public distillation code, both tested):

* cross-entropies are summed over classes and averaged over the batch ("batchmean");
* the soft term is multiplied by ``T**2`` explicitly in ``distillation_loss`` and nowhere else, because the
  gradient of the soft cross-entropy scales as 1/T² (eq. 2–4); without the factor, raising T silently turns the
  soft targets off relative to the hard term.

Introduced in notebooks 01 (eq. 1), 02 (eq. 2–4) and 03 (the combined objective).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def _check_temperature(T: float) -> None:
    if not isinstance(T, (int, float)) or isinstance(T, bool) or not T > 0 or T != T or T == float("inf"):
        raise ValueError(f"temperature T must be a finite number > 0, got {T!r}")


def _check_logits(name: str, x: Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a 2-D tensor (batch, classes), got {shape}")


def _check_same_shape(a_name: str, a: Tensor, b_name: str, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} has shape {tuple(a.shape)} but {b_name} has shape {tuple(b.shape)}; they must match"
        )


def _check_probs(name: str, p: Tensor, atol: float = 1e-4) -> None:
    if (p < 0).any():
        raise ValueError(f"{name} has negative entries; pass probabilities, not logits")
    sums = p.sum(dim=-1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=atol):
        worst = (sums - 1).abs().max().item()
        raise ValueError(f"{name} rows must sum to 1 (worst row is off by {worst:.3g}); pass probabilities, not logits")


def softmax_t(logits: Tensor, T: float = 1.0) -> Tensor:
    """Eq. 1: q_i = exp(z_i / T) / Σ_j exp(z_j / T), over the last dimension.

    Higher T gives a softer distribution that reveals the small probabilities a net assigns to wrong classes.
    """
    _check_temperature(T)
    return torch.softmax(logits / T, dim=-1)


def soft_cross_entropy(student_logits: Tensor, teacher_probs: Tensor, T: float) -> Tensor:
    """C = -(1/B) Σ_b Σ_i p_i log q_i with q = softmax(z/T), p the teacher's soft targets at the same T.

    Summed over classes, averaged over the batch, *not* multiplied by T². Its gradient per case is
    ∂C/∂z_i = (q_i − p_i) / T (eq. 2), i.e. (q − p)/(T·B) for the batch mean.
    """
    _check_temperature(T)
    _check_logits("student_logits", student_logits)
    _check_logits("teacher_probs", teacher_probs)
    _check_same_shape("student_logits", student_logits, "teacher_probs", teacher_probs)
    _check_probs("teacher_probs", teacher_probs)
    return batched_soft_cross_entropy(student_logits, teacher_probs, T)


def batched_soft_cross_entropy(student_logits: Tensor, teacher_probs: Tensor, T: float | Tensor) -> Tensor:
    """``soft_cross_entropy`` without its input checks, for callers that made the probabilities themselves.

    The probability checks read values back (``any``, ``allclose``): on a GPU that is a device sync on every
    training step, which made distillation launch-bound. Works on (B, C) or (M, B, C) with T of shape (M, 1, 1),
    returning the batch mean (or one batch mean per member).
    """
    log_q = F.log_softmax(student_logits / T, dim=-1)
    return -(teacher_probs * log_q).sum(dim=-1).mean(dim=-1)


def distillation_loss(
    student_logits: Tensor, labels: Tensor | None, teacher_logits: Tensor, T: float, hard_weight: float = 0.0
) -> Tensor:
    """The paper's objective: T² · soft_cross_entropy(z, softmax(v/T), T) + hard_weight · CE(softmax(z), y).

    The soft term (teacher logits v, student logits z, both at temperature T) is scaled by T² so its gradient
    magnitude stays roughly constant as T changes (§2); the hard term is the ordinary cross-entropy at T = 1 with
    the true labels. ``hard_weight = 0`` means soft targets only (then ``labels`` may be None). The paper found a
    "considerably lower weight on the second objective function" works best; notebook 03 reports which it used.
    """
    if not hard_weight >= 0:
        raise ValueError(f"hard_weight must be ≥ 0, got {hard_weight!r}")
    _check_temperature(T)
    _check_logits("student_logits", student_logits)
    _check_logits("teacher_logits", teacher_logits)
    _check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    teacher_probs = torch.softmax(teacher_logits.detach() / T, dim=-1)  # valid by construction: no value checks
    loss = (T**2) * batched_soft_cross_entropy(student_logits, teacher_probs, T)
    if hard_weight > 0:
        if labels is None:
            raise ValueError("hard_weight > 0 needs labels; pass labels or set hard_weight=0")
        if labels.shape != student_logits.shape[:1]:
            raise ValueError(f"labels has shape {tuple(labels.shape)}, expected ({student_logits.shape[0]},)")
        loss = loss + hard_weight * F.cross_entropy(student_logits, labels)
    return loss


def logit_matching_loss(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """Caruana et al.'s objective: ½ Σ_i (z_i − v_i)², averaged over the batch.

    §2.1 shows this is the high-temperature limit of distillation for zero-meaned logits (eq. 4):
    ∂C/∂z_i ≈ (z_i − v_i) / (N T²).
    """
    _check_logits("student_logits", student_logits)
    _check_logits("teacher_logits", teacher_logits)
    _check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    return 0.5 * (student_logits - teacher_logits.detach()).pow(2).sum(dim=-1).mean()


def per_member_distillation_loss(
    temperatures: tuple[float, ...],
    hard_weight: float | Sequence[float],
    t_squared: Sequence[bool] | None = None,
):
    """A ``fit`` loss for a ``BatchedMLP`` whose member m distils at ``temperatures[m]`` with hard-target weight
    ``hard_weight`` (one for all, or ``hard_weight[m]``: the sweeps of §2's "weight on the second objective").

    outputs (M, B, C), teacher (B, C) shared by every member or (M, B, C) one per member, labels (B,) shared or
    (M, B) one batch per member (``kdlab.core.seeds``): the sum over members of T_m²·soft(T_m) + w_m·hard, so each
    member gets exactly the gradient it would get if trained alone (``distillation_loss``). ``t_squared[m] = False``
    drops member m's T² factor (soft(T_m) + w_m·hard: what §2 warns against, for notebook 02's comparison). All
    members are computed in one pass with T as an (M, 1, 1) tensor — a loop of M losses was launch-bound on a GPU.
    """
    M0 = len(temperatures)
    weights = tuple(float(w) for w in hard_weight) if isinstance(hard_weight, Sequence) else (float(hard_weight),) * M0
    if len(weights) != M0:
        raise ValueError(f"{len(weights)} hard weights but {M0} temperatures; give one per member or a single one")
    if not all(w >= 0 for w in weights):
        raise ValueError(f"hard_weight must be ≥ 0, got {hard_weight!r}")
    for T in temperatures:
        if not float(T) > 0:
            raise ValueError(f"temperatures must be > 0, got {T!r}")
    keep = (True,) * M0 if t_squared is None else tuple(bool(k) for k in t_squared)
    if len(keep) != M0:
        raise ValueError(f"{len(keep)} t_squared flags but {M0} temperatures")
    uniform = len(set(weights)) == 1
    cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def loss_fn(outputs: torch.Tensor, labels: torch.Tensor | None, teacher: torch.Tensor) -> torch.Tensor:
        M, B, C = outputs.shape
        if M != M0:
            raise ValueError(f"{M} members but {M0} temperatures")
        key = (outputs.device, outputs.dtype)
        if key not in cache:
            as_tensor = partial(torch.tensor, dtype=outputs.dtype, device=outputs.device)
            T = as_tensor(temperatures).view(M, 1, 1)
            scale = torch.where(as_tensor(keep, dtype=torch.bool), T.view(M) ** 2, torch.ones_like(T.view(M)))
            cache[key] = T, scale, as_tensor(weights)
        T, scale, w = cache[key]
        teacher = teacher.detach().to(outputs.dtype)
        probs = torch.softmax((teacher if teacher.dim() == 3 else teacher.unsqueeze(0)) / T, dim=-1)  # (M, B, C)
        loss = (scale * batched_soft_cross_entropy(outputs, probs, T)).sum()
        if any(weights):
            if labels is None:
                raise ValueError("hard_weight > 0 needs labels")
            flat = labels.reshape(-1) if labels.dim() == 2 else labels.repeat(M)
            if uniform:  # one weight: the mean over all M·B cases, times M (= the sum of the members' means)
                loss = loss + weights[0] * F.cross_entropy(outputs.reshape(M * B, C), flat) * M
            else:
                hard = F.cross_entropy(outputs.reshape(M * B, C), flat, reduction="none").view(M, B).mean(-1)  # (M,)
                loss = loss + (w * hard).sum()
        return loss

    return loss_fn
