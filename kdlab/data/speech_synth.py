"""Synthesizing notebook 05's corpus: each utterance spoken by an eSpeak NG voice (``kdlab.data.espeak``), resampled
to 16 kHz, turned into 40 log-mel coefficients per 10 ms frame (``kdlab.data.fbank``), and every frame labelled with
the phone the synthesizer says is active at its centre. Shards of utterances run in fresh processes in parallel."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import torch

SPLITS = ("train", "test_seen", "test_unseen")


def fold_phone(name: str, phones: list[str], fold: dict[str, str]) -> str:
    """Map an eSpeak phoneme to a class name: pauses -> sil, rare symbols folded; ValueError if unknown."""
    if name.startswith("_") or name == "":
        return "sil"
    name = fold.get(name, name)
    if name not in phones:
        raise ValueError(f"eSpeak phoneme {name!r} is not in the recipe's phone list; add it to PHONES or FOLD")
    return name


def frame_labels(starts: np.ndarray, classes: np.ndarray, n_samples: int, n_frames: int, rate_in: int,
                 rate_out: int, shift: int, window: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(phone, state) of each frame: the segment active at the frame centre; state = third of that segment (0–2)."""
    keep = np.r_[True, classes[1:] != classes[:-1]]  # merge runs of the same class (e.g. two pauses)
    starts, classes = starts[keep], classes[keep]
    ends = np.r_[starts[1:], n_samples]
    centre = (np.arange(n_frames) * shift + window / 2) * rate_in / rate_out  # in input samples
    seg = np.clip(np.searchsorted(starts, centre, side="right") - 1, 0, len(starts) - 1)
    phone = np.where(centre < starts[0], 0, classes[seg])  # before the first phoneme: silence (class 0)
    length = np.maximum(ends[seg] - starts[seg], 1)
    state = np.clip(((centre - starts[seg]) * 3 // length), 0, 2)
    return phone.astype(np.int16), state.astype(np.int8)


def synthesize_utterance(item: dict, recipe: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features float16 (frames, 40), phone int16, state int8) of one planned utterance; needs this process's eSpeak."""
    from scipy.signal import resample_poly

    from kdlab.data.espeak import Espeak
    from kdlab.data.fbank import FbankConfig, fbank, num_frames

    es = Espeak.get()
    es.set_voice(recipe["espeak"]["language"], item["voice"])
    utt = es.synthesize(
        item["text"],
        rate=item["rate"],
        pitch=item["pitch"],
        pitch_range=item["pitch_range"],
        seed=item["noise_seed"][-1],
    )
    audio = utt.audio.astype(np.float64)
    power = float(np.mean(audio**2)) if audio.size else 0.0
    noise = np.random.default_rng(item["noise_seed"]).standard_normal(audio.size)
    audio = audio + noise * np.sqrt(power / 10 ** (item["snr_db"] / 10))
    f = recipe["features"]
    up, down = f["resample"]
    audio16 = resample_poly(audio, up, down)  # 22050 -> 16000 Hz exactly
    cfg = FbankConfig(sample_rate=f["sample_rate"], frame_length_ms=f["frame_length_ms"],
                      frame_shift_ms=f["frame_shift_ms"], num_mel_bins=f["num_mel_bins"], preemph=f["preemph"])  # fmt: skip
    feats = fbank(audio16, cfg).numpy().astype(np.float16)
    phones = recipe["phones"]
    classes = np.array([phones.index(fold_phone(p, phones, recipe["fold"])) for p in utt.phonemes], dtype=np.int64)
    if len(classes) == 0:
        classes, starts = np.zeros(1, np.int64), np.zeros(1, np.int64)
    else:
        starts = utt.starts
    phone, state = frame_labels(starts, classes, audio.size, num_frames(audio16.size, cfg), utt.sample_rate,
                                cfg.sample_rate, cfg.window_shift, cfg.window_size)  # fmt: skip
    return feats, phone, state


def _synthesize_shard(args: tuple[list[dict], dict]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Synthesize consecutive utterances in a fresh process (eSpeak's waveform state carries over between calls)."""
    torch.set_num_threads(1)  # one process per core
    items, recipe = args
    return [synthesize_utterance(item, recipe) for item in items]


def synthesize_splits(plan: dict[str, list[dict]], recipe: dict, workers: int) -> dict[str, dict[str, np.ndarray]]:
    """Synthesize every split and stack each into the corpus arrays.

    eSpeak NG keeps waveform state (phase, flutter) from one utterance to the next, so an utterance's audio depends on
    what the process spoke before. For arrays that do not depend on ``workers``, the recipe fixes shards of
    ``shard_size`` consecutive utterances and each shard runs in a fresh process forked from a clean server.
    """
    size = recipe["shard_size"]
    jobs, owners = [], []
    for split in SPLITS:
        for i in range(0, len(plan[split]), size):
            jobs.append((plan[split][i : i + size], recipe))
            owners.append(split)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["kdlab.data.speech_synth", "kdlab.data.espeak", "kdlab.data.fbank", "scipy.signal"])
    with ctx.Pool(workers, maxtasksperchild=1) as pool:
        shards = pool.map(_synthesize_shard, jobs, chunksize=1)
    voices = recipe["voices"]["seen"] + recipe["voices"]["unseen"]
    out = {}
    for split in SPLITS:
        results = [r for shard, owner in zip(shards, owners) if owner == split for r in shard]
        lengths = np.array([len(r[0]) for r in results], dtype=np.int64)
        out[split] = {
            "feats": np.concatenate([r[0] for r in results]),  # (frames, 40) float16
            "phones": np.concatenate([r[1] for r in results]),  # (frames,) int16
            "states": np.concatenate([r[2] for r in results]),  # (frames,) int8
            "utt_bounds": np.r_[0, np.cumsum(lengths)].astype(np.int64),  # (utts + 1,)
            "speakers": np.array([voices.index(it["voice"]) for it in plan[split]], dtype=np.int16),  # (utts,)
        }
    return out
