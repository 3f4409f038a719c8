"""A script linter: finds what a listener would call false or incoherent.

``lint(script, digest)`` returns typed ``Finding``s, one per problem, printed
as ``file:segment:line: rule: what``. Every rule is a small function over the
script (and the digest, when it is known), used by ``podcast lint``,
``podcast report`` and the LLM writer's guard. The text predicates live in
``podcast.script.checks``, which the template writer imports too, so a check
and the thing it checks cannot drift apart. Rules that need the digest
(numbers, releases, themes) are skipped without it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..abstracts import han_only, release_status, topic_count, ungrounded
from ..models import Digest, Paper, Script, Segment
from ..phrases import load_phrases
from .checks import (
    ANNOUNCED,
    BARE_NAME,
    COMPARE,
    NEGATIVE,
    back_reference,
    cut_off,
    figure_ratios,
    fits,
    formula,
    fragment,
    has_antecedent,
    question_type,
    ratio_fits,
    restated_ratio,
    sentences_of,
    theme_floor,
    untitled,
)


@dataclass(frozen=True)
class Finding:
    """One problem: which rule, where (segment id and line index) and what."""

    rule: str
    segment: str
    line: int
    message: str

    def format(self, file: str = "<script>") -> str:
        return f"{file}:{self.segment}:{self.line}: {self.rule}: {self.message}"


# --- claims about the paper or the day
_CLAIM_CODE = re.compile(r"代码[^。，]{0,6}(?:已经?|现已)(?:开源|公开|发布|放)|(?:已经?|现已)开源|开源了")
_CLAIM_RESOURCES = re.compile(r"(?:资源|数据|权重|模型)[^。，]{0,6}(?:已经?|现已)(?:开源|公开|发布|放)")
_CLAIM_FUTURE = re.compile(r"将(?:会)?(?:公开|开源|发布)|之后会(?:公开|开源|发布)|会公开")
_CLAIM_PAGE = re.compile(r"项目主页")
_RANKING = re.compile(r"讨论最多|最热门|热度最高|最受关注|最受欢迎|人气最高|头名|排名第一|榜首|点赞最多|"
                      r"关注度最高")
_THEME_COUNT = re.compile(r"(\d+)篇(?:论文)?都?和([\u4e00-\u9fffA-Za-z]+?)有关")
_THEME_MAIN = re.compile(r"主线")
_LINK = re.compile(r"同样是([\u4e00-\u9fffA-Za-z]+?)方向|说到([\u4e00-\u9fffA-Za-z]+?)，|"
                   r"还是([\u4e00-\u9fffA-Za-z]+?)，|"
                   r"继续聊([\u4e00-\u9fffA-Za-z]+?)，")
_REACT_GAIN = re.compile(r"提升挺明显|进步很明显|进步不小|幅度不小|提升幅度|差距拉得|很有说服力|数字很")
_REACT_NEG = re.compile(r"还有距离|提升空间|远没有解决")
_FIELDS_BAD = re.compile(r"GPT|综合|其他|其它")
_AUTHOR_VERBS = r"提出|引入|设计|开发|构建|发现|证明|表明|展示|则|实现"
_FIRST = re.compile(r"本文|本研究|本工作|本综述|"
                    r"我们(?=" + _AUTHOR_VERBS + r"|的(?:方法|模型|框架|工作|实验|结果|系统|数据))")
_PEOPLE = re.compile(r"人们(?=" + _AUTHOR_VERBS
                     + r"|方法|模型|框架|系统|的(?:方法|模型|框架|工作|实验|结果|系统|数据))|"
                     r"(?:基于|根据|延续|沿着|扩展了?)人们(?=之前|先前|此前|以往|早期|最近|的|在)|"
                     r"在人们[^。，]{0,16}基础上|人们(?=之前|先前|此前)(?:的|对|在|提出|发布)")


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Ctx:
    script: Script
    digest: Digest | None

    def paper(self, seg: Segment) -> Paper | None:
        if self.digest is None or seg.paper is None:
            return None
        return next((p for p in self.digest.papers if p.rank == seg.paper.rank), None)


Rule = Callable[[_Ctx], Iterator[Finding]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn
    return register


def _lines(ctx: _Ctx, kinds: tuple[str, ...] = ("opening", "paper", "closing"),
           ) -> Iterator[tuple[Segment, int, str]]:
    for seg in ctx.script.segments:
        if seg.kind in kinds:
            for i, line in enumerate(seg.lines):
                yield seg, i, line.text


@rule("release")
def _release(ctx: _Ctx) -> Iterator[Finding]:
    """代码已开源 only with a repository link or a statement that the code is at a link."""
    for seg, i, text in _lines(ctx, ("paper",)):
        paper = ctx.paper(seg)
        status = release_status(paper.abstract_zh) if paper else None
        if paper is None and ctx.digest is None:
            continue
        if _CLAIM_CODE.search(text) and status != "code":
            yield Finding("release", seg.id, i,
                          f"says the code is open, but the abstract gives {status or 'no release'}")
        elif _CLAIM_RESOURCES.search(text) and status not in ("code", "resources"):
            yield Finding("release", seg.id, i, f"says resources are public, but the abstract gives "
                                                f"{status or 'no release'}")
        elif _CLAIM_FUTURE.search(text) and status != "future":
            yield Finding("release", seg.id, i, f"says the code will be released, but the abstract gives "
                                                f"{status or 'no release'}")
        elif _CLAIM_PAGE.search(text) and status is None:
            yield Finding("release", seg.id, i, "mentions a project page the abstract does not link")


@rule("theme")
def _theme(ctx: _Ctx) -> Iterator[Finding]:
    """A theme or a topic link only when the papers' titles are about it."""
    if ctx.digest is None:
        return
    papers = list(ctx.digest.papers)
    previous: Paper | None = None
    for seg in ctx.script.segments:
        paper = ctx.paper(seg)
        for i, line in enumerate(seg.lines):
            for m in _THEME_COUNT.finditer(line.text):
                said, topic = int(m.group(1)), m.group(2)
                real = topic_count(papers, topic)
                if real is None or real < said or said < 2:
                    yield Finding("theme", seg.id, i, f"{said} papers about {topic}, but "
                                                      f"{real or 0} titles are about it")
                elif _THEME_MAIN.search(line.text) and said < theme_floor(len(papers)):
                    yield Finding("theme", seg.id, i, f"a theme of the day needs {theme_floor(len(papers))} "
                                                      f"papers, {topic} has {said}")
            if seg.kind == "paper" and i == 0 and paper is not None:
                for m in _LINK.finditer(line.text):
                    topic = next(g for g in m.groups() if g)
                    pair = [p for p in (previous, paper) if p is not None]
                    if len(pair) < 2 or topic_count(pair, topic) != 2:
                        yield Finding("theme", seg.id, i, f"links to the previous paper by {topic}, "
                                                          "but the two titles do not share it")
        if paper is not None:
            previous = paper


