"""Audio assembly: stitch clips with pauses, normalise loudness, encode MP3, tag ID3.

Loudness and true peak are measured in one pass of ffmpeg's ITU-R BS.1770
meter (ebur128) and corrected by a single linear gain, which is far cheaper
than ffmpeg's two-pass loudnorm (that one resamples to 192 kHz). The mono
programme is measured as dual mono (as players play it on two speakers); a
limiter runs only when the gain would push the true peak over the ceiling.
Everything stays at the engine's rate until the encoder resamples.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioError
from .models import ChapterMark, Clip, Cue, Script


def ffmpeg_exe() -> str:
    """The ffmpeg shipped by imageio-ffmpeg (no system package needed)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise AudioError("ffmpeg is missing: run 'uv sync' to install imageio-ffmpeg") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class Timeline:
    """The stitched programme before loudness and encoding."""

    samples: np.ndarray
    sample_rate: int
    chapters: tuple[ChapterMark, ...]
    cues: tuple[Cue, ...]
    line_spans: tuple[tuple[str, float, float], ...]  # (speaker id, start, end) per line
    gaps: tuple[tuple[str, float], ...] = ()  # (kind, seconds) before every line but the first


@dataclass(frozen=True)
class TurnGaps:
    """Silence between lines, following the conversation, with a little seeded variation."""

    turn: float = 0.4  # one host hands over to the other
    question: float = 0.25  # an answer comes quickly after a question
    segment: float = 1.0  # a breath before the next paper
    jitter: float = 0.15  # ± fraction, the same on every rebuild of a day


def is_question(text: str) -> bool:
    return text.rstrip(" \"'”’」』）)…").endswith(("？", "?"))


def assemble(
    script: Script,
    clips: Sequence[Clip],
    cue_texts: Sequence[Sequence[tuple[str, float, float]]],
    gaps: TurnGaps = TurnGaps(),
    lead_in: float = 0.4,
    tail: float = 0.8,
) -> Timeline:
    """Lay clips on one timeline. ``cue_texts[i]`` holds (text, start, end) inside clip i.

    The variation of the gaps is drawn from a generator seeded by the script's
    date, so an unchanged day rebuilds to the same samples."""
    if not clips:
        raise AudioError("no audio to assemble: the script has no lines")
    import hashlib

    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(script.date.isoformat().encode()).digest()[:8],
                                               "little"))
    rate = max(c.sample_rate for c in clips)  # engines may differ per line (fallbacks)
    parts: list[np.ndarray] = [np.zeros(int(lead_in * rate), np.float32)]
    t = lead_in
    chapters: list[ChapterMark] = []
    cues: list[Cue] = []
    spans: list[tuple[str, float, float]] = []
    gap_log: list[tuple[str, float]] = []
    k = 0
    previous = ""
    for si, seg in enumerate(script.segments):
        for li, line in enumerate(seg.lines):
            if si or li:
                kind = "segment" if li == 0 else "question" if is_question(previous) else "turn"
                base = getattr(gaps, kind)
                gap = round(base * (1.0 + rng.uniform(-gaps.jitter, gaps.jitter)), 3)
                parts.append(np.zeros(int(gap * rate), np.float32))
                gap_log.append((kind, gap))
                t += gap
            if li == 0:
                seg_start = 0.0 if si == 0 else t
            clip = clips[k]
            samples = resample(clip.samples.astype(np.float32), clip.sample_rate, rate)
            name = script.host(line.speaker).name
            for text, start, end in cue_texts[k]:
                cues.append(Cue(round(t + start, 3), round(t + end, 3), name, text))
            duration = len(samples) / rate
            spans.append((line.speaker, t, t + duration))
            parts.append(samples)
            t += duration
            k += 1
            previous = line.text
        chapters.append(ChapterMark(round(seg_start, 3), 0.0, seg.title, seg.url))
    parts.append(np.zeros(int(tail * rate), np.float32))
    t += tail
    ends = [c.start for c in chapters[1:]] + [t]
    chapters = [ChapterMark(c.start, round(e, 3), c.title, c.url) for c, e in zip(chapters, ends,
                                                                                  strict=True)]
    return Timeline(np.concatenate(parts), rate, tuple(chapters), tuple(cues), tuple(spans), tuple(gap_log))


def resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return samples
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(dst, src)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def measure(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of a mono signal measured as dual mono, by ffmpeg's ebur128.

    ffmpeg implements ITU-R BS.1770 and takes under a second for a 30-minute
    episode, where a Python meter plus SciPy's import cost several seconds.
    The audio is streamed from the array without a copy.
    """
    data = np.ascontiguousarray(samples, dtype="<f4")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-f", "f32le", "-ar", str(rate), "-ac", "1",
         "-i", "pipe:0", "-af", "ebur128=dualmono=true:framelog=quiet", "-f", "null", "-"],
        input=data.data.cast("B"), capture_output=True, check=False)
    text = proc.stderr.decode(errors="replace")
    for line in reversed(text.splitlines()[-30:]):
        fields = line.split()
        if fields[:1] == ["I:"] and "LUFS" in fields:
            return float(fields[1])
    raise AudioError(f"ffmpeg could not measure the loudness: {text[-200:]}")


def true_peak(samples: np.ndarray) -> float:
    """True peak in dBTP: the 4x-oversampled peak, looked for only around loud samples."""
    sample_peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if sample_peak <= 0:
        return -120.0
    blocks = _peak_blocks(samples, sample_peak * 0.7)  # overshoot beyond 3 dB does not occur in speech
    return 20 * float(np.log10(max([sample_peak] + [float(o.max()) for _, o in blocks])))


_CONTEXT = 64
_TAPS = 16  # per phase of the 4x interpolation filter


def _interpolator() -> np.ndarray:
    """A windowed-sinc 4x interpolation filter (numpy only: no SciPy import on this path)."""
    n = np.arange(-_TAPS * 2, _TAPS * 2 + 1) / 4.0
    return (np.sinc(n) * np.kaiser(len(n), 8.0)).astype(np.float64)


def _peak_blocks(samples: np.ndarray, floor: float) -> list[tuple[int, np.ndarray]]:
    """4x-oversampled magnitudes of short windows around the samples above ``floor``.

    Inter-sample peaks only matter next to loud samples, so oversampling just
    those stretches (with context for the filter) costs a tiny fraction of
    oversampling the whole programme, in time and in memory.
    """
    kernel = _interpolator()
    hot = np.flatnonzero(np.abs(samples) > floor)
    if hot.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(hot) > 2 * _CONTEXT)
    starts = np.concatenate([[hot[0]], hot[breaks + 1]])
    ends = np.concatenate([hot[breaks], [hot[-1]]])
    out = []
    for first, last in zip(starts, ends, strict=True):
        lo = max(0, int(first) - _CONTEXT)
        hi = min(len(samples), int(last) + 1 + _CONTEXT)
        stuffed = np.zeros((hi - lo) * 4)
        stuffed[::4] = samples[lo:hi]
        out.append((lo, np.abs(np.convolve(stuffed, kernel, mode="same"))))
    return out


def limit(samples: np.ndarray, ceiling_db: float, rate: int) -> None:
    """Peak limiter, in place: a smooth gain dip around each 4x-oversampled peak over the ceiling.

    Only the regions around loud blocks are touched: the gain there is the
    lowest needed within a 20 ms hold, smoothed over 10 ms so there are no clicks.
    """
    ceiling = 10 ** (ceiling_db / 20)
    hold, smooth = max(1, int(0.02 * rate)), max(1, int(0.01 * rate))
    pad = hold + smooth
    regions: list[tuple[int, np.ndarray]] = []
    for lo, over in _peak_blocks(samples, ceiling * 0.7):
        per_sample = over[: (len(over) // 4) * 4].reshape(-1, 4).max(axis=1)
        need = np.minimum(1.0, ceiling / np.maximum(per_sample, 1e-9))
        if need.min() >= 1.0:
            continue
        padded = np.concatenate([np.ones(pad), need, np.ones(pad)])
        half = hold // 2
        extended = np.concatenate([np.ones(half), padded, np.ones(hold - half - 1)])
        held = np.lib.stride_tricks.sliding_window_view(extended, hold).min(axis=1)  # centred hold
        env = np.minimum(np.convolve(held, np.ones(smooth) / smooth, mode="same"), padded)
        regions.append((lo - pad, env))
    # overlapping regions take the lower gain; then each merged span is applied once
    merged: list[tuple[int, np.ndarray]] = []
    for start, env in sorted(regions, key=lambda r: r[0]):
        if merged and start < merged[-1][0] + len(merged[-1][1]):
            m_start, m_env = merged[-1]
            end = max(m_start + len(m_env), start + len(env))
            joined = np.ones(end - m_start)
            joined[: len(m_env)] = m_env
            seg = joined[start - m_start : start - m_start + len(env)]
            np.minimum(seg, env, out=seg)
            merged[-1] = (m_start, joined)
        else:
            merged.append((start, env))
    for start, env in merged:
        a, b = max(0, start), min(len(samples), start + len(env))
        samples[a:b] *= env[a - start : b - start].astype(np.float32)


@dataclass(frozen=True)
class Mastered:
    """The programme at its working rate; ``out_rate`` is what the MP3 is encoded at."""

    samples: np.ndarray
    sample_rate: int
    loudness: float
    true_peak: float
    gain_db: float


# LAME's lowpass and quantisation raise true peaks by up to about 0.4 dB (measured: a PCM peak
# of -1.6 dBTP came out of the MP3 at -1.4), so the PCM keeps this much under the ceiling.
MP3_HEADROOM = 0.5


def master(samples: np.ndarray, rate: int, target: float, ceiling: float) -> Mastered:
    """One gain to hit ``target`` LUFS, and a limiter only if the true peak would pass ``ceiling``.

    Everything stays at the engine's rate; the encoder resamples to the output
    rate, so no long high-rate copy of the episode is ever held in memory. The
    loudness meter (an ffmpeg process) and the true-peak scan run at the same
    time: a gain scales the true peak by exactly that gain.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        loudness = pool.submit(measure, samples, rate)
        raw_peak = true_peak(samples)
        measured = loudness.result()
    if measured <= -70:
        raise AudioError("the episode is silent: loudness cannot be measured")
    gain_db = target - measured
    audio = samples * np.float32(10 ** (gain_db / 20))
    peak = raw_peak + gain_db
    room = ceiling - MP3_HEADROOM
    for _ in range(3):  # a limited peak can leave a neighbour just over; rarely needs a second pass
        if peak <= room:
            break
        limit(audio, room - 0.3, rate)
        peak = true_peak(audio)
    # the limiter touches milliseconds around a few peaks: integrated loudness stays on target
    return Mastered(audio, rate, round(target, 2), round(peak, 2), gain_db)


def _lame(audio: np.ndarray, rate: int, bitrate: int, out_rate: int, xing: bool) -> bytes:
    """One LAME (q5, "good quality, fast") encode of ``audio`` to MP3 bytes; ffmpeg resamples.

    The PCM goes through a temporary file rather than a pipe, so parallel
    encodes do not queue on Python feeding thousands of small pipe writes.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="podcast-lame-") as tmp:
        source, target = Path(tmp) / "in.pcm", Path(tmp) / "out.mp3"
        (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tofile(source)
        command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate),
                   "-ac", "1", "-i", str(source), "-ar", str(out_rate), "-ac", "1", "-c:a", "libmp3lame",
                   "-b:a", f"{bitrate}k", "-compression_level", "5", "-write_xing", "1" if xing else "0",
                   "-f", "mp3", str(target)]
        proc = subprocess.run(command, capture_output=True, check=False)
        if proc.returncode != 0 or not target.exists():
            raise AudioError(f"MP3 encoding failed: {proc.stderr.decode(errors='replace')[-300:]}")
        return target.read_bytes()


def encode_mp3(audio: np.ndarray, rate: int, path: Path, bitrate: int, out_rate: int = 44100) -> None:
    """Encode to CBR MP3 in one LAME pass, with a Xing/LAME header.

    One pass gives one continuous stream: no tag or encoder priming inside the
    audio, and the header tells players the encoder delay and padding, so
    playback starts on the first sample and seeking is exact. Joining parts
    encoded in parallel saved about half the encoding time on two cores, which
    is a second or two on a long day: not worth a stream players stumble on.
    """
    path.write_bytes(_lame(audio, rate, bitrate, out_rate, xing=True))


def export_clip_mp3(audio: np.ndarray, rate: int, path: Path, bitrate: int, out_rate: int) -> None:
    """A short clip (``podcast say``) as MP3, through pydub's exporter and the bundled ffmpeg."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pydub looks for a system ffmpeg on import
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
    try:
        segment.export(str(path), format="mp3", codec="libmp3lame", bitrate=f"{bitrate}k",
                       parameters=["-ar", str(out_rate), "-ac", "1"])
    except Exception as exc:  # pydub raises CouldntEncodeError and OSError subclasses
        raise AudioError(f"MP3 encoding failed: {exc}") from exc


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str
    album: str
    date: dt.date
    comment: str
    cover: bytes | None
    cover_mime: str = "image/jpeg"


def write_id3(path: Path, tags: Tags, chapters: Sequence[ChapterMark]) -> None:
    """ID3v2.3 tags with CHAP/CTOC chapters, readable by Apple Podcasts and most players."""
    from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TPE1, CTOCFlags
    from mutagen.mp3 import MP3

    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TDRC(encoding=3, text=tags.date.isoformat()))
    id3.add(TCON(encoding=3, text="Podcast"))
    id3.add(COMM(encoding=3, lang="chi", desc="", text=tags.comment))
    if tags.cover:
        id3.add(APIC(encoding=3, mime=tags.cover_mime, type=3, desc="Cover", data=tags.cover))
    ids = [f"chp{i}" for i in range(len(chapters))]
    id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                 child_element_ids=ids, sub_frames=[TIT2(encoding=3, text="章节")]))
    for eid, ch in zip(ids, chapters, strict=True):
        id3.add(CHAP(element_id=eid, start_time=int(ch.start * 1000), end_time=int(ch.end * 1000),
                     sub_frames=[TIT2(encoding=3, text=ch.title)]))
    id3.update_to_v23()
    id3.save(str(path), v2_version=3)
    _chapters_in_time_order(path)
    MP3(str(path))  # re-open: fails loudly if the tagged file is not a valid MP3


