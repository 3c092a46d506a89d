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

The last functions are notebook 04's read-outs: what the soft targets say about the missing class
(``soft_mass_on``), where its logit ranks (``logit_rank``), the errors at several shifts and the tables and metrics
its run saves. Introduced in notebook 04.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from kdlab.core.config import TrainConfig
from kdlab.core.losses import softmax_t


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


# ----------------------------------------------------------------------------------------------- notebook 04's read-outs


def soft_mass_on(logits: torch.Tensor, labels: torch.Tensor, cls: int, temperature: float) -> pd.Series:
    """Mean soft-target probability of class ``cls`` at ``temperature``, per true class of the cases (``cls`` itself
    left out): how much the teacher tells a student about a class its transfer set lacks."""
    p = softmax_t(logits, temperature)[:, cls]
    means = {c: float(p[labels == c].mean()) for c in range(logits.shape[-1]) if c != cls and (labels == c).any()}
    return pd.Series(means, name=f"mean p({cls}) at T={temperature:g}")


def logit_rank(logits: torch.Tensor, labels: torch.Tensor, cls: int) -> torch.Tensor:
    """On the cases of class ``cls``: how many classes score above ``cls`` (0 = ``cls`` is the prediction)."""
    mine = logits[labels == cls]
    return (mine > mine[:, cls : cls + 1]).sum(1)


def steps_matched(config: TrainConfig, reference_size: int, size: int) -> TrainConfig:
    """``config`` with enough epochs that a transfer set of ``size`` cases takes about as many steps as one of
    ``reference_size`` (never fewer epochs than ``config`` has)."""
    return replace(config, epochs=max(config.epochs, math.ceil(config.epochs * (reference_size / size))))


def errors_at_shifts(
    logits: torch.Tensor, labels: torch.Tensor, classes: Sequence[int], shifts: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    """``errors_at`` for each named shift, e.g. ``{"before": 0.0, "test": 3.1, "validation": 3.6, "paper": 3.5}``."""
    return {name: errors_at(logits, labels, classes, s) for name, s in shifts.items()}


def scan_artifact(scan: pd.DataFrame, cls: int) -> pd.DataFrame:
    """A ``shift_scan`` of one class as the run saves it: ``shift, total_errors, errors_on_<cls>``."""
    return scan.rename(columns={"errors_on_classes": f"errors_on_{cls}"})[["shift", "total_errors", f"errors_on_{cls}"]]


def omit_table(
    results: Mapping[str, dict], chosen_on: Sequence[str], cls: int, n_cls_cases: int, paper: Sequence[str]
) -> pd.DataFrame:
    """One row per shift of the student that never saw ``cls``: total errors, error rate, errors on ``cls`` and the
    share of its test cases it gets right, beside the paper's figures."""
    rows = [{"student": f"no {cls}s", "chosen on": c, **r} for c, r in zip(chosen_on, results.values())]
    table = pd.DataFrame(rows).drop(columns=["shift"]).rename(columns={"errors_on_classes": f"errors_on_{cls}"})
    table[f"{cls}s right (%)"] = (100 * (1 - table[f"errors_on_{cls}"] / n_cls_cases)).round(1)
    table["paper"] = list(paper)
    return table


def keep_table(results: Mapping[str, dict], paper: Sequence[str]) -> pd.DataFrame:
    """One row per shift of a student that saw only some classes: the shift, total errors and error rate (%)."""
    table = pd.DataFrame([{"chosen on": k, **v} for k, v in results.items()]).drop(columns=["errors_on_classes"])
    table["paper"] = list(paper)
    return table.round(2)


def top_confusions(conf: np.ndarray, cls: int, top: int = 3) -> list[tuple[int, int]]:
    """(predicted class, count) of the ``top`` classes the cases of ``cls`` are most often misread as."""
    ranked = sorted(((int(conf[cls, j]), j) for j in range(len(conf)) if j != cls), reverse=True)[:top]
    return [(j, n) for n, j in ranked]


def misread(conf: np.ndarray, cls: int) -> tuple[int, int]:
    """(cases of ``cls`` read as something else, cases of other classes read as ``cls``) from a confusion matrix."""
    return int(conf[cls].sum() - conf[cls, cls]), int(conf[:, cls].sum() - conf[cls, cls])


def missing_class_metrics(omit3: Mapping[str, dict], only78: Mapping[str, dict]) -> dict[str, float]:
    """Notebook 04's headline numbers for metrics.json, from ``errors_at_shifts`` results keyed before / test /
    validation / paper for the no-3 and the 7-and-8 students."""
    out = {"omit3_errors": omit3["before"]["total_errors"], "omit3_errors_on_3": omit3["before"]["errors_on_classes"]}
    for key, name in (("test", "test"), ("validation", "val")):
        r = omit3[key]
        out[f"omit3_{name}_shift"] = r["shift"]
        out[f"omit3_{name}_shift_errors"] = r["total_errors"]
        out[f"omit3_{name}_shift_errors_on_3"] = r["errors_on_classes"]
    out["omit3_paper_shift_errors"] = omit3["paper"]["total_errors"]
    out["only78_error_rate"] = only78["before"]["error_rate"]
    for key, name in (("test", "test"), ("validation", "val")):
        out[f"only78_{name}_shift"] = only78[key]["shift"]
        out[f"only78_{name}_shift_error_rate"] = only78[key]["error_rate"]
    out["only78_paper_shift_error_rate"] = only78["paper"]["error_rate"]
    return out
