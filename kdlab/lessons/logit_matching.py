"""§2.1: matching logits is a special case of distillation — the gradients, their high-T limit, and a test of it.

For a transfer case with teacher logits v (soft targets p = softmax(v/T)) and student logits z (q = softmax(z/T)),
the soft cross-entropy C = −Σ_i p_i log q_i has the gradient

    eq. 2   ∂C/∂z_i = (q_i − p_i) / T
    eq. 3   ≈ (1/T) · [ (1 + z_i/T) / (N + Σ_j z_j/T) − (1 + v_i/T) / (N + Σ_j v_j/T) ]      (T ≫ |logits|)
    eq. 4   ≈ (z_i − v_i) / (N T²)                                              (and Σ_j z_j = Σ_j v_j = 0)

so at high T distillation (with the paper's T² factor) follows the gradient of ½ Σ_i (z_i − v_i)² / N: Caruana's
logit matching, scaled by 1/N — *provided the logits are zero-meaned per case*. At lower T the loss "pays much
less attention to matching logits that are much more negative than the average": ``logit_weight`` measures how
much. ``run_limit_experiment`` distils one student per T (and one by logit matching) from the same start and
measures how close the high-T students end up to the logit-matching one.

Introduced in notebook 02 (``02_logit_matching_limit.ipynb``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from kdlab.core.losses import distillation_loss, logit_matching_loss
from kdlab.lessons.logit_matching_hard_weight import SweepSpec

Tensor = torch.Tensor


# ------------------------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class LimitProfile:
    """Notebook 02's knobs per profile: gradient analysis size and the distil-at-T-vs-logit-matching experiment."""

    n_grad_cases: int  # test cases used for the gradient comparison on real logits
    n_transfer: int  # transfer-set size (first n of the MNIST training set)
    student_hidden: tuple[int, ...]
    epochs: int
    lr: float = 0.01  # small and shared: with one start and one batch order, differences come from the loss alone
    batch_size: int = 128
    temperatures: tuple[float, ...] = (1.0, 2.0, 5.0, 20.0, 100.0)
    # §2's T² factor (``kdlab.lessons.logit_matching_t_squared``): the grid, the student seeds (probe students trained one epoch on
    # hard labels) and the disjoint subsets of transfer cases whose spread is the noise
    scale_temperatures: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0)
    scale_seeds: int = 1
    scale_subsets: int = 4
    scale_subset_size: int = 1000
    sweep: SweepSpec = SweepSpec()  # does the best hard weight move with T, with and without T²?
    claim_seeds: int = 1  # seeds of the lowest-T, highest-T and logit-matching students for the agreement claim


PROFILES: dict[str, LimitProfile] = {
    "quick": LimitProfile(n_grad_cases=2000, n_transfer=10000, student_hidden=(64, 64), epochs=3),
    "full": LimitProfile(
        sweep=SweepSpec(epochs=5),
        n_grad_cases=10000,
        n_transfer=60000,
        student_hidden=(300, 300),
        epochs=10,
        scale_seeds=3,
        scale_subset_size=2500,
        claim_seeds=3,
    ),
    "paper": LimitProfile(
        sweep=SweepSpec(epochs=10),
        n_grad_cases=10000,
        n_transfer=60000,
        student_hidden=(800, 800),
        epochs=30,
        scale_seeds=3,
        scale_subset_size=2500,
        claim_seeds=3,
    ),
}


# ------------------------------------------------------------------------------------------- eq. 2-4


def zero_mean(logits: Tensor) -> Tensor:
    """Subtract each case's mean logit (§2.1: "zero-meaned separately for each transfer case")."""
    return logits - logits.mean(dim=-1, keepdim=True)


def distillation_gradient(z: Tensor, v: Tensor, T: float) -> Tensor:
    """Eq. 2: ∂C/∂z_i = (q_i − p_i)/T, per case, for C = −Σ_i p_i log q_i (no T², no batch mean)."""
    return (torch.softmax(z / T, dim=-1) - torch.softmax(v / T, dim=-1)) / T


def high_temperature_gradient(z: Tensor, v: Tensor, T: float) -> Tensor:
    """Eq. 3: e^x ≈ 1 + x in eq. 2, i.e. (1/T)[(1 + z_i/T)/(N + Σ_j z_j/T) − (1 + v_i/T)/(N + Σ_j v_j/T)]."""
    N = z.shape[-1]
    q = (1 + z / T) / (N + z.sum(-1, keepdim=True) / T)
    p = (1 + v / T) / (N + v.sum(-1, keepdim=True) / T)
    return (q - p) / T


