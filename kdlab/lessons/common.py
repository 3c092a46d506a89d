"""What more than one lesson needs: a held-out split of the training set and the share of a gain a student keeps."""

from __future__ import annotations

import torch


def validation_split(n: int = 60_000, size: int = 10_000, seed: int = 1234) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, validation indices): a seeded random ``size`` of range(n) held out of the *training* set,
    for choosing a recipe or a bias shift without touching the test set (``benchmarks/teacher_recipes.py``,
    ``benchmarks/student_recipes.py``, notebook 04's tests)."""
    if not 0 < size < n:
        raise ValueError(f"validation size must be in (0, {n}), got {size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[size:], perm[:size]


def gain_kept(base: float, teacher: float, student: float) -> float | None:
    """(student − base) / (teacher − base): the share of the teacher's improvement over the base that the student
    keeps (Table 1: the distilled model keeps 86 % of the ensemble's gain); None when the teacher gained nothing."""
    return (student - base) / (teacher - base) if teacher != base else None
