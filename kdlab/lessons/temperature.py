"""Soft targets and temperature (§1, §2 eq. 1): what raising T does to a trained net's probabilities.

A net trained on MNIST is almost always right with very high confidence, so "much of the information about the
learned function resides in the ratios of very small probabilities" (§1): one 2 may get p(3) = 1e-6 and p(7) = 1e-9,
another the other way around. At T = 1 those probabilities are so close to zero that they barely touch the
cross-entropy; eq. 1 at a higher T, q_i = exp(z_i/T) / Σ_j exp(z_j/T), lifts them. This module measures that:

* ``entropy_bits`` / ``entropy_vs_temperature`` — how soft the soft targets are, over a whole test set;
* ``tail_weight`` — how much weight the tiny probabilities get in the (T²-scaled) distillation cost and gradient;
* ``pick_look_alikes`` — real test 2s whose second- and third-ranked classes are 3 then 7, and 7 then 3;
* ``orders_from_paper`` — how far such a 2's small probabilities are from §1's 1e-6 and 1e-9;
* ``soft_target_artifact`` — the per-image soft-target grid that notebook 01 saves for the dashboard;
* ``teacher_for`` — train, or reload from the run store, the small MNIST net notebooks 01 and 02 look at.

Introduced in notebook 01 (``01_softmax_temperature.ipynb``); notebook 02 reuses its teacher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from kdlab.core.losses import softmax_t
from kdlab.lessons.temperature_gradient_noise import NoiseSpec
from kdlab.paper import LOOK_ALIKE_2

Tensor = torch.Tensor


# ------------------------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class TeacherSpec:
    """The MNIST net whose soft targets notebooks 01 and 02 study (hidden ReLU layers, plain SGD)."""

    hidden: tuple[int, ...] = (256, 256)
    epochs: int = 3
    lr: float = 0.1
    batch_size: int = 128
    dropout_input: float = 0.0
    dropout_hidden: float = 0.0
    max_norm: float | None = None
    jitter: int = 0  # ±pixels; the paper's teacher saw inputs jittered by up to 2


@dataclass(frozen=True)
class SoftTargetProfile:
    """Notebook 01's knobs per profile: the teacher, how many images to save, the temperature grid."""

    teacher: TeacherSpec
    n_per_class: int  # saved images per class (one confident, one ambiguous, ...), plus the look-alike 2s
    temperatures: tuple[float, ...]
    noise: NoiseSpec  # §2's gradient variance between training cases (``kdlab.lessons.temperature_gradient_noise``)
    # Teachers (seeds SEED, SEED + 1, …) the tiny-class claim is judged over: its figure is exact for one teacher,
    # so the only noise it has is which teacher training produced — one in quick, three in full and paper.
    teacher_seeds: int = 1


TEMPERATURE_GRID = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 100.0)

PROFILES: dict[str, SoftTargetProfile] = {
    "quick": SoftTargetProfile(
        TeacherSpec(hidden=(256, 256), epochs=3),
        n_per_class=2,
        temperatures=TEMPERATURE_GRID,
        noise=NoiseSpec(student_hidden=(64, 64), n_seeds=1, n_subsets=4, subset_size=500, n_train=10000),
    ),
    "full": SoftTargetProfile(
        TeacherSpec(hidden=(1200, 1200), epochs=20, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5, jitter=2),
        n_per_class=4,
        temperatures=TEMPERATURE_GRID,
        noise=NoiseSpec(student_hidden=(300, 300), n_seeds=3, n_subsets=4, subset_size=1000, n_train=60000),
        teacher_seeds=3,
    ),
    "paper": SoftTargetProfile(
        TeacherSpec(hidden=(1200, 1200), epochs=60, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5, jitter=2),
        n_per_class=6,
        temperatures=TEMPERATURE_GRID,
        noise=NoiseSpec(student_hidden=(800, 800), n_seeds=3, n_subsets=5, subset_size=2000, n_train=60000, chunk=50),
        teacher_seeds=3,
    ),
}


# ------------------------------------------------------------------------------------------- entropy


def entropy_bits(probs: Tensor) -> Tensor:
    """Shannon entropy H = −Σ_i p_i log2 p_i of each row, in bits (0·log 0 = 0)."""
    logp = torch.log2(probs.clamp_min(torch.finfo(probs.dtype).tiny))
    return -(probs * logp).sum(dim=-1)


def soft_target_entropy(logits: Tensor, T: float) -> Tensor:
    """Entropy in bits of the soft targets softmax(z/T) (eq. 1), per row; computed from log-probabilities."""
    logq = torch.log_softmax(logits.double() / T, dim=-1)
    return -(logq.exp() * logq).sum(dim=-1) / math.log(2)


def entropy_vs_temperature(logits: Tensor, temperatures) -> dict[str, np.ndarray]:
    """Mean (and median) entropy of the soft targets over all rows of ``logits``, for each T: the 01 artifact."""
    ts = np.asarray(list(temperatures), dtype=float)
    h = torch.stack([soft_target_entropy(logits, float(t)) for t in ts])  # (K, N)
    return {
        "temperature": ts,
        "mean_entropy_bits": h.mean(1).numpy(),
        "median_entropy_bits": h.median(1).values.numpy(),
    }


