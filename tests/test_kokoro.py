"""The Kokoro engine: Mandarin front end (sandhi, polyphones), file checks, and real synthesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcast.config import load_voices
from podcast.errors import EngineError
from podcast.speech import kokoro
from podcast.speech.mandarin import split_phonemes, to_ids, to_phonemes, to_pinyin
from podcast.speech.pitch import median_f0
from podcast.textnorm import SpeechProfile, builtin_lexicon, to_speech

PROFILE = SpeechProfile(latin=False, pinyin=True)
WORDS = tuple(builtin_lexicon().pinyin)


def pinyin(text: str) -> list[str]:
    return to_pinyin(to_speech(text, PROFILE), WORDS)


@pytest.mark.parametrize(("text", "expected"), [
    ("你好", "ni2 hao3"),  # 3-3 -> 2-3
    ("总体", "zong2 ti3"),
    ("展览馆", "zhan2 lan2 guan3"),  # a run of three third tones
    ("很好", "hen2 hao3"),  # across two one-syllable words
    ("一样", "yi2 yang4"),  # 一 before a 4th tone
    ("一个", "yi2 ge4"),
    ("一起", "yi4 qi3"),  # 一 before a 3rd tone
    ("一千", "yi4 qian1"),
    ("第一", "di4 yi1"),  # ordinal keeps yi1
    ("统一", "tong3 yi1"),  # final 一 keeps yi1
    ("二零一五", "er4 ling2 yi1 wu3"),  # digit reading keeps yi1
    ("看一看", "kan4 yi5 kan4"),
    ("不是", "bu2 shi4"),  # 不 before a 4th tone
    ("不对", "bu2 dui4"),
    ("不好", "bu4 hao3"),
    ("好不好", "hao3 bu5 hao3"),
    ("重排序", "chong2 pai2 xu4"),  # lexicon polyphones
    ("长上下文", "chang2 shang4 xia4 wen2"),
    ("行代码", "hang2 dai4 ma3"),
    ("权重", "quan2 zhong4"),
])
def test_tones_after_sandhi_and_polyphones(text: str, expected: str) -> None:
    assert " ".join(pinyin(text)) == expected


def test_phonemes_carry_the_changed_tones_and_pauses() -> None:
    assert to_phonemes("你好，总体。") == "ni↗xau↓, ʦʊ↗ŋtʰi↓."
    text = to_speech("重排序很好用！", PROFILE)
    assert to_phonemes(text, WORDS).startswith("ꭧʰʊ↗ŋ")  # chong2, not zhong4
    ids = to_ids(to_phonemes("大家好，欢迎收听。"))
    assert ids and all(isinstance(i, int) for i in ids)


def test_unknown_phonemes_are_an_error_not_dropped() -> None:
    with pytest.raises(ValueError, match="not in the Kokoro vocab"):
        to_ids("ni↗ 😀")


def test_long_phoneme_strings_split_at_clauses() -> None:
    text = to_phonemes("，".join(["今天我们来聊一聊大模型的推理"] * 12) + "。")
    pieces = split_phonemes(text, 120)
    assert len(pieces) > 1 and all(len(p) <= 120 for p, _ in pieces)
    assert all(p.endswith(",") for p, _ in pieces[:-1])  # cut at commas, not inside words
    assert [end for _, end in pieces] == [False] * (len(pieces) - 1) + [True]


def test_every_preset_voice_is_committed_and_checked() -> None:
    for preset in ("default", "two-women"):
        voices = load_voices(Path("."), preset)
        for host in ("A", "B"):
            v = voices.voice("kokoro", host)
            for name in (v["voice"], v.get("fallback_voice")):
                assert kokoro.load_voice(name).shape == (510, 256)


def test_a_tampered_voice_file_gives_a_one_line_error(tmp_path: Path) -> None:
    src = kokoro.voices_dir() / "zf_xiaoxiao.bin"
    data = bytearray(src.read_bytes())
    data[100] ^= 1
    (tmp_path / "zf_xiaoxiao.bin").write_bytes(bytes(data))
    with pytest.raises(EngineError, match="does not match its sha256") as info:
        kokoro.load_voice("zf_xiaoxiao", tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(EngineError, match="unknown voice 'zf_xiaoni'"):
        kokoro.load_voice("zf_xiaoni")


def test_a_damaged_joined_model_gives_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path))
    bad = tmp_path / "models" / "kokoro" / kokoro.MODEL_NAME
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a model")
    with pytest.raises(EngineError, match="does not match its sha256") as info:
        kokoro.model_path()
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def synth() -> kokoro.Synth:
    """One model load for the module; the joined model is kept in the user cache folder."""
    return kokoro.Synth()


@pytest.fixture(scope="module")
def hosts(synth: kokoro.Synth) -> dict[str, np.ndarray]:
    pool = kokoro.Pool(0)
    pool._local = synth
    voices = load_voices(Path("."), "default")
    text = to_speech("大家好，欢迎收听今天的节目。这篇论文讲的是长上下文里的重排序。", PROFILE)
    out = {}
    for host in ("A", "B"):
        v = voices.voice("kokoro", host)
        audio, spans = kokoro.synthesize_phonemes(to_phonemes(text, WORDS), v["voice"], v["speed"], pool)
        assert len(spans) == 2
        out[host] = audio
    return out


def test_each_default_host_speaks_24khz_audio(hosts: dict[str, np.ndarray]) -> None:
    assert kokoro.SAMPLE_RATE == 24000
    for audio in hosts.values():
        assert audio.dtype == np.float32
        assert 2.0 < len(audio) / kokoro.SAMPLE_RATE < 15.0
        assert float(np.sqrt(np.mean(audio**2))) > 0.02  # not silent
        assert float(np.max(np.abs(audio))) < 1.0


def test_the_woman_is_clearly_higher_than_the_man(hosts: dict[str, np.ndarray]) -> None:
    a, b = (median_f0(hosts[h], kokoro.SAMPLE_RATE) for h in ("A", "B"))
    assert a > 1.25 * b, (a, b)
    assert 80 < b < 200 < a < 330


def test_the_engine_is_registered_and_is_the_default() -> None:
    from podcast.config import Settings
    from podcast.speech import get_engine

    assert Settings().engine == "kokoro"
    engine = get_engine("kokoro")
    assert engine.workers == 2 and engine.concurrency == 4  # type: ignore[attr-defined]  # queue never dry
    assert engine.speech_text("重排序很好") == "重排序{chong2 pai2 xu4}很好"


def test_the_model_is_joined_once_into_the_cache(synth: kokoro.Synth) -> None:
    """The synth fixture joined the parts; the file is whole, checked, and reused."""
    path = kokoro.model_path()
    assert path.stat().st_size == kokoro.MODEL_SIZE
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert kokoro.model_path() == path


def test_the_engine_speaks_through_a_worker_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real path: speech text, front end, a spawned worker with its own model, sentence spans."""
    from podcast.speech import get_engine

    monkeypatch.setenv("PODCAST_KOKORO_WORKERS", "1")
    engine = get_engine("kokoro")
    text = engine.speech_text("好的。我们看 Llama-3.1-8B 的结果！")
    pool = kokoro.shared_pool()
    try:
        clip = engine.synthesize(text, {"voice": "zm_yunxi", "speed": 1.0})
    finally:
        pool.close()
    assert clip.sample_rate == 24000 and clip.duration > 1.0
    assert [s.text for s in clip.sentences] == ["好的。", "我们看拉玛三点一，八十亿的结果！"]
    assert clip.sentences[1].start > clip.sentences[0].end  # a pause between the sentences


