"""Listening back: transcribe what was synthesized and compare it with what it should say.

The recogniser is Whisper-base (CTranslate2) from the optional ``listen`` extra;
the text side (``spoken_han``, ``cer``, ``prompt_echo``) needs nothing extra.
"""

from .asr import (
    PROMPT,
    LineCheck,
    ListenUnavailable,
    Recogniser,
    cer,
    check_line,
    missing,
    prompt_echo,
    spoken_han,
)

__all__ = [
    "PROMPT",
    "LineCheck",
    "ListenUnavailable",
    "Recogniser",
    "cer",
    "check_line",
    "missing",
    "prompt_echo",
    "spoken_han",
]