def soft_target_grid(logits: Tensor, temperatures) -> Tensor:
    """softmax(z/T) (eq. 1) for every T in ``temperatures``: (N, C) logits → (N, K, C) probabilities."""
    return torch.stack([softmax_t(logits, float(t)) for t in temperatures], dim=1)


# ------------------------------------------------------------------------------------------- the tiny probabilities


def tiny_mask(logits: Tensor, threshold: float = 1e-3) -> Tensor:
    """The 'tiny' classes of each row: wrong-looking classes whose probability at T = 1 is below ``threshold``."""
    return torch.softmax(logits.double(), dim=-1) < threshold


def tail_weight(logits: Tensor, T: float, mask: Tensor) -> dict[str, float]:
    """How much the classes in ``mask`` (e.g. ``tiny_mask``) count in the T²-scaled soft cost at temperature T.

    ``mass``: Σ_{i∈mask} p_i(T), averaged over rows — the weight the cross-entropy −Σ p_i log q_i puts on those
    classes' log-probabilities. ``gradient``: for a student that already matches the teacher except that it has
    flattened the tiny logits to their mean (it knows the answer but not *which* wrong classes are likelier —
    "which 2's look like 3's and which look like 7's"), the norm of the T²-scaled gradient T·(q − p) (eq. 2 × T²)
    on those logits, averaged over rows. Its high-T limit is ‖(z − v)_tail − mean‖/N (eq. 4 × T²).
    """
    v = logits.double()
    m = mask.to(v.dtype)
    count = m.sum(-1, keepdim=True).clamp_min(1)
    tail_mean = (v * m).sum(-1, keepdim=True) / count
    z = torch.where(mask, tail_mean.expand_as(v), v)  # the student: tiny logits flattened to their mean
    p = torch.softmax(v / T, dim=-1)
    q = torch.softmax(z / T, dim=-1)
    grad = T * (q - p)  # T² · (q − p)/T, eq. 2 with the paper's T² factor
    rows = mask.any(-1)
    mass = (p * m).sum(-1)[rows].mean().item()
    gnorm = (grad * m).norm(dim=-1)[rows].mean().item()
    return {"temperature": float(T), "tail_mass": mass, "tail_gradient": gnorm}


LIMIT_T = 1e4  # a temperature high enough that eq. 2 × T² has reached its logit-matching limit (eq. 4)


def tiny_shares(logits: Tensor, T: float, threshold: float = 1e-3) -> dict[str, float]:
    """The tiny classes' gradient (``tail_weight``) at T = 1 and at ``T``, each in % of its logit-matching limit
    (eq. 4, taken at ``LIMIT_T``): the figure of ``01.tiny_classes_count_at_high_t``, one teacher's worth."""
    mask = tiny_mask(logits, threshold)
    limit = tail_weight(logits, LIMIT_T, mask)["tail_gradient"]
    share = lambda t: 100 * tail_weight(logits, t, mask)["tail_gradient"] / limit  # noqa: E731
    return {"share_t1_pct": share(1.0), "share_high_t_pct": share(T), "high_t": float(T)}


def tail_weight_vs_temperature(logits: Tensor, temperatures, threshold: float = 1e-3) -> list[dict[str, float]]:
    """``tail_weight`` over a temperature grid, with the tiny classes fixed once at T = 1 (rows: one per T)."""
    mask = tiny_mask(logits, threshold)
    return [tail_weight(logits, float(t), mask) for t in temperatures]


# ------------------------------------------------------------------------------------------- example images


def ranked_classes(logits: Tensor) -> Tensor:
    """Classes of each row in decreasing order of probability, (N, C)."""
    return torch.argsort(logits, dim=-1, descending=True)


def pick_look_alikes(
    logits: Tensor,
    labels: Tensor,
    digit: int = 2,
    alternatives: tuple[int, int] = (3, 7),
    confidence_levels: tuple[float, ...] = (0.999, 0.99, 0.0),
) -> dict[tuple[int, int], int | None]:
    """§1's example: a correctly classified ``digit`` ranked (digit, a, b) and one ranked (digit, b, a).

    For each order (a, b) and (b, a) returns the test index of the image with the largest ratio p_a/p_b among the
    correct images whose second- and third-ranked classes are exactly a then b and whose p_digit reaches the first
    of ``confidence_levels`` that any such image reaches (confident nets make the probabilities tiny, as in §1);
    None if no image is ranked that way.
    """
    a, b = alternatives
    order = ranked_classes(logits)
    logp = torch.log_softmax(logits.double(), dim=-1)
    correct = (order[:, 0] == digit) & (labels == digit)
    p_digit = logp[:, digit].exp()
    out: dict[tuple[int, int], int | None] = {}
    for first, second in ((a, b), (b, a)):
        ranked = (order[:, 1] == first) & (order[:, 2] == second)
        for pool in (correct & ranked & (p_digit >= level) for level in confidence_levels):
            if pool.any():
                score = torch.where(pool, logp[:, first] - logp[:, second], torch.tensor(-torch.inf, dtype=logp.dtype))
                out[(first, second)] = int(score.argmax())
                break
        else:
            out[(first, second)] = None
    return out


