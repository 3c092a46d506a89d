"""§2: soft targets give "much less variance in the gradient between training cases" — measured per case.

§1/§2: "When the soft targets have high entropy, they provide much more information per training case than hard
targets and much less variance in the gradient between training cases, so the small model can often be trained on
much less data than the original cumbersome model and using a much higher learning rate." This module measures the
middle clause on a student net: for every training case its own gradient g_n of the loss w.r.t. *all* the
student's parameters (``torch.func``: ``vmap`` of ``grad``, exact, no closed form), under two losses —

* **hard**: the ordinary cross-entropy with the true label at T = 1;
* **soft**: T² · the soft cross-entropy against the teacher's soft targets at T (eq. 2 with the paper's T² factor,
  ``kdlab.core.losses.distillation_loss`` with ``hard_weight = 0``), so that both losses' gradients are on the
  scale the paper trains with.

**Which figure.** ``trace_variance`` = tr Var_n(g_n) = mean_n ‖g_n − ḡ‖² is the raw variance; ``noise_ratio`` =
tr Var / ‖ḡ‖² divides it by the squared mean gradient, the signal that SGD follows. The ratio is the fair figure:
it does not change when a loss is multiplied by a constant, so a loss whose gradients are merely *smaller* (a
smaller T² convention, a weight) cannot win by scale alone — and the learning rate the paper mentions absorbs
scale, while the noise *relative to the step's direction* is what limits it. The raw variance is kept beside it.
(The measured ratio uses the subset's own ḡ, whose squared norm carries a + tr Var / n bias; so the ratio cannot
exceed about n, the subset size, and a very noisy loss is *under*-stated: the bias works against the claim.)

**Which student state.** At its initialization, from seeded weights: the one state that favours neither loss. A
student trained on hard labels has driven its own hard-label mean gradient towards zero (which inflates the hard
loss's ratio and would favour the claim), and one trained on soft targets the reverse. The notebook also shows both
trained states, for context, not for the verdict.

Noise: the measurement is repeated on ``n_subsets`` disjoint subsets of training cases (and, in the full profile,
over student seeds); the claim uses the spread (``kdlab.lessons.claims.temperature``). Introduced in notebook 01.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from kdlab.core.losses import distillation_loss

Tensor = torch.Tensor
INIT = "initialization"  # the state the claim is judged at (see the module docstring)


@dataclass(frozen=True)
class NoiseSpec:
    """Notebook 01's gradient-noise measurement: the student's shape, its seeds, and the disjoint case subsets."""

    student_hidden: tuple[int, ...]
    n_seeds: int  # student initializations SEED, SEED + 1, ... (the full profile uses ≥ 3)
    n_subsets: int  # disjoint subsets of training cases: the spread of the figure over them is its noise
    subset_size: int
    n_train: int  # the first n training cases: the subsets are drawn from them, the trained states train on them
    train_epochs: int = 1  # the trained states (context only): epochs on hard labels / on soft targets
    chunk: int = 250  # cases per vmap call (memory: chunk × number of parameters floats)


def hard_loss(logits: Tensor, labels: Tensor, _teacher: Tensor, _T: float) -> Tensor:
    """Cross-entropy with the true labels at T = 1 (the "hard targets")."""
    return F.cross_entropy(logits, labels)


def soft_loss(logits: Tensor, _labels: Tensor, teacher: Tensor, T: float) -> Tensor:
    """T² · soft cross-entropy against softmax(teacher/T): eq. 2 with the paper's T² factor (§2)."""
    return distillation_loss(logits, None, teacher, T)


LOSSES: dict[str, Callable[[Tensor, Tensor, Tensor, float], Tensor]] = {"hard": hard_loss, "soft": soft_loss}