def logit_matching_gradient(z: Tensor, v: Tensor, T: float) -> Tensor:
    """Eq. 4: (z_i − v_i)/(N T²) — eq. 3 when Σ_j z_j = Σ_j v_j = 0; T² times it is ∂/∂z of ½Σ(z − v)²/N."""
    return (z - v) / (z.shape[-1] * T**2)


def relative_error(approx: Tensor, exact: Tensor) -> Tensor:
    """Per-case ‖approx − exact‖₂ / ‖exact‖₂ over the class dimension (NaN where the exact gradient is 0)."""
    num = (approx - exact).norm(dim=-1)
    den = exact.norm(dim=-1)
    return torch.where(den > 0, num / den, torch.full_like(den, float("nan")))


def gradient_errors(z: Tensor, v: Tensor, temperatures: Sequence[float], zero_meaned: bool) -> list[dict]:
    """Median over cases of the relative error of eq. 3 and of eq. 4 against eq. 2, for each T (float64).

    ``zero_meaned`` subtracts each case's mean from z and v first. Eq. 2 itself does not change (softmax ignores a
    constant shift), but eq. 4 does: without zero-meaning, (z − v)/(N T²) carries the difference of the means.
    Rows follow the ``gradient_error.csv`` contract (notebook 02).
    """
    z, v = z.double(), v.double()
    if zero_meaned:
        z, v = zero_mean(z), zero_mean(v)
    rows = []
    for T in temperatures:
        exact = distillation_gradient(z, v, float(T))
        eq3 = relative_error(high_temperature_gradient(z, v, float(T)), exact)
        eq4 = relative_error(logit_matching_gradient(z, v, float(T)), exact)
        rows.append(
            {
                "temperature": float(T),
                "zero_mean": bool(zero_meaned),
                "rel_error_eq3": float(eq3.nanmedian()),
                "rel_error_logit_matching": float(eq4.nanmedian()),
            }
        )
    return rows


def crossing_temperature(temperatures: Sequence[float], errors: Sequence[float], level: float) -> float | None:
    """Smallest T in the grid from which the error stays below ``level`` (None if it never does)."""
    ok = [e < level for e in errors]
    for i, t in enumerate(temperatures):
        if all(ok[i:]):
            return float(t)
    return None


# ------------------------------------------------------------------------------------------- what low T ignores


def logit_weight(v: Tensor, T: float) -> Tensor:
    """How hard the T²-scaled soft loss pulls logit i back to v_i, relative to (1/N)·logit matching.

    The curvature of T²·C at z = v is T² ∂²C/∂z_i² = p_i(1 − p_i) with p = softmax(v/T); its high-T limit is
    (1/N)(1 − 1/N). The ratio → 1 for every logit as T → ∞ (all logits matched alike, eq. 4) and → 0 at low T for
    logits far below the mean, which the loss then "pays much less attention to" (§2.1).
    """
    N = v.shape[-1]
    p = torch.softmax(v.double() / T, dim=-1)
    return p * (1 - p) / ((1 / N) * (1 - 1 / N))


def depth_groups(v: Tensor, edges: Sequence[float] = (0.0, -5.0, -10.0)) -> tuple[Tensor, list[str]]:
    """Group each logit by how far it sits below its case's mean: top class, then bins of v_i − mean(v)."""
    depth = zero_mean(v.double())
    top = torch.zeros_like(depth, dtype=torch.bool)
    top.scatter_(-1, v.argmax(-1, keepdim=True), True)
    names = ["top class"]
    group = torch.zeros_like(depth, dtype=torch.long)
    bounds = [math.inf, *edges, -math.inf]
    for k in range(len(bounds) - 1):
        hi, lo = bounds[k], bounds[k + 1]
        inside = (depth < hi) & (depth >= lo) & ~top
        group[inside] = k + 1
        if hi == math.inf:
            names.append("above the mean (not top)" if lo == 0 else f"above {lo:g} from the mean (not top)")
        elif lo == -math.inf:
            names.append(f"more than {-hi:g} below the mean")
        else:
            names.append(f"{-hi + 0.0:g} to {-lo + 0.0:g} below the mean")  # + 0.0: no "-0"
    return group, names


def logit_weight_by_depth(
    v: Tensor, temperatures: Sequence[float], edges: Sequence[float] = (0.0, -5.0, -10.0)
) -> list[dict]:
    """Mean ``logit_weight`` per depth group (``depth_groups``) and T: rows (temperature, group, mean_weight, n_logits)."""
    group, names = depth_groups(v, edges)
    rows = []
    for T in temperatures:
        w = logit_weight(v, float(T))
        for k, name in enumerate(names):
            sel = group == k
            if sel.any():
                rows.append(
                    {
                        "temperature": float(T),
                        "group": name,
                        "mean_weight": float(w[sel].mean()),
                        "n_logits": int(sel.sum()),
                    }
                )
    return rows


