"""The show's own music: an intro sting, a soft bed under the opening, an outro sting.

Everything is synthesised here from sine partials (no third-party audio), the
same for every episode, as a show's signature is. The bed is ducked under
speech: it sits about 28 dB under the hosts while they talk and rises to about
20 dB under them in the pauses, so it colours the opening without masking a
syllable. Off by default (``[audio] music``): see the setting's comment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import mastering

INTRO = 3.2  # s of sting before the first line
OUTRO = 3.6  # s after the last line
BED_UNDER_SPEECH_DB = -28.0  # bed RMS against the hosts' speech RMS, while they speak
BED_IN_GAPS_DB = -20.0  # ... and between lines
STING_DB = -6.0  # a sting's RMS against the speech RMS: present, a little under the voices
FADE_OUT = 2.5  # s over which the bed leaves after the opening

# Equal-tempered pitches (Hz): an F major 9 colour, warm and unobtrusive.
PAD = (174.61, 220.00, 261.63, 329.63, 392.00)  # F3 A3 C4 E4 G4
RISE = (523.25, 659.25, 783.99, 1046.50)  # C5 E5 G5 C6
FALL = (1046.50, 880.00, 698.46, 523.25)  # C6 A5 F5 C5: home


def _pluck(freq: float, seconds: float, rate: int) -> np.ndarray:
    """A soft mallet note: a few partials with their own exponential decays."""
    t = np.arange(int(seconds * rate)) / rate
    note = np.zeros_like(t)
    for k, (gain, decay) in enumerate(((1.0, 1.1), (0.35, 0.6), (0.12, 0.35)), start=1):
        note += gain * np.sin(2 * np.pi * freq * k * t) * np.exp(-t / decay)
    attack = min(len(t), int(0.006 * rate))
    note[:attack] *= np.linspace(0.0, 1.0, attack)
    return note / 1.47


def _pad(seconds: float, rate: int) -> np.ndarray:
    """A sustained chord, each note two slightly detuned partial stacks, slowly breathing."""
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros_like(t)
    for i, freq in enumerate(PAD):
        for detune in (0.998, 1.002):
            for k, gain in ((1, 1.0), (2, 0.3), (3, 0.1)):
                out += gain * np.sin(2 * np.pi * freq * detune * k * t + i)
    out *= 1.0 + 0.15 * np.sin(2 * np.pi * 0.13 * t)
    return out / _rms(out)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) or 1.0


def sting(notes: Sequence[float], seconds: float, rate: int) -> np.ndarray:
    """Notes 0.2 s apart over a swell of the pad, ending in silence; RMS 1 over its first second."""
    out = 0.12 * _pad(seconds, rate)
    swell = np.sin(np.pi * np.clip(np.arange(len(out)) / len(out), 0, 1)) ** 2
    out *= swell
    for i, freq in enumerate(notes):
        start = int(i * 0.2 * rate)
        note = _pluck(freq, seconds - i * 0.2, rate)[: len(out) - start]
        out[start : start + len(note)] += note * (0.8 if i < len(notes) - 1 else 1.0)
    mastering.fade(out, rate, 0.01, 0.6)
    return out / _rms(out[:rate])


def _ducking(speech: np.ndarray, rate: int, level: float) -> np.ndarray:
    """Per-sample bed gain: low while anyone speaks (fast attack), back up in pauses (slow release)."""
    frame = max(1, int(0.02 * rate))
    rms = mastering._frame_rms(speech, frame)
    talking = (rms > level * 10 ** (-30 / 20)).astype(np.float64)
    low, high = 10 ** (BED_UNDER_SPEECH_DB / 20), 10 ** (BED_IN_GAPS_DB / 20)
    gain = np.empty_like(talking)
    g = high
    down, up = 1 - np.exp(-1 / 2.5), 1 - np.exp(-1 / 6)  # about 50 ms down, 120 ms up
    for i, on in enumerate(talking):
        target = low if on else high
        g += (target - g) * (down if target < g else up)
        gain[i] = g
    per_sample = np.repeat(gain, frame)
    if per_sample.size < speech.size:
        per_sample = np.concatenate([per_sample, np.full(speech.size - per_sample.size, g)])
    return per_sample[: speech.size]


def score(speech: np.ndarray, rate: int, opening_end: float) -> np.ndarray:
    """``speech`` (a timeline with ``INTRO`` s of silence before the first line and ``OUTRO`` s
    after the last) with the stings and the ducked bed mixed in."""
    level = mastering.speech_level(speech, rate)
    if level <= 0:
        return speech
    out = speech.astype(np.float32).copy()
    gain = level * 10 ** (STING_DB / 20)
    intro = sting(RISE, INTRO, rate) * gain
    out[: len(intro)] += intro[: len(out)]
    outro = sting(FALL, OUTRO, rate) * gain
    out[-len(outro) :] += outro[-len(out) :]
    end = min(len(out), int((opening_end + FADE_OUT) * rate))
    bed = _pad(end / rate, rate) * level
    bed *= _ducking(speech[:end], rate, level)
    mastering.fade(bed, rate, 1.0, FADE_OUT)
    out[:end] += bed.astype(np.float32)
    return out
