"""Notebook 05's recipe: the profiles, the frame sets, the ensemble and how a student distils it (paper §4).

Why these pieces live together: Table 1 (``kdlab.lessons.speech``) and Table 5 (``kdlab.lessons.speech_table5``)
both train the same frame classifiers on the same context windows, and §4's recipe is a handful of choices —
"10 separate models ... randomly initialized with different initial parameter values", their "averaged
predictions", "temperatures of [1, 2, 5, 10] and ... a relative weight of 0.5 on the cross-entropy for the hard
targets" (eq. 1 for the soft targets, §2's T²-weighted sum for the loss). Each choice is one function here:

* ``prepare``: validation utterances held out, features normalized with training statistics, context windows;
* ``train_hard``: one or ten classifiers from different random initializations, trained as one ``BatchedMLP``;
* ``ensemble_log_probs`` / ``ensemble_soft_logits``: the ensemble's averaged distribution p̄ and its soft targets at
  temperature T (averaged then tempered, or tempered then averaged — the profile says which);
* ``mixup_frames``: extra transfer inputs the ensemble labels (function matching, Beyer et al. 2022);
* ``train_students``: one distilled student per temperature, again one ``BatchedMLP``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F

from kdlab.core.config import TrainConfig, seed_everything
from kdlab.core.evaluate import predict_logits
from kdlab.core.losses import per_member_distillation_loss
from kdlab.core.models import BatchedMLP
from kdlab.core.train import fit
from kdlab.data.speech import SpeechCorpus, SpeechSplit, context_windows, feature_stats, normalize
from kdlab.paper import TABLE1_TEMPERATURES


@dataclass(frozen=True)
class SpeechProfile:
    """Sizes and schedules of notebook 05 for one profile (quick / full / paper)."""

    name: str
    corpus: str  # kdlab.data.speech profile
    states: int  # 1: phones (63 classes); 3: three states per phone (189, the HMM-state analog)
    left: int  # context frames before the predicted frame (paper: 20)
    right: int  # context frames after it (paper: 5)
    hidden: tuple[int, ...]
    train_utterances: int | None  # training utterances used (None = all)
    val_every: int  # every k-th training utterance is held out for validation
    ensemble_size: int
    temperatures: tuple[float, ...]
    hard_weight: float
    baseline: TrainConfig  # baseline and each ensemble member
    distilled: TrainConfig
    small_fraction: float  # Table 5: fraction of training utterances
    small: TrainConfig  # Table 5 runs (many epochs on little data)
    small_hard_weight: float  # Table 5 soft-target run: weight of the hard term
    curve_frames: int  # training frames sampled for the per-epoch training accuracy
    # How the ensemble's soft targets at T are formed (``ensemble_soft_logits``): "mean_of_tempered" averages the
    # members' tempered distributions, "tempered_mean" tempers the averaged distribution p̄.
    soft_targets: str = "tempered_mean"
    # Mixed frames added to the distillation transfer set, labelled by the ensemble (``mixup_frames``): copies of
    # the training frames, each mixed with a random other frame with weight λ ~ U(0, mixup_max).
    transfer_mixup: int = 0
    mixup_max: float = 0.5
    # Table 5: initializations of each 3 % model, trained as members of one stack (the claims' seed spread)
    small_seeds: int = 1
    # Table 1: initializations of the baseline, the chosen student and the matched control (``speech_seeds``)
    table1_seeds: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


def _cfg(epochs: int, lr: float, batch_size: int = 256, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=kw.pop("weight_decay", 1e-5), **kw)


PROFILES: dict[str, SpeechProfile] = {
    # A student's first run, ≈ 3 min on 2 cores: the whole quick corpus (120 utterances, ~12 min of speech), small
    # nets trained 16 epochs (baseline and members keep their best validation epoch); the student learns from the
    # average of the members' tempered distributions on the training frames plus two mixed copies of them (function
    # matching, Beyer et al. 2022), one student per temperature of the paper's, T ∈ {1, 2, 5, 10}.
    "quick": SpeechProfile(
        name="quick", corpus="quick", states=3, left=4, right=2, hidden=(128, 128), train_utterances=None,
        val_every=10, ensemble_size=10, temperatures=TABLE1_TEMPERATURES, hard_weight=0.5,
        baseline=_cfg(16, 0.05, desc="baseline"), distilled=_cfg(16, 0.05, desc="distilled"),
        small_fraction=0.03, small=_cfg(80, 0.05, batch_size=128, schedule="constant", desc="3%"),
        small_hard_weight=0.0, curve_frames=5000, soft_targets="mean_of_tempered", transfer_mixup=2,
    ),
    # 2-core CPU, < 1 h: ~2 h of speech, 9-frame windows, 2×256 ReLUs. The student's recipe was chosen on the
    # validation utterances (benchmarks/speech_recipes.py, table in notebooks/RESULTS.md): the mean of the members'
    # tempered distributions on the frames plus two mixed copies, and a patient student (9 epochs). The baseline and
    # the members get the same 9 epochs and keep their best validation epoch (issue 26: the recipe search gave them 3).
    "full": SpeechProfile(
        name="full", corpus="full", states=3, left=5, right=3, hidden=(256, 256), train_utterances=None,
        val_every=20, ensemble_size=10, temperatures=TABLE1_TEMPERATURES, hard_weight=0.5,
        baseline=_cfg(9, 0.05, desc="baseline"), distilled=_cfg(9, 0.05, desc="distilled"),
        small_fraction=0.03, small=_cfg(40, 0.05, batch_size=128, schedule="constant", desc="3%"),
        small_hard_weight=0.0, curve_frames=20000, soft_targets="mean_of_tempered", transfer_mixup=2, small_seeds=3,
        table1_seeds=3,
    ),
    # GPU: a larger corpus, the paper's 26-frame window (20 left, 5 right) and a deep wide net (paper: 8×2560).
    "paper": SpeechProfile(
        name="paper", corpus="paper", states=3, left=20, right=5, hidden=(2048,) * 6, train_utterances=None,
        val_every=20, ensemble_size=10, temperatures=TABLE1_TEMPERATURES, hard_weight=0.5,
        baseline=_cfg(20, 0.02, batch_size=512, desc="baseline"), distilled=_cfg(20, 0.02, batch_size=512, desc="distilled"),
        small_fraction=0.03, small=_cfg(100, 0.02, batch_size=256, schedule="constant", desc="3%"),
        small_hard_weight=0.0, curve_frames=50000, table1_seeds=3,
    ),
}  # fmt: skip


def get_profile(name: str) -> SpeechProfile:
    """The profile called ``name``; ValueError listing the valid names otherwise."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