def gradient_moments(model: torch.nn.Module, loss, x: Tensor, y: Tensor, teacher: Tensor, T: float,
                     chunk: int = 250) -> tuple[Tensor, float]:  # fmt: skip
    """(Σ_n g_n, Σ_n ‖g_n‖²) over the cases of ``x``, g_n the gradient of ``loss`` on case n alone w.r.t. every
    parameter of ``model`` (flattened), computed ``chunk`` cases at a time with ``vmap(grad(...))``."""
    params = {k: p.detach() for k, p in model.named_parameters()}

    def one_case(p, xi, yi, ti):
        return loss(functional_call(model, p, (xi[None],)), yi[None], ti[None], T)

    per_case = vmap(grad(one_case), in_dims=(None, 0, 0, 0))
    total, sq = None, 0.0
    for s in range(0, x.shape[0], chunk):
        g = per_case(params, x[s : s + chunk], y[s : s + chunk], teacher[s : s + chunk])
        flat = torch.cat([v.reshape(v.shape[0], -1) for v in g.values()], dim=1).double()  # (chunk, P)
        total = flat.sum(0) if total is None else total + flat.sum(0)
        sq += float((flat * flat).sum())
    return total, sq


def noise_figures(total: Tensor, sq: float, n: int) -> dict[str, float]:
    """From the moments of n per-case gradients: ‖ḡ‖², tr Var (ddof 1) and the scale-free ratio tr Var / ‖ḡ‖²."""
    if n < 2:
        raise ValueError(f"the variance across cases needs at least 2 cases, got {n}")
    mean = total / n
    mean_sq = float((mean * mean).sum())
    trace_var = (sq - n * mean_sq) / (n - 1)
    return {"mean_sq_norm": mean_sq, "trace_variance": trace_var, "noise_ratio": trace_var / mean_sq}


def disjoint_subsets(n_cases: int, n_subsets: int, size: int, seed: int) -> list[Tensor]:
    """``n_subsets`` disjoint index sets of ``size`` cases, drawn from a seeded permutation of ``n_cases``."""
    if n_subsets * size > n_cases:
        raise ValueError(f"{n_subsets} disjoint subsets of {size} need {n_subsets * size} cases, have {n_cases}")
    perm = torch.randperm(n_cases, generator=torch.Generator().manual_seed(seed))
    return [perm[k * size : (k + 1) * size] for k in range(n_subsets)]


def measure(
    model: torch.nn.Module,
    x: Tensor,
    y: Tensor,
    teacher_logits: Tensor,
    T: float,
    subsets: Sequence[Tensor],
    chunk: int = 250,
    **tags,
) -> list[dict]:
    """One row per (subset, loss): the loss's ``noise_figures`` on that subset's per-case gradients, plus ``tags``
    (e.g. ``state``, ``seed``). Rows follow the ``gradient_noise.csv`` contract of notebook 01."""
    model = model.eval()
    dev = next(model.parameters()).device
    rows = []
    for k, idx in enumerate(subsets):
        xs, ys, ts = x[idx].to(dev), y[idx].to(dev), teacher_logits[idx].to(dev).float()
        for name, loss in LOSSES.items():
            total, sq = gradient_moments(model, loss, xs, ys, ts, T, chunk)
            rows.append({**tags, "subset": k, "loss": name, "temperature": 1.0 if name == "hard" else float(T),
                         **noise_figures(total, sq, len(idx))})  # fmt: skip
    return rows


def noise_reduction(rows: Sequence[dict], figure: str = "noise_ratio") -> list[float]:
    """Per (seed, subset): the hard loss's ``figure`` divided by the soft loss's — how many times less gradient
    noise the soft targets give on the same cases (> 1: the paper's direction)."""
    by_key: dict[tuple, dict[str, float]] = {}
    for r in rows:
        by_key.setdefault((r.get("state"), r.get("seed"), r["subset"]), {})[r["loss"]] = float(r[figure])
    return [v["hard"] / v["soft"] for v in by_key.values() if "hard" in v and "soft" in v]


def trained_states(init: torch.nn.Module, x: Tensor, y: Tensor, teacher_logits: Tensor, T: float, *, epochs: int,
                   seed: int, device, progress: bool = False) -> dict[str, torch.nn.Module]:  # fmt: skip
    """Two copies of ``init`` trained side by side (one ``BatchedMLP``, same batches) for ``epochs``: one on hard
    labels, one on T²·soft targets at T — the context states beside the initialization the claim is judged at."""
    from kdlab.core.config import TrainConfig
    from kdlab.core.models import BatchedMLP
    from kdlab.core.train import fit

    pair = BatchedMLP.from_mlps([init, init])

    def loss_fn(outputs: Tensor, labels: Tensor, teacher: Tensor) -> Tensor:  # outputs (2, B, C)
        return hard_loss(outputs[0], labels, teacher, T) + soft_loss(outputs[1], labels, teacher, T)

    cfg = TrainConfig(epochs=epochs, seed=seed, progress=progress, desc="students (hard | soft)", precision="fp32")
    fit(pair, x, y, config=cfg, teacher_logits=teacher_logits, device=device, loss_fn=loss_fn)
    return {"after hard-label training": pair.member(0).eval(), "after soft-target training": pair.member(1).eval()}


