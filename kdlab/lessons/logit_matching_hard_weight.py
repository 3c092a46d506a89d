"""§2's T² factor in training: does the best hard-target weight move with T — with the factor, and without it?

§2: multiplying the soft term by T² "ensures that the relative contributions of the hard and soft targets remain
roughly unchanged if the temperature used for distillation is changed", and "the best results were generally
obtained by using a considerably lower weight on the second objective function". If the factor does its job, the
best hard weight w should not depend much on T; without it the soft term shrinks like 1/T² and the w that balances
it should move with T. This module trains one student per (T, w, with/without T²) from the *same* initial weights
and batches (one ``BatchedMLP``, ``per_member_distillation_loss`` with a weight and a T² flag per member) and counts
each member's errors on **held-out training cases** — the best w is chosen there, never on the test set.

Shown in notebook 02 as a figure with a sentence beside ``02.t_squared_keeps_scale`` (``kdlab.lessons.logit_matching_t_squared``),
not judged: with one seed the "best" weight of a short run is itself noisy (a few validation errors apart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kdlab.core.losses import per_member_distillation_loss

Tensor = torch.Tensor


@dataclass(frozen=True)
class SweepSpec:
    """The grid and the training of the hard-weight sweep (one student per T × w × {with, without T²})."""

    temperatures: tuple[float, ...] = (2.0, 20.0)
    hard_weights: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)
    epochs: int = 2
    lr: float = 0.05
    n_val: int = 10000  # the last n_val training cases: held out, the best weight is chosen on them

    def members(self) -> list[tuple[float, float, bool]]:
        """(T, w, t_squared) of every member, in the order they are stacked."""
        return [(t, w, k) for k in (True, False) for t in self.temperatures for w in self.hard_weights]


def run_sweep(spec: SweepSpec, x: Tensor, y: Tensor, teacher_logits: Tensor, x_val: Tensor, y_val: Tensor,
              hidden: Sequence[int], *, seed: int, device, progress: bool = False) -> list[dict]:  # fmt: skip
    """Train every member of ``spec`` on (x, y, teacher_logits) from one seeded start; rows (temperature,
    hard_weight, t_squared, val_errors) with the errors on the held-out cases (x_val, y_val)."""
    from kdlab.core.config import TrainConfig, seed_everything
    from kdlab.core.evaluate import errors_from_logits, predict_logits
    from kdlab.core.models import MLP, BatchedMLP
    from kdlab.core.train import fit

    if not all(w > 0 for w in spec.hard_weights):
        raise ValueError(f"the sweep compares hard weights > 0 (a zero weight is the same with and without T²), "
                         f"got {spec.hard_weights}")  # fmt: skip
    members = spec.members()
    seed_everything(seed)
    init = MLP(x.shape[1], hidden, teacher_logits.shape[-1])
    students = BatchedMLP.from_mlps([init] * len(members))
    temps, weights, keep = (tuple(m[i] for m in members) for i in range(3))
    cfg = TrainConfig(epochs=spec.epochs, lr=spec.lr, seed=seed, progress=progress, desc="hard-weight sweep")
    fit(students, x, y, config=cfg, teacher_logits=teacher_logits, device=device,
        loss_fn=per_member_distillation_loss(temps, weights, keep))  # fmt: skip
    errors = errors_from_logits(predict_logits(students, x_val).cpu(), y_val.cpu()).errors
    return [{"temperature": t, "hard_weight": w, "t_squared": k, "val_errors": int(e)}
            for (t, w, k), e in zip(members, errors)]  # fmt: skip


def best_weights(rows: Sequence[dict]) -> dict[tuple[bool, float], float]:
    """(t_squared, T) → the hard weight with the fewest held-out errors (the smaller weight on a tie)."""
    best: dict[tuple[bool, float], tuple[int, float]] = {}
    for r in rows:
        key, cand = (bool(r["t_squared"]), float(r["temperature"])), (int(r["val_errors"]), float(r["hard_weight"]))
        best[key] = min(best.get(key, cand), cand)
    return {k: w for k, (_, w) in best.items()}


def within_noise(rows: Sequence[dict]) -> dict[tuple[bool, float], list[float]]:
    """(t_squared, T) → the hard weights whose held-out errors are within ``K_NOISE`` × √(e_best + e_w) of the
    best one's (``counts_noise``: the lab's test-set yardstick for two error counts) — the weights the sweep cannot
    tell apart from the best."""
    from kdlab.lessons.claims.judge import K_NOISE, counts_noise

    groups: dict[tuple[bool, float], list[tuple[float, int]]] = {}
    for r in rows:
        key = (bool(r["t_squared"]), float(r["temperature"]))
        groups.setdefault(key, []).append((float(r["hard_weight"]), int(r["val_errors"])))
    out = {}
    for key, items in groups.items():
        e_best = min(e for _, e in items)
        out[key] = sorted(w for w, e in items if e - e_best <= K_NOISE * counts_noise(e_best, e))
    return out


def moves(best: dict[tuple[bool, float], float], t_squared: bool) -> float:
    """How far the best weight moves across T, in decades: log10(largest best w / smallest best w)."""
    import math

    ws = [w for (k, _), w in best.items() if k == t_squared]
    return math.log10(max(ws) / min(ws))


def sweep_sentence(rows: Sequence[dict]) -> str:
    """The sentence under the figure, from the rows: the best weight per T with and without T² (saying when it
    sits at the edge of the grid, where the true best may lie beyond), and how far it moves across T."""
    best, tied = best_weights(rows), within_noise(rows)
    grid = sorted({float(r["hard_weight"]) for r in rows})
    edge = lambda w: ", the edge of the grid" if w in (grid[0], grid[-1]) else ""  # noqa: E731
    span = lambda ws: f"{ws[0]:g}" if len(ws) == 1 else f"{ws[0]:g}–{ws[-1]:g}"  # noqa: E731
    parts = []
    for k, name in ((True, "with T²"), (False, "without T²")):
        keys = sorted(key for key in best if key[0] == k)
        per_t = ", ".join(f"{best[key]:g} at T = {key[1]:g} ({span(tied[key])} within noise{edge(best[key])})"
                          for key in keys)  # fmt: skip
        common = set.intersection(*(set(tied[key]) for key in keys))
        overlap = "the weights within noise overlap across T" if common else "no weight is within noise at every T"
        parts.append(f"{name} the best hard weight is {per_t}: it moves {moves(best, k):.1f} decades, and {overlap}")
    return "On held-out training cases, " + "; ".join(parts) + "."
