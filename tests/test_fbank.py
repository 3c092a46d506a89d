"""kdlab.data.fbank against kaldi_native_fbank (an independent Kaldi implementation) and Kaldi's frame count rule."""

import numpy as np
import pytest
import torch

from kdlab.data.fbank import FbankConfig, fbank, mel_banks, num_frames

knf = pytest.importorskip("kaldi_native_fbank")


def kaldi_reference(x: np.ndarray, cfg: FbankConfig) -> np.ndarray:
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = cfg.sample_rate
    opts.frame_opts.frame_length_ms = cfg.frame_length_ms
    opts.frame_opts.frame_shift_ms = cfg.frame_shift_ms
    opts.mel_opts.num_bins = cfg.num_mel_bins
    f = knf.OnlineFbank(opts)
    f.accept_waveform(cfg.sample_rate, x.astype(np.float32).tolist())
    f.input_finished()
    return np.stack([f.get_frame(i) for i in range(f.num_frames_ready)])


@pytest.mark.parametrize("num_mel_bins", [40, 23])
def test_matches_kaldi_native_fbank(num_mel_bins):
    cfg = FbankConfig(num_mel_bins=num_mel_bins)
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2)
    x = 3000 * rng.standard_normal(t.size) + 8000 * np.sin(0.07 * t) + 500  # noise, a tone, a DC offset
    x = np.round(x).astype(np.float32)  # int16-scale samples, as the corpus feeds them
    ours = fbank(x, cfg).numpy()
    ref = kaldi_reference(x, cfg)
    assert ours.shape == ref.shape == (num_frames(x.size, cfg), num_mel_bins)
    np.testing.assert_allclose(ours, ref, atol=2e-4, rtol=0)


def test_silence_is_floored_at_flt_epsilon():
    out = fbank(np.zeros(800, np.float32))
    assert torch.allclose(out, torch.full_like(out, float(np.log(np.float32(1.1920928955078125e-07)))))


def test_frame_count_and_filters():
    cfg = FbankConfig()
    assert (cfg.window_size, cfg.window_shift, cfg.fft_size) == (400, 160, 512)
    assert [num_frames(n) for n in (0, 399, 400, 559, 560)] == [0, 0, 1, 1, 2]
    assert fbank(np.zeros(100)).shape == (0, 40)
    banks = mel_banks(cfg)
    assert banks.shape == (40, 256) and (banks >= 0).all() and (banks.sum(1) > 0).all()