def test_voice_tables_are_checked_against_the_committed_voices() -> None:
    from pydantic import ValidationError

    assert kokoro.KokoroVoice(voice="zm_yunjian", speed=0.9).voice == "zm_yunjian"
    with pytest.raises(ValidationError, match="unknown Kokoro voice 'zf_xiaoni'"):
        kokoro.KokoroVoice(voice="zf_xiaoni")
    with pytest.raises(ValidationError, match="unknown Kokoro voice"):
        kokoro.KokoroVoice(fallback_voice="af_heart")
    with pytest.raises(ValidationError):
        kokoro.KokoroVoice(speed=3.0)
    with pytest.raises(ValidationError):
        kokoro.KokoroVoice(pitch="+2Hz")  # type: ignore[call-arg]


def test_workers_come_from_the_settings_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PODCAST_KOKORO_WORKERS", raising=False)
    assert kokoro.KokoroEngine(settings=kokoro.KokoroSettings(workers=0)).concurrency == 1
    assert kokoro.KokoroEngine(settings=kokoro.KokoroSettings(workers=3)).workers == 3
    monkeypatch.setenv("PODCAST_KOKORO_WORKERS", "1")
    assert kokoro.KokoroEngine(settings=kokoro.KokoroSettings(workers=3)).workers == 1
    listing = kokoro.KokoroEngine().list_voices()
    assert len(listing) == 1 + len(kokoro.VOICE_SHA256) and not any("xiaoni" in line for line in listing)


