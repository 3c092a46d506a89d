"""The synthetic speech-frame corpus of notebook 05 (paper §4 and §6): eSpeak NG voices reading the King James Bible.

No speech corpus is reachable offline and the paper's is private, so kdlab synthesizes one and takes exact phoneme
timing from the synthesizer (``kdlab.data.espeak``): every 10 ms frame of 40 Kaldi log-mel coefficients
(``kdlab.data.fbank``) is labelled with the phone active at its centre (63 classes after folding rare symbols and
mapping pauses to silence), or with one of three equal-time states of that phone (189 classes, the HMM-state analog).

* Text: the verses printed by ``bible`` (Debian package ``bible-kjv``), checked by SHA-256. Train and test are split
  by the verse's normalized text, so no sentence is in both; test-unseen reads the same verses as test-seen.
* Speakers: ``en-us`` with eSpeak's voice variants (near-duplicates dropped); ``UNSEEN_VOICES`` are held out and
  speak only the test-unseen split. Rate, pitch and pitch range are drawn per utterance, plus white noise at a random
  SNR. Every draw comes from ``SEED`` and the utterance's index, so a rebuild gives identical arrays.
* Layout: ``<root>/speech/<profile>/`` holds ``recipe.json``, one ``.npy`` per array and ``manifest.json`` (SHA-256 of
  every file) written last; it is built in a temporary folder and renamed, so a half-built corpus never looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kdlab.data.checksum import sha256_file
from kdlab.data.errors import DataError
from kdlab.data.speech_synth import (
    SPLITS,
    synthesize_splits,
)
from kdlab.data.speech_text import (
    KJV_COMMAND,
    KJV_SHA256,
    REPAIR,
    TEST_FRACTION,
    load_text,
    read_text_file,
    split_texts,
)

SCHEMA = 1
SEED = 2015


LANGUAGE = "en-us"
# eSpeak NG 1.52 variants in voices/!v, minus near-duplicates (`fast`, `edward2`, `klatt2`…, `whisperf`, `mike2`…).
VOICES = (
    "Alex Alicia Andrea Andy Annie AnxiousAndy Demonic Denis Diogo Gene Henrique Hugo Jacky Lee Marco Mario Michael "
    "Mike Nguyen Reed RicishayMax Storm Tweaky UniRobot adam anika announcer antonio aunty belinda benjamin boris "
    "caleb croak david ed edward f1 f2 f3 f4 f5 grandma grandpa gustave ian iven john kaukovalta klatt linda m1 m2 m3 "
    "m4 m5 m6 m7 m8 marcelo max michel miguel norbert pablo paul pedro quincy rob robert robosoft sandro shelby steph "
    "travis victor whisper zac"
).split()
UNSEEN_VOICES = ("Jacky", "Michael", "Tweaky", "caleb", "croak", "ed", "m4", "m7", "robosoft", "steph")

# Phone classes: eSpeak's en-us phonemes by frequency in the KJV (stress marks stripped), pauses folded into "sil".
PHONES = (
    "sil n a I d s E D V t m eI i: z aI v w oU l @2 @ f r h 3 0 O@ aU O: k S 3: N b T e@ p u: U A@ o@ I# a# @L I2 g "
    "i j tS ; dZ aa O2 i@3 t# t2 OI A: r- aI@ U@ aI3 i@"
).split()
FOLD = {"?": "sil", "O": "O:", "@-": "@", "n-": "n", "Z": "dZ"}  # symbols with < 20 s in 13 h of speech

PROFILES = {  # utterances (verses, ~7 s each) per split
    "tiny": {"train": 6, "test_seen": 2, "test_unseen": 2},  # the tests
    "quick": {"train": 120, "test_seen": 20, "test_unseen": 20},  # ~19 min of speech, CI
    "full": {"train": 1100, "test_seen": 100, "test_unseen": 100},  # ~2.1 h of training speech
    "paper": {"train": 9000, "test_seen": 600, "test_unseen": 600},  # ~17.5 h
}
PROSODY = {"rate": [130, 230], "pitch": [25, 75], "pitch_range": [20, 90], "snr_db": [10.0, 40.0]}
FEATURES = {"resample": [320, 441], "sample_rate": 16000, "frame_length_ms": 25.0, "frame_shift_ms": 10.0,
            "num_mel_bins": 40, "preemph": 0.97, "window": "povey", "fft_size": 512, "dither": 0.0,
            "snip_edges": True, "dtype": "float16"}  # fmt: skip
SHARD_SIZE = 10  # utterances synthesized in sequence by one fresh process (see synthesize_splits)


# ----------------------------------------------------------------------------------------------------- recipe
def make_recipe(profile: str = "quick", text_file: str | Path | None = None, sizes: dict | None = None) -> dict:
    """The full description of a corpus; equal recipes build identical arrays."""
    if profile not in PROFILES and sizes is None:
        raise ValueError(f"unknown speech profile {profile!r}; choose one of {', '.join(PROFILES)}")
    from kdlab.data.espeak import EXPECTED_VERSION

    if text_file is None:
        text = {"source": "bible-kjv", "command": " ".join(KJV_COMMAND), "sha256": KJV_SHA256}
    else:
        read_text_file(text_file)  # fail early on empty / non-UTF-8 text
        text = {"source": "file", "path": str(Path(text_file).resolve()), "sha256": sha256_file(text_file)}
    return {
        "schema": SCHEMA, "profile": profile, "seed": SEED, "text": text, "test_fraction": TEST_FRACTION,
        "sizes": dict(sizes or PROFILES[profile]),
        "espeak": {"version": EXPECTED_VERSION, "package": "espeakng-loader==0.2.4", "language": LANGUAGE},
        "voices": {"seen": [v for v in VOICES if v not in UNSEEN_VOICES], "unseen": list(UNSEEN_VOICES)},
        "prosody": PROSODY, "features": FEATURES, "shard_size": SHARD_SIZE, "phones": list(PHONES), "fold": FOLD,
    }  # fmt: skip


def check_voices(recipe: dict) -> None:
    """ValueError naming any recipe voice that the installed eSpeak NG data does not have."""
    from kdlab.data.espeak import voice_variants

    known = set(voice_variants())
    unknown = [v for group in recipe["voices"].values() for v in group if v not in known]
    if unknown:
        raise ValueError(f"unknown eSpeak voice variant(s) {', '.join(map(repr, unknown))} in the speech recipe")
    if set(recipe["voices"]["seen"]) & set(recipe["voices"]["unseen"]):
        raise ValueError("a voice is both seen and unseen in the speech recipe")


def plan_utterances(recipe: dict, sentences: list[str]) -> dict[str, list[dict]]:
    """Per split, the utterances to synthesize: text, voice, rate, pitch, pitch range, SNR and noise seed."""
    train_pool, test_pool = split_texts(sentences, recipe["test_fraction"])
    sizes, pro = recipe["sizes"], recipe["prosody"]
    rng = np.random.default_rng(recipe["seed"])
    n_test = max(sizes["test_seen"], sizes["test_unseen"])
    if sizes["train"] > len(train_pool) or n_test > len(test_pool):
        raise ValueError(f"text too short: {len(train_pool)} train / {len(test_pool)} test sentences for {sizes}")
    texts = {"train": [train_pool[i] for i in rng.permutation(len(train_pool))[: sizes["train"]]]}
    test_texts = [test_pool[i] for i in rng.permutation(len(test_pool))[:n_test]]
    texts["test_seen"], texts["test_unseen"] = test_texts[: sizes["test_seen"]], test_texts[: sizes["test_unseen"]]
    plan = {}
    for k, split in enumerate(SPLITS):
        voices = recipe["voices"]["unseen" if split == "test_unseen" else "seen"]
        r = np.random.default_rng([recipe["seed"], k])
        plan[split] = [
            {"text": t, "voice": voices[int(r.integers(len(voices)))],
             "rate": int(r.integers(pro["rate"][0], pro["rate"][1] + 1)),
             "pitch": int(r.integers(pro["pitch"][0], pro["pitch"][1] + 1)),
             "pitch_range": int(r.integers(pro["pitch_range"][0], pro["pitch_range"][1] + 1)),
             "snr_db": float(r.uniform(*pro["snr_db"])), "noise_seed": [recipe["seed"], k, i]}
            for i, t in enumerate(texts[split])
        ]  # fmt: skip
    return plan


# ----------------------------------------------------------------------------------------------------- build / load
def corpus_dir(root: str | Path | None = None, profile: str = "quick") -> Path:
    """Where a profile's corpus lives: ``<root>/speech/<profile>``; root None = ``kdlab.paths.data_root()``."""
    from kdlab.paths import data_root

    return data_root(root) / "speech" / profile


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: unreadable ({type(e).__name__}); delete {path.parent} and run `{REPAIR}`") from e


