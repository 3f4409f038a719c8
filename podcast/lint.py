"""A script linter: finds what a listener would call false or incoherent.

``lint(script, digest)`` returns typed ``Finding``s, one per problem, printed
as ``file:segment:line: rule: what``. Every rule is a small function over the
script (and the digest, when it is known) and is shared by three users: the
``podcast lint`` command, ``podcast report``, and the writers, which use the
same text predicates to decide what a host may say, so a check and the thing
it checks cannot drift apart. Rules that need the digest (numbers, releases,
themes) are skipped without it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .abstracts import han_only, release_status, topic_count, ungrounded
from .models import Digest, Paper, Script, Segment
from .phrases import load_phrases


@dataclass(frozen=True)
class Finding:
    """One problem: which rule, where (segment id and line index) and what."""

    rule: str
    segment: str
    line: int
    message: str

    def format(self, file: str = "<script>") -> str:
        return f"{file}:{self.segment}:{self.line}: {self.rule}: {self.message}"


# ---------------------------------------------------------------- text predicates


def sentences_of(text: str) -> list[str]:
    """Sentences of one line, each keeping its final mark (a 《title》 is never split)."""
    out: list[str] = []
    for part in re.split(r"(《[^《》]*》)", text):
        pieces = [part] if part.startswith("《") else re.split(r"(?<=[。！？!?])", part)
        for k, piece in enumerate(pieces):
            if out and (part.startswith("《") or k == 0) and not re.search(r"[。！？!?]$", out[-1]):
                out[-1] += piece
            elif piece:
                out.append(piece)
    return [s.strip() for s in out if s.strip()]


def _untitled(text: str) -> str:
    return re.sub(r"《[^《》]*》", "《》", text)


_MARKERS = re.compile(r"^(?:其实|对了|说白了|另外|所以|那|嗯|好)[，,]?")

# --- questions and the sentences that answer them
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((k, re.compile(p)) for k, p in (
    ("concept", r"是什么意思|什么是|具体指什么"),
    ("limitation", r"局限|不足|限制|没解决"),
    ("how-much", r"多少|强多少|和基线比|差多少"),
    ("numbers", r"具体数字|数字上|实验数字|数字怎么样"),
    ("result", r"效果|结果|验证|站得住|表现|成绩"),
    ("method", r"怎么做|怎么解决|办法|思路|怎么实现|如何|方法上|怎么设计"),
    ("motivation", r"解决什么问题|为什么|出发点|卡在哪|难在哪|不够好|背景"),
    ("survey", r"综述|梳理|覆盖了哪些"),
    ("gist", r"讲什么|核心想法|在做什么|做了什么|什么东西|做什么的|讲了些什么"),
))

COMPARE = re.compile(r"从[^。，；]{0,30}?\d[^。]*?(?:提高|提升|增加|降低|减少|下降|缩短|上升)到|"
                      r"(?:提高|提升|增加|降低|减少|下降|加速|缩短|改进|超出|高出|领先|超过|优于|胜过)了?[^。，；]{0,12}?\d|"
                      r"\d[^。，；]{0,6}(?:倍|个百分点)|相比[^。]{0,40}\d|\d[^。]{0,30}(?:优于|超过|超越|高于|低于)")
_NUMBER = re.compile(r"\d")
_NAMES = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*\d[A-Za-z0-9.\-]*|\d+[A-Za-z][A-Za-z0-9.\-]*")
_RESULT_STRONG = re.compile(r"表明|显示|证明|实验|评估|评测|优于|超越|超过|达到|取得|表现|胜过|领先|提升了|提高了|降低了|"
                            r"减少了|有效|显著|准确率|成功率|得分|性能")
_RESULT = re.compile(r"优于|超越|超过|提升|提高|达到|实现了|表明|证明|显示|领先|匹敌|降低|减少|加速|取得|"
                     r"表现|胜过|高出|准确率|成功率|得分|效果|性能|有效|显著|改进|验证")
_METHOD = re.compile(r"提出|引入|设计|开发|构建|推出|框架|方法|通过|利用|采用|训练|模块|策略|机制|流程|"
                     r"管道|架构|算法|模型|系统|基准|数据集|首先|然后|结合|整合|包括|包含|分为|学习")
_PROBLEM = re.compile(r"然而|但|挑战|问题|难以|局限|瓶颈|不足|缺乏|昂贵|受限|阻碍|困难|往往|通常|依赖|限制|"
                      r"不够|无法|不能|忽略|忽视|稀缺|短缺|成本|需要|重要|关键|广泛|越来越|日益|面临|为了")
_LIMITATION = re.compile(r"局限|不足|尚未|有待|未来|仍需|仍有|仍然|仍|依然|差距|落后|不如|远低于|失败|难以|挑战")
NEGATIVE = re.compile(r"仍|尚未|依然|差距|落后|不如|远低于|远不及|无法|难以|不足|失败|只有|仅有|仅能|有限")


def question_type(sentence: str) -> str | None:
    """The kind of answer a question asks for, or None for a back-channel like 然后呢？."""
    return next((kind for kind, pattern in QUESTION_TYPES if pattern.search(sentence)), None)


def answer_types(sentence: str) -> set[str]:
    """What a sentence can answer: problem, method, result, figure, count, limitation, context."""
    s = _NAMES.sub("", _MARKERS.sub("", sentence))
    kinds = set()
    if _NUMBER.search(s):
        kinds.add("figure" if COMPARE.search(s) else "count")
    if _RESULT.search(s):
        kinds.add("result")
    if _METHOD.search(s):
        kinds.add("method")
    if _PROBLEM.search(s):
        kinds.add("problem")
    if _LIMITATION.search(s):
        kinds.add("limitation")
    return kinds or {"context"}


def fits(question: str | None, answer: str) -> bool:
    """Whether ``answer`` (one sentence) answers a question of type ``question``."""
    kinds = answer_types(answer)
    strong_method = bool(re.search(r"提出|引入|推出|介绍了|开发了|构建了|设计了", answer))
    if question is None or question in ("concept", "gist", "survey"):
        return True
    if question == "motivation":
        purpose = re.search(r"解决[^。]{0,24}(?:问题|挑战|瓶颈|局限)", answer)
        return bool(purpose) or (bool(kinds & {"problem", "context"}) and not strong_method
                                 and "figure" not in kinds)
    if question == "method":
        return "method" in kinds
    if question == "result":
        return "figure" in kinds or bool(_RESULT_STRONG.search(answer))
    if question == "how-much":
        return "figure" in kinds
    if question == "numbers":
        return "figure" in kinds
    if question == "limitation":
        return bool(kinds & {"limitation", "problem"})
    return True


# --- references back to something said before
_PROBLEM_NOUNS = ("问题", "挑战", "局限", "限制", "约束", "瓶颈", "不足", "困难", "缺陷", "难题", "障碍", "痛点")
_DEMONSTRATIVE = re.compile(r"(?:这一|这个|这些|这类|这种|这两个|这两种|这三个|这几个|这两项|这三项|该|此类|上述|以上)"
                            r"([A-Za-z][A-Za-z0-9-]*|[\u4e00-\u9fff]{1,6})")
_SELF_NOUNS = re.compile(r"^(?:篇|项研究|项工作|篇论文|篇综述|论文|研究|工作|节目|期)")
# what was just said, named generically: fine after any content sentence
_DEICTIC = re.compile(r"^(?:[呢吗吧啊]|方向|思路|提升|差距|幅度|领域|结果|数字|想法|做法|点|问|结论|变化|进步|规模|工作|过程)")
_LEADING_REF = re.compile(r"^(?:为此|因此|所以|于是|此外|另外|同时|而且|并且|然而|但是|但|不过|相反|与此同时|基于此|"
                          r"在此基础上|对此|由此|这(?=是|使|让|意味|表明|说明|一|些)|其(?!中|实|他|它|次|余)|"
                          r"(?:作者|他们|它)(?:还|也)(?=[\u4e00-\u9fff]))")
_STOP = re.compile(r"[的在中上下是能可和与及，。、：；将被把为对从]")


_FUNCTION_WORDS = {"通过", "能够", "可以", "难以", "进行", "使用", "用于", "在", "将", "对", "和", "与", "是", "的",
                   "中", "上", "下", "也", "都", "还", "被", "把", "为", "从", "以", "及", "并", "可", "能"}


def _noun_tokens(text: str) -> list[str]:
    """The first two content words after a demonstrative: what it names."""
    import jieba

    jieba.setLogLevel(60)
    words = [w for w in jieba.lcut(text[:12]) if w.strip() and not re.fullmatch(r"[，。、：；？！,.]", w)]
    return [w for w in words[:2] if w not in _FUNCTION_WORDS]


def back_reference(sentence: str) -> tuple[str, str] | None:
    """What a sentence refers back to: ("noun", word), ("problem", word), ("any", word) or None."""
    s = _MARKERS.sub("", sentence)
    for m in _DEMONSTRATIVE.finditer(s):
        head = _STOP.split(m.group(1))[0]
        if not head or _SELF_NOUNS.match(s[m.start(1):]):
            continue
        if any(n in head for n in _PROBLEM_NOUNS):
            return "problem", m.group(0)
        if _DEICTIC.match(head):
            return "deictic", m.group(0)
        return "noun", "|".join(_noun_tokens(s[m.start(1):])) or head
    m = _LEADING_REF.match(s)
    if m:
        return "any", m.group(0)
    return None


def has_antecedent(ref: tuple[str, str], before: list[str]) -> bool:
    """Whether the content sentences said ``before`` give the reference something to point at."""
    kind, word = ref
    if kind == "problem":
        return any(re.search("|".join(_PROBLEM_NOUNS) + r"|难以|缺乏|无法|不能|受限|阻碍|昂贵|稀缺|依赖|然而|但",
                             s) for s in before)
    if kind == "noun":
        text = "".join(before).lower()
        return any(w.lower() in text for w in word.split("|"))
    return bool(before)


# --- fragments, formulas, cut-off sentences
_FRAGMENT_START = re.compile(r"^(?:如(?![果何今此])|例如|比如|诸如|将(?!来|近)|把|分别|并且?(?!非)|而且?(?!言)|从而|进而|"
                             r"以及|以便|即可|使(?!用)得?|则|乃至|及其|用于|旨在|包括|以(?=[\u4e00-\u9fff]{2}))")
_NOUN_START = re.compile(r"^(?:一种|一个|一项|一套|一组|一类)")
_VERB = re.compile(r"是|为|能|可|会|用|让|使|将|把|通过|实现|提|具有|包含|包括|在|已|被|得到|带来|进行|有|做|生成|"
                   r"显示|表明|达到|超过|优于|支持|允许|覆盖|涵盖|构成|组成|需要|旨在|用于")
_LIST_HEAD = re.compile(r"(?:几|两|三|四|五|六|七|八|九|十|多|\d+)(?:项|个|种|大|类|方面|部分|阶段|步|点)"
                        r"[^。：:]{0,16}[：:]([^。]*)。")


def fragment(sentence: str) -> str | None:
    """Why a sentence is not a whole sentence (a piece cut from a longer one), or None."""
    s = _MARKERS.sub("", sentence)
    if _FRAGMENT_START.match(s):
        return "starts like the second half of a sentence"
    if _NOUN_START.match(s) and not _VERB.search(s[2:]):
        return "a noun phrase without a predicate"
    m = _LIST_HEAD.search(s)
    if m and not re.search(r"[、；;]|以及|和|与|及", m.group(1)):
        return "announces several items but names at most one"
    return None


_FORMULA = re.compile(r"\\[A-Za-z]+|\$|[=^]|_\{|[∑∏∫√≈≠±∈∀∃∇∂]|(?<![A-Za-z])[A-Za-z]\s*\(\s*[A-Za-z]\s*\)|"
                      r"(?<![A-Za-z])[a-z](?:\s*[,，、]\s*[a-z](?![A-Za-z])){2,}")


def formula(text: str) -> str | None:
    m = _FORMULA.search(text)
    return m.group(0) if m else None


_DANGLING_END = re.compile(r"(?:[将和与及或对把被并以从向让使]|例如|比如|包括|以及|如|发现|表明|显示|证明|指出|认为)$")


def cut_off(sentence: str) -> str | None:
    """Why a sentence ends mid-way, or None."""
    if re.search(r"…|\.\.\.|⋯", sentence):
        return "ends in an ellipsis (a truncated source)"
    if not re.search(r"[。！？!?]$", sentence):
        return "no final punctuation"
    body = sentence.rstrip("。！？!? ")
    if re.search(r"[，,、：:；;]$", body):
        return "ends on a comma or colon"
    if len(han_only(body)) >= 4 and _DANGLING_END.search(body):
        return f"ends on {body[-2:]!r}"
    if (not sentence.endswith(("？", "?")) and body.endswith("的") and len(body) >= 10
            and not re.search(r"是|得|挺|很|会|可|能|都|也|就", body)):
        return "ends on '的'"
    return None


# --- claims about the paper or the day
_CLAIM_CODE = re.compile(r"代码[^。，]{0,6}(?:已经?|现已)(?:开源|公开|发布|放)|(?:已经?|现已)开源|开源了")
_CLAIM_RESOURCES = re.compile(r"(?:资源|数据|权重|模型)[^。，]{0,6}(?:已经?|现已)(?:开源|公开|发布|放)")
_CLAIM_FUTURE = re.compile(r"将(?:会)?(?:公开|开源|发布)|之后会(?:公开|开源|发布)|会公开")
_CLAIM_PAGE = re.compile(r"项目主页")
_RANKING = re.compile(r"讨论最多|最热门|热度最高|最受关注|最受欢迎|人气最高|头名|排名第一|榜首|点赞最多|关注度最高")
_THEME_COUNT = re.compile(r"(\d+)篇(?:论文)?都?和([\u4e00-\u9fffA-Za-z]+?)有关")
_THEME_MAIN = re.compile(r"主线")
_LINK = re.compile(r"同样是([\u4e00-\u9fffA-Za-z]+?)方向|说到([\u4e00-\u9fffA-Za-z]+?)，|还是([\u4e00-\u9fffA-Za-z]+?)，|"
                   r"继续聊([\u4e00-\u9fffA-Za-z]+?)，")
_REACT_GAIN = re.compile(r"提升挺明显|进步很明显|进步不小|幅度不小|提升幅度|差距拉得|很有说服力|数字很")
_REACT_NEG = re.compile(r"还有距离|提升空间|远没有解决")
_FIELDS_BAD = re.compile(r"GPT|综合|其他|其它")
_AUTHOR_VERBS = r"提出|引入|设计|开发|构建|发现|证明|表明|展示|则|实现"
_FIRST = re.compile(r"本文|本研究|本工作|本综述|我们(?=" + _AUTHOR_VERBS + r"|的(?:方法|模型|框架|工作|实验|结果|系统|数据))")
_PEOPLE = re.compile(r"人们(?=" + _AUTHOR_VERBS + r"|方法|模型|框架|系统|的(?:方法|模型|框架|工作|实验|结果|系统|数据))")
THEME_SHARE = 0.3  # a theme of the day needs this share of the papers (and at least three)


def theme_floor(papers: int) -> int:
    return max(3, math.ceil(THEME_SHARE * papers))


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


def _lines(ctx: _Ctx, kinds: tuple[str, ...] = ("opening", "paper", "closing")) -> Iterator[tuple[Segment, int, str]]:
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
            yield Finding("release", seg.id, i, f"says the code is open, but the abstract gives {status or 'no release'}")
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
                yield Finding("reaction", seg.id, i, "praises an improvement that the line before does not give")
            if _REACT_NEG.search(line.text) and not NEGATIVE.search(said):
                yield Finding("reaction", seg.id, i, "reacts to a shortfall that the line before does not state")


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
                same = ref is not None and ref[0] == "noun" and any(s.count(w) >= 2 for w in ref[1].split("|"))
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


@rule("formula")
def _formula(ctx: _Ctx) -> Iterator[Finding]:
    for seg, i, text in _lines(ctx):
        found = formula(_untitled(text))
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
        m = re.search(r"热门领域集中在([^。]*)", text)
        if m and _FIELDS_BAD.search(m.group(1)):
            yield Finding("day-facts", seg.id, i, f"{m.group(1)!r} is not a research field")


def lint(script: Script, digest: Digest | None = None, rules: tuple[str, ...] | None = None) -> list[Finding]:
    """Every finding of every rule (or of ``rules``), in script order."""
    ctx = _Ctx(script, digest)
    found = [f for name, fn in RULES.items() if rules is None or name in rules for f in fn(ctx)]
    order = {seg.id: k for k, seg in enumerate(script.segments)}
    return sorted(found, key=lambda f: (order.get(f.segment, 0), f.line, f.rule))
