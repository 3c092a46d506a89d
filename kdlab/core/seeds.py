"""Seeds as members: the seeds of one recipe trained as the members of one ``BatchedMLP``, in one ``fit``.

Why: every claim of the lab is judged over seeds (the full profile uses ≥ 3), and a seed's training is the same
small net again. Stacked along the member axis, the seeds share each step's batched matrix products
(``torch.baddbmm``) and one optimizer step instead of M of each.

What makes member m the run ``seed_everything(seeds[m]); make(); fit(..., config=replace(config, seed=seeds[m]))``:

* its initial weights are ``make()`` called right after ``seed_everything(seeds[m])`` (as ``kdlab.lessons``'
  recipes build a net), copied into the stack (``BatchedMLP.from_mlps``);
* its batches are the ones that run draws: a ``torch.Generator`` seeded with ``seeds[m]`` gives each epoch's
  permutation of the training cases (``sample_batch`` hands fit an (M, B) index, one row per member);
* its loss is its own mean over its batch (the ensemble losses sum the members), its gradient clipping is per
  member (``kdlab.core.optim.clip_gradients``), and SGD, the schedule and max-norm act element- or unit-wise.

So with no dropout and no jitter (the paper's students: the baseline and the distilled nets of §3) member m's
weights equal the separate run's up to float reordering (``tests/test_seeds.py``, fp32). Dropout masks come from
torch's one global generator, so members of a recipe with dropout get different masks than separate runs would
(equally random, not the same draws); jitter is refused, since its shifts are drawn per batch from fit's generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch

from kdlab.core.config import History, TrainConfig, resolve_device, seed_everything
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import fit


class SeedBatches:
    """``fit``'s ``sample_batch``: each member's batch from its own generator's permutation, as a separate run of
    that seed would draw it (``kdlab.core.batches.LocalBatches``: ``randperm`` per epoch, then slices)."""

    def __init__(self, seeds: Sequence[int], n: int, batch_size: int, device: torch.device) -> None:
        self.gens = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        self.n, self.batch_size, self.device = n, batch_size, device
        self.steps = max(1, math.ceil(n / batch_size))
        self.perms: torch.Tensor | None = None  # (M, n): this epoch's permutation per member

    def __call__(self, _gen: torch.Generator, step: int) -> torch.Tensor:  # (M, B) indices
        s = step % self.steps
        if s == 0:
            self.perms = torch.stack([torch.randperm(self.n, device=self.device, generator=g) for g in self.gens])
        return self.perms[:, s * self.batch_size : (s + 1) * self.batch_size]


def fit_seeds(
    make: Callable[[], MLP],
    x: torch.Tensor,
    y: torch.Tensor | None,
    seeds: Sequence[int],
    *,
    config: TrainConfig,
    teacher_logits: torch.Tensor | None = None,
    device: str | torch.device = "auto",
    repeat: int = 1,
    loss_fn: Callable | None = None,
) -> tuple[BatchedMLP, History]:
    """Train ``config``'s recipe once per seed, all seeds as members of one ``BatchedMLP``; returns (the trained
    stack in eval mode, its History). ``model.member(m)`` is seed ``seeds[m]``'s net; the History's loss is the
    sum over members. ``teacher_logits`` (N, C) are shared by every seed (the distilled nets of §3), or (M, N, C) one per seed.

    ``repeat`` > 1 trains each seed as ``repeat`` consecutive members (member m is seed ``seeds[m // repeat]``: the
    same initial weights and batches), for recipes whose members differ only in their ``loss_fn`` — e.g. one hard
    weight per member (``per_member_distillation_loss``), so the recipes are compared on paired runs."""
    if not seeds:
        raise ValueError("fit_seeds needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must differ, got {list(seeds)}")
    if config.jitter:
        raise ValueError("fit_seeds trains without jitter (its shifts are drawn per batch from fit's one generator)")
    if config.steps_per_epoch is not None:
        raise ValueError("fit_seeds draws one pass over the data per epoch; leave steps_per_epoch None")
    if repeat < 1:
        raise ValueError(f"repeat must be ≥ 1, got {repeat}")
    seeds = [s for s in seeds for _ in range(repeat)]
    dev = resolve_device(device)
    nets = []
    for seed in seeds:
        seed_everything(seed)
        nets.append(make())
    model = BatchedMLP.from_mlps(nets).to(dev)
    sampler = SeedBatches(seeds, x.shape[0], config.batch_size, dev)
    history = fit(model, x, y, config=replace(config, seed=seeds[0]), teacher_logits=teacher_logits,
                  device=dev, sample_batch=sampler, loss_fn=loss_fn)  # fmt: skip
    return model, history