@rule("ranking")
def _ranking(ctx: _Ctx) -> Iterator[Finding]:
    """The digest gives an order, never discussion counts or popularity."""
    for seg, i, text in _lines(ctx):
        m = _RANKING.search(text)
        if m:
            yield Finding("ranking", seg.id, i, f"{m.group(0)!r}: the digest gives no such ranking")


@rule("qa")
def _qa(ctx: _Ctx) -> Iterator[Finding]:
    """A question must be answered by the sentence after it."""
    for seg in ctx.script.segments:
        flat = [(i, s) for i, line in enumerate(seg.lines) for s in sentences_of(line.text)]
        for k, (i, s) in enumerate(flat):
            if not s.endswith(("？", "?")) or k + 1 >= len(flat):
                continue
            kind = question_type(s)
            answer = flat[k + 1][1]
            if kind and not answer.endswith("？") and not fits(kind, answer):
                yield Finding("qa", seg.id, i, f"a {kind} question ({s}) answered by: {answer[:30]}")


@rule("reaction")
def _reaction(ctx: _Ctx) -> Iterator[Finding]:
    """A reaction must be true of what was just said."""
    for seg in ctx.script.segments:
        for i, line in enumerate(seg.lines):
            if i == 0:
                continue
            said = seg.lines[i - 1].text
            if _REACT_GAIN.search(line.text) and not (COMPARE.search(said) and not NEGATIVE.search(said)):
                yield Finding("reaction", seg.id, i,
                              "praises an improvement that the line before does not give")
            if _REACT_NEG.search(line.text) and not NEGATIVE.search(said):
                yield Finding("reaction", seg.id, i,
                              "reacts to a shortfall that the line before does not state")


