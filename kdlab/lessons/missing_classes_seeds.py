"""Notebook 04's two students over more seeds, each seed's bias shift chosen on held-out training cases.

Why: a verdict like "the shift repairs 89 % of the errors on 3s" is one student's; another initialization and batch
order give another student, another best shift and another repair. The full profile trains the no-3 student and
the 7-and-8 student again at ``profile.headline_seeds`` (the notebook trains its own seed as one net each) and the
claims take the spread over seeds as their noise wherever it is larger than the test set's (issue 25).

How: each recipe's extra seeds are the members of one ``BatchedMLP`` (``kdlab.core.seeds.fit_seeds``: member m is the
separate run of its seed; the students have no dropout and no jitter). ``seed_row`` reads one student pair's
logits exactly as the notebook reads its own: scan the shifts on validation, choose one (``choose_shift``), count
the test errors before and after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

import pandas as pd
import torch

from kdlab.core.config import TrainConfig
from kdlab.core.evaluate import predict_logits
from kdlab.core.seeds import fit_seeds
from kdlab.lessons.distillation import MnistProfile, make_student
from kdlab.lessons.missing_classes import choose_shift, errors_at, shift_scan

COLUMNS = ["seed", "shift3", "errors_before", "errors_after", "errors_on_3_before", "errors_on_3_after",
           "shift78", "rate78_before", "rate78_after"]  # fmt: skip


def seed_row(seed: int, omit3: dict[str, torch.Tensor], only78: dict[str, torch.Tensor], y_val: torch.Tensor,
             y_test: torch.Tensor, shifts3: Sequence[float], shifts78: Sequence[float]) -> dict[str, float]:  # fmt: skip
    """One seed's figures from its two students' logits (``{"val": ..., "test": ...}`` each): the validation-chosen
    shift of the 3's bias and of the 7s' and 8s' biases, and the test errors before and after each."""
    s3 = choose_shift(shift_scan(omit3["val"], y_val, [3], shifts3))
    s78 = choose_shift(shift_scan(only78["val"], y_val, [7, 8], shifts78))
    b3, a3 = errors_at(omit3["test"], y_test, [3], 0.0), errors_at(omit3["test"], y_test, [3], s3)
    b78, a78 = errors_at(only78["test"], y_test, [7, 8], 0.0), errors_at(only78["test"], y_test, [7, 8], s78)
    return {"seed": seed, "shift3": s3, "errors_before": b3["total_errors"], "errors_after": a3["total_errors"],
            "errors_on_3_before": b3["errors_on_classes"], "errors_on_3_after": a3["errors_on_classes"],
            "shift78": s78, "rate78_before": b78["error_rate"], "rate78_after": a78["error_rate"]}  # fmt: skip


def run_more_seeds(
    profile: MnistProfile,
    omit3: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    only78: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    only78_config: TrainConfig,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    seeds: Sequence[int],
    shifts3: Sequence[float],
    shifts78: Sequence[float],
    device: str | torch.device = "auto",
    progress: bool = True,
) -> pd.DataFrame:
    """Both students at each of ``seeds`` (``omit3`` and ``only78`` are each transfer set's (x, y, teacher logits);
    the no-3 student trains with ``profile.transfer``, the 7-and-8 one with ``only78_config``): a row per seed of
    ``seed_row``'s figures. No rows for no seeds."""
    seeds = list(seeds)
    if not seeds:
        return pd.DataFrame(columns=COLUMNS)
    make = partial(make_student, profile.student_hidden)
    logits = []
    for (x, y, soft), config, desc in ((omit3, profile.transfer, "no-3"), (only78, only78_config, "7-and-8")):
        config = replace(config, progress=progress, desc=f"{desc} student, more seeds")
        net, _ = fit_seeds(make, x, y if config.hard_weight > 0 else None, seeds, config=config,
                           teacher_logits=soft, device=device)  # fmt: skip
        logits.append(
            {"val": predict_logits(net, x_val).float().cpu(), "test": predict_logits(net, x_test).float().cpu()}
        )
    rows = [seed_row(s, {k: v[m] for k, v in logits[0].items()}, {k: v[m] for k, v in logits[1].items()}, y_val,
                     y_test, shifts3, shifts78) for m, s in enumerate(seeds)]  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def all_seeds(first: dict[str, float], more: pd.DataFrame) -> pd.DataFrame:
    """The notebook's own seed's row (``seed_row``) in front of ``more``'s."""
    return pd.concat([pd.DataFrame([first], columns=COLUMNS), more], ignore_index=True) if len(more) else \
        pd.DataFrame([first], columns=COLUMNS)  # fmt: skip
