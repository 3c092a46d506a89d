"""Tables 3 and 4: conditional accuracy and the improvement by the number of specialists covering a class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def coverage_counts(specialist_classes: Sequence[np.ndarray], num_classes: int) -> np.ndarray:
    """(C,) number of specialists whose special subset contains each class."""
    counts = np.zeros(num_classes, dtype=int)
    for cl in specialist_classes:
        counts[np.asarray(cl)] += 1
    return counts


def conditional_accuracy(probs: torch.Tensor, labels: torch.Tensor, specialist_classes: Sequence[np.ndarray]) -> float:
    """Table 3's conditional accuracy: over cases whose true class some specialist covers, top-1 among the classes of
    the specialists covering it (the union of their S^m)."""
    C = probs.shape[-1]
    member = torch.zeros(len(specialist_classes), C, dtype=torch.bool)
    for m, cl in enumerate(specialist_classes):
        member[m, torch.as_tensor(np.asarray(cl))] = True
    labels = labels.cpu()
    covering = member[:, labels]  # (M, N)
    allowed = (covering[:, :, None] & member[:, None, :]).any(0)  # (N, C): union of covering specialists' classes
    keep = covering.any(0)
    if not keep.any():
        return float("nan")
    p = probs.cpu().masked_fill(~allowed, -1.0)
    return float((p.argmax(-1) == labels)[keep].float().mean())


def improvement_by_coverage(
    before: torch.Tensor,
    after: torch.Tensor,
    labels: torch.Tensor,
    specialist_classes: Sequence[np.ndarray],
    num_classes: int,
    max_bucket: int = 10,
):
    """Table 4: per number of specialists covering the correct class — test cases, Δ top-1 correct, relative change."""
    import pandas as pd

    labels = labels.cpu()
    cover = torch.as_tensor(coverage_counts(specialist_classes, num_classes))[labels].clamp_max(max_bucket)
    ok_before = before.cpu().argmax(-1) == labels
    ok_after = after.cpu().argmax(-1) == labels
    rows = []
    for k in sorted(set(cover.tolist())):
        sel = cover == k
        nb, na = int(ok_before[sel].sum()), int(ok_after[sel].sum())
        rows.append(
            {
                "n_specialists": int(k),
                "n_test_examples": int(sel.sum()),
                "n_changed_correct": na - nb,
                "relative_improvement": (na - nb) / nb if nb else float("nan"),
                "accuracy_before": nb / int(sel.sum()),
                "accuracy_after": na / int(sel.sum()),
            }
        )
    return pd.DataFrame(rows)
