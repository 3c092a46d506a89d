"""kdlab.data.speech and kdlab.data.espeak: a tiny synthetic corpus, its determinism, and one clear error per bad input."""

import json
import shutil

import numpy as np
import pytest
import torch

from kdlab.data import espeak, speech, speech_synth, speech_text
from kdlab.data.errors import DataError

VERSES = [
    "In the beginning God created the heaven and the earth.",
    "And the earth was without form, and void.",
    "And God said, Let there be light: and there was light.",
    "And God saw the light, that it was good.",
    "And God called the light Day, and the darkness he called Night.",
    "And God made the firmament, and divided the waters.",
    "And God called the firmament Heaven.",
    "And God said, Let the waters under the heaven be gathered together.",
    "And God called the dry land Earth.",
    "And the earth brought forth grass, and herb yielding seed.",
    "Let there be lights in the firmament of the heaven.",
    "And God made two great lights.",
    "And God set them in the firmament of the heaven.",
    "And to rule over the day and over the night.",
    "And God said, Let the waters bring forth abundantly.",
    "And God created great whales, and every living creature.",
    "And God blessed them, saying, Be fruitful, and multiply.",
    "And the evening and the morning were the fifth day.",
    "And God made the beast of the earth after his kind.",
    "So God created man in his own image.",
]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "verses.txt"
    path.write_text("\n".join(VERSES + ["And God saw the light, that it was good."]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def recipe(text_file):
    r = speech.make_recipe("tiny", text_file=text_file)
    r["test_fraction"] = 0.3  # enough distinct test verses in 20 lines
    r["shard_size"] = 3
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory, recipe):
    root = tmp_path_factory.mktemp("data")
    speech.build_corpus(root, recipe=recipe, workers=2)
    return root


def test_build_is_deterministic_and_independent_of_workers(built, recipe, tmp_path):
    folder = speech.corpus_dir(built, "tiny")
    assert not list(folder.parent.glob(".tiny*")), "no temporary folder left behind"
    again = speech.build_corpus(tmp_path, recipe=recipe, workers=1)
    first, second = (json.loads((f / "manifest.json").read_text()) for f in (folder, again))
    assert first["files"] == second["files"]
    assert speech.build_corpus(built, recipe=recipe) == folder  # valid corpus: a no-op


def test_load_corpus_shapes_and_speakers(built, recipe):
    c = speech.load_corpus(built, recipe=recipe)
    assert len(c.phones) == len(speech.PHONES) == 63 and c.phones[0] == "sil"
    unseen = {c.voices.index(v) for v in speech.UNSEEN_VOICES}
    for name, split in (("train", c.train), ("test_seen", c.test_seen), ("test_unseen", c.test_unseen)):
        frames = split.feats.shape[0]
        assert split.feats.dtype == torch.float32 and split.feats.shape == (frames, 40)
        assert split.labels.dtype == torch.int64 and split.labels.shape == (frames,)
        assert 0 <= split.labels.min() and split.labels.max() < 63
        assert split.utt_bounds[0] == 0 and split.utt_bounds[-1] == frames
        assert len(split.speakers) == recipe["sizes"][name] == len(split.utterances())
        assert ({int(s) in unseen for s in split.speakers} == {True}) == (name == "test_unseen")
        assert torch.isfinite(split.feats).all()
        assert (split.labels == 0).float().mean() < 0.5  # mostly speech, not silence
    c3 = speech.load_corpus(built, states=3, recipe=recipe)
    assert len(c3.phones) == 189 and c3.phones[:3] == ["sil/0", "sil/1", "sil/2"]
    assert torch.equal(c3.train.labels // 3, c.train.labels)
    assert set(torch.unique(c3.train.labels % 3).tolist()) == {0, 1, 2}


def test_train_and_test_share_no_sentence(recipe):
    plan = speech.plan_utterances(recipe, speech_text.load_text(recipe))
    train = {speech_text.normalize_text(u["text"]) for u in plan["train"]}
    test = {speech_text.normalize_text(u["text"]) for u in plan["test_seen"] + plan["test_unseen"]}
    assert train and test and not train & test
    assert [u["text"] for u in plan["test_seen"]] == [u["text"] for u in plan["test_unseen"]]


def test_missing_incomplete_corrupt_and_foreign_corpus(built, recipe, tmp_path):
    with pytest.raises(DataError, match="kdlab fetch speech"):
        speech.load_corpus(tmp_path, recipe=recipe)
    copy = tmp_path / "speech" / "tiny"
    shutil.copytree(speech.corpus_dir(built, "tiny"), copy)
    other = dict(recipe, seed=recipe["seed"] + 1)
    with pytest.raises(DataError, match="another recipe"):
        speech.load_corpus(tmp_path, recipe=other)
    with pytest.raises(DataError, match="another recipe"):
        speech.build_corpus(tmp_path, recipe=other)  # never overwritten without force
    with open(copy / "train_feats.npy", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\0\0\0\0")
    with pytest.raises(DataError, match="altered"):
        speech.load_corpus(tmp_path, recipe=recipe)
    (copy / "manifest.json").unlink()
    with pytest.raises(DataError, match="did not finish"):
        speech.load_corpus(tmp_path, recipe=recipe)


def test_failed_build_leaves_nothing_that_looks_complete(recipe, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("synthesis interrupted")

    monkeypatch.setattr(speech, "synthesize_splits", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        speech.build_corpus(tmp_path, recipe=recipe)
    assert list((tmp_path / "speech").iterdir()) == []


def test_bad_text(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        speech.make_recipe("tiny", text_file=empty)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Dieu créa le ciel".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        speech.make_recipe("tiny", text_file=latin1)
    with pytest.raises(ValueError, match="unknown speech profile"):
        speech.make_recipe("huge")


def test_unknown_voice(recipe, tmp_path):
    bad = json.loads(json.dumps(recipe))
    bad["voices"]["seen"].append("no-such-voice")
    with pytest.raises(ValueError, match="no-such-voice"):
        speech.build_corpus(tmp_path, recipe=bad)
    es = espeak.Espeak.get()
    with pytest.raises(ValueError, match="unknown eSpeak voice variant"):
        es.set_voice("en-us", "no-such-voice")
    with pytest.raises(ValueError, match="unknown eSpeak voice"):
        es.set_voice("xx-nowhere")


def test_missing_or_mismatched_library(tmp_path, monkeypatch):
    lib, data = espeak.default_paths()
    with pytest.raises(DataError, match="library missing"):
        espeak.Espeak(library=tmp_path / "libespeak-ng.so", data=data)
    fake = tmp_path / "libespeak-ng.so"
    fake.write_bytes(b"not a shared library")
    with pytest.raises(DataError, match="not a loadable"):
        espeak.Espeak(library=fake, data=data)
    with pytest.raises(DataError, match="espeak-ng-data"):
        espeak.Espeak(library=lib, data=tmp_path)
    monkeypatch.setattr(espeak, "EXPECTED_VERSION", "9.99")
    with pytest.raises(DataError, match="expected 9.99"):
        espeak.Espeak(library=lib, data=data)


def test_synthesis_gives_timed_phonemes():
    es = espeak.Espeak.get()
    es.set_voice("en-us", "m3")
    utt = es.synthesize("And God saw the light.", rate=175, seed=1)
    assert utt.sample_rate == 22050 and utt.audio.dtype == np.int16 and utt.audio.size > 22050 // 2
    assert np.all(np.diff(utt.starts) >= 0) and utt.starts[-1] <= utt.audio.size
    assert {"g", "s", "l", "aI", "t"} <= set(utt.phonemes) and not any(c in "',%=" for p in utt.phonemes for c in p)
    with pytest.raises(ValueError, match="empty"):
        es.synthesize("   ")


def test_frame_labels_by_hand():
    # segments at 22050 Hz: sil [0, 2205), phone 5 [2205, 4410), phone 5 again (merged), phone 7 [6615, end)
    starts = np.array([0, 2205, 3000, 6615])
    classes = np.array([0, 5, 5, 7])
    phone, state = speech_synth.frame_labels(starts, classes, 8820, 38, 22050, 16000, 160, 400)
    centres_s = (np.arange(38) * 160 + 200) / 16000
    expected = np.select([centres_s < 0.1, centres_s < 0.3], [0, 5], 7)
    assert phone.tolist() == expected.tolist()
    third = ((centres_s[phone == 5] - 0.1) // (0.2 / 3)).astype(int)
    assert state[phone == 5].tolist() == third.tolist()


def test_context_windows_repeat_edge_frames():
    feats = torch.arange(5.0)[:, None].repeat(1, 2)  # frame i has value i in both dims
    out = speech.context_windows(feats, torch.tensor([0, 3, 5]), left=2, right=1)
    assert out.shape == (5, 8)
    assert out[:, ::2].tolist() == [[0, 0, 0, 1], [0, 0, 1, 2], [0, 1, 2, 2], [3, 3, 3, 4], [3, 3, 4, 4]]


def test_normalize_with_training_stats():
    g = torch.Generator().manual_seed(0)
    train = 3 + 2 * torch.randn(1000, 4, generator=g)
    mean, std = speech.feature_stats(train)
    z = speech.normalize(train, mean, std)
    assert torch.allclose(z.mean(0), torch.zeros(4), atol=1e-5) and torch.allclose(z.std(0), torch.ones(4), atol=1e-5)


@pytest.mark.skipif(shutil.which("bible") is None, reason="needs Debian's bible-kjv (apt-get install bible-kjv)")
def test_kjv_text_is_verified_and_split_by_sentence():
    verses, digest = speech_text.kjv_verses()
    assert len(verses) == 31102 and digest == speech_text.KJV_SHA256
    assert verses[0] == "In the beginning God created the heaven and the earth."
    train, test = speech_text.split_texts(verses)
    assert 0.08 < len(test) / (len(train) + len(test)) < 0.12
    assert not {speech_text.normalize_text(s) for s in train} & {speech_text.normalize_text(s) for s in test}
