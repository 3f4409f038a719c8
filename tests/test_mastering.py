"""Mastering as a listener's player hears it: the built sample MP3, decoded by ffmpeg."""

from __future__ import annotations

import itertools
import json
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3

from podcast import mastering
from podcast.audio import ffmpeg_exe
from podcast.episode.breath import breath_pieces
from podcast.length import ZHTTS_PACE
from podcast.models import Episode

DATE = "2026-11-20"
RATE = 44100


def _stamp(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


@pytest.fixture(scope="module")
def heard(built: Path) -> tuple[dict, Path, np.ndarray, list[tuple[float, float, str]]]:
    """(manifest, mp3, decoded samples, VTT cues) of the sample episode, decoded once."""
    folder = built / "episodes" / DATE
    manifest = json.loads((folder / "episode.json").read_text("utf-8"))
    mp3 = folder / manifest["audio"]
    pcm = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "f32le", "-ac", "1", "-ar",
                          str(RATE), "-"], capture_output=True, check=True).stdout
    vtt = (folder / "transcript.vtt").read_text("utf-8")
    cues = [(_stamp(a), _stamp(b), text) for a, b, text in
            re.findall(r"(\S+) --> (\S+)\n<v [^>]*>(.*)", vtt)]
    return manifest, mp3, np.frombuffer(pcm, "<f4"), cues


def test_no_decode_errors_over_the_whole_file(heard) -> None:
    _, mp3, _, _ = heard
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    assert proc.stderr.strip() == ""


def test_xing_lame_header_with_delay_and_padding(heard) -> None:
    _, mp3, _, _ = heard
    data = mp3.read_bytes()
    size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    first = 10 + size
    while data[first] != 0xFF:  # ID3 padding
        first += 1
    assert data[first + 1] & 0xE0 == 0xE0, "no MP3 frame after the tag"
    frame = data[first : first + 417]
    at = max(frame.find(b"Info"), frame.find(b"Xing"))
    assert at > 0, "no Xing/Info header in the first frame"
    flags = struct.unpack(">I", frame[at + 4 : at + 8])[0]
    lame = at + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    assert frame[lame : lame + 4] in (b"LAME", b"Lavc", b"Lavf"), frame[lame : lame + 9]
    d = frame[lame + 21 : lame + 24]
    delay, padding = (d[0] << 4) | (d[1] >> 4), ((d[1] & 0x0F) << 8) | d[2]
    assert 500 < delay < 3000 and 0 <= padding < 1152 * 2


def test_chapters_stored_and_listed_in_time_order(heard) -> None:
    manifest, mp3, _, _ = heard
    listed = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(mp3)], capture_output=True,
                            text=True, check=False).stderr
    starts = [float(s) for s in re.findall(r"Chapter #\d+:\d+: start (\d+\.\d+)", listed)]
    assert len(starts) == len(manifest["chapters"]) and starts == sorted(starts)
    chaps = sorted(ID3(mp3).getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chaps] == [c["title"] for c in manifest["chapters"]]


def test_cue_loudness_is_even(heard) -> None:
    _, _, samples, cues = heard
    levels = mastering.cue_loudness(samples, RATE, [(a, b) for a, b, _ in cues])
    assert len(levels) > 20
    sd, jump = mastering.spread(levels)
    assert sd <= 1.0 and jump <= 3.0, (sd, jump)


def test_no_line_ends_cut_off(heard) -> None:
    _, _, samples, cues = heard
    ends = [b for (_, b, _), (a2, _, _) in itertools.pairwise(cues) if a2 - b >= 0.15]
    assert len(ends) > 20
    for end in ends:
        line = samples[int((end - 3) * RATE) : int(end * RATE)]
        tail = samples[int((end - 0.02) * RATE) : int(end * RATE)]
        level = mastering.speech_level(line, RATE)
        ratio = 20 * np.log10(max(float(np.sqrt(np.mean(tail.astype(np.float64) ** 2))), 1e-9) / level)
        assert ratio < mastering.CUT_OFF_DB, f"line ending at {end:.2f} s is cut off ({ratio:.1f} dB)"


def test_turn_gaps_follow_the_conversation(heard) -> None:
    manifest, _, _, cues = heard
    chapter_starts = [c["start"] for c in manifest["chapters"][1:]]
    after_question, before_paper = [], []
    for (_, end, text), (start, _, _) in itertools.pairwise(cues):
        if any(end < c <= start + 0.01 for c in chapter_starts):
            before_paper.append(start - end)
        elif text.rstrip("”」").endswith("？"):
            after_question.append(start - end)
    assert after_question and before_paper
    assert max(after_question) < min(before_paper)
    m = manifest["mastering"]
    assert m["gap_after_question_s"] < m["gap_between_turns_s"] < m["gap_before_segment_s"]


