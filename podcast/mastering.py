"""A producer's pass over every spoken clip before the programme is assembled.

The programme normalisation in ``audio.master`` sets one gain for the whole
episode; a listener still hears every jump between lines, every line that
stops mid-syllable and every vocoder click. So each clip is handled on its
own first, one engine call (a timed span) at a time:

* vocoder ticks (< 5 ms high-band spikes) are found and the high band is
  pulled down locally, only for engines that declare ``vocoder_ticks``;
* each span is levelled to one reference loudness (BS.1770, gated), so
  the loudness of sentence cues hardly varies;
* every span edge gets a short raised-cosine fade, and an ending still at
  speech level (cut off by the engine) gets a longer one and is reported,
  so the synthesis side can speak it again in pieces.

Everything is plain numpy/SciPy arithmetic: the same clip always gives the
same samples, which keeps rebuilds byte-identical.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from .models import Clip

REFERENCE_LUFS = -23.0  # clips meet here; the programme gain then moves everything to the target
MAX_GAIN_DB = 15.0
EDGE_FADE = 0.008  # s, raised cosine at every span edge
CUT_OFF_FADE = 0.12  # s, for an ending the engine cut off at speech level
CUT_OFF_DB = -10.0  # last 20 ms this close to the speech level = cut off
TICK_HP_HZ = 4000.0
TICK_RISE_DB = 21.0  # over the local (50 ms) high-band background
TICK_VOICED_DB = -12.0  # only inside voiced speech: a plosive burst after silence is no tick
TICK_MAX = 0.005  # s: longer bursts are consonants, not ticks
PAUSE = 0.12  # s: a breath a listener notices


# ------------------------------------------------------------------ loudness (ITU-R BS.1770)

@cache
def _k_weighting(rate: int) -> np.ndarray:
    """The BS.1770 K-weighting (shelf + high pass) for any rate, as libebur128 derives it."""
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


def loudness(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness in LUFS (mono, as dual mono like ``audio.measure``).

    400 ms blocks with 75 % overlap, absolute gate −70 LUFS, relative gate −10 LU;
    a span shorter than one block counts as a single block.
    """
    from scipy.signal import sosfilt

    if samples.size == 0:
        return -120.0
    weighted = sosfilt(_k_weighting(rate), samples.astype(np.float64))
    block, hop = int(0.4 * rate), int(0.1 * rate)
    if len(weighted) <= block:
        powers = np.array([np.mean(weighted**2)])
    else:
        csum = np.concatenate([[0.0], np.cumsum(weighted**2)])
        starts = np.arange(0, len(weighted) - block + 1, hop)
        powers = (csum[starts + block] - csum[starts]) / block
    offset = -0.691 + 10 * math.log10(2)  # dual mono: a mono file plays on two speakers
    levels = offset + 10 * np.log10(np.maximum(powers, 1e-20))
    kept = powers[levels > -70]
    if kept.size == 0:
        return -120.0
    relative = offset + 10 * math.log10(kept.mean()) - 10
    kept = kept[offset + 10 * np.log10(kept) > relative]
    return float(offset + 10 * math.log10(kept.mean()))


def spread(levels: Sequence[float]) -> tuple[float, float]:
    """(standard deviation, largest neighbour jump) of a run of loudness values, in LU."""
    if len(levels) < 2:
        return 0.0, 0.0
    arr = np.asarray(levels)
    return float(arr.std()), float(np.max(np.abs(np.diff(arr))))


# ------------------------------------------------------------------ endings and fades

def _frame_rms(samples: np.ndarray, frame: int) -> np.ndarray:
    n = len(samples) // frame
    if n == 0:
        return np.zeros(0)
    return np.sqrt(np.mean(np.square(samples[: n * frame].reshape(n, frame), dtype=np.float64), axis=1))


def speech_level(samples: np.ndarray, rate: int) -> float:
    """RMS of the clip's voiced part: the median of 20 ms frames within 40 dB of its loudest."""
    rms = _frame_rms(samples, max(1, int(0.02 * rate)))
    if rms.size == 0 or rms.max() <= 0:
        return 0.0
    return float(np.median(rms[rms > rms.max() * 0.01]))


def ending_db(samples: np.ndarray, sr: int) -> float:
    """Level of the last 20 ms (trailing digital silence ignored) against the speech level, in dB."""
    nonzero = np.flatnonzero(np.abs(samples) > 1e-6)
    level = speech_level(samples, sr)
    if nonzero.size == 0 or level <= 0:
        return -120.0
    end = nonzero[-1] + 1
    tail = samples[max(0, end - int(0.02 * sr)) : end].astype(np.float64)
    return 20 * math.log10(max(float(np.sqrt(np.mean(tail**2))), 1e-9) / level)