def _content(sentence: str) -> bool:
    return not sentence.endswith(("？", "?")) and len(han_only(sentence)) >= 4 and "《" not in sentence


@rule("dangling")
def _dangling(ctx: _Ctx) -> Iterator[Finding]:
    """这一问题, 为此, 该方法, 还 … need something said before them in the segment."""
    for seg in ctx.script.segments:
        if seg.kind != "paper":
            continue
        before: list[str] = []
        titles: list[str] = []
        for i, line in enumerate(seg.lines):
            for s in sentences_of(line.text):
                ref = back_reference(s)
                pool = before + titles if ref and ref[0] in ("noun", "deictic") else before
                same = (ref is not None and ref[0] == "noun"
                        and any(s.count(w) >= 2 for w in ref[1].split("|")))
                if ref and not same and not has_antecedent(ref, pool):
                    yield Finding("dangling", seg.id, i, f"{ref[1]!r} refers to nothing said before")
                if _content(s):
                    before.append(s)
                elif "《" in s:
                    titles.append(s)


@rule("fragment")
def _fragment(ctx: _Ctx) -> Iterator[Finding]:
    for seg, i, text in _lines(ctx):
        for s in sentences_of(text):
            why = fragment(s) if "《" not in s else None
            if why:
                yield Finding("fragment", seg.id, i, f"{why}: {s[:30]}")


@rule("announced")
def _announced(ctx: _Ctx) -> Iterator[Finding]:
    """"具体包括四个关键贡献。" must be followed by the items it announces."""
    for seg in ctx.script.segments:
        flat = [(i, s) for i, line in enumerate(seg.lines) for s in sentences_of(line.text)]
        for k, (i, s) in enumerate(flat):
            if not ANNOUNCED.search(s):
                continue
            after = flat[k + 1][1] if k + 1 < len(flat) else ""
            if not re.match(r"(?:第一|首先|一是|其一|一方面|[1一][、.．])", after):
                yield Finding("announced", seg.id, i, f"announces a list that never follows: {s[-20:]}")


@rule("bare-name")
def _bare_name(ctx: _Ctx) -> Iterator[Finding]:
    """"作者介绍了X。" must be followed by what X is, or the listener learns only a name."""
    for seg in ctx.script.segments:
        flat = [(i, s) for i, line in enumerate(seg.lines) for s in sentences_of(line.text)]
        for k, (i, s) in enumerate(flat):
            after = flat[k + 1][1] if k + 1 < len(flat) else ""
            if BARE_NAME.match(s) and not re.match(r"(?:这是|它是|一种|一个|该|其)", after):
                yield Finding("bare-name", seg.id, i, f"names the paper and says nothing about it: {s}")


@rule("formula")
def _formula(ctx: _Ctx) -> Iterator[Finding]:
    for seg, i, text in _lines(ctx):
        found = formula(untitled(text))
        if found:
            yield Finding("formula", seg.id, i, f"speaks a formula or variable list ({found})")


@rule("repeat")
def _repeat(ctx: _Ctx) -> Iterator[Finding]:
    """A stock line said twice in one episode (back-channels of a few characters aside)."""
    abstracts = han_only("".join(p.abstract_zh for p in ctx.digest.papers)) if ctx.digest else ""
    seen: Counter[str] = Counter()
    for seg, i, text in _lines(ctx, ("opening", "paper")):
        for s in sentences_of(text):
            han = han_only(s)
            if len(han) <= 5 or (abstracts and han in abstracts):
                continue
            seen[s] += 1
            if seen[s] == 2:
                yield Finding("repeat", seg.id, i, f"said before in this episode: {s}")


@rule("first-person")
def _first_person(ctx: _Ctx) -> Iterator[Finding]:
    """The abstract's 我们/本文 are the authors; 人们 must not stand for them."""
    for seg, i, text in _lines(ctx, ("paper",)):
        m = _FIRST.search(text) or _PEOPLE.search(text)
        if m:
            yield Finding("first-person", seg.id, i, f"{m.group(0)!r} left over from the abstract")