def orders_from_paper(
    p_likelier: float, p_unlikelier: float, paper: tuple[float, float] = (LOOK_ALIKE_2["p3"], LOOK_ALIKE_2["p7"])
) -> tuple[float, float]:
    """How many orders of magnitude a look-alike's two small probabilities sit above (+) or below (−) §1's example
    (p(3) = 1e-6, p(7) = 1e-9 for a 2): ``(log10 p_likelier − log10 paper[0], log10 p_unlikelier − log10 paper[1])``.
    A less confident net than the paper's gives positive numbers; the first minus the second compares our ratio
    p_likelier / p_unlikelier with the paper's 1000, in orders of magnitude."""
    return (
        float(np.log10(p_likelier) - math.log10(paper[0])),
        float(np.log10(p_unlikelier) - math.log10(paper[1])),
    )


def pick_examples(logits: Tensor, labels: Tensor, n_per_class: int = 2) -> list[int]:
    """Test indices to save: per class the most confident correct image, then the highest-entropy ones.

    Confident images show the tiny-probability structure; high-entropy ones (often errors) show what a soft
    target looks like when the teacher is unsure.
    """
    h = soft_target_entropy(logits, 1.0)
    chosen: list[int] = []
    for c in range(logits.shape[-1]):
        rows = torch.nonzero(labels == c).flatten()
        if rows.numel() == 0:
            continue
        p_c = torch.softmax(logits[rows].double(), dim=-1)[:, c]
        picks = [int(rows[p_c.argmax()])]
        for i in rows[torch.argsort(h[rows], descending=True)].tolist():
            if len(picks) >= n_per_class:
                break
            if i not in picks:
                picks.append(i)
        chosen.extend(picks[:n_per_class])
    return chosen


def soft_target_artifact(
    images: np.ndarray, labels: Tensor, indices, teacher_logits: Tensor, temperatures
) -> dict[str, np.ndarray]:
    """The ``soft_targets.npz`` contract of notebook 01 (notebooks/README.md), plus the probability grid.

    Keys: ``images`` (N,28,28) uint8, ``labels`` (N,), ``indices`` (N,) test indices, ``teacher_logits`` (N,10)
    float32, ``temperatures`` (K,), and ``soft_targets`` (N,K,10) float32 = softmax(teacher_logits/T) (eq. 1).
    """
    idx = np.asarray(list(indices), dtype=np.int64)
    logits = teacher_logits[torch.as_tensor(idx)].float()
    ts = np.asarray(list(temperatures), dtype=np.float32)
    return {
        "images": np.asarray(images)[idx].reshape(len(idx), 28, 28).astype(np.uint8),
        "labels": labels[torch.as_tensor(idx)].cpu().numpy().astype(np.int64),
        "indices": idx,
        "teacher_logits": logits.cpu().numpy().astype(np.float32),
        "temperatures": ts,
        "soft_targets": soft_target_grid(logits.double(), ts.tolist()).float().cpu().numpy(),
    }


# ------------------------------------------------------------------------------------------- the teacher


def mlp_from_state(state: dict[str, Tensor], spec: TeacherSpec | None = None):
    """Rebuild a kdlab ``MLP`` from a saved state_dict, reading the layer widths off the weight shapes."""
    from kdlab.core.models import MLP

    weights = [
        state[k] for k in sorted((k for k in state if k.endswith(".weight")), key=lambda k: int(k.split(".")[1]))
    ]
    widths = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    spec = spec or TeacherSpec(hidden=tuple(widths[1:-1]))
    model = MLP(widths[0], widths[1:-1], widths[-1], spec.dropout_input, spec.dropout_hidden, spec.max_norm)
    model.load_state_dict(state)
    return model.eval()


def train_small_teacher(spec: TeacherSpec, x: Tensor, y: Tensor, *, seed: int, device: torch.device,
                        progress: bool = True):  # fmt: skip
    """The small MNIST teacher notebooks 01 and 02 look at, trained from scratch (``kdlab.lab.teacher_for``
    reloads a saved one instead when a compatible run exists)."""
    from kdlab.core.config import TrainConfig, seed_everything
    from kdlab.core.models import MLP
    from kdlab.core.train import fit

    seed_everything(seed)
    model = MLP(x.shape[1], spec.hidden, 10, spec.dropout_input, spec.dropout_hidden, spec.max_norm)
    cfg = TrainConfig(
        epochs=spec.epochs,
        lr=spec.lr,
        batch_size=spec.batch_size,
        jitter=spec.jitter,
        seed=seed,
        progress=progress,
        desc="teacher",
    )
    fit(model, x, y, config=cfg, device=device)
    return model.eval()
