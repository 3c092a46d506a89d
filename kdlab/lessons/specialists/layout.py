"""§5.2: what a specialist is made of, before any training.

§5.2: a specialist has "a softmax over its special classes plus a single dustbin class", "is initialized with the
weights of the generalist model", is trained "with half its examples coming from its special subset and half sampled
at random from the remainder", and afterwards gets "the logit of the dustbin class" incremented "by the log of the
proportion by which the specialist class is oversampled". This module holds those four pieces — the output layout
(``class_maps``), the copy of the generalist (``init_from_generalist``), the per-specialist example pools that
half/half batches are drawn from (``_pools``, ``_sample``) and the correction (``oversampling_shift``) — so that
``training`` is only the training loop. Every name is also importable from ``kdlab.lessons.specialists.training``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from kdlab.core.models import MLP, BatchedMLP

NEG = -1e9  # logit of a padded (non-existent) output column


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
