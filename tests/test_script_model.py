"""The script model keeps transcripts well-formed and feeds XML-legal, whatever a line or host says."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from podcast.episode.transcripts import to_srt, to_vtt
from podcast.models import Cue, Host, Line, PaperRef, Script, Segment

INJECTED = "第一句。\n\n2\n00:00:09,000 --> 00:00:10,000\n假的字幕\n\n第二句。"


def test_blank_lines_in_a_line_cannot_inject_a_cue() -> None:
    line = Line(speaker="A", text=INJECTED)
    assert "\n" not in line.text and line.text.startswith("第一句。 2 00:00:09,000")
    cue = Cue(0.0, 2.0, "林溪", line.text)
    srt = to_srt([cue])
    assert srt.count("-->") - line.text.count("-->") == 1  # one timing block per cue piece
    assert srt.splitlines()[0] == "1" and "\n\n2\n" not in srt
    vtt = to_vtt([cue])
    assert vtt.count(" --> ") == 1 and "--&gt;" in vtt


def test_chinese_lines_are_joined_without_a_space() -> None:
    assert Line(speaker="A", text="上一行\n\n下一行 and\nmore").text == "上一行下一行 and more"


@pytest.mark.parametrize("name", ["林\n溪", "A>B", "<v x", "A&B", " 林溪", "林\t溪"])
def test_host_names_that_would_break_a_cue_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match=r"host name .* cannot contain"):
        Host(id="A", name=name)


def test_xml_illegal_characters_are_removed_from_titles_and_texts() -> None:
    bad = "\x00\x08\x0b\x1f\ufffe\uffff\ud800"
    script = Script(
        date=dt.date(2026, 11, 20), title=f"早班车{bad}", topics=[f"LLM{bad}"],
        hosts=[Host(id="A", name=f"林{bad}溪", role=f"主持{bad}")],
        segments=[Segment(id="s", title=f"开场{bad}", kind="opening",
                          lines=[Line(speaker="A", text=f"你好{bad}，\t大家。")],
                          paper=PaperRef(rank=1, title_zh=f"标题{bad}", title_en=f"T{bad}"))])
    assert script.title == "早班车" and script.topics == ["LLM"] and script.hosts[0].name == "林溪"
    seg = script.segments[0]
    assert seg.title == "开场" and seg.lines[0].text == "你好，\t大家。"
    assert seg.paper is not None and seg.paper.title_zh == "标题" and seg.paper.title_en == "T"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "JavaScript:x", "//evil.example",
                                 "https://x.org/a b", "https://x.org/\"onmouseover=\""])
def test_only_http_links_are_accepted(url: str) -> None:
    with pytest.raises(ValidationError, match="is not an http"):
        PaperRef(rank=1, hf_url=url)
    with pytest.raises(ValidationError, match="is not an http"):
        Segment(id="s", title="t", kind="paper", url=url, lines=[Line(speaker="A", text="x")])
    assert PaperRef(rank=1, arxiv_url="HTTPS://arxiv.org/abs/2611.10001").arxiv_url
