"""Kaldi-compatible log-mel filterbank features in torch (the speech corpus of notebook 05).

The paper's acoustic model reads 40 log filterbank coefficients per 10 ms frame (§4). This follows Kaldi's
``compute-fbank-feats`` with dither 0 and ``snip_edges=true``: frames of 25 ms every 10 ms, DC offset removed,
pre-emphasis x[i] -= 0.97 x[i-1] (and x[0] -= 0.97 x[0]), Povey window (0.5 - 0.5 cos(2πn/(N-1)))^0.85, zero-padded
to a 512-point FFT, power spectrum, triangular filters equally spaced on the mel scale mel(f) = 1127 ln(1 + f/700)
between 20 Hz and Nyquist, then log(max(energy, FLT_EPSILON)). ``tests/test_fbank.py`` checks it against
``kaldi_native_fbank``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

FLT_EPSILON = 1.1920928955078125e-07


@dataclass(frozen=True)
class FbankConfig:
    """Kaldi's fbank options that kdlab uses (defaults = the corpus recipe)."""

    sample_rate: int = 16000
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    num_mel_bins: int = 40
    preemph: float = 0.97
    low_freq: float = 20.0
    high_freq: float = 0.0  # <= 0 means Nyquist + high_freq, as in Kaldi

    @property
    def window_size(self) -> int:
        return int(self.sample_rate * self.frame_length_ms / 1000)  # 400 at 16 kHz

    @property
    def window_shift(self) -> int:
        return int(self.sample_rate * self.frame_shift_ms / 1000)  # 160 at 16 kHz

    @property
    def fft_size(self) -> int:
        return 1 << (self.window_size - 1).bit_length()  # next power of two: 512


def num_frames(num_samples: int, cfg: FbankConfig = FbankConfig()) -> int:
    """Frames Kaldi produces with snip_edges=true: 1 + (samples - window) // shift, 0 if too short."""
    if num_samples < cfg.window_size:
        return 0
    return 1 + (num_samples - cfg.window_size) // cfg.window_shift


def mel_banks(cfg: FbankConfig = FbankConfig()) -> torch.Tensor:
    """(num_mel_bins, fft_size // 2) triangular mel filters over FFT bins 0..N/2-1 (Kaldi omits the Nyquist bin)."""

    def mel(f):
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    nyquist = 0.5 * cfg.sample_rate
    high = cfg.high_freq if cfg.high_freq > 0 else nyquist + cfg.high_freq
    n_bins = cfg.fft_size // 2
    lo, hi = mel(cfg.low_freq), mel(high)
    delta = (hi - lo) / (cfg.num_mel_bins + 1)
    centers = lo + delta * np.arange(cfg.num_mel_bins + 2)  # left, centre, right edges of each triangle
    left, center, right = centers[:-2, None], centers[1:-1, None], centers[2:, None]
    m = mel(cfg.sample_rate / cfg.fft_size * np.arange(n_bins))[None, :]
    up = (m - left) / (center - left)
    down = (right - m) / (right - center)
    weights = np.where((m > left) & (m < right), np.minimum(up, down), 0.0)
    return torch.from_numpy(np.maximum(weights, 0.0).astype(np.float32))


def povey_window(size: int) -> torch.Tensor:
    """Kaldi's default window: a Hann window raised to the power 0.85 (denominator N-1)."""
    n = torch.arange(size, dtype=torch.float64)
    return (0.5 - 0.5 * torch.cos(2 * math.pi * n / (size - 1))).pow(0.85)


def fbank(waveform: torch.Tensor | np.ndarray, cfg: FbankConfig = FbankConfig()) -> torch.Tensor:
    """(frames, num_mel_bins) float32 log-mel energies of a mono waveform in int16 scale (Kaldi's convention)."""
    x = torch.as_tensor(np.asarray(waveform), dtype=torch.float32).flatten()  # float32 like Kaldi; ~800x realtime
    n = num_frames(x.numel(), cfg)
    if n == 0:
        return torch.zeros(0, cfg.num_mel_bins)
    frames = x.unfold(0, cfg.window_size, cfg.window_shift)[:n]  # (frames, window)
    frames = frames - frames.mean(dim=1, keepdim=True)  # remove DC offset
    shifted = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)  # x[i-1], with x[-1] := x[0]
    frames = frames - cfg.preemph * shifted
    frames = frames * povey_window(cfg.window_size).float()
    spectrum = torch.fft.rfft(frames, n=cfg.fft_size)[:, : cfg.fft_size // 2]  # (frames, 256)
    power = spectrum.real.square() + spectrum.imag.square()
    energies = power @ mel_banks(cfg).T  # (frames, mel)
    return energies.clamp_min(FLT_EPSILON).log()
