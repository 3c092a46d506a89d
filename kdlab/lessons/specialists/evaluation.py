"""How the specialists are scored: Tables 3 and 4 of §5.5, and each specialist on its own classes.

Table 3 reports *conditional* accuracy ("only considering examples belonging to the specialist classes, and
restricting our predictions to that subset of classes"), Table 4 the gain by the number of specialists covering the
correct class. ``specialist_scores`` measures one specialist the same way on its own special subset S^m (the
training curves of §6.1 are made of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from kdlab.core.models import BatchedMLP
from kdlab.lessons.specialists.layout import NEG, _pools

if TYPE_CHECKING:  # training imports this module: no import at run time
    from kdlab.lessons.specialists.training import Specialists


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


def per_specialist_table(specialists: Specialists, classes: Sequence[np.ndarray], x, y, generalist_logits):
    """One row per dustbin specialist: its classes, its share of the training data, its dustbin correction, and its
    conditional accuracy on the test images of its own classes next to the generalist's (top-1 among S^m)."""
    import pandas as pd

    M = len(classes)
    gen = specialist_scores(generalist_logits.unsqueeze(0).expand(M, -1, -1), y, classes, "soft")
    own = specialist_scores(specialists.logits(x), y, classes, "dustbin")
    return pd.DataFrame(
        {
            "specialist": range(M),
            "classes": [" ".join(f"{c:02d}" for c in cl) for cl in classes],
            "n_classes": [len(cl) for cl in classes],
            "train_fraction": specialists.data_fraction,
            "dustbin_shift": specialists.logit_shift[:, -1].cpu().numpy(),
            "n_test": own["n"],
            "generalist_cond_acc": gen["cond_acc"],
            "specialist_cond_acc": own["cond_acc"],
        }
    )
