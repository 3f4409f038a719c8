import re

import pytest

from podcast.textnorm import int_to_chinese, split_sentences, to_speech


@pytest.mark.parametrize(("n", "spoken"), [
    (0, "零"), (10, "十"), (13, "十三"), (105, "一百零五"), (1050, "一千零五十"),
    (20000, "两万"), (1_000_000, "一百万"), (100_000_006, "一亿零六"), (747_000, "七十四万七千"),
])
def test_integers(n: int, spoken: str) -> None:
    assert int_to_chinese(n) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    ("从58.8%提高到90%", "从百分之五十八点八提高到百分之九十"),
    ("高出+4.5%", "高出百分之四点五"),
    ("2025年发布", "二零二五年发布"),
    ("共1,000,000美元", "共一百万美元"),
    ("解决了(8/15)的问题", "解决了，十五分之八，的问题"),
    ("比例3:4", "比例三比四"),
    ("快2.3倍", "快二点三倍"),
    ("第3名", "第三名"),
    ("747k个问题", "七十四万七千个问题"),
    ("耗时0.7秒", "耗时零点七秒"),
    ("10-20个样本", "十到二十个样本"),
])
def test_numbers(text: str, spoken: str) -> None:
    assert to_speech(text) == spoken


@pytest.mark.parametrize("text", [
    "它将Qwen2.5-Math-7B提升到新水平",
    "我们在 Hugging Face 上发布了 VideoRAG",
    "GPT-4o、LLM 与 SWE-Fixer",
    "rStar-Math 使用 MCTS",
])
def test_no_latin_reaches_the_offline_engine(text: str) -> None:
    spoken = to_speech(text)
    assert not re.search(r"[A-Za-z0-9]", spoken), spoken
    assert len(spoken) >= len(re.sub(r"[A-Za-z0-9\s.\-]", "", text))  # nothing was silently dropped


def test_known_terms() -> None:
    assert to_speech("Hugging Face") == "抱抱脸"
    assert to_speech("Qwen2.5") == "千问二点五"
    assert to_speech("LLM") == "艾勒艾勒艾姆"


def test_markup_links_and_tags_are_not_spoken() -> None:
    spoken = to_speech(r"成功率\textbf{72\%}。<think>想一想</think>代码见https://example.org/x/y。")
    assert spoken == "成功率百分之七十二。想一想代码见。"
    assert not re.search(r"[<>\\{}$:/]", spoken)


def test_split_sentences_caps_length() -> None:
    text = "，".join(["这是一个相当长的从句"] * 12) + "。短句。"
    chunks = split_sentences(text, max_chars=40)
    assert all(len(c) <= 40 for c in chunks)
    assert "".join(chunks) == text
