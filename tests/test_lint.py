"""The script linter: one hand-made bad script per rule, and zero findings on the writer's scripts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from podcast.cli import SAMPLE
from podcast.config import load_voices
from podcast.digest import read_digest
from podcast.models import Digest, Host, Line, Paper, PaperRef, Script, Segment
from podcast.script.lint import lint
from podcast.writer import get_writer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "hf-daily-paper-newsletter-chinese" / "newsletters"
HOSTS = [Host(id="A", name="林溪"), Host(id="B", name="周舟")]

ABSTRACT = ("大型模型的推理成本很高，这是部署中的主要问题。作者提出了FastX，一种按需分配计算的推理框架。"
            "在GSM8K上，FastX把准确率从40.0%提高到80.0%。项目主页：https://fastx.github.io。")
PAPER = Paper(rank=1, title_zh="FastX：按需计算的高效推理", title_en="FastX: Compute on Demand",
              abstract_zh=ABSTRACT)
DIGEST = Digest(date=dt.date(2026, 1, 5), papers=(PAPER,), hot_topics=("LLM",))
GOOD = [
    ("A", "今天排在最前面的是《FastX：按需计算的高效推理》。"),
    ("B", "它想解决什么问题？"),
    ("A", "大型模型的推理成本很高，这是部署中的主要问题。"),
    ("B", "那作者是怎么做的？"),
    ("A", "作者提出了FastX，一种按需分配计算的推理框架。"),
    ("B", "具体提升了多少？"),
    ("A", "在GSM8K上，FastX把准确率从40.0%提高到80.0%。"),
    ("B", "也就是说，差不多翻了一倍。对了，这篇有项目主页，链接在节目简介里。"),
]


def script(lines: list[tuple[str, str]], opening: list[tuple[str, str]] | None = None) -> Script:
    segs = [Segment(id="opening", title="开场", kind="opening",
                    lines=[Line(speaker=s, text=t) for s, t in opening or [("A", "大家好。")]]),
            Segment(id="paper-1", title=PAPER.title_zh, kind="paper", paper=PaperRef(rank=1),
                    lines=[Line(speaker=s, text=t) for s, t in lines]),
            Segment(id="closing", title="结束语", kind="closing", lines=[Line(speaker="A", text="明天见！")])]
    return Script(date=DIGEST.date, title="t", hosts=HOSTS, segments=segs)


def replace(index: int, text: str) -> list[tuple[str, str]]:
    lines = list(GOOD)
    lines[index] = (lines[index][0], text)
    return lines


def test_the_good_script_is_clean() -> None:
    assert lint(script(GOOD), DIGEST) == []


BAD = {
    "release": replace(7, "嗯，明白了。对了，代码已经开源了，链接在节目简介里。"),
    "ranking": replace(7, "它是今天讨论最多的一篇。"),
    "qa": replace(5, "为什么要做这个？"),
    "reaction": replace(7, "看来离真正解决还有距离。"),
    "dangling": [GOOD[0], ("B", "它在做什么？"),
                 ("A", "为解决这一问题，作者提出了FastX，一种按需分配计算的推理框架。")],
    "fragment": replace(4, "作者提出了一种新框架FastX。如按需分配计算的推理框架。"),
    "announced": replace(4, "作者提出了FastX，一种按需分配计算的推理框架，具体包括三个关键贡献。"),
    "bare-name": replace(4, "作者提出了FastX。按需分配计算很重要。"),
    "formula": replace(4, "作者提出了FastX，其目标是让计算量满足 C = a + b。"),
    "repeat": [*GOOD[:7], ("B", "具体提升了多少？"), ("A", "在GSM8K上，FastX把准确率从40.0%提高到80.0%。")],
    "first-person": replace(4, "人们提出了FastX，一种按需分配计算的推理框架。"),
    "number": replace(6, "在GSM8K上，FastX把准确率从40.0%提高到81.0%。"),  # still about double
    "cut-off": replace(4, "作者提出了FastX，一种按需分配计算的推理框架，它将"),
    "restate": replace(7, "也就是说，差不多提高了一半。对了，这篇有项目主页，链接在节目简介里。"),
    "analogy": [*GOOD[:5], ("B", "等一下，知识蒸馏是什么意思？"),
                ("A", "就是让小模型去模仿大模型的输出，好比徒弟跟着师傅学，学的是师傅的判断方式。"),
                *GOOD[5:]],
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_fires_alone(rule: str) -> None:
    found = lint(script(BAD[rule]), DIGEST)
    assert {f.rule for f in found} == {rule}, [f.format() for f in found]


# more ways to break one rule: each still triggers that rule alone
MORE_BAD = [
    ("first-person", replace(4, "基于人们之前的工作，作者提出了FastX，一种按需分配计算的推理框架。")),
    ("fragment", replace(4, "作者提出了FastX，一种推理框架。有效整合了按需分配的计算。")),
    ("fragment", replace(4, "通过按需分配计算进行推理，包括预算预测和提前退出。")),
    ("qa", [*GOOD[:3], ("B", "那作者是怎么做的？"), ("A", "FastX的推理框架优于以往的推理框架。"), *GOOD[5:]]),
    ("qa", [*GOOD[:7], ("B", "它有什么不足吗？"), ("A", "作者解决了以往推理框架的主要局限。")]),
    ("qa", [GOOD[0], ("B", "研究背景是怎样的？"), ("A", "大量实验结果表明，推理框架很昂贵。"), *GOOD[3:]]),
    ("qa", [*GOOD[:5], ("B", "这个思路验证了吗？"), ("A", "其结果是首个能按需分配计算的推理框架。")]),
    ("dangling", [GOOD[0], ("B", "它想解决什么问题？"), ("A", "推理框架则保持精度，但成本高。"), *GOOD[3:]]),
]


@pytest.mark.parametrize(("rule", "lines"), MORE_BAD, ids=[f"{r}-{k}" for k, (r, _) in enumerate(MORE_BAD)])
def test_more_ways_each_rule_fires_alone(rule: str, lines: list[tuple[str, str]]) -> None:
    found = lint(script(lines), DIGEST)
    assert {f.rule for f in found} == {rule}, [f.format() for f in found]


def test_theme_and_day_facts_in_the_opening() -> None:
    theme = lint(script(GOOD, [("A", "今天的主线很清楚，3篇论文都和推理有关。")]), DIGEST)
    assert {f.rule for f in theme} == {"theme"}
    facts = lint(script(GOOD, [("A", "今天一共有1篇论文，热门领域集中在GPT。")]), DIGEST)
    assert {f.rule for f in facts} == {"day-facts"}
    assert facts[0].format("x.yaml").startswith("x.yaml:opening:0: day-facts: ")


def test_a_restatement_must_fit_every_figure_before_it() -> None:
    """Two results of which only one doubles: "翻了一倍" would be true of one, so it is flagged."""
    two = "在GSM8K上，FastX把准确率从40.0%提高到80.0%，在MATH上从30.0%提高到45.0%。"
    paper = dataclasses.replace(PAPER, abstract_zh=ABSTRACT.replace("从40.0%提高到80.0%。", two[13:]))
    digest = dataclasses.replace(DIGEST, papers=(paper,))
    found = lint(script(replace(6, two)), digest)
    assert [(f.rule, f.line) for f in found] == [("restate", 7)], [f.format() for f in found]
    half = "在GSM8K上，FastX把准确率从40.0%提高到60.0%。"
    paper = dataclasses.replace(PAPER, abstract_zh=ABSTRACT.replace("从40.0%提高到80.0%。", half[13:]))
    lines = replace(6, half)
    lines[7] = ("B", "也就是说，差不多提高了一半。")
    assert lint(script(lines), dataclasses.replace(DIGEST, papers=(paper,))) == []


def test_future_release_and_project_page_are_said_as_they_are() -> None:
    future = dataclasses.replace(PAPER, abstract_zh=ABSTRACT.replace("项目主页：https://fastx.github.io。",
                                                                    "代码将在https://github.com/x/fastx公开。"))
    digest = dataclasses.replace(DIGEST, papers=(future,))
    said_open = replace(7, "对了，代码已经开源了，链接在节目简介里。")
    said_future = replace(7, "对了，作者说代码之后会公开。")
    assert [f.rule for f in lint(script(said_open), digest)] == ["release"]
    assert lint(script(said_future), digest) == []


def _digests() -> list[Path]:
    found = [SAMPLE, *sorted((ROOT / "tests" / "data").glob("*_daily_paper.md"))]
    return found + sorted(SHARED.glob("*_daily_paper.md")) if SHARED.exists() else found


@pytest.mark.parametrize("path", _digests(), ids=lambda p: p.name[:10])
@pytest.mark.parametrize("hosts", [2, 1])
def test_the_template_writer_is_clean(path: Path, hosts: int) -> None:
    digest = read_digest(path)
    voices = load_voices(ROOT, "default").hosts[:hosts]
    found = lint(get_writer("template").write(digest, voices, "AI论文早班车"), digest)
    assert found == [], "\n".join(f.format(path.name) for f in found)


def test_a_fifty_paper_day_repeats_no_stock_line() -> None:
    if not SHARED.exists():
        pytest.skip("../shared/data is not present")
    papers = [p for f in sorted(SHARED.glob("*_daily_paper.md")) for p in read_digest(f).papers][:50]
    papers = [dataclasses.replace(p, rank=i + 1) for i, p in enumerate(papers)]
    digest = Digest(date=dt.date(2025, 2, 3), papers=tuple(papers), hot_topics=("LLM",))
    written = get_writer("template").write(digest, load_voices(ROOT, "default").hosts, "AI论文早班车")
    found = lint(written, digest)
    assert found == [], "\n".join(f.format() for f in found)
