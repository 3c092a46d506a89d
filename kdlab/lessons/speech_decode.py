"""A Viterbi phone decoder and the phone error rate: the word-error-rate analog of notebook 05 (paper §4, Table 1).

The paper turns frame posteriors into words with an HMM decoder; here the HMM has one state per class (phone, or
phone state) and:
* emission score of class c at frame t: log p(c | x_t) - log p(c)  (the posterior divided by the prior is, up to a
  constant, the likelihood p(x_t | c) — the hybrid DNN-HMM trick);
* transitions estimated from the training alignments: self-loop probability a_cc from the mean segment duration,
  and a class bigram for the moves between segments: log A[i, j] = log(1 - a_ii) + log P(j | i) for j != i.
Decoding is vectorized over states in torch; the output segment sequence (repeats merged, silence dropped) is
compared with the reference by edit distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class PhoneHMM:
    """Log priors (classes,) and log transition matrix (classes, classes) of a one-state-per-class HMM."""

    log_prior: torch.Tensor
    log_trans: torch.Tensor
    log_init: torch.Tensor


def segments(labels: torch.Tensor) -> torch.Tensor:
    """The label sequence with consecutive repeats merged: [a a b b b a] -> [a b a]."""
    if labels.numel() == 0:
        return labels
    return torch.unique_consecutive(labels)


def estimate_hmm(labels: torch.Tensor, utt_bounds: torch.Tensor, num_classes: int, smoothing: float = 1.0) -> PhoneHMM:
    """Priors, self-loops and bigram transitions counted from the training alignments (add-``smoothing`` counts)."""
    labels = labels.long()
    prior = torch.bincount(labels, minlength=num_classes).double() + smoothing
    stay = torch.zeros(num_classes, dtype=torch.float64)
    bigram = torch.full((num_classes, num_classes), 0.0, dtype=torch.float64)
    init = torch.full((num_classes,), smoothing, dtype=torch.float64)
    b = utt_bounds.tolist()
    for u in range(len(b) - 1):
        y = labels[b[u] : b[u + 1]]
        if y.numel() == 0:
            continue
        init[y[0]] += 1
        same = y[1:] == y[:-1]
        stay += torch.bincount(y[1:][same], minlength=num_classes).double()
        seg = segments(y)
        bigram.index_put_((seg[:-1], seg[1:]), torch.ones(len(seg) - 1, dtype=torch.float64), accumulate=True)
    bigram += smoothing * (1 - torch.eye(num_classes, dtype=torch.float64))
    leave = bigram.sum(1)  # transitions out of each class
    p_stay = (stay + smoothing) / (stay + leave + 2 * smoothing)
    log_trans = torch.log(bigram / leave[:, None]) + torch.log1p(-p_stay)[:, None]
    log_trans.diagonal().copy_(torch.log(p_stay))
    return PhoneHMM(
        log_prior=torch.log(prior / prior.sum()).float(),
        log_trans=log_trans.float(),
        log_init=torch.log(init / init.sum()).float(),
    )


def viterbi(log_emission: torch.Tensor, log_trans: torch.Tensor, log_init: torch.Tensor) -> torch.Tensor:
    """(frames,) most likely state path of one utterance: argmax Σ_t [log A(s_{t-1}, s_t) + log e_t(s_t)]."""
    frames, n = log_emission.shape
    if frames == 0:
        return torch.zeros(0, dtype=torch.long)
    back = torch.empty(frames, n, dtype=torch.long)
    score = log_init + log_emission[0]  # (states,)
    for t in range(1, frames):
        cand = score[:, None] + log_trans  # (from, to)
        score, back[t] = cand.max(dim=0)
        score = score + log_emission[t]
    path = torch.empty(frames, dtype=torch.long)
    path[-1] = score.argmax()
    for t in range(frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def viterbi_batch(log_emission: torch.Tensor, lengths: torch.Tensor, log_trans: torch.Tensor,
                  log_init: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """(utts, max_frames) best paths of padded utterances (utts, max_frames, states); positions past a length are 0."""
    utts, frames, n = log_emission.shape
    back = torch.zeros(frames, utts, n, dtype=torch.long)
    score = log_init + log_emission[:, 0]  # (utts, states)
    for t in range(1, frames):
        best, arg = (score[:, :, None] + log_trans).max(dim=1)  # over the previous state: (utts, states)
        live = (t < lengths)[:, None]
        score = torch.where(live, best + log_emission[:, t], score)
        back[t] = torch.where(live, arg, torch.arange(n))  # finished utterances point to themselves
    path = torch.zeros(utts, frames, dtype=torch.long)
    state = score.argmax(dim=1)  # (utts,)
    rows = torch.arange(utts)
    for t in range(frames - 1, -1, -1):
        path[:, t] = state
        state = back[t, rows, state]
    return path * (torch.arange(frames)[None, :] < lengths[:, None])


def decode(log_posteriors: torch.Tensor, utt_bounds: torch.Tensor, hmm: PhoneHMM, prior_scale: float = 1.0,
           acoustic_scale: float = 1.0, batch: int = 64) -> list[torch.Tensor]:  # fmt: skip
    """Viterbi state path of every utterance, with emissions acoustic_scale * (log p(c|x) - prior_scale * log p(c))."""
    emission = acoustic_scale * (log_posteriors.float().cpu() - prior_scale * hmm.log_prior)  # (frames, classes)
    b = utt_bounds.tolist()
    utts = [emission[b[u] : b[u + 1]] for u in range(len(b) - 1)]
    paths = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ~1500 small steps per utterance: thread sync costs more than it saves (10x on 2 cores)
    try:
        for i in range(0, len(utts), batch):  # utterances decoded side by side, padded to the longest
            group = utts[i : i + batch]
            lengths = torch.tensor([len(g) for g in group])
            padded = torch.nn.utils.rnn.pad_sequence(group, batch_first=True)
            out = viterbi_batch(padded, lengths, hmm.log_trans.cpu(), hmm.log_init.cpu())
            paths += [out[k, : lengths[k]] for k in range(len(group))]
    finally:
        torch.set_num_threads(threads)
    return paths


def edit_distance(ref: Sequence[int], hyp: Sequence[int]) -> int:
    """Levenshtein distance (substitutions, deletions, insertions all cost 1)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def phone_sequence(path: torch.Tensor, states: int = 1, silence: int | None = 0) -> list[int]:
    """Phones of a frame path: classes to phones (class // states), repeats merged, silence removed."""
    phones = segments(torch.div(path.long(), states, rounding_mode="floor")).tolist()
    return [p for p in phones if p != silence]