# ----------------------------------------------------------------------------------------------------- data
@dataclass
class FrameSet:
    """Network inputs of one split: context windows, labels, utterance boundaries and speakers."""

    x: torch.Tensor  # (frames, (left + 1 + right) * 40) normalized
    y: torch.Tensor  # (frames,) int64
    bounds: torch.Tensor  # (utts + 1,)
    speakers: torch.Tensor  # (utts,)


@dataclass
class SpeechData:
    """Everything the experiments read: train / validation / test-seen / test-unseen frame sets."""

    train: FrameSet
    val: FrameSet
    test_seen: FrameSet
    test_unseen: FrameSet
    phones: list[str]
    states: int

    @property
    def num_classes(self) -> int:
        return len(self.phones)


def utterance_rows(bounds: torch.Tensor, utts) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, bounds) of utterances ``utts`` (in that order): the frame indices to take and the new utterance
    boundaries. The one way kdlab slices utterances, for corpus splits and for frame sets alike."""
    utts = [int(u) for u in utts]
    idx = torch.cat([torch.arange(int(bounds[u]), int(bounds[u + 1])) for u in utts]) if utts else torch.zeros(0).long()
    lengths = torch.tensor([int(bounds[u + 1] - bounds[u]) for u in utts], dtype=torch.long)
    return idx, torch.cat([torch.zeros(1).long(), lengths.cumsum(0)])


def select_utterances(split: SpeechSplit, utts: list[int] | torch.Tensor) -> SpeechSplit:
    """The sub-split made of utterances ``utts`` (in that order)."""
    idx, bounds = utterance_rows(split.utt_bounds, utts)
    return SpeechSplit(split.feats[idx], split.labels[idx], bounds,
                       split.speakers[torch.as_tensor([int(u) for u in utts], dtype=torch.long)])  # fmt: skip


def prepare(corpus: SpeechCorpus, profile: SpeechProfile) -> SpeechData:
    """Hold out validation utterances, normalize with training statistics and stack context windows."""
    n_utts = len(corpus.train.speakers)
    used = list(range(n_utts if profile.train_utterances is None else min(n_utts, profile.train_utterances)))
    val_utts = [u for u in used if u % profile.val_every == 0]
    train_utts = [u for u in used if u % profile.val_every != 0]
    train, val = select_utterances(corpus.train, train_utts), select_utterances(corpus.train, val_utts)
    mean, std = feature_stats(train.feats)

    def frames(split: SpeechSplit) -> FrameSet:
        x = context_windows(normalize(split.feats, mean, std), split.utt_bounds, profile.left, profile.right)
        return FrameSet(x, split.labels, split.utt_bounds, split.speakers)

    return SpeechData(frames(train), frames(val), frames(corpus.test_seen), frames(corpus.test_unseen),
                      corpus.phones, corpus.states)  # fmt: skip


# ----------------------------------------------------------------------------------------------------- models
def make_models(profile: SpeechProfile, data: SpeechData, num_models: int) -> BatchedMLP:
    """``num_models`` frame classifiers of the profile's architecture, stacked."""
    return BatchedMLP(num_models, data.train.x.shape[1], profile.hidden, data.num_classes)