def cut_off_ending(samples: np.ndarray, sr: int) -> bool:
    """Whether a clip stops while still speaking: its last 20 ms within 10 dB of its speech level.

    A finished syllable decays into the engine's trailing air; a cut-off one
    stops at full level, which a listener hears as a click and a swallowed word.
    """
    if len(samples) < int(0.1 * sr):
        return False
    return ending_db(samples, sr) > CUT_OFF_DB


def _ramp(n: int) -> np.ndarray:
    """A raised-cosine rise of ``n`` samples (0 → 1)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


def fade(samples: np.ndarray, rate: int, fade_in: float, fade_out: float) -> None:
    """Raised-cosine fade in and out, in place."""
    n_in = min(len(samples) // 2, int(fade_in * rate))
    n_out = min(len(samples) // 2, int(fade_out * rate))
    if n_in:
        samples[:n_in] *= _ramp(n_in)
    if n_out:
        samples[-n_out:] *= _ramp(n_out)[::-1]


# ------------------------------------------------------------------ vocoder ticks

def _high_band(samples: np.ndarray, rate: int) -> np.ndarray:
    """The band above 4 kHz, zero-phase, so ``samples - band`` is exactly the rest."""
    from scipy.signal import butter, sosfiltfilt

    if len(samples) < 64 or rate <= 2 * TICK_HP_HZ:
        return np.zeros_like(samples)
    sos = butter(4, TICK_HP_HZ, btype="highpass", fs=rate, output="sos")
    return sosfiltfilt(sos, samples.astype(np.float64)).astype(np.float32)


def _tick_frames(band: np.ndarray, rate: int, level: float) -> tuple[np.ndarray, np.ndarray, int]:
    """1 ms high-band power, its local 50 ms background (median) and the frame length."""
    from scipy.ndimage import median_filter

    frame = max(1, int(0.001 * rate))
    power = _frame_rms(band, frame) ** 2
    background = median_filter(power, size=51, mode="nearest") if power.size else power
    floor = (level * 10 ** (-40 / 20)) ** 2  # ignore spikes in near silence
    return power, np.maximum(background, floor), frame


def find_ticks(samples: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """Sample ranges of high-band spikes shorter than 5 ms standing 21 dB over the 50 ms around them.

    Fricatives are loud in the high band too, but for tens of milliseconds, so
    they raise the local median with them; a vocoder tick does not.
    """
    return _ticks(samples, _high_band(samples, rate), rate, speech_level(samples, rate))


def _ticks(samples: np.ndarray, band: np.ndarray, rate: int, level: float) -> list[tuple[int, int]]:
    from scipy.ndimage import median_filter

    if level <= 0:
        return []
    power, background, frame = _tick_frames(band, rate, level)
    voiced = median_filter(_frame_rms(samples, frame) ** 2, size=5, mode="nearest")
    loud_enough = voiced > (level * 10 ** (TICK_VOICED_DB / 20)) ** 2
    hot = (power > background * 10 ** (TICK_RISE_DB / 10)) & loud_enough
    out: list[tuple[int, int]] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if (b - a) * frame <= TICK_MAX * rate:
            out.append((int(a) * frame, int(b) * frame))
    return out


def suppress_ticks(samples: np.ndarray, rate: int) -> tuple[np.ndarray, int, int]:
    """(samples with each tick's high band pulled down to its background, ticks before, after).

    Only the band above 4 kHz is touched, only for a few milliseconds, with
    1 ms raised-cosine ramps: the voice underneath is left as it was. A second
    pass takes the ticks the first one left standing (a tick on a tick).
    """
    level = speech_level(samples, rate)
    out, before = _suppress_once(samples, rate, level)
    if not before:
        return samples, 0, 0
    out, _ = _suppress_once(out, rate, level)
    return out, before, len(_ticks(out, _high_band(out, rate), rate, level))


def _suppress_once(samples: np.ndarray, rate: int, level: float) -> tuple[np.ndarray, int]:
    band = _high_band(samples, rate)
    ticks = _ticks(samples, band, rate, level)
    if not ticks:
        return samples, 0
    power, background, frame = _tick_frames(band, rate, level)
    gain = np.ones(len(samples), np.float32)
    ramp = max(1, int(0.001 * rate))
    for a, b in ticks:
        fa, fb = a // frame, b // frame
        a, b = max(0, a - frame), min(len(samples), b + frame)  # the tick's edges spill into neighbours
        g = float(np.sqrt(background[fa:fb].max() / max(power[fa:fb].max(), 1e-20)))
        lo, hi = max(0, a - ramp), min(len(samples), b + ramp)
        env = np.full(hi - lo, g, np.float32)
        rise = _ramp(a - lo)
        env[: a - lo] = 1 - (1 - g) * rise
        fall = _ramp(hi - b)[::-1]
        env[len(env) - (hi - b):] = 1 - (1 - g) * fall
        np.minimum(gain[lo:hi], env, out=gain[lo:hi])
    return (samples - (1 - gain) * band).astype(np.float32), len(ticks)


# ------------------------------------------------------------------ one clip

@dataclass(frozen=True)
class ClipReport:
    """What mastering found in one clip."""

    speech_seconds: float
    ticks_before: int
    ticks_after: int
    cut_off: int  # spans whose ending was still at speech level
    fixed: int  # of those, how many the longer fade brought below the threshold


def _spans(clip: Clip) -> list[tuple[int, int]]:
    """Sample ranges of the engine's timed spans (the whole clip when it gave none)."""
    n, rate = len(clip.samples), clip.sample_rate
    spans = [(max(0, round(s.start * rate)), min(n, round(s.end * rate))) for s in clip.sentences]
    spans = [(a, b) for a, b in spans if b > a]
    ordered = all(b0 <= a1 for (_, b0), (a1, _) in itertools.pairwise(spans))
    return spans if spans and ordered else [(0, n)]


def master_clip(clip: Clip, suppress: bool) -> tuple[Clip, ClipReport]:
    """Level, fade and (if ``suppress``) de-tick one clip; its length and timings are unchanged."""
    rate = clip.sample_rate
    samples = np.array(clip.samples, dtype=np.float32)
    before = after = 0
    if suppress:
        samples, before, after = suppress_ticks(samples, rate)
    else:
        before = after = len(find_ticks(samples, rate))
    spans = _spans(clip)
    gains = []
    for a, b in spans:
        measured = loudness(samples[a:b], rate)
        gains.append(0.0 if measured <= -70 else float(np.clip(REFERENCE_LUFS - measured,
                                                               -MAX_GAIN_DB, MAX_GAIN_DB)))
    # one gain per span; the change happens in the gap between spans, where there is no voice
    envelope = np.full(len(samples), 10 ** (gains[0] / 20), np.float32)
    for i in range(1, len(spans)):
        cut = (spans[i - 1][1] + spans[i][0]) // 2
        envelope[cut:] = 10 ** (gains[i] / 20)
        width = min(int(0.02 * rate), max(1, spans[i][0] - spans[i - 1][1]))
        lo = max(0, cut - width // 2)
        hi = min(len(samples), lo + width)
        g0, g1 = 10 ** (gains[i - 1] / 20), 10 ** (gains[i] / 20)
        envelope[lo:hi] = g0 + (g1 - g0) * _ramp(hi - lo)
    samples *= envelope
    cut_off = fixed = 0
    for a, b in spans:
        piece = samples[a:b]
        if cut_off_ending(piece, rate):
            cut_off += 1
            fade(piece, rate, EDGE_FADE, CUT_OFF_FADE)
            fixed += not cut_off_ending(piece, rate)
        else:
            fade(piece, rate, EDGE_FADE, EDGE_FADE)
    speech = sum(b - a for a, b in spans) / rate
    return replace(clip, samples=samples), ClipReport(speech, before, after, cut_off, fixed)


# ------------------------------------------------------------------ whole-programme figures

def longest_unpaused(samples: np.ndarray, rate: int, spans: Sequence[tuple[float, float]],
                     pause: float = PAUSE) -> float:
    """Longest stretch, inside any one line, with no quiet gap of ``pause`` seconds (in seconds).

    A frame is quiet when its RMS is 30 dB under the line's speech level.
    """
    frame = max(1, int(0.01 * rate))
    need = max(1, round(pause / 0.01))
    longest = 0.0
    for a, b in spans:
        piece = samples[int(a * rate) : int(b * rate)]
        rms = _frame_rms(piece, frame)
        if rms.size == 0:
            continue
        level = speech_level(piece, rate)
        quiet = rms < level * 10 ** (-30 / 20)
        run_start, quiet_run = 0, 0
        for i, q in enumerate(quiet):
            quiet_run = quiet_run + 1 if q else 0
            if quiet_run == need:
                longest = max(longest, (i + 1 - need - run_start) * 0.01)
            if quiet_run >= need:
                run_start = i + 1
        longest = max(longest, (len(quiet) - run_start) * 0.01)
    return round(longest, 2)


def cue_loudness(samples: np.ndarray, rate: int, cues: Sequence[tuple[float, float]],
                 shortest: float = 0.5) -> list[float]:
    """Gated loudness of each cue long enough to measure (``shortest`` seconds or more)."""
    out = []
    for start, end in cues:
        if end - start >= shortest:
            value = loudness(samples[int(start * rate) : int(end * rate)], rate)
            if value > -70:
                out.append(value)
    return out