def phone_error_rate(ref_seqs: Sequence[Sequence[int]], hyp_seqs: Sequence[Sequence[int]]) -> float:
    """Σ edit_distance(ref, hyp) / Σ len(ref) over utterances: the WER analog."""
    if len(ref_seqs) != len(hyp_seqs):
        raise ValueError(f"{len(ref_seqs)} reference but {len(hyp_seqs)} hypothesis sequences")
    total = sum(len(r) for r in ref_seqs)
    if total == 0:
        raise ValueError("references are empty: the phone error rate is undefined")
    return sum(edit_distance(list(r), list(h)) for r, h in zip(ref_seqs, hyp_seqs)) / total


def decoded_per(log_p: torch.Tensor, frames, hmm: PhoneHMM, states: int, acoustic_scale: float) -> float:
    """Phone error rate of Viterbi paths (emissions: scaled log posterior − log prior) against the alignments of
    ``frames`` (a ``kdlab.lessons.speech_recipe.FrameSet``: its labels ``y`` and utterance ``bounds``)."""
    paths = decode(log_p, frames.bounds, hmm, acoustic_scale=acoustic_scale)
    b = frames.bounds.tolist()
    refs = [phone_sequence(frames.y[b[u] : b[u + 1]], states) for u in range(len(b) - 1)]
    return phone_error_rate(refs, [phone_sequence(p, states) for p in paths])
