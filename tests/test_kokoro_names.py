"""How the Kokoro engine says Latin names: Chinese forms by default (measured better), English
phonemes for what the lexicon's [english] lists or a class switched on, and never silence."""

from __future__ import annotations

import pytest

from podcast.speech.kokoro import KokoroEngine
from podcast.speech.mandarin import english_phonemes, latin_class, to_ids
from podcast.textnorm import Lexicon, builtin_lexicon

RESPELL = {"arxiv": "archive", "aime": "aim", "transformer": "transformer"}


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return KokoroEngine()


@pytest.fixture(scope="module")
def english() -> KokoroEngine:
    """An engine saying both classes in English, with two respellings."""
    eng = KokoroEngine(builtin_lexicon().merged(Lexicon(english=RESPELL)))
    eng.english_classes = frozenset({"letters", "word"})
    return eng


@pytest.mark.parametrize(("name", "spoken"), [
    ("LLM", "艾勒艾勒艾姆"),
    ("Transformer", "传思佛摩"),
    ("Qwen", "千问"),
    ("DeepSeek-R1", "深度求索阿一"),
    ("GPT-4o", "吉披踢四欧"),
])
def test_default_is_the_chinese_form(engine: KokoroEngine, name: str, spoken: str) -> None:
    assert engine.speech_text(f"今天聊{name}。") == f"今天聊{spoken}。"


@pytest.mark.parametrize(("name", "spoken", "phonemes"), [
    ("LLM", "LLM", "ˈɛl ˈɛl ˈɛm"),  # letters: English letter names
    ("RLHF", "RLHF", "ˈɑɹ ˈɛl ˈAʧ ˈɛf"),
    ("CoT", "CoT", "sˈi ˈO tˈi"),  # letters, not the dictionary's "cot"
    ("Transformer", "Transformer", "tɹænsfˈɔɹməɹ"),  # listed: [sounds] has a Chinese form
    ("PokerBench", "PokerBench", "pˈOkəɹ bˈɛnʧ"),  # CamelCase dictionary words
    ("arXiv", "arXiv", "ˈɑɹkˌIv"),  # respelled "archive"
    ("AIME", "AIME", "ˈAm"),  # respelled "aim"
    ("GPT-4o", "GPT四o", "ʤˈi pˈi tˈi sɨ↘ ˈO"),  # numbers stay Chinese
])
def test_english_phonemes_when_switched_on(english: KokoroEngine, name: str, spoken: str,
                                           phonemes: str) -> None:
    text = english.speech_text(f"今天聊{name}。")
    assert text == f"今天聊{spoken}。"
    out = english.phonemes(text)
    assert phonemes in out, out
    to_ids(out)  # every symbol is in the model's vocabulary


def test_classes() -> None:
    assert latin_class("LLM") == "letters"
    assert latin_class("Transformer") == "word"
    assert latin_class("arXiv", RESPELL) == "word"
    assert latin_class("Dyna") == ""


def test_chinese_names_win_over_english(english: KokoroEngine) -> None:
    assert english.speech_text("Qwen和Google。") == "千问和谷歌。"


def test_unknown_latin_words_are_never_lost(english: KokoroEngine) -> None:
    """A word misaki does not know gets Chinese sounds instead of vanishing."""
    assert english_phonemes("Dyna") is None
    text = english.speech_text("X-Dyna很快。")
    assert text == "X迪纳很快。"
    out = english.phonemes(text)
    assert out.startswith("ˈɛks ") and "ti↗na↘" in out


def test_listed_words_are_english_by_default() -> None:
    eng = KokoroEngine(builtin_lexicon().merged(Lexicon(english={"transformer": "transformer"})))
    assert eng.speech_text("Transformer和LLM。") == "Transformer和艾勒艾勒艾姆。"
    assert "tɹænsfˈɔɹməɹ" in eng.phonemes("Transformer和艾勒艾勒艾姆。")


def test_moe_sizes_reach_the_voice(engine: KokoroEngine) -> None:
    assert engine.speech_text("Qwen3-235B-A22B和Mixtral-8x7B。") == (
        "千问三，两千三百五十亿，激活两百二十亿，和米克斯特拉尔八个七十亿。")
