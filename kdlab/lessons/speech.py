"""Notebook 05's experiments on the synthetic speech corpus: §4 (Table 1) and §6 (Table 5) of the paper.

* Table 1 — a baseline frame classifier; 10 models of the same architecture from different random initializations,
  trained as one ``BatchedMLP`` and averaged ("averaging their predictive distributions"); a single model of the
  same size distilled from the ensemble at T ∈ {1, 2, 5, 10} with hard-target weight 0.5 (one ``BatchedMLP`` member
  per temperature). Test frame accuracy on seen and unseen speakers, phone error rate from ``kdlab.lessons.decode`` and the
  fraction of the ensemble's gain the distilled model keeps (paper: 58.9 → 61.1 → 60.8 %, > 80 %).
* Table 5 — the same model on 3 % of the training utterances with hard targets (it overfits; early stopping on a
  validation set) and with the soft targets of the full-data baseline (paper: 44.5 % vs 57.0 %, baseline 58.9 %).

The ensemble's logits are log p̄, the log of its averaged distribution, so its soft targets at temperature T are
softmax(log p̄ / T). Temperatures, acoustic scale and early-stopping epochs are chosen on a validation set of
training speakers and sentences held out of training; the test sets are only reported.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from kdlab.core.losses import per_member_distillation_loss
from kdlab.core.models import BatchedMLP
from kdlab.core.train import TrainConfig, fit, predict_logits, seed_everything
from kdlab.data.speech import SpeechCorpus, SpeechSplit, context_windows, feature_stats, normalize
from kdlab.lessons.common import gain_kept
from kdlab.lessons.decode import PhoneHMM, decode, estimate_hmm, phone_error_rate, phone_sequence

PAPER_TABLE1 = {"baseline": (58.9, 10.9), "10x ensemble": (61.1, 10.7), "distilled": (60.8, 10.7)}  # acc %, WER %
PAPER_TABLE5 = {"baseline (100% of training set)": (63.4, 58.9), "baseline (3% of training set)": (67.3, 44.5),
                "soft targets (3% of training set)": (65.4, 57.0)}  # train, test frame acc %  # fmt: skip


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

    def as_dict(self) -> dict:
        return asdict(self)


def _cfg(epochs: int, lr: float, batch_size: int = 256, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=kw.pop("weight_decay", 1e-5), **kw)


PROFILES: dict[str, SpeechProfile] = {
    # A student's first run, ≈ 3 min on 2 cores: the whole quick corpus (120 utterances, ~12 min of speech), small
    # nets trained 16 epochs; the student learns from the average of the members' tempered distributions on the
    # training frames plus two mixed copies of them (function matching, Beyer et al. 2022), T ∈ {1, 2}.
    "quick": SpeechProfile(
        name="quick", corpus="quick", states=3, left=4, right=2, hidden=(128, 128), train_utterances=None,
        val_every=10, ensemble_size=10, temperatures=(1.0, 2.0), hard_weight=0.5,
        baseline=_cfg(16, 0.05, desc="baseline"), distilled=_cfg(16, 0.05, desc="distilled"),
        small_fraction=0.03, small=_cfg(80, 0.05, batch_size=128, schedule="constant", desc="3%"),
        small_hard_weight=0.0, curve_frames=5000, soft_targets="mean_of_tempered", transfer_mixup=2,
    ),
    # 2-core CPU, < 1 h: ~2 h of speech, 9-frame windows, 2×256 ReLUs. The student's recipe was chosen on the
    # validation utterances (benchmarks/speech_recipes.py, table in notebooks/RESULTS.md): the mean of the members'
    # tempered distributions on the frames plus two mixed copies, and a patient student (9 epochs, 3× the members').
    "full": SpeechProfile(
        name="full", corpus="full", states=3, left=5, right=3, hidden=(256, 256), train_utterances=None,
        val_every=20, ensemble_size=10, temperatures=(1.0, 2.0), hard_weight=0.5,
        baseline=_cfg(3, 0.05, desc="baseline"), distilled=_cfg(9, 0.05, desc="distilled"),
        small_fraction=0.03, small=_cfg(40, 0.05, batch_size=128, schedule="constant", desc="3%"),
        small_hard_weight=0.0, curve_frames=20000, soft_targets="mean_of_tempered", transfer_mixup=2,
    ),
    # GPU: a larger corpus, the paper's 26-frame window (20 left, 5 right) and a deep wide net (paper: 8×2560).
    "paper": SpeechProfile(
        name="paper", corpus="paper", states=3, left=20, right=5, hidden=(2048,) * 6, train_utterances=None,
        val_every=20, ensemble_size=10, temperatures=(1.0, 2.0, 5.0, 10.0), hard_weight=0.5,
        baseline=_cfg(20, 0.02, batch_size=512, desc="baseline"), distilled=_cfg(20, 0.02, batch_size=512, desc="distilled"),
        small_fraction=0.03, small=_cfg(100, 0.02, batch_size=256, schedule="constant", desc="3%"),
        small_hard_weight=0.0, curve_frames=50000,
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


train_distilled = train_students  # its name until the MNIST student (kdlab.lessons.mnist.train_distilled) kept it


# ----------------------------------------------------------------------------------------------------- metrics
def frame_accuracy(log_p: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of frames whose most probable class is the label (states count as separate classes)."""
    return float((log_p.argmax(-1) == y).float().mean())