@rule("number")
def _number(ctx: _Ctx) -> Iterator[Finding]:
    """Every figure a host says is the paper's (or, in the opening and closing, the day's)."""
    if ctx.digest is None:
        return
    d = ctx.digest
    day = [p.abstract_zh for p in d.papers] + [p.title_zh for p in d.papers] + [p.title_en for p in d.papers]
    day += [f"{d.date.year}年{d.date.month}月{d.date.day}日", f"{len(d.papers)}篇"]
    for seg, i, text in _lines(ctx):
        paper = ctx.paper(seg)
        sources = [paper.abstract_zh, paper.title_zh, paper.title_en] if paper else day
        bad = ungrounded(text if paper else re.sub(r"\d+篇", "", text), sources)
        if bad:
            yield Finding("number", seg.id, i, f"figures not in the abstract: {', '.join(sorted(bad))}")


@rule("cut-off")
def _cut_off(ctx: _Ctx) -> Iterator[Finding]:
    for seg, i, text in _lines(ctx):
        for s in sentences_of(text):
            why = cut_off(s)
            if why:
                yield Finding("cut-off", seg.id, i, f"{why}: {s[-20:]}")


@rule("analogy")
def _analogy(ctx: _Ctx) -> Iterator[Finding]:
    """A glossary explanation only where the term is the paper's own, not part of a longer term."""
    phrases = load_phrases()
    for seg in ctx.script.segments:
        if seg.kind != "paper":
            continue
        paper = ctx.paper(seg)
        for i, line in enumerate(seg.lines):
            for concept in phrases.concepts:
                if concept.explain not in line.text:
                    continue
                rest = "".join(ln.text for ln in seg.lines).replace(concept.explain, "")
                source = f"{paper.title_zh} {paper.title_en} {paper.abstract_zh}" if paper else rest
                if not concept.occurs_in(source):
                    yield Finding("analogy", seg.id, i, f"explains {concept.label}, which this paper only "
                                                        "mentions inside a longer term (or not at all)")


@rule("restate")
def _restate(ctx: _Ctx) -> Iterator[Finding]:
    """翻了一倍, 提高了一半 … only when every figure of the line before gives that ratio."""
    for seg in ctx.script.segments:
        for i in range(1, len(seg.lines)):
            claimed = restated_ratio(seg.lines[i].text)
            if claimed is None:
                continue
            ratios = figure_ratios(seg.lines[i - 1].text)
            if not ratio_fits(claimed, ratios):
                given = ", ".join(f"{r:.2f}" for r in ratios) or "no ratio"
                yield Finding("restate", seg.id, i, f"restates a ratio of {claimed:g}, the line before "
                              f"gives {given}")


@rule("day-facts")
def _day_facts(ctx: _Ctx) -> Iterator[Finding]:
    """The paper count, the fields and a one-paper day are said as they are."""
    papers = ctx.script.paper_count
    for seg, i, text in _lines(ctx, ("opening", "closing")):
        for m in re.finditer(r"一共有(\d+)篇|今天的(\d+)篇", text):
            n = int(m.group(1) or m.group(2))
            if n != papers:
                yield Finding("day-facts", seg.id, i, f"says {n} papers, the script has {papers}")
            elif n == 1:
                yield Finding("day-facts", seg.id, i, "a one-paper day said as a count")
        hot = re.search(r"热门领域集中在([^。]*)", text)
        if hot and _FIELDS_BAD.search(hot.group(1)):
            yield Finding("day-facts", seg.id, i, f"{hot.group(1)!r} is not a research field")


def lint(script: Script, digest: Digest | None = None, rules: tuple[str, ...] | None = None) -> list[Finding]:
    """Every finding of every rule (or of ``rules``), in script order."""
    ctx = _Ctx(script, digest)
    found = [f for name, fn in RULES.items() if rules is None or name in rules for f in fn(ctx)]
    order = {seg.id: k for k, seg in enumerate(script.segments)}
    return sorted(found, key=lambda f: (order.get(f.segment, 0), f.line, f.rule))