def test_figures_in_episode_json(heard) -> None:
    manifest, _, _, _ = heard
    m = manifest["mastering"]
    assert m["cue_loudness_sd_lu"] <= 1.0 and m["cue_loudness_max_jump_lu"] <= 3.0
    assert m["cut_off_endings_fixed"] == m["cut_off_endings_found"]
    assert m["ticks_suppressed"] is True
    assert m["ticks_per_speech_minute_after"] <= 1.0 <= m["ticks_per_speech_minute_before"]
    assert m["music"] is False


def test_old_episode_json_still_reads(tmp_path: Path, heard) -> None:
    manifest, _, _, _ = heard
    old = {k: v for k, v in manifest.items() if k != "mastering"}
    for line in old["speech"]["lines"]:
        line.pop("pieces", None)
        line.pop("cut_off", None)
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(old, ensure_ascii=False), "utf-8")
    episode = Episode.read(path)
    assert episode.mastering is None
    assert "mastering" not in json.loads(episode.to_json())


def test_cut_off_ending_detector() -> None:
    rate = 24000
    t = np.arange(int(0.6 * rate)) / rate
    voice = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    assert mastering.cut_off_ending(voice, rate)
    decayed = voice * np.clip((0.6 - t) / 0.15, 0, 1).astype(np.float32)
    assert not mastering.cut_off_ending(np.concatenate([decayed, np.zeros(960, np.float32)]), rate)
    faded = voice.copy()
    mastering.fade(faded, rate, mastering.EDGE_FADE, mastering.CUT_OFF_FADE)
    assert not mastering.cut_off_ending(faded, rate)


def test_tick_suppression_on_a_synthetic_vowel() -> None:
    rate = 24000
    t = np.arange(2 * rate) / rate
    rng = np.random.default_rng(1)
    vowel = (0.2 * np.sin(2 * np.pi * 200 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    clicked = vowel.copy()
    for at in (0.3, 0.9, 1.5):
        clicked[int(at * rate) : int(at * rate) + 24] += 0.3 * rng.standard_normal(24).astype(np.float32)
    assert len(mastering.find_ticks(clicked, rate)) == 3
    cleaned, before, after = mastering.suppress_ticks(clicked, rate)
    assert before == 3 and after == 0
    high = mastering._high_band  # only the band above 4 kHz is touched
    assert np.max(np.abs(high(cleaned - vowel, rate))) < 0.3 * np.max(np.abs(high(clicked - vowel, rate)))


def test_long_lines_break_at_clauses() -> None:
    text = ("这篇论文提出了一种新的训练方法，让小模型在数学证明上追上了大模型，"
            "而且代码已经开源，大家可以直接试试。")
    pieces = breath_pieces(text, ZHTTS_PACE, 5.0)
    assert len(pieces) > 1 and "".join(pieces) == text
    assert all(ZHTTS_PACE.seconds(p) <= 6.0 for p in pieces)
    assert breath_pieces("对。", ZHTTS_PACE, 5.0) == ["对。"]
    titled = breath_pieces("接下来我们要仔细看一看《一个很长的标题，里面也有逗号，还有更多逗号》。",
                           ZHTTS_PACE, 2.0)
    assert titled[-1].startswith("《") and len(titled) == 2


def test_a_long_clause_without_punctuation_breathes_at_a_connective() -> None:
    from podcast.episode.breath import breathe

    text = ("作者在十二个公开数据集上系统地比较了这些检索方法"
            "并且发现小模型经过指令微调之后可以稳定地超过大模型。")
    said = breathe(text, ZHTTS_PACE, 5.0)
    assert said == text.replace("并且", "，并且")  # a breath before the connective, nothing else changed
    pieces = breath_pieces(text, ZHTTS_PACE, 5.0)
    assert all(ZHTTS_PACE.seconds(p) <= 6.0 for p in pieces)
    # a title, a model name and a number are said in one breath, even when long
    name = "《一个非常非常长而且中间完全没有任何标点符号的论文标题用来检验断句规则》"
    assert name in breathe(f"我们聊聊{name}这篇论文。", ZHTTS_PACE, 2.0)
    named = "它将Qwen2.5-Math-7B从58.8%提高到90.0%然后又在另外三个基准上做了对比实验"
    assert "Qwen2.5-Math-7B" in breathe(named, ZHTTS_PACE, 3.0) and "58.8%" in breathe(named, ZHTTS_PACE, 3.0)
    # never between nouns joined by 和
    listed = "还旨在激励和指导研究人员和实践者利用大型语言模型推动科学探索和工程实践的发展"
    assert "和，" not in breathe(listed, ZHTTS_PACE, 3.0)