def decoded_per(log_p: torch.Tensor, frames: FrameSet, hmm: PhoneHMM, states: int, acoustic_scale: float) -> float:
    """Phone error rate of Viterbi paths (emissions: scaled log posterior − log prior) against the alignments."""
    paths = decode(log_p, frames.bounds, hmm, acoustic_scale=acoustic_scale)
    b = frames.bounds.tolist()
    refs = [phone_sequence(frames.y[b[u] : b[u + 1]], states) for u in range(len(b) - 1)]
    return phone_error_rate(refs, [phone_sequence(p, states) for p in paths])


# ----------------------------------------------------------------------------------------------------- Table 1
@dataclass
class Table1Result:
    table: pd.DataFrame  # model, frame_acc_seen, frame_acc_unseen, phone_error_rate, ...
    val_temperatures: pd.DataFrame  # temperature, val_frame_acc
    best_temperature: float
    acoustic_scale: float
    per_class: pd.DataFrame  # model, class, phone, frames, accuracy (test-seen)
    posteriors: dict[str, np.ndarray]  # teacher / distilled log posteriors of a few test utterances
    baseline: BatchedMLP
    seconds: dict[str, float]


def run_table1(profile: SpeechProfile, data: SpeechData, *, seed: int = 0, device="auto", progress: bool = True,
               scales: tuple[float, ...] = (0.2, 0.5, 1.0), n_posterior_utts: int = 3) -> Table1Result:  # fmt: skip
    """Baseline, ensemble, distilled students at every temperature: frame accuracy and phone error rate."""
    seconds = {}
    hmm = estimate_hmm(data.train.y, data.train.bounds, data.num_classes)
    t0 = time.perf_counter()
    baseline, _ = train_hard(profile, data, 1, profile.baseline, seed=seed, device=device, progress=progress)
    seconds["baseline"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ensemble, _ = train_hard(profile, data, profile.ensemble_size, replace(profile.baseline, desc="ensemble"),
                             seed=seed + 1, device=device, progress=progress)  # fmt: skip
    seconds["ensemble"] = time.perf_counter() - t0
    temps = tuple(profile.temperatures)
    x_transfer, y_transfer = mixup_frames(data.train.x, data.train.y, profile.transfer_mixup, profile.mixup_max, seed)
    teacher = ensemble_soft_targets(ensemble, x_transfer, temps, profile.soft_targets)
    transfer = FrameSet(x_transfer, y_transfer, data.train.bounds, data.train.speakers)
    t0 = time.perf_counter()
    students, _ = train_students(profile, data, teacher, temps, profile.hard_weight, profile.distilled,
                                  seed=seed + 2, device=device, progress=progress, train=transfer)  # fmt: skip
    seconds["distilled"] = time.perf_counter() - t0
    del teacher

    systems = {"baseline": lambda x: log_probs(baseline, x)[0],
               "10x ensemble": lambda x: ensemble_log_probs(log_probs(ensemble, x))}  # fmt: skip
    student_lp = {s: log_probs(students, getattr(data, s).x) for s in ("val", "test_seen", "test_unseen")}
    val_acc = [frame_accuracy(student_lp["val"][m], data.val.y) for m in range(len(temps))]
    best = int(np.argmax(val_acc))
    base_val = log_probs(baseline, data.val.x)[0]
    scale = min(scales, key=lambda a: decoded_per(base_val, data.val, hmm, data.states, a))

    rows, per_class, lp_cache = [], [], {}
    for name in ["baseline", "10x ensemble"] + [f"distilled T={T:g}" for T in temps]:
        lp = {}
        for s in ("val", "test_seen", "test_unseen"):
            if name.startswith("distilled"):
                lp[s] = student_lp[s][temps.index(float(name.split("=")[1]))]
            else:
                lp[s] = systems[name](getattr(data, s).x)
        lp_cache[name] = lp
        rows.append({
            "model": name,
            "temperature": float(name.split("=")[1]) if "=" in name else float("nan"),
            "frame_acc_val": 100 * frame_accuracy(lp["val"], data.val.y),
            "frame_acc_seen": 100 * frame_accuracy(lp["test_seen"], data.test_seen.y),
            "frame_acc_unseen": 100 * frame_accuracy(lp["test_unseen"], data.test_unseen.y),
            "chosen_on_val": name == f"distilled T={temps[best]:g}",
        })  # fmt: skip
        if not name.startswith("distilled") or rows[-1]["chosen_on_val"]:  # decode the three systems of Table 1
            rows[-1]["phone_error_rate"] = 100 * decoded_per(lp["test_seen"], data.test_seen, hmm, data.states, scale)
            rows[-1]["phone_error_rate_unseen"] = 100 * decoded_per(lp["test_unseen"], data.test_unseen, hmm,
                                                                    data.states, scale)  # fmt: skip
        correct = (lp["test_seen"].argmax(-1) == data.test_seen.y).double()
        counts = torch.bincount(data.test_seen.y, minlength=data.num_classes)
        hits = torch.bincount(data.test_seen.y, weights=correct, minlength=data.num_classes)
        for c in range(data.num_classes):
            per_class.append({"model": name, "class": c, "phone": data.phones[c], "frames": int(counts[c]),
                              "accuracy": float(hits[c] / counts[c]) if counts[c] else float("nan")})  # fmt: skip
    order = [0, 1, 2 + best] + [2 + m for m in range(len(temps)) if m != best]  # chosen student first: readers
    table = pd.DataFrame([rows[i] for i in order])  # (the dashboard) take the first "distilled" row
    b = data.test_seen.bounds[: n_posterior_utts + 1]
    chosen = f"distilled T={temps[best]:g}"
    posteriors = {
        "teacher": lp_cache["10x ensemble"]["test_seen"][: int(b[-1])].exp().numpy(),
        "distilled": lp_cache[chosen]["test_seen"][: int(b[-1])].exp().numpy(),
        "baseline": lp_cache["baseline"]["test_seen"][: int(b[-1])].exp().numpy(),
        "labels": data.test_seen.y[: int(b[-1])].numpy(),
        "utt_bounds": b.numpy(),
        "phones": np.array(data.phones),
    }
    val_t = pd.DataFrame({"temperature": temps, "val_frame_acc": [100 * a for a in val_acc]})
    return Table1Result(table, val_t, temps[best], scale, pd.DataFrame(per_class), posteriors, baseline, seconds)


def summarize_table1(result: Table1Result) -> dict[str, float]:
    """Headline numbers: accuracies of the three systems and the fraction of the ensemble's gain kept."""
    t = result.table.set_index("model")
    chosen = t[t.chosen_on_val].iloc[0]
    out = {"best_temperature": result.best_temperature}
    for key, name in (("baseline", "baseline"), ("ensemble", "10x ensemble")):
        out[f"{key}_frame_acc_seen"] = float(t.loc[name, "frame_acc_seen"])
        out[f"{key}_frame_acc_unseen"] = float(t.loc[name, "frame_acc_unseen"])
        out[f"{key}_per"] = float(t.loc[name, "phone_error_rate"])
    out["distilled_frame_acc_seen"] = float(chosen.frame_acc_seen)
    out["distilled_frame_acc_unseen"] = float(chosen.frame_acc_unseen)
    out["distilled_per"] = float(chosen.phone_error_rate)
    for s in ("seen", "unseen"):
        out[f"gain_kept_{s}"] = gain_kept(out[f"baseline_frame_acc_{s}"], out[f"ensemble_frame_acc_{s}"],
                                          out[f"distilled_frame_acc_{s}"])  # fmt: skip
    return out


# ----------------------------------------------------------------------------------------------------- Table 5
def small_subset(data: SpeechData, fraction: float, seed: int = 0) -> FrameSet:
    """``fraction`` of the training utterances (whole utterances, seeded): the paper's 3 % regime."""
    n = len(data.train.speakers)
    k = max(1, round(fraction * n))
    utts = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k].sort().values.tolist()
    idx, bounds = utterance_rows(data.train.bounds, utts)
    return FrameSet(data.train.x[idx], data.train.y[idx], bounds, data.train.speakers[utts])