def _chapters_in_time_order(path: Path) -> None:
    """Reorder the frames of the file's ID3v2.3 tag: CTOC, then CHAP by start time, in place.

    mutagen writes frames ordered by size, and ffmpeg-based players list chapters
    in the order they are stored. The tag keeps its size, so only its bytes move.
    """
    import struct

    with path.open("r+b") as fh:
        head = fh.read(10)
        if head[:3] != b"ID3" or head[3] != 3:
            return
        size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        body = fh.read(size)
        frames: list[tuple[bytes, bytes]] = []
        pos = 0
        while pos + 10 <= len(body) and body[pos : pos + 4].strip(b"\0"):
            fid = body[pos : pos + 4]
            length = struct.unpack(">I", body[pos + 4 : pos + 8])[0]
            frames.append((fid, body[pos : pos + 10 + length]))
            pos += 10 + length
        padding = body[pos:]

        def chapter_start(frame: bytes) -> int:
            eid_end = frame.index(b"\0", 10)
            return int(struct.unpack(">I", frame[eid_end + 1 : eid_end + 5])[0])

        others = [f for fid, f in frames if fid not in (b"CHAP", b"CTOC")]
        tocs = [f for fid, f in frames if fid == b"CTOC"]
        chaps = sorted((f for fid, f in frames if fid == b"CHAP"), key=chapter_start)
        fh.seek(10)
        fh.write(b"".join(others + tocs + chaps) + padding)