def test_a_preset_with_an_unknown_voice_stops_before_anything_is_written(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from podcast.cli import main

    voices = tmp_path / "voices"
    voices.mkdir()
    preset = (Path("voices") / "default.toml").read_text("utf-8").replace('"zm_yunxi"', '"zm_nobody"')
    (voices / "odd.toml").write_text(preset, "utf-8")
    result = CliRunner().invoke(main, ["speak", "2026-11-20", "--voices", "odd", "--root", str(tmp_path),
                                       "--no-check"])
    assert result.exit_code != 0 and "engines.kokoro.B: voice" in result.output
    assert "zm_nobody" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voices"]


@pytest.mark.slow  # about a minute under load: the Kokoro model loads and speaks four lines
def test_the_default_engine_speaks_both_hosts_with_kokoro(tmp_path: Path) -> None:
    """The one end-to-end run with the default engine (every other test asks for the fast one):
    a four-line episode, spoken by two different Kokoro voices, as episode.json records."""
    import json

    import yaml
    from click.testing import CliRunner

    from podcast.cli import main

    lines = [("A", "大家好，欢迎收听。"), ("B", "今天聊一篇论文。"), ("A", "它讲长上下文。"),
             ("B", "明天见！")]
    script = {"date": "2026-11-24", "title": "测试节目", "hosts": [
        {"id": "A", "name": "林溪", "role": "主持"}, {"id": "B", "name": "周舟", "role": "搭档"}],
        "segments": [{"id": "opening", "title": "开场", "kind": "opening",
                      "lines": [{"speaker": s, "text": t} for s, t in lines]}]}
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "2026-11-24.yaml").write_text(yaml.safe_dump(script, allow_unicode=True), "utf-8")
    try:
        result = CliRunner().invoke(main, ["speak", "2026-11-24", "--root", str(tmp_path), "--no-check"])
    finally:
        kokoro.shared_pool().close()
    assert result.exit_code == 0, result.output
    episode = json.loads((tmp_path / "episodes" / "2026-11-24" / "episode.json").read_text("utf-8"))
    assert episode["engine"] == "kokoro" and episode["speech"]["engines"] == {"kokoro": 4}
    spoken = {(ln["speaker"], ln["engine"], ln["voice"]) for ln in episode["speech"]["lines"]}
    assert spoken == {("A", "kokoro", "zf_xiaoxiao"), ("B", "kokoro", "zm_yunxi")}
    assert not any(ln.get("why") for ln in episode["speech"]["lines"])
