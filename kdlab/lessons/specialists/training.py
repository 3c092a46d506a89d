"""§5.2 / §6.1: training the specialists — dustbin specialists, or full-softmax ones with soft targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import TrainConfig, fit, predict_logits

NEG = -1e9  # logit of a padded (non-existent) output column


@dataclass(frozen=True)
class SpecialistConfig:
    """How the specialists are trained; notebook 06 mirrors these in its parameters cell."""

    kind: str = "dustbin"  # "dustbin" (§5.2: |S^m| classes + dustbin) | "soft" (§6.1: full softmax, soft targets)
    steps: int = 300
    batch_size: int = 128  # per specialist; half from its special subset, half from the rest
    special_fraction: float = 0.5
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 0.0
    temperature: float = 2.0  # soft targets of the generalist ("soft" kind)
    soft_weight: float = 1.0  # weight of the T²-scaled soft term on non-special examples ("soft" kind)
    eval_every: int = 50
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("dustbin", "soft"):
            raise ValueError(f"kind must be 'dustbin' or 'soft', got {self.kind!r}")
        if not 0 < self.special_fraction < 1:
            raise ValueError(f"special_fraction must be in (0, 1), got {self.special_fraction}")
        if self.steps < 1 or self.batch_size < 2 or self.eval_every < 1:
            raise ValueError("steps, eval_every must be ≥ 1 and batch_size ≥ 2")
        if self.steps % self.eval_every:
            raise ValueError(f"steps ({self.steps}) must be a multiple of eval_every ({self.eval_every})")


@dataclass
class Specialists:
    """M trained specialists as one batched model, plus what is needed to read their outputs."""

    model: BatchedMLP
    classes: list[np.ndarray]  # S^m per specialist
    kind: str
    logit_shift: torch.Tensor  # (M, width) added to the raw logits: the dustbin / prior correction, −1e9 on padding
    data_fraction: np.ndarray  # (M,) fraction of the training set that is in S^m
    curves: list[dict]  # per evaluation: step, specialist, train/test conditional accuracy and NLL

    @property
    def num_models(self) -> int:
        return len(self.classes)

    @torch.no_grad()
    def logits(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Corrected logits (M, N, width): |S^m| classes then padding then dustbin ("dustbin"), or all C ("soft")."""
        return predict_logits(self.model, x, batch_size) + self.logit_shift[:, None, :]

    @torch.no_grad()
    def probs(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """p^m for eq. 5: (M, N, width) distributions, padding exactly 0."""
        return torch.softmax(self.logits(x, batch_size), dim=-1)


def oversampling_shift(data_fraction: float, special_fraction: float = 0.5) -> float:
    """log of the factor by which the special classes were oversampled relative to the dustbin (§5.2).

    The natural odds special : rest are f : (1 − f); training batches have s : (1 − s). Raising the dustbin logit by
    log[(s/f) · ((1 − f)/(1 − s))] restores the natural odds (Bayes' rule for a changed prior); for s = ½ it is
    log((1 − f)/f), and ≈ log(s/f), the paper's "proportion by which the specialist class is oversampled", when f ≪ 1.
    """
    f, s = data_fraction, special_fraction
    if not 0 < f < 1:
        raise ValueError(f"data_fraction must be in (0, 1), got {f}")
    return math.log(s / f) + math.log((1 - f) / (1 - s))


def _width(classes: Sequence[np.ndarray], num_classes: int, kind: str) -> int:
    return num_classes if kind == "soft" else max(len(c) for c in classes) + 1


def class_maps(classes: Sequence[np.ndarray], num_classes: int, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``target`` (M, C): class → output column of each specialist; ``special`` (M, C) bool: class ∈ S^m.

    Dustbin kind: column j < |S^m| is S^m[j], the last column is the dustbin, columns between are padding.
    """
    M = len(classes)
    special = torch.zeros(M, num_classes, dtype=torch.bool)
    width = _width(classes, num_classes, kind)
    target = torch.arange(num_classes).repeat(M, 1) if kind == "soft" else torch.full((M, num_classes), width - 1)
    for m, cl in enumerate(classes):
        cl = torch.as_tensor(np.asarray(cl), dtype=torch.long)
        special[m, cl] = True
        if kind == "dustbin":
            target[m, cl] = torch.arange(len(cl))
    return target, special


def init_from_generalist(generalist: MLP, classes: Sequence[np.ndarray], kind: str = "dustbin") -> BatchedMLP:
    """A stack of M specialists, each a copy of the generalist (§5.2: "initialized with the weights of the generalist").

    Dustbin kind: output column j copies the generalist's unit for class S^m[j]; the dustbin unit starts as the mean
    of the other classes' units with bias + log(#others) (≈ the log of their summed probability when they are
    similar); padding columns are zero (they are masked at −∞ anyway).
    """
    mlps = [generalist] * len(classes)
    stack = BatchedMLP.from_mlps(mlps)  # copies of every layer, output width C
    if kind == "soft":
        return stack
    C = generalist.widths[-1]
    width = _width(classes, C, kind)
    dev = stack.weights[-1].device
    W_g, b_g = generalist.layers[-1].weight.detach(), generalist.layers[-1].bias.detach()  # (C, H), (C,)
    H = W_g.shape[1]
    W = torch.zeros(len(classes), width, H, device=dev)  # BatchedMLP layout: (M, out, in)
    b = torch.zeros(len(classes), 1, width, device=dev)
    for m, cl in enumerate(classes):
        cl_t = torch.as_tensor(np.asarray(cl), dtype=torch.long, device=dev)
        rest = torch.ones(C, dtype=torch.bool, device=dev)
        rest[cl_t] = False
        W[m, : len(cl)] = W_g[cl_t]
        b[m, 0, : len(cl)] = b_g[cl_t]
        W[m, -1] = W_g[rest].mean(0)
        b[m, 0, -1] = b_g[rest].mean() + math.log(int(rest.sum()))
    stack.widths = (*stack.widths[:-1], width)
    stack.weights[-1] = torch.nn.Parameter(W)
    stack.biases[-1] = torch.nn.Parameter(b)
    return stack


def _pools(
    labels: torch.Tensor, special: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-specialist index pools of special / other examples, padded to (M, max) with their lengths."""
    is_special = special.to(labels.device)[:, labels]  # (M, N)

    def pad(mask):
        lists = [torch.nonzero(row).squeeze(1) for row in mask]
        lens = torch.tensor([len(x) for x in lists], device=labels.device)
        out = torch.zeros(len(lists), max(int(lens.max()), 1), dtype=torch.long, device=labels.device)
        for m, x in enumerate(lists):
            out[m, : len(x)] = x
        return out, lens

    sp, sp_len = pad(is_special)
    ot, ot_len = pad(~is_special)
    return sp, sp_len, ot, ot_len


def _sample(pool: torch.Tensor, lens: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    r = torch.rand(pool.shape[0], k, device=pool.device, generator=gen)
    pick = (r * lens[:, None]).long().clamp_max(pool.shape[1] - 1)
    return pool.gather(1, pick)  # (M, k) example indices, each member from its own pool


def conditional_logits(logits: torch.Tensor, classes: Sequence[np.ndarray], kind: str) -> torch.Tensor:
    """(M, N, K) logits restricted to each specialist's own classes (padding at −∞), for conditional accuracy."""
    M, N, _ = logits.shape
    K = max(len(c) for c in classes)
    out = torch.full((M, N, K), NEG, device=logits.device)
    for m, cl in enumerate(classes):
        cols = torch.arange(len(cl)) if kind == "dustbin" else torch.as_tensor(np.asarray(cl))
        out[m, :, : len(cl)] = logits[m][:, cols.to(logits.device)]
    return out


@torch.no_grad()
def specialist_scores(
    spec_logits: torch.Tensor,
    labels: torch.Tensor,
    classes: Sequence[np.ndarray],
    kind: str,
    valid: torch.Tensor | None = None,
) -> dict[str, np.ndarray]:
    """Per specialist, on the examples of its own classes: conditional accuracy and NLL (softmax over S^m only).

    ``spec_logits`` (M, N, width); ``labels`` (N,) shared or (M, N) per specialist; ``valid`` (M, N) marks real
    examples when each specialist was fed its own (padded) set.
    """
    M = len(classes)
    dev = spec_logits.device
    labels = labels.to(dev)
    labels = labels.expand(M, -1) if labels.dim() == 1 else labels
    C = max(int(labels.max()) + 1, max(int(np.max(c)) for c in classes) + 1)
    cond = conditional_logits(spec_logits, classes, kind)  # (M, N, K)
    table = torch.full((M, C), -1, dtype=torch.long)
    for m, cl in enumerate(classes):
        table[m, torch.as_tensor(np.asarray(cl))] = torch.arange(len(cl))
    pos = table.to(dev).gather(1, labels)  # (M, N): column of the true class among S^m, or −1
    mask = pos >= 0 if valid is None else (pos >= 0) & valid.to(dev)
    logp = torch.log_softmax(cond, dim=-1).gather(2, pos.clamp_min(0)[..., None]).squeeze(2)
    correct = (cond.argmax(-1) == pos) & mask
    n = mask.sum(1).clamp_min(1)
    return {
        "cond_acc": (correct.sum(1) / n).cpu().numpy(),
        "cond_nll": (-(logp * mask).sum(1) / n).cpu().numpy(),
        "n": mask.sum(1).cpu().numpy(),
    }


@torch.no_grad()
def _own_class_scores(
    model: BatchedMLP,
    shift: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    special: torch.Tensor,
    classes: Sequence[np.ndarray],
    kind: str,
) -> dict[str, np.ndarray]:
    """Scores of each specialist on only the examples of its own classes: each member gets its own padded set
    (M, L, features), which costs ~M× less than running every member on every example."""
    pool, lens, _, _ = _pools(y, special.to(y.device))
    valid = torch.arange(pool.shape[1], device=y.device)[None, :] < lens.to(y.device)[:, None]
    pool = pool.to(x.device)
    was_training = model.training
    model.eval()
    logits = torch.cat([model(x[pool[:, i : i + 2048]]) for i in range(0, pool.shape[1], 2048)], dim=1)
    model.train(was_training)
    return specialist_scores(logits + shift[:, None, :], y[pool], classes, kind, valid)


def train_specialists(
    generalist: MLP,
    classes: Sequence[np.ndarray],
    x: torch.Tensor,
    y: torch.Tensor,
    config: SpecialistConfig = SpecialistConfig(),
    x_eval: torch.Tensor | None = None,
    y_eval: torch.Tensor | None = None,
    x_train_eval: torch.Tensor | None = None,
    y_train_eval: torch.Tensor | None = None,
) -> Specialists:
    """Train M specialists for the special subsets ``classes`` as one batched model on the generalist's device.

    Each step draws, for every specialist separately, ``special_fraction`` of its batch from examples of S^m and the
    rest from all other examples, then takes one SGD step on the sum of the members' mean losses (so each member
    gets exactly the gradient it would get alone). ``kind="dustbin"``: cross-entropy over S^m + dustbin; after
    training the dustbin logit is raised by ``oversampling_shift``. ``kind="soft"`` (§6.1): full softmax; hard
    targets on special examples, T²-scaled soft cross-entropy to the generalist's softmax(v/T) on the others; after
    training the special classes' logits are lowered by the same shift. Every ``eval_every`` steps the conditional
    accuracy/NLL on (x_train_eval, y_train_eval) and (x_eval, y_eval) are recorded in ``curves``.
    """
    cfg = config
    dev = generalist.layers[0].weight.device
    C = generalist.widths[-1]
    classes = [np.sort(np.asarray(c, dtype=int)) for c in classes]
    if any(len(c) < 1 or len(c) >= C for c in classes):
        raise ValueError("every special subset needs between 1 and C − 1 classes")
    M = len(classes)
    x = x.to(dev, torch.float32).flatten(1)
    y = y.to(dev)
    target, special = class_maps(classes, C, cfg.kind)
    target, special = target.to(dev), special.to(dev)
    sp, sp_len, ot, ot_len = (t.to(dev) for t in _pools(y, special))
    data_fraction = (sp_len.float() / len(y)).cpu().numpy()
    if (sp_len == 0).any():
        raise ValueError(f"specialists {torch.nonzero(sp_len == 0).flatten().tolist()} have no training examples")
    teacher = None
    if cfg.kind == "soft":
        teacher = predict_logits(generalist, x)  # (N, C) the generalist's logits, for its soft targets
    model = init_from_generalist(generalist, classes, cfg.kind).to(dev)
    width = model.widths[-1]
    pad_mask = torch.zeros(M, 1, width, device=dev)
    if cfg.kind == "dustbin":
        for m, cl in enumerate(classes):
            pad_mask[m, 0, len(cl) : width - 1] = NEG
    n_special = int(round(cfg.batch_size * cfg.special_fraction))
    arange_m = torch.arange(M, device=dev)[:, None]
    shift = torch.tensor([oversampling_shift(f, cfg.special_fraction) for f in data_fraction], device=dev)
    curves: list[dict] = []

    evals = [
        (split, xe.to(dev, torch.float32).flatten(1), ye.to(dev))
        for split, (xe, ye) in (("train", (x_train_eval, y_train_eval)), ("test", (x_eval, y_eval)))
        if xe is not None
    ]

    def record(step: int, model_shift: torch.Tensor) -> None:
        for split, xe, ye in evals:
            scores = _own_class_scores(model, model_shift, xe, ye, special, classes, cfg.kind)
            for m in range(M):
                curves.append(
                    {
                        "step": step,
                        "specialist": m,
                        "split": split,
                        "cond_acc": float(scores["cond_acc"][m]),
                        "cond_nll": float(scores["cond_nll"][m]),
                    }
                )

    def corrected_shift() -> torch.Tensor:
        out = pad_mask[:, 0, :].clone()
        if cfg.kind == "dustbin":
            out[:, -1] += shift
        else:
            out -= special.float() * shift[:, None]
        return out

    def sample_batch(gen: torch.Generator, step: int) -> torch.Tensor:
        """(M, B): each specialist's own batch, ``special_fraction`` of it from its special subset."""
        return torch.cat([_sample(sp, sp_len, n_special, gen), _sample(ot, ot_len, cfg.batch_size - n_special, gen)], 1)

    def loss_fn(out: torch.Tensor, yb: torch.Tensor, tb: torch.Tensor | None) -> torch.Tensor:
        """Σ over members of each member's mean loss on its own batch: each gets the gradient it would get alone."""
        out = out + pad_mask  # (M, B, width)
        if cfg.kind == "dustbin":
            return F.cross_entropy(out.flatten(0, 1), target[arange_m, yb].flatten(), reduction="sum") / out.shape[1]
        is_sp = special[arange_m, yb]  # (M, B)
        hard = F.cross_entropy(out.flatten(0, 1), yb.flatten(), reduction="none").view_as(yb)
        T = cfg.temperature
        soft = -(torch.softmax(tb / T, -1) * torch.log_softmax(out / T, -1)).sum(-1) * T**2
        return (torch.where(is_sp, hard, cfg.soft_weight * soft)).sum() / out.shape[1]

    record(0, corrected_shift())
    schedule = TrainConfig(
        epochs=cfg.steps // cfg.eval_every,  # an "epoch" is eval_every steps: the curves are recorded after each
        steps_per_epoch=cfg.eval_every,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        schedule="cosine",
        lr_floor=0.0,
        seed=cfg.seed,
        progress=cfg.progress,
        desc=f"{M} {cfg.kind} specialists",
    )
    fit(model, x, y, config=schedule, teacher_logits=teacher, device=dev, loss_fn=loss_fn, sample_batch=sample_batch,
        on_epoch_end=lambda epoch, _: record((epoch + 1) * cfg.eval_every, corrected_shift()))  # fmt: skip
    model.eval()
    return Specialists(model, classes, cfg.kind, corrected_shift().detach(), data_fraction, curves)
