"""Early stopping on held-out training cases: ``fit``'s ``on_epoch_end`` hook that keeps the best epoch's weights.

Why: a control trained for a fixed number of epochs can be handicapped by overfitting (a small net on hard labels
fits its transfer set perfectly long before the end), so a fair hard-label control gets the distilled net's epoch
budget and stops at the epoch that makes the fewest errors on cases no student trains on (notebook 03's "matched
baseline", issue 25). Only validation errors choose the epoch; the test set is read after, once, at that epoch.
"""

from __future__ import annotations

import copy

import torch

from kdlab.core.evaluate import evaluate


class BestEpoch:
    """``on_epoch_end(epoch, model)``: count ``model``'s errors on (x_val, y_val) and keep a copy of its weights
    whenever they are the fewest so far (ties keep the earlier epoch). Returns ``{"val_errors": n}`` for the
    History (``History.extra["val_errors"]``); ``restore(model)`` loads the best epoch's weights back."""

    def __init__(self, x_val: torch.Tensor, y_val: torch.Tensor) -> None:
        if len(x_val) == 0 or len(x_val) != len(y_val):
            raise ValueError(f"validation needs matching, non-empty x and y, got {len(x_val)} and {len(y_val)} rows")
        self.x_val, self.y_val = x_val, y_val
        self.errors: list[int] = []
        self.best_epoch: int | None = None  # 1-based, as History.epoch
        self.state: dict[str, torch.Tensor] | None = None

    def __call__(self, epoch: int, model: torch.nn.Module) -> dict[str, float]:
        errors = evaluate(model, self.x_val, self.y_val).errors
        if isinstance(errors, list):
            raise ValueError("BestEpoch keeps one net's best epoch; train an ensemble's members one at a time")
        self.errors.append(int(errors))
        if self.best_epoch is None or errors < min(self.errors[:-1]):
            self.best_epoch = epoch + 1
            self.state = copy.deepcopy(model.state_dict())
        return {"val_errors": errors}

    @property
    def best_errors(self) -> int:
        if self.best_epoch is None:
            raise ValueError("no epoch has been validated yet")
        return self.errors[self.best_epoch - 1]

    def restore(self, model: torch.nn.Module) -> torch.nn.Module:
        """Load the best epoch's weights into ``model`` (in eval mode) and return it."""
        if self.state is None:
            raise ValueError("no epoch has been validated yet")
        model.load_state_dict(self.state)
        return model.eval()
