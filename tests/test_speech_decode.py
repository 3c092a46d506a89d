"""kdlab.lessons.speech_decode: edit distance, HMM estimation and Viterbi on examples small enough to check by hand."""

import itertools
import math

import pytest
import torch

from kdlab.lessons.speech_decode import (
    PhoneHMM,
    decode,
    edit_distance,
    estimate_hmm,
    phone_error_rate,
    phone_sequence,
    viterbi,
    viterbi_batch,
)


def test_edit_distance_by_hand():
    assert edit_distance([], []) == 0
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([1, 2, 3], [1, 3]) == 1  # one deletion
    assert edit_distance([1, 2, 3], [1, 4, 3]) == 1  # one substitution
    assert edit_distance([1, 2], [1, 2, 5, 6]) == 2  # two insertions
    assert edit_distance([1, 2, 3, 4], [4, 3, 2, 1]) == 4


def test_phone_error_rate():
    # errors 1 + 2 over 3 + 2 reference phones
    assert phone_error_rate([[1, 2, 3], [4, 5]], [[1, 3], [6]]) == pytest.approx(3 / 5)
    with pytest.raises(ValueError):
        phone_error_rate([[1]], [])
    with pytest.raises(ValueError):
        phone_error_rate([[]], [[1]])


def test_phone_sequence_merges_states_and_drops_silence():
    path = torch.tensor([0, 0, 6, 7, 8, 8, 3, 0, 6])  # three states per phone: 6,7,8 = phone 2; 3 = phone 1
    assert phone_sequence(path, states=3) == [2, 1, 2]
    assert phone_sequence(torch.tensor([0, 2, 2, 1, 1, 0]), states=1) == [2, 1]


def test_estimate_hmm_counts():
    labels = torch.tensor([0, 0, 1, 1, 1, 0, 2, 2])  # one utterance: segments 0 1 0 2
    hmm = estimate_hmm(labels, torch.tensor([0, 8]), num_classes=3, smoothing=0.0)
    trans = hmm.log_trans.exp()
    # class 0: 1 stay (0->0) and 2 leaves (0->1, 0->2): p_stay = 1/3, moves split evenly
    assert trans[0].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    # class 1: 2 stays, 1 leave to 0
    assert trans[1].tolist() == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert hmm.log_prior.exp().tolist() == pytest.approx([3 / 8, 3 / 8, 2 / 8])
    assert hmm.log_init.exp().tolist() == pytest.approx([1.0, 0.0, 0.0])
    smoothed = estimate_hmm(labels, torch.tensor([0, 8]), num_classes=3)
    assert torch.allclose(smoothed.log_trans.exp().sum(1), torch.ones(3))


def test_viterbi_equals_brute_force():
    g = torch.Generator().manual_seed(0)
    frames, n = 5, 3
    emis = torch.randn(frames, n, generator=g)
    trans = torch.log_softmax(torch.randn(n, n, generator=g), dim=1)
    init = torch.log_softmax(torch.randn(n, generator=g), dim=0)

    def score(path):
        return (
            init[path[0]]
            + emis[0, path[0]]
            + sum(trans[a, b] + emis[t + 1, b] for t, (a, b) in enumerate(zip(path, path[1:])))
        )

    best = max(itertools.product(range(n), repeat=frames), key=lambda p: float(score(p)))
    assert viterbi(emis, trans, init).tolist() == list(best)


def test_self_loops_smooth_a_noisy_frame():
    # Two classes; frame 2 mildly prefers class 1, but leaving class 0 for one frame costs two switches.
    post = torch.log(torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.9, 0.1], [0.9, 0.1]]))
    hmm = PhoneHMM(
        log_prior=torch.log(torch.tensor([0.5, 0.5])),
        log_trans=torch.log(torch.tensor([[0.9, 0.1], [0.1, 0.9]])),
        log_init=torch.log(torch.tensor([0.5, 0.5])),
    )
    # staying: 0.9^4 * 0.6... compare by hand: path 00000 vs 00100 differ by log(.4/.6) vs 2*log(.1/.9)
    assert math.log(0.4 / 0.6) > 2 * math.log(0.1 / 0.9)
    (path,) = decode(post, torch.tensor([0, 5]), hmm)
    assert path.tolist() == [0, 0, 0, 0, 0]
    # frame-wise argmax would have flipped it; with a flat transition matrix Viterbi does too
    flat = PhoneHMM(hmm.log_prior, torch.log(torch.full((2, 2), 0.5)), hmm.log_init)
    (path,) = decode(post, torch.tensor([0, 5]), flat)
    assert path.tolist() == [0, 0, 1, 0, 0]


def test_priors_divide_the_posteriors():
    # Equal posteriors; the rare class wins once divided by its small prior.
    post = torch.log(torch.tensor([[0.5, 0.5]]))
    hmm = PhoneHMM(torch.log(torch.tensor([0.9, 0.1])), torch.zeros(2, 2), torch.zeros(2))
    assert decode(post, torch.tensor([0, 1]), hmm)[0].tolist() == [1]
    assert decode(post, torch.tensor([0, 1]), hmm, prior_scale=0.0)[0].tolist() == [0]


def test_batched_viterbi_equals_one_by_one():
    g = torch.Generator().manual_seed(1)
    lengths = [7, 1, 4, 9]
    n = 4
    trans = torch.log_softmax(torch.randn(n, n, generator=g), dim=1)
    init = torch.log_softmax(torch.randn(n, generator=g), dim=0)
    emis = [torch.randn(k, n, generator=g) for k in lengths]
    padded = torch.nn.utils.rnn.pad_sequence(emis, batch_first=True)
    out = viterbi_batch(padded, torch.tensor(lengths), trans, init)
    for k, e in enumerate(emis):
        assert out[k, : lengths[k]].tolist() == viterbi(e, trans, init).tolist()
    hmm = PhoneHMM(torch.zeros(n), trans, init)
    paths = decode(torch.cat(emis), torch.tensor([0, 7, 8, 12, 21]), hmm, prior_scale=0.0, batch=3)
    assert [p.tolist() for p in paths] == [viterbi(e, trans, init).tolist() for e in emis]