def _curve_callback(name: str, train: FrameSet, data: SpeechData, curve_frames: int, rows: list):
    """Per-epoch train / validation / test accuracy of every member of a stack (a row per member and epoch)."""
    g = torch.Generator().manual_seed(0)
    sub = torch.randperm(len(train.y), generator=g)[:curve_frames]

    def on_epoch_end(epoch: int, model) -> dict[str, float]:
        lp = {key: (log_probs(model, x), y) for key, x, y in (
            ("train_acc", train.x[sub], train.y[sub]), ("val_acc", data.val.x, data.val.y),
            ("test_acc", data.test_seen.x, data.test_seen.y))}  # fmt: skip
        for m in range(next(iter(lp.values()))[0].shape[0]):
            rows.append({"setting": name, "member": m, "epoch": epoch + 1,
                         **{key: 100 * frame_accuracy(p[m], y) for key, (p, y) in lp.items()}})  # fmt: skip
        return {}

    return on_epoch_end


def run_table5(profile: SpeechProfile, data: SpeechData, baseline: BatchedMLP, temperature, *, seed: int = 0,
               device="auto", progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """3 % of the data with hard targets vs the full-data baseline's soft targets: (table, curves).

    ``temperature`` is one T or several: with several, one soft-target student per T trains in the same stack and
    the one with the best validation accuracy (at its early-stopping epoch) is reported — chosen on validation,
    like the epoch, never on the test set."""
    temps = (float(temperature),) if isinstance(temperature, (int, float)) else tuple(float(t) for t in temperature)
    small = small_subset(data, profile.small_fraction, seed)
    curves: list[dict] = []
    hard_name, soft_name = "baseline (3% of training set)", "soft targets (3% of training set)"
    train_hard(profile, data, 1, profile.small, seed=seed + 3, device=device, progress=progress, train=small,
               on_epoch_end=_curve_callback(hard_name, small, data, profile.curve_frames, curves))  # fmt: skip
    teacher = log_probs(baseline, small.x)[0]
    cfg = replace(profile.small, desc="3% soft")
    train_students(profile, data, teacher, temps, profile.small_hard_weight, cfg, seed=seed + 3,
                    device=device, progress=progress, train=small,
                    on_epoch_end=_curve_callback(soft_name, small, data, profile.curve_frames, curves))  # fmt: skip
    curves_df = pd.DataFrame(curves)
    soft = curves_df[curves_df.setting == soft_name]
    chosen = int(soft.loc[soft.val_acc.idxmax(), "member"])
    curves_df = curves_df[(curves_df.setting != soft_name) | (curves_df.member == chosen)].drop(columns="member")
    g = torch.Generator().manual_seed(0)
    sub = torch.randperm(len(data.train.y), generator=g)[: profile.curve_frames]
    rows = [{"system": "baseline (100% of training set)", "train_frames": len(data.train.y),
             "train_frame_acc": 100 * frame_accuracy(log_probs(baseline, data.train.x[sub])[0], data.train.y[sub]),
             "test_frame_acc": 100 * frame_accuracy(log_probs(baseline, data.test_seen.x)[0], data.test_seen.y),
             "epoch": profile.baseline.epochs, "final_test_frame_acc": float("nan")}]  # fmt: skip
    for name in (hard_name, soft_name):
        c = curves_df[curves_df.setting == name]
        best = c.loc[c.val_acc.idxmax()]  # early stopping on the validation set
        rows.append({"system": name, "train_frames": len(small.y), "train_frame_acc": float(best.train_acc),
                     "test_frame_acc": float(best.test_acc), "epoch": int(best.epoch),
                     "final_test_frame_acc": float(c.test_acc.iloc[-1])})  # fmt: skip
    table = pd.DataFrame(rows)
    table["temperature"] = [None, None, temps[chosen]]
    table["paper_train_frame_acc"] = [PAPER_TABLE5[s][0] for s in table.system]
    table["paper_test_frame_acc"] = [PAPER_TABLE5[s][1] for s in table.system]
    return table, curves_df


# ----------------------------------------------------------------------------------------------- the recipe
RECIPES_CSV = "benchmarks/results/speech_recipes_full.csv"  # written by benchmarks/speech_recipes.py


def recipe_comparison(path: str | None = None) -> pd.DataFrame:
    """The validation table the full profile's recipe was chosen from: per student variant, its best temperature
    on the validation utterances and the share of the ensemble's validation gain it keeps. Test sets play no part."""
    from kdlab.paths import project_root

    raw = pd.read_csv(path or project_root() / RECIPES_CSV)
    best = raw.loc[raw.groupby(["member_epochs", "variant"]).val_distilled.idxmax()]
    cols = ["variant", "soft_targets", "transfer_mixup", "student_epochs", "temperature", "val_baseline",
            "val_ensemble", "val_distilled", "gain_kept_val"]  # fmt: skip
    return best[cols].sort_values("gain_kept_val").reset_index(drop=True)


def recipe_sentences(table: pd.DataFrame, profile: SpeechProfile) -> str:
    """What each lever did on validation, in sentences computed from ``recipe_comparison``'s numbers, and whether
    ``profile`` uses the variant that kept the most."""

    def describe(row) -> str:
        targets = "the mean of the members' tempered distributions" if row.soft_targets == "mean_of_tempered" else (
            "the tempered mean of the members' distributions")  # fmt: skip
        copies = f"{int(row.transfer_mixup)} mixed copies of the frames" if row.transfer_mixup else "no mixed copies"
        return (f"- **{row.variant}** ({targets}, {copies}, {int(row.student_epochs)} student epochs): best at "
                f"T = {row.temperature:g}, {row.val_distilled:.1f} % on validation — "
                f"{100 * row.gain_kept_val:.0f} % of the ensemble's gain.")  # fmt: skip

    b, e = table.val_baseline.iloc[0], table.val_ensemble.iloc[0]
    best = table.iloc[-1]
    head = (f"On the validation utterances the baseline reaches {b:.1f} % and the ensemble {e:.1f} % "
            f"(+{e - b:.1f} points). From the weakest variant to the strongest:\n\n")  # fmt: skip
    uses = (profile.soft_targets == best.soft_targets and profile.transfer_mixup == best.transfer_mixup
            and profile.distilled.epochs == best.student_epochs)  # fmt: skip
    tail = (f"\n\nThe {profile.name} profile {'uses' if uses else 'does **not** use'} **{best.variant}**, the variant "
            "that kept the most on validation.")  # fmt: skip
    return head + "\n".join(describe(r) for r in table.itertuples()) + tail
