"""§3's missing-class experiments: transfer sets that lack classes, and the output-bias correction.

The paper distils a teacher into a student whose transfer set has no 3 at all ("3 is a mythical digit"), or only
7s and 8s. The student still learns a lot about the missing classes from the soft targets — the teacher's small
probabilities for "3" on 5s and 8s — but its output *bias* for a missing class is learned only from cases where the
teacher says "3" is unlikely, so it ends up much too low. Raising it (or lowering the biases of the only classes
seen) repairs most of the errors: 206 → 109 errors at +3.5 for the omitted 3s, 47.3 % → 13.2 % at −7.6 for 7-and-8.

Shifting the bias of class c by s adds s to logit c of every case, so a scan over s needs only the logits
(``shift_scan``); ``shift_output_bias`` does the same to the model itself. The paper chose s to "optimize
performance on the test set" — optimistic, since the test set then also picks a parameter. ``choose_shift`` picks it
on any split: the test set (the paper's protocol) or a held-out validation split from the training set.

Introduced in notebook 04.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from kdlab.lessons.common import validation_split  # noqa: F401  (re-exported)


def class_mask(labels: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    """Boolean mask (N,) of the cases whose label is in ``classes``."""
    return torch.isin(labels, torch.as_tensor(list(classes), dtype=labels.dtype, device=labels.device))


def omit_classes(labels: torch.Tensor, omit: Sequence[int]) -> torch.Tensor:
    """Indices of a transfer set without any case of the classes in ``omit`` (e.g. no 3s)."""
    return torch.nonzero(~class_mask(labels, omit)).flatten()


def keep_classes(labels: torch.Tensor, keep: Sequence[int]) -> torch.Tensor:
    """Indices of a transfer set with only the classes in ``keep`` (e.g. only 7s and 8s)."""
    return torch.nonzero(class_mask(labels, keep)).flatten()


def shifted_logits(logits: torch.Tensor, classes: Sequence[int], shift: float) -> torch.Tensor:
    """Logits with ``shift`` added to the given classes: what a bias change of ``shift`` does to the output."""
    out = logits.clone()
    out[..., list(classes)] += shift
    return out


@torch.no_grad()
def shift_output_bias(model: torch.nn.Module, classes: Sequence[int], shift: float) -> None:
    """Add ``shift`` to the final-layer bias of ``classes`` in place (``MLP.output_bias``)."""
    model.output_bias[list(classes)] += shift


def shift_scan(
    logits: torch.Tensor, labels: torch.Tensor, classes: Sequence[int], shifts: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """Errors for every bias shift of ``classes``: columns ``shift, total_errors, error_rate, errors_on_classes``.

    ``errors_on_classes`` counts errors on cases whose true label is one of ``classes`` (the 3s, or the 7s and 8s);
    ``error_rate`` is the percentage of all cases. Vectorized over shifts: (S, N, C) argmax in chunks.
    """
    logits = logits.float().cpu()
    labels = labels.cpu()
    shifts_t = torch.as_tensor(np.asarray(shifts, dtype=np.float32))
    onehot = torch.zeros(logits.shape[-1])
    onehot[list(classes)] = 1.0
    in_classes = class_mask(labels, classes)
    total, on_classes = [], []
    for chunk in shifts_t.split(32):
        pred = (logits.unsqueeze(0) + chunk[:, None, None] * onehot).argmax(-1)  # (S, N)
        wrong = pred != labels
        total.append(wrong.sum(1))
        on_classes.append((wrong & in_classes).sum(1))
    total_t = torch.cat(total)
    return pd.DataFrame(
        {
            "shift": np.round(shifts_t.numpy().astype(float), 6),
            "total_errors": total_t.numpy(),
            "error_rate": total_t.numpy() / labels.shape[0] * 100.0,
            "errors_on_classes": torch.cat(on_classes).numpy(),
        }
    )


def choose_shift(scan: pd.DataFrame, column: str = "total_errors") -> float:
    """The shift minimizing ``column``; ties go to the smallest |shift| (the least change to the model)."""
    best = scan[column].min()
    tied = scan.loc[scan[column] == best, "shift"]
    return float(tied.iloc[np.argmin(np.abs(tied.to_numpy()))])


def errors_at(logits: torch.Tensor, labels: torch.Tensor, classes: Sequence[int], shift: float) -> dict[str, float]:
    """Total errors, error rate (%) and errors on ``classes`` at one shift."""
    row = shift_scan(logits, labels, classes, [shift]).iloc[0]
    return {
        "shift": float(shift),
        "total_errors": int(row["total_errors"]),
        "error_rate": float(row["error_rate"]),
        "errors_on_classes": int(row["errors_on_classes"]),
    }


def confusion_matrix(logits: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    pred = logits.argmax(-1).cpu()
    idx = labels.cpu() * num_classes + pred
    return torch.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes).numpy()
