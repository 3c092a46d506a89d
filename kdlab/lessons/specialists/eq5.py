"""§5.4, eq. 5: combining the generalist with the active specialists into one distribution per case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


def active_specialists(
    generalist_probs: torch.Tensor, specialist_classes: Sequence[np.ndarray], top_n: int = 1
) -> torch.Tensor:
    """A_k (§5.4, step 1–2): (M, N) bool, specialist m is active for case n iff S^m meets the generalist's top-n."""
    C = generalist_probs.shape[-1]
    top = generalist_probs.topk(top_n, dim=-1).indices  # (N, n)
    member = torch.zeros(len(specialist_classes), C, dtype=torch.bool, device=generalist_probs.device)
    for m, cl in enumerate(specialist_classes):
        member[m, torch.as_tensor(np.asarray(cl), device=generalist_probs.device)] = True
    return member[:, top].any(-1)  # (M, N)


@dataclass
class Eq5Layout:
    """Where each specialist's output columns live in the full class space (built by ``eq5_layout``)."""

    cols: torch.Tensor  # (M, width) class of each column (0 for padding and the dustbin: their p is handled apart)
    dustbin: torch.Tensor  # (M,) bool: the last column is a dustbin
    rest: torch.Tensor  # (M, C) bool: classes in m's dustbin (not in S^m)

    def to(self, device: torch.device) -> Eq5Layout:
        return Eq5Layout(self.cols.to(device), self.dustbin.to(device), self.rest.to(device))


def eq5_layout(
    specialist_classes: Sequence[np.ndarray], num_classes: int, width: int, full_softmax: bool = False
) -> Eq5Layout:
    """Dustbin specialists: column j < |S^m| is class S^m[j], the last column the dustbin (Σ of q over c ∉ S^m).
    ``full_softmax`` (§6.1 specialists, width == C): column c is class c and there is no dustbin."""
    M = len(specialist_classes)
    if full_softmax:
        if width != num_classes:
            raise ValueError(f"full-softmax specialists need width == {num_classes} columns, got {width}")
        return Eq5Layout(
            torch.arange(num_classes).repeat(M, 1),
            torch.zeros(M, dtype=torch.bool),
            torch.zeros(M, num_classes, dtype=torch.bool),
        )
    cols = torch.zeros(M, width, dtype=torch.long)
    rest = torch.ones(M, num_classes, dtype=torch.bool)
    for m, cl in enumerate(specialist_classes):
        if len(cl) >= width:
            raise ValueError(f"specialist {m} has {len(cl)} classes but only {width} columns (need one dustbin)")
        cl_t = torch.as_tensor(np.asarray(cl), dtype=torch.long)
        rest[m, cl_t] = False
        cols[m, : len(cl)] = cl_t
    return Eq5Layout(cols, torch.ones(M, dtype=torch.bool), rest)