def verify_corpus(folder: str | Path, recipe: dict) -> dict:
    """The manifest of a complete corpus built from ``recipe``; DataError if missing, partial, corrupt or foreign."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: speech corpus missing (expected recipe.json, *.npy, manifest.json); run `{REPAIR}`")
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise DataError(
            f"{manifest_path}: missing, the corpus build did not finish; delete {folder} and run `{REPAIR}`"
        )
    manifest = _read_json(manifest_path)
    found = _read_json(folder / "recipe.json")
    if found != recipe:
        diff = sorted(k for k in set(found) | set(recipe) if found.get(k) != recipe.get(k))
        raise DataError(
            f"{folder / 'recipe.json'}: corpus built from another recipe (differs in {', '.join(diff)}); "
            f"delete {folder} and run `{REPAIR}` (or build_corpus(force=True))"
        )
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != digest:
            raise DataError(
                f"{path}: missing or altered (SHA-256 ≠ {digest[:12]}…); delete {folder} and run `{REPAIR}`"
            )
    return manifest


def build_corpus(root: str | Path | None = None, profile: str = "quick", workers: int | None = None, force: bool = False,
                 *, recipe: dict | None = None) -> Path:  # fmt: skip
    """Synthesize the corpus into ``<root>/speech/<profile>`` (no-op if a valid one exists); returns the folder."""
    recipe = recipe if recipe is not None else make_recipe(profile)
    out = corpus_dir(root, recipe["profile"])
    if out.exists() and not force:
        try:
            verify_corpus(out, recipe)
            return out
        except DataError:
            if (out / "manifest.json").is_file() and _read_json(out / "recipe.json") != recipe:
                raise  # a complete corpus of another recipe: never overwritten without force
    check_voices(recipe)
    sentences = load_text(recipe)
    plan = plan_utterances(recipe, sentences)
    workers = max(1, min(workers or os.cpu_count() or 1, 16))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        (tmp / "recipe.json").write_text(json.dumps(recipe, indent=1, sort_keys=True))
        files, stats = {"recipe.json": sha256_file(tmp / "recipe.json")}, {}
        for split, arrays in synthesize_splits(plan, recipe, workers).items():
            for key, arr in arrays.items():
                name = f"{split}_{key}.npy"
                np.save(tmp / name, arr)
                files[name] = sha256_file(tmp / name)
            frames = len(arrays["feats"])
            stats[split] = {"utterances": len(plan[split]), "frames": frames, "hours": frames / 360000}
        manifest = {"schema": SCHEMA, "files": files, "stats": stats}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))  # written last
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


@dataclass
class SpeechSplit:
    """One split: frame features, frame labels and the utterances they belong to."""

    feats: torch.Tensor  # (frames, 40) float32 log-mel
    labels: torch.Tensor  # (frames,) int64 class (phone, or phone * 3 + state)
    utt_bounds: torch.Tensor  # (utts + 1,) int64: utterance u is frames utt_bounds[u]:utt_bounds[u+1]
    speakers: torch.Tensor  # (utts,) int64 index into SpeechCorpus.voices

    def utterances(self) -> list[slice]:
        """Frame slice of each utterance."""
        b = self.utt_bounds.tolist()
        return [slice(b[i], b[i + 1]) for i in range(len(b) - 1)]


@dataclass
class SpeechCorpus:
    """The synthetic speech corpus: train, test with seen speakers, test with unseen speakers."""

    train: SpeechSplit
    test_seen: SpeechSplit
    test_unseen: SpeechSplit
    phones: list[str]  # class names: "a", or "a/0", "a/1", "a/2" with three states
    voices: list[str]  # speaker names (eSpeak variants) indexed by SpeechSplit.speakers
    recipe: dict
    states: int  # 1 or 3 classes per phone


def load_corpus(root: str | Path | None = None, profile: str = "quick", states: int = 1, *,
                recipe: dict | None = None) -> SpeechCorpus:  # fmt: skip
    """Verify and load a built corpus; labels are phones (``states=1``) or phone states (``states=3``)."""
    if states not in (1, 3):
        raise ValueError(f"states must be 1 (phones) or 3 (HMM-state analog), not {states}")
    recipe = recipe if recipe is not None else make_recipe(profile)
    folder = corpus_dir(root, recipe["profile"])
    verify_corpus(folder, recipe)
    splits = {}
    for split in SPLITS:
        a = {k: np.load(folder / f"{split}_{k}.npy") for k in ("feats", "phones", "states", "utt_bounds", "speakers")}
        labels = a["phones"].astype(np.int64) * (3 if states == 3 else 1) + (a["states"] if states == 3 else 0)
        splits[split] = SpeechSplit(
            feats=torch.from_numpy(a["feats"].astype(np.float32)),
            labels=torch.from_numpy(labels.astype(np.int64)),
            utt_bounds=torch.from_numpy(a["utt_bounds"]),
            speakers=torch.from_numpy(a["speakers"].astype(np.int64)),
        )
    phones = recipe["phones"] if states == 1 else [f"{p}/{s}" for p in recipe["phones"] for s in range(3)]
    voices = recipe["voices"]["seen"] + recipe["voices"]["unseen"]
    return SpeechCorpus(**splits, phones=list(phones), voices=voices, recipe=recipe, states=states)


# ----------------------------------------------------------------------------------------------------- model inputs
def context_index(utt_bounds: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """(frames, left + 1 + right) frame indices of each frame's window, repeating edge frames within its utterance."""
    bounds = utt_bounds.long()
    lengths = bounds[1:] - bounds[:-1]
    start = torch.repeat_interleave(bounds[:-1], lengths)  # (frames,) first frame of the frame's utterance
    end = torch.repeat_interleave(bounds[1:], lengths) - 1
    frame = torch.arange(int(bounds[-1]))
    offsets = torch.arange(-left, right + 1)
    return torch.maximum(torch.minimum(frame[:, None] + offsets[None, :], end[:, None]), start[:, None])


def context_windows(feats: torch.Tensor, utt_bounds: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """(frames, (left + 1 + right) * dim) stacked neighbouring frames: the network's input (paper: 26 frames)."""
    return feats[context_index(utt_bounds, left, right)].flatten(1)


def feature_stats(feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) per coefficient, from the training frames only."""
    return feats.mean(0), feats.std(0).clamp_min(1e-5)


def normalize(feats: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per coefficient with the training statistics."""
    return (feats - mean) / std