# ------------------------------------------------------------------------------------------- the experiment


def agreement(a: Tensor, b: Tensor) -> float:
    """Fraction of cases where two sets of logits (N, C) predict the same class."""
    return float((a.argmax(-1) == b.argmax(-1)).double().mean())


def logit_correlation(a: Tensor, b: Tensor) -> float:
    """Pearson correlation of two (N, C) logit sets after zero-meaning each case (the part softmax sees)."""
    x = zero_mean(a.double()).flatten()
    y = zero_mean(b.double()).flatten()
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / (x.norm() * y.norm()))


def limit_loss(temperatures: Sequence[float]):
    """Loss for a ``BatchedMLP`` of len(T)+1 students: member m distils at T_m (T² · soft CE, eq. 2 with the
    paper's factor); the last member matches logits zero-meaned per case (student's and teacher's, as §2.1
    requires), scaled by 1/N so that its gradient is exactly the high-T limit of the others' (eq. 4 × T²).

    Why zero-mean the student too: the distillation gradient sums to zero over classes, so it never moves a
    case's mean logit; plain ½Σ(z − v)² would also train that mean, which no temperature reproduces.
    """
    temps = [float(t) for t in temperatures]

    def loss_fn(outputs: Tensor, labels: Tensor | None, teacher: Tensor) -> Tensor:  # outputs (M, B, C)
        total = sum(distillation_loss(outputs[m], None, teacher, T) for m, T in enumerate(temps))
        return total + logit_matching_loss(zero_mean(outputs[-1]), zero_mean(teacher)) / teacher.shape[-1]

    return loss_fn


@dataclass
class LimitResult:
    """What ``run_limit_experiment`` measured: final table, per-epoch convergence, and the test logits."""

    table: list[dict]  # rows of convergence.csv
    by_epoch: list[dict]  # (epoch, temperature, agreement_with_logit_matching, logit_corr)
    test_logits: Tensor  # (M, N_test, C), last member = logit matching
    labels: list[str]


def run_limit_experiment(
    x_transfer: Tensor,
    teacher_logits: Tensor,
    x_test: Tensor,
    y_test: Tensor,
    teacher_test_logits: Tensor,
    temperatures: Sequence[float],
    hidden: Sequence[int],
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
    progress: bool = True,
) -> LimitResult:
    """Distil len(T) students at each T and one by logit matching, all from the *same* initial weights and batches.

    Same start and same data order means any difference between two students comes from their loss alone, so the
    agreement between the T = 100 student and the logit-matching student measures how close eq. 4 is in practice.
    """
    from kdlab.core.config import TrainConfig, seed_everything
    from kdlab.core.evaluate import errors_from_logits, predict_logits
    from kdlab.core.models import MLP, BatchedMLP
    from kdlab.core.train import fit

    temps = [float(t) for t in temperatures]
    labels = [f"{t:g}" for t in temps] + ["logit_matching"]
    seed_everything(seed)
    init = MLP(x_transfer.shape[1], hidden, teacher_logits.shape[-1])
    students = BatchedMLP.from_mlps([init] * (len(temps) + 1))
    by_epoch: list[dict] = []

    def track(epoch: int, model) -> dict[str, float]:
        logits = predict_logits(model, x_test)  # (M, N, C)
        for m, name in enumerate(labels):
            by_epoch.append(
                {
                    "epoch": epoch + 1,
                    "temperature": name,
                    "agreement_with_logit_matching": agreement(logits[m], logits[-1]),
                    "logit_corr": logit_correlation(logits[m], logits[-1]),
                }
            )
        return {}

    cfg = TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress, desc="students")
    fit(
        students,
        x_transfer,
        None,
        config=cfg,
        teacher_logits=teacher_logits,
        device=device,
        loss_fn=limit_loss(temps),
        on_epoch_end=track,
    )
    logits = predict_logits(students, x_test).cpu()
    errors = errors_from_logits(logits, y_test.cpu()).errors
    teacher_test = teacher_test_logits.cpu()
    table = [
        {
            "temperature": name,
            "test_errors": int(errors[m]),
            "agreement_with_logit_matching": agreement(logits[m], logits[-1]),
            "logit_corr": logit_correlation(logits[m], logits[-1]),
            "agreement_with_teacher": agreement(logits[m], teacher_test),
            "logit_corr_with_teacher": logit_correlation(logits[m], teacher_test),
        }
        for m, name in enumerate(labels)
    ]
    return LimitResult(table, by_epoch, logits, labels)


def monotone_toward(values: Sequence[float]) -> bool:
    """True if ``values`` never decrease (e.g. agreement with logit matching as T rises)."""
    arr = np.asarray(values, dtype=float)
    return bool(np.all(np.diff(arr) >= -1e-12))