def eq5_objective(
    z: torch.Tensor,
    generalist_probs: torch.Tensor,
    specialist_probs: torch.Tensor,
    layout: Eq5Layout,
    active: torch.Tensor,
    entropy: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 5 per case, (N,): KL(p^g, q) + Σ_{m∈A_k} KL(p^m, q^m), q = softmax(z).

    q^m is q seen through specialist m: its classes' q_c, and for the dustbin Σ_{c∉S^m} q_c (a log-sum-exp of the
    dustbin classes' log q, so it stays accurate when tiny). KL(p, r) = Σ_j p_j log p_j − p_j log r_j with
    0·log 0 = 0, so padded columns (p = 0) drop out. Only the active (m, n) pairs are computed (with top-1
    activation a case has one or a few), so the cost grows with the active pairs, not with M × N.
    """
    log_q = torch.log_softmax(z, -1)  # (N, C)
    cross = -(generalist_probs * log_q).sum(-1)  # cross-entropy terms; the entropies are added once at the end
    pm, pn = torch.nonzero(active, as_tuple=True)  # active (specialist, case) pairs
    if len(pm):
        lq = log_q[pn]  # (P, C)
        log_qm = lq.gather(1, layout.cols[pm])  # (P, width)
        if layout.dustbin.any():
            log_dust = torch.logsumexp(lq.masked_fill(~layout.rest[pm], float("-inf")), -1)  # (P,)
            is_last = torch.zeros_like(log_qm, dtype=torch.bool)
            is_last[:, -1] = layout.dustbin[pm]
            log_qm = torch.where(is_last, log_dust[:, None].expand_as(log_qm), log_qm)
        p = specialist_probs[pm, pn]  # (P, width)
        cross = cross.index_add(0, pn, -(p * log_qm).sum(-1))
    if entropy is None:
        entropy = eq5_entropy(generalist_probs, specialist_probs, active)
    return cross + entropy


def eq5_entropy(generalist_probs: torch.Tensor, specialist_probs: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """(N,) Σ of the models' Σ p log p: the part of eq. 5 that does not depend on q (KL = cross-entropy + this)."""
    neg_h = torch.xlogy(generalist_probs, generalist_probs).sum(-1)
    return neg_h + (torch.xlogy(specialist_probs, specialist_probs).sum(-1) * active).sum(0)


def combine(
    generalist_probs: torch.Tensor,
    specialist_probs: torch.Tensor,
    specialist_classes: Sequence[np.ndarray],
    active: torch.Tensor | None = None,
    steps: int = 300,
    lr: float = 0.1,
    top_n: int = 1,
    full_softmax: bool = False,
) -> torch.Tensor:
    """Eq. 5: the q = softmax(z) minimizing KL(p^g, q) + Σ_{m∈A_k} KL(p^m, q), for all N cases at once.

    ``generalist_probs`` (N, C); ``specialist_probs`` (M, N, width), m's columns laid out as in ``class_maps``
    (its classes, padding with p = 0, dustbin last), or with ``full_softmax`` all C classes (§6.1 specialists:
    S^m then only decides when m is active); ``active`` (M, N) bool, default ``active_specialists(generalist_probs,
    specialist_classes, top_n)``. z starts at log p^g and follows gradient descent with Adam's per-coordinate step
    sizes (plain gradient descent crawls along directions of small q_c, where the curvature is ~q_c) on the sum of
    the per-case objectives: the cases are independent, so one batched descent solves them all. Cases with no
    active specialist return p^g, the minimizer of KL(p^g, q) alone.
    """
    dev = generalist_probs.device
    N, C = generalist_probs.shape
    M, N2, width = specialist_probs.shape
    if N2 != N or len(specialist_classes) != M:
        raise ValueError(
            f"specialist_probs {tuple(specialist_probs.shape)} does not match generalist_probs "
            f"{tuple(generalist_probs.shape)} and {len(specialist_classes)} specialist class sets"
        )
    if active is None:
        active = active_specialists(generalist_probs, specialist_classes, top_n)
    active = active.to(dev).bool()
    layout = eq5_layout(specialist_classes, C, width, full_softmax).to(dev)
    out = generalist_probs.clone()
    idx = torch.nonzero(active.any(0)).squeeze(1)  # only cases with an active specialist need solving
    if len(idx) == 0:
        return out
    pg, ps, act = generalist_probs[idx], specialist_probs[:, idx], active[:, idx]
    z = torch.log(pg.clamp_min(1e-12)).clone().requires_grad_(True)
    zero = torch.zeros((), device=dev)  # the entropies do not depend on z: leave them out of the loop
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        eq5_objective(z, pg, ps, layout, act, entropy=zero).sum().backward()
        opt.step()
    out[idx] = torch.softmax(z.detach(), -1)
    return out


def combine_plain(
    generalist_probs: torch.Tensor,
    specialists: Sequence[tuple[np.ndarray, torch.Tensor]],
    steps: int = 300,
    lr: float = 0.1,
    full_softmax: bool = False,
) -> torch.Tensor:
    """Eq. 5 for one test case, written as §5.4 states it: the q = softmax(z) minimizing
    KL(p^g, q) + Σ_{m ∈ A_k} KL(p^m, q), where a dustbin specialist sees q through its classes plus one dustbin
    holding the total q of every class it does not cover.

    ``generalist_probs`` (C,); ``specialists``: the active ones, each (its classes S^m, its distribution p^m over
    S^m followed by the dustbin — or over all C classes with ``full_softmax``). The slow, readable form of
    ``combine``, which solves every case at once with padded layouts and masks; the tests hold them equal.
    """
    z = torch.log(generalist_probs.clamp_min(1e-12)).clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        log_q = torch.log_softmax(z, -1)
        objective = torch.sum(torch.xlogy(generalist_probs, generalist_probs) - generalist_probs * log_q)
        for classes, p in specialists:
            if full_softmax:
                log_qm = log_q
            else:
                covered = torch.zeros_like(log_q, dtype=torch.bool)
                covered[torch.as_tensor(np.asarray(classes), dtype=torch.long)] = True
                log_qm = torch.cat([log_q[covered], torch.logsumexp(log_q[~covered], 0, keepdim=True)])
            objective = objective + torch.sum(torch.xlogy(p, p) - p * log_qm)
        objective.backward()
        opt.step()
    return torch.softmax(z.detach(), -1)