def mp3_duration(path: Path) -> float:
    from mutagen.mp3 import MP3

    info = MP3(str(path)).info
    if info is None:
        raise AudioError(f"{path}: not an MP3 file")
    return float(info.length)


def median_f0(samples: np.ndarray, rate: int, fmin: float = 70.0, fmax: float = 400.0) -> float:
    """Median fundamental frequency of voiced frames (autocorrelation), in Hz."""
    frame, hop = int(0.04 * rate), int(0.02 * rate)
    if len(samples) < frame:
        return float("nan")
    lo, hi = int(rate / fmax), int(rate / fmin)
    starts = np.arange(0, len(samples) - frame, hop)
    if len(starts) > 4000:  # a median needs a sample of frames, not all of them
        starts = starts[np.linspace(0, len(starts) - 1, 4000).astype(int)]
    frames = samples[starts[:, None] + np.arange(frame)].astype(np.float32)
    frames -= frames.mean(axis=1, keepdims=True)
    frames = frames[np.sqrt(np.mean(frames * frames, axis=1)) >= 0.02]
    if not len(frames):
        return float("nan")
    spec = np.fft.rfft(frames, 2 * frame, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), axis=1)[:, :frame]
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    strength = ac[np.arange(len(ac)), lag] / np.maximum(ac[:, 0], 1e-12)
    voiced = lag[strength > 0.5]
    return float(np.median(rate / voiced)) if voiced.size else float("nan")


def measure_ebur128(path: Path) -> float:
    """Integrated loudness of a file as ffmpeg's ebur128 filter reports it (dual mono)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-filter_complex",
         "ebur128=dualmono=true", "-f", "null", "-"],
        capture_output=True, text=True, check=False)
    value = None
    for line in out.stderr.splitlines():
        line = line.strip()
        if line.startswith("I:") and "LUFS" in line:
            value = float(line.split()[1])
    if value is None:
        raise AudioError(f"ffmpeg could not measure {path}: {out.stderr[-200:]}")
    return value


def measure_file(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of an audio file as a listener gets it:
    decoded by ffmpeg and measured with ebur128 (dual mono, 4x-oversampled true peak)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-filter_complex",
         "ebur128=dualmono=true:peak=true:framelog=quiet", "-f", "null", "-"],
        capture_output=True, check=False)
    text = out.stderr.decode(errors="replace")  # ffmpeg echoes the tags, which may be any bytes
    loudness = peak = None
    for line in text.splitlines():
        fields = line.split()
        if fields[:1] == ["I:"] and "LUFS" in fields:
            loudness = float(fields[1])
        elif fields[:1] == ["Peak:"] and "dBFS" in fields:
            peak = float(fields[1])
    if loudness is None or peak is None or not (math.isfinite(loudness) and math.isfinite(peak)):
        raise AudioError(f"ffmpeg could not measure {path.name}: {text[-200:]}")
    return loudness, peak
