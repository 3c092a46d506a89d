"""Notebook 05's hard-label models at their validation optimum: every member keeps its best validation epoch.

Why (issue 26): §4 trains the ten members "using exactly the same architecture and training procedure as the
baseline", and the share of the ensemble's gain a distilled model keeps (Table 1) means something only when the
baseline and the members are as good as their recipe makes them. A baseline stopped early both inflates the ensemble's
gain and lets a longer-trained student "keep" more than 100 % of it. So the baseline and each ensemble member train
for as many epochs as the distilled student (the profiles set ``baseline.epochs = distilled.epochs``), their
validation frame accuracy is measured after every epoch, and each member's weights are rolled back to its best validation epoch — early stopping
on held-out *training* utterances, never on a test set.
"""

from __future__ import annotations

import pandas as pd
import torch

from kdlab.core.config import TrainConfig
from kdlab.lessons.speech_recipe import SpeechData, SpeechProfile, frame_accuracy, log_probs, train_hard


class BestOnValidation:
    """``fit``'s ``on_epoch_end``: every member's validation frame accuracy after each epoch, and a copy of each
    member's parameters at its best epoch so far (``restore`` puts them back into the stack)."""

    def __init__(self, x_val: torch.Tensor, y_val: torch.Tensor) -> None:
        self.x_val, self.y_val = x_val, y_val
        self.rows: list[dict] = []  # member, epoch, val_frame_acc (%)
        self.best_acc: list[float] = []
        self.best_epoch: list[int] = []
        self.saved: list[torch.Tensor] = []

    def __call__(self, epoch: int, model: torch.nn.Module) -> dict[str, float]:
        params = [p.detach() for p in model.parameters()]
        lp = log_probs(model, self.x_val)
        if not self.saved:
            self.saved = [p.clone() for p in params]
            self.best_acc = [float("-inf")] * lp.shape[0]
            self.best_epoch = [0] * lp.shape[0]
        for m in range(lp.shape[0]):
            acc = 100 * frame_accuracy(lp[m], self.y_val)
            self.rows.append({"member": m, "epoch": epoch + 1, "val_frame_acc": acc})
            if acc > self.best_acc[m]:  # ties keep the earlier epoch
                self.best_acc[m], self.best_epoch[m] = acc, epoch + 1
                for saved, p in zip(self.saved, params):
                    saved[m].copy_(p[m])
        return {}

    def restore(self, model: torch.nn.Module) -> None:
        """Every member's parameters as they were at its best validation epoch."""
        with torch.no_grad():
            for p, saved in zip(model.parameters(), self.saved):
                p.copy_(saved.to(p.device))

    def curves(self, name: str) -> pd.DataFrame:
        """One row per member and epoch: ``model``, ``member``, ``epoch``, ``val_frame_acc`` and ``best`` (the epoch
        kept)."""
        df = pd.DataFrame(self.rows)
        df.insert(0, "model", name)
        df["best"] = [e == self.best_epoch[m] for m, e in zip(df.member, df.epoch)]
        return df


def train_hard_to_val_optimum(profile: SpeechProfile, data: SpeechData, num_models: int, config: TrainConfig, *,
                              name: str, seed: int, device, progress: bool):  # fmt: skip
    """``train_hard`` for ``config.epochs``, each member rolled back to its best validation epoch: (stack, per-epoch
    validation curves with the epoch kept)."""
    tracker = BestOnValidation(data.val.x, data.val.y)
    model, _ = train_hard(profile, data, num_models, config, seed=seed, device=device, progress=progress,
                          on_epoch_end=tracker)  # fmt: skip
    tracker.restore(model)
    model.eval()
    return model, tracker.curves(name)


def epochs_sentence(curves: pd.DataFrame) -> str:
    """How many epochs each hard-label model trained and which it kept, from the curves (e.g. "baseline: best of 16
    epochs at epoch 14; 10 ensemble members: best epochs 12–16 (median 15)")."""
    parts = []
    for name, c in curves.groupby("model", sort=False):
        kept = c[c.best].sort_values("member").epoch.tolist()
        total = int(c.epoch.max())
        if len(kept) == 1:
            parts.append(f"{name}: the best of {total} epochs on validation was epoch {kept[0]}")
        else:
            med = int(pd.Series(kept).median())
            parts.append(f"{name} ({len(kept)} members): best validation epochs {min(kept)}–{max(kept)} of {total} "
                         f"(median {med})")  # fmt: skip
    return "; ".join(parts) + "."