def noise_study(spec: NoiseSpec, x: Tensor, y: Tensor, teacher_logits: Tensor, T: float, *, seed: int,
                device, progress: bool = False) -> list[dict]:  # fmt: skip
    """Seeds ``seed`` … ``seed + spec.n_seeds − 1`` of the student: each at initialization (``state = INIT``, what the claim judges) and after
    ``spec.train_epochs`` on hard labels or on soft targets, each measured on the same disjoint subsets of the
    first ``spec.n_train`` cases of ``x`` (``teacher_logits``: the teacher's logits on those cases, or more)."""
    if not T > 0:
        raise ValueError(f"temperature T must be > 0, got {T!r}")
    x, y, teacher_logits = x[: spec.n_train], y[: spec.n_train], teacher_logits[: spec.n_train]
    from kdlab.core.config import seed_everything
    from kdlab.core.models import MLP

    subsets = disjoint_subsets(x.shape[0], spec.n_subsets, spec.subset_size, seed=seed)
    rows: list[dict] = []
    for s in range(seed, seed + spec.n_seeds):
        seed_everything(s)
        init = MLP(x.shape[1], spec.student_hidden, teacher_logits.shape[-1]).to(device)
        states = {INIT: init, **trained_states(init, x, y, teacher_logits, T, epochs=spec.train_epochs, seed=s,
                                               device=device, progress=progress)}  # fmt: skip
        for state, model in states.items():
            rows += measure(model, x, y, teacher_logits, T, subsets, spec.chunk, state=state, seed=s)
    return rows


def reduction_by_seed(
    rows: Sequence[dict], state: str = INIT, figure: str = "noise_ratio"
) -> tuple[list[float], float]:
    """(per seed: the mean over subsets of ``noise_reduction``, the spread over subsets: the SD (ddof 1) of the
    per-subset reductions around their seed's mean, pooled over seeds) for the rows of one ``state``."""
    import statistics

    seeds = list(dict.fromkeys(r["seed"] for r in rows if r["state"] == state))
    per_seed, sq, dof = [], 0.0, 0
    for seed in seeds:
        values = noise_reduction([r for r in rows if r["state"] == state and r["seed"] == seed], figure)
        mean = statistics.fmean(values)
        per_seed.append(mean)
        sq += sum((v - mean) ** 2 for v in values)
        dof += len(values) - 1
    if not per_seed or dof < 1:
        raise ValueError(f"need at least 2 subsets of state {state!r} to measure a spread")
    return per_seed, (sq / dof) ** 0.5


def summary_lines(rows: Sequence[dict]) -> list[str]:
    """One sentence per student state, from the rows: both losses' noise ratio and raw tr Var (means over subsets
    and seeds), and how many times less noise the soft targets give on each figure."""
    import statistics

    lines = []
    for state in dict.fromkeys(r["state"] for r in rows):
        mine = [r for r in rows if r["state"] == state]
        avg = {(loss, f): statistics.fmean(float(r[f]) for r in mine if r["loss"] == loss)
               for loss in LOSSES for f in ("noise_ratio", "trace_variance")}  # fmt: skip
        ratio, raw = (statistics.fmean(noise_reduction(mine, f)) for f in ("noise_ratio", "trace_variance"))
        lines.append(
            f"{state}: tr Var/‖mean‖² is {avg['hard', 'noise_ratio']:.3g} (hard) vs {avg['soft', 'noise_ratio']:.3g} "
            f"(soft), {ratio:.2f}× less with soft targets; raw tr Var {avg['hard', 'trace_variance']:.3g} vs "
            f"{avg['soft', 'trace_variance']:.3g}, {raw:.2f}× less"
        )
    return lines
