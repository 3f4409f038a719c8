"""Fundamental frequency of speech in plain numpy, to check that hosts sound different.

A YIN-style estimator (cumulative-mean-normalised difference, absolute
threshold) per 40 ms frame; only frames with a clear period count as voiced.
Good enough to compare a woman's and a man's median pitch without new
dependencies.
"""

from __future__ import annotations

import numpy as np


def f0_track(samples: np.ndarray, rate: int, fmin: float = 60.0, fmax: float = 450.0,
             frame: float = 0.04, hop: float = 0.01, threshold: float = 0.15) -> np.ndarray:
    """F0 in Hz of each voiced frame (unvoiced and quiet frames are left out)."""
    x = np.asarray(samples, dtype=np.float64)
    n = int(frame * rate)
    step = int(hop * rate)
    lag_min, lag_max = int(rate / fmax), min(int(rate / fmin), n - 1)
    if len(x) < n or lag_max <= lag_min:
        return np.zeros(0)
    floor = 0.05 * np.max(np.abs(x))  # skip pauses and breath
    out: list[float] = []
    for start in range(0, len(x) - n - lag_max, step):
        w = x[start : start + n]
        if np.sqrt(np.mean(w * w)) < floor * 0.3:
            continue
        seg = x[start : start + n + lag_max]
        d = _difference(w, seg, lag_max)
        cum = np.cumsum(d[1:])
        cmnd = np.ones_like(d)
        cmnd[1:] = d[1:] * np.arange(1, lag_max + 1) / np.maximum(cum, 1e-12)
        below = np.flatnonzero(cmnd[lag_min:] < threshold)
        if below.size == 0:
            continue
        tau = lag_min + below[0]
        while tau + 1 <= lag_max and cmnd[tau + 1] < cmnd[tau]:
            tau += 1  # walk down to the local minimum
        if 1 <= tau < lag_max:  # parabolic refinement
            a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
            shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
            tau = tau + float(np.clip(shift, -1, 1))
        out.append(rate / tau)
    return np.array(out)


def _difference(w: np.ndarray, seg: np.ndarray, lag_max: int) -> np.ndarray:
    """YIN's d(tau) = sum (w[j] - seg[j + tau])^2 for tau = 0..lag_max, via one FFT correlation."""
    n = len(w)
    size = 1 << int(np.ceil(np.log2(len(seg) + n)))
    corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(w, size)), size)[: lag_max + 1]
    sq = np.concatenate([[0.0], np.cumsum(seg * seg)])
    shifted = sq[n : n + lag_max + 1] - sq[: lag_max + 1]
    d = np.sum(w * w) + shifted - 2 * corr
    d[0] = 0.0
    return np.maximum(d, 0.0)


def median_f0(samples: np.ndarray, rate: int) -> float:
    """Median F0 of the voiced frames, or 0.0 when nothing is voiced."""
    track = f0_track(samples, rate)
    return float(np.median(track)) if track.size else 0.0