def log_probs(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
    """(members, frames, classes) log posteriors of every member, on the CPU."""
    logits = predict_logits(model, x, batch_size).float().cpu()
    return F.log_softmax(logits if logits.dim() == 3 else logits[None], dim=-1)


def ensemble_log_probs(member_log_probs: torch.Tensor) -> torch.Tensor:
    """log p̄ with p̄ = (1/M) Σ_m p_m: the log of the averaged predictive distribution (§4)."""
    return torch.logsumexp(member_log_probs, dim=0) - math.log(member_log_probs.shape[0])


def ensemble_soft_logits(member_log_probs: torch.Tensor, temperature: float, how: str) -> torch.Tensor:
    """Logits L whose softmax(L / T) is the ensemble's soft target at temperature T (§4 averages distributions).

    * ``"tempered_mean"``: softmax(log p̄ / T), the averaged distribution p̄ tempered afterwards — L = log p̄;
    * ``"mean_of_tempered"``: (1/M) Σ_m softmax(log p_m / T), each member tempered first (eq. 1 per member, then
      the average, as one would average the soft targets of separately trained teachers) — L = T·log of it.

    At T = 1 both are p̄. ``member_log_probs`` is (M, frames, classes).
    """
    M = member_log_probs.shape[0]
    if how == "tempered_mean":
        return ensemble_log_probs(member_log_probs)
    if how == "mean_of_tempered":
        return temperature * (torch.logsumexp(F.log_softmax(member_log_probs / temperature, -1), 0) - math.log(M))
    raise ValueError(f"soft_targets must be 'tempered_mean' or 'mean_of_tempered', got {how!r}")


def ensemble_soft_targets(ensemble: torch.nn.Module, x: torch.Tensor, temperatures, how: str,
                          chunk: int = 65536) -> torch.Tensor:  # fmt: skip
    """The ensemble's soft-target logits on ``x`` (``ensemble_soft_logits`` per chunk of frames): (frames, classes)
    for ``"tempered_mean"`` (one set serves every T), else (len(temperatures), frames, classes).

    Why chunks: the members' posteriors are (members, frames, classes) — 18 GB for ten members on the full profile's
    transfer set with two mixed copies — while each chunk's reduction is as small as its output."""
    out = []
    for i in range(0, len(x), chunk):
        members = log_probs(ensemble, x[i : i + chunk])
        if how == "tempered_mean":
            out.append(ensemble_soft_logits(members, 1.0, how))
        else:
            out.append(torch.stack([ensemble_soft_logits(members, float(T), how) for T in temperatures]))
    return torch.cat(out, dim=-2)


def mixup_frames(
    x: torch.Tensor, y: torch.Tensor, copies: int, max_weight: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The frames followed by ``copies`` mixed copies: frame i mixed with a random frame j as (1 − λ)·x_i + λ·x_j,
    λ ~ U(0, max_weight) ≤ ½, so the hard label stays y_i. Why: a student matches its teacher's *function* better
    when it sees the teacher's answers on more inputs than the labelled ones (Beyer et al. 2022); the ensemble labels
    the mixed frames with its soft targets, so no label is invented."""
    if not 0 <= max_weight <= 0.5:
        raise ValueError(f"mixup_max must be in [0, 0.5] so the first frame dominates, got {max_weight}")
    gen = torch.Generator().manual_seed(seed)
    xs, ys = [x], [y]
    for _ in range(copies):
        partner = torch.randperm(len(x), generator=gen)
        lam = torch.rand(len(x), 1, generator=gen) * max_weight
        xs.append((1 - lam) * x + lam * x[partner])
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)


def train_hard(profile: SpeechProfile, data: SpeechData, num_models: int, config: TrainConfig, *, seed: int,
               device, progress: bool, on_epoch_end=None, train: FrameSet | None = None):  # fmt: skip
    """``num_models`` classifiers trained on hard labels from different random initializations (one batched fit)."""
    train = train if train is not None else data.train
    seed_everything(seed)
    model = make_models(profile, data, num_models)
    history = fit(model, train.x, train.y, config=replace(config, seed=seed, progress=progress), device=device,
                  on_epoch_end=on_epoch_end)  # fmt: skip
    return model, history


def train_students(profile: SpeechProfile, data: SpeechData, teacher_logits: torch.Tensor, temperatures, hard_weight,
                    config: TrainConfig, *, seed: int, device, progress: bool, train: FrameSet | None = None,
                    on_epoch_end=None):  # fmt: skip
    """One student per temperature, trained as one ``BatchedMLP`` on the teacher's soft targets (+ hard term).

    ``teacher_logits`` is (frames, classes), shared by every temperature, or (temperatures, frames, classes)."""
    train = train if train is not None else data.train
    seed_everything(seed)
    model = make_models(profile, data, len(temperatures))
    history = fit(model, train.x, train.y if hard_weight > 0 else None, teacher_logits=teacher_logits,
                  config=replace(config, seed=seed, progress=progress), device=device, on_epoch_end=on_epoch_end,
                  loss_fn=per_member_distillation_loss(tuple(float(t) for t in temperatures), hard_weight))  # fmt: skip
    return model, history


# ----------------------------------------------------------------------------------------------------- metrics
def frame_accuracy(log_p: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of frames whose most probable class is the label (states count as separate classes)."""
    return float((log_p.argmax(-1) == y).float().mean())
