"""Text predicates shared by the writers and the script linter.

The template writer uses them to decide what a host may say and the linter to
find what was said wrongly; keeping them in one small module that both import
means a check and the thing it checks cannot drift apart, and the writer does
not depend on the linter.
"""

from __future__ import annotations

import math
import re


def han_only(text: str) -> str:
    """The Chinese characters of ``text``: what verbatim shares and lengths are counted in."""
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))

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


def untitled(text: str) -> str:
    return re.sub(r"《[^《》]*》", "《》", text)


_MARKERS = re.compile(r"^(?:其实|对了|说白了|另外|所以|那|嗯|好)[，,]?")

# --- questions and the sentences that answer them
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((k, re.compile(p)) for k, p in (
    ("concept", r"是什么意思|什么是|具体指什么"),
    ("limitation", r"局限|不足|限制|没解决"),
    ("how-much", r"多少|强多少|和基线比|差多少"),
    ("numbers", r"具体数字|数字上|实验数字|数字怎么样"),
    ("evidence", r"验证|站得住"),
    ("result", r"效果|结果|表现|成绩"),
    ("method", r"怎么做|怎么解决|办法|思路|怎么实现|如何|方法上|怎么设计"),
    ("background", r"背景"),
    ("motivation", r"解决什么问题|为什么|出发点|卡在哪|难在哪|不够好"),
    ("survey", r"综述|梳理|覆盖了哪些"),
    ("gist", r"讲什么|核心想法|在做什么|做了什么|什么东西|做什么的|讲了些什么"),
))

COMPARE = re.compile(r"从[^。，；]{0,30}?\d[^。]*?(?:提高|提升|增加|降低|减少|下降|缩短|上升)到|"
                      r"(?:提高|提升|增加|降低|减少|下降|加速|缩短|改进|超出|高出|领先|超过|优于|胜过)了?[^。，；]{0,12}?\d|"
                      r"\d[^。，；]{0,6}(?:倍|个百分点)|相比[^。]{0,40}\d|\d[^。]{0,30}(?:优于|超过|超越|高于|低于)")
# the size of a change, which "how much" asks for (a speed or a dataset size beside 优于 is not one)
MAGNITUDE = re.compile(r"从[^。，；]{0,30}?\d[^。]*?(?:提高|提升|增加|降低|减少|下降|缩短|上升)到|"
                       r"(?:提高|提升|增加|降低|减少|下降|加速|缩短|改进|超出|高出|领先|超过|优于|胜过)了?"
                       r"[^。，；]{0,12}?\d|\d[^。，；]{0,6}(?:倍|个百分点)|\d+(?:\.\d+)?\s*%的(?:提升|提高|降低|下降|"
                       r"减少|增长|改进)")
# a sentence about the paper itself, which "what is it about" asks for (not the field's background)
_ABOUT_PAPER = re.compile(r"作者|这篇|本文|本研究|该研究|这项研究|这项工作|论文|提出|引入|介绍|推出|"
                          r"研究了|探讨|综述|构建了|开发了|设计了")
_NUMBER = re.compile(r"\d")
_NAMES = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*\d[A-Za-z0-9.\-]*|\d+[A-Za-z][A-Za-z0-9.\-]*")
_RESULT_STRONG = re.compile(r"表明|显示|证明|实验|评估|评测|优于|超越|超过|达到|取得|表现|胜过|领先|提升了|"
                            r"提高了|降低了|减少了|有效|显著|准确率|成功率|得分|性能")
_RESULT = re.compile(r"优于|超越|超过|提升|提高|达到|实现了|表明|证明|显示|领先|匹敌|降低|减少|加速|取得|"
                     r"表现|胜过|高出|准确率|成功率|得分|效果|性能|有效|显著|改进|验证")
_METHOD = re.compile(r"提出|引入|设计|开发|构建|推出|框架|方法|通过|利用|采用|训练|模块|策略|机制|流程|"
                     r"管道|架构|算法|模型|系统|基准|数据集|首先|然后|结合|整合|包括|包含|分为|学习")
_PROBLEM = re.compile(r"然而|但|挑战|问题|难以|局限|瓶颈|不足|缺乏|昂贵|受限|阻碍|困难|往往|通常|依赖|限制|"
                      r"不够|无法|不能|忽略|忽视|稀缺|短缺|成本|需要|重要|关键|广泛|越来越|日益|面临|为了")
_LIMITATION = re.compile(r"局限|不足|尚未|有待|未来|仍需|仍有|仍然|仍|依然|差距|落后|不如|远低于|失败|难以|"
                         r"挑战")
# what a sentence reports rather than builds: a comparison won, or a finding
_OUTCOME = re.compile(r"优于|超越|超过|胜过|领先|击败|显著(?:提升|提高|改进|降低)|(?:提升|提高|降低|减少)了|"
                      r"发现|揭示|表明|显示|证明|结果")
_EVIDENCE = re.compile(r"实验|评估|评测|测试|基准|数据集上|表明|显示|证明|验证")
_SOLVED = re.compile(r"解决了|克服了|缓解了|弥补了|突破了|消除了")
_STRONG_METHOD = re.compile(r"提出|引入|推出|介绍了|开发了|构建了|设计了|解决方案是|方法是")
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
    strong_method = bool(_STRONG_METHOD.search(answer))
    if question is None or question in ("concept", "survey"):
        return True
    if question == "gist":
        return bool(_ABOUT_PAPER.search(answer)) or "figure" in kinds
    if question == "background":  # the field's state before the paper, not the paper's own work
        return not _ABOUT_PAPER.search(answer) and "figure" not in kinds and not _OUTCOME.search(answer)
    if question == "motivation":
        purpose = re.search(r"解决[^。]{0,24}(?:问题|挑战|瓶颈|局限)", answer)
        return bool(purpose) or (bool(kinds & {"problem", "context"}) and not strong_method
                                 and "figure" not in kinds)
    if question == "method":  # what was built or done, not what it achieved or found
        return "method" in kinds and (strong_method or not _OUTCOME.search(answer))
    if question == "evidence":  # "was it verified": an experiment, an evaluation, a figure
        return "figure" in kinds or bool(_EVIDENCE.search(answer))
    if question == "result":
        return "figure" in kinds or bool(_RESULT_STRONG.search(answer))
    if question == "how-much":
        return bool(MAGNITUDE.search(_NAMES.sub("", answer)))
    if question == "numbers":  # a score or a change, not a speed or a size
        plain = _NAMES.sub("", answer)
        return bool(MAGNITUDE.search(plain) or re.search(r"\d\s*%", plain))
    if question == "limitation":  # a shortcoming that remains, not one the authors solved
        return bool(kinds & {"limitation", "problem"}) and not _SOLVED.search(answer)
    return True


# --- references back to something said before
_PROBLEM_NOUNS = ("问题", "挑战", "局限", "限制", "约束", "瓶颈", "不足", "困难", "缺陷", "难题", "障碍",
                  "痛点")
_DEMONSTRATIVE = re.compile(r"(?:这一|这个|这些|这类|这种|这两个|这两种|这三个|这几个|这两项|这三项|该|此类|"
                            r"上述|以上)"
                            r"([A-Za-z][A-Za-z0-9-]*|[\u4e00-\u9fff]{1,6})")
_SELF_NOUNS = re.compile(r"^(?:篇|项研究|项工作|篇论文|篇综述|论文|研究|工作|节目|期)")
# what was just said, named generically: fine after any content sentence
_DEICTIC = re.compile(r"^(?:[呢吗吧啊]|方向|思路|提升|差距|幅度|领域|结果|数字|想法|做法|点|问|结论|变化|"
                      r"进步|规模|工作|过程)")
_LEADING_REF = re.compile(r"^(?:为此|因此|所以|于是|此外|另外|同时|而且|并且|然而|但是|但|不过|相反|与此同时|"
                          r"基于此|在此基础上|对此|由此|这(?=是|使|让|意味|表明|说明|一|些)|其(?!中|实|他|它|次|余)|"
                          r"(?:作者|他们|它)(?:还|也)(?=[\u4e00-\u9fff])|"
                          r"[^，。；：]{1,12}?(?<![规准否法原细守实总])则(?=[\u4e00-\u9fff]))")
_STOP = re.compile(r"[的在中上下是能可和与及，。、：；将被把为对从]")


_FUNCTION_WORDS = {"通过", "能够", "可以", "难以", "进行", "使用", "用于", "在", "将", "对", "和", "与",
                   "是", "的", "中", "上", "下", "也", "都", "还", "被", "把", "为", "从", "以", "及",
                   "并", "可", "能"}


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
            ref = "problem", m.group(0)
        elif _DEICTIC.match(head):
            ref = "deictic", m.group(0)
        else:
            ref = "noun", "|".join(_noun_tokens(s[m.start(1):])) or head
        if m.start() > 0 and has_antecedent(ref, [s[: m.start()]]):
            continue  # "提出了一种框架，该框架…": it points inside its own sentence
        return ref
    lead = _LEADING_REF.match(s)
    if lead:
        return "any", lead.group(0)
    return None


def has_antecedent(ref: tuple[str, str], before: list[str]) -> bool:
    """Whether the content sentences said ``before`` give the reference something to point at."""
    kind, word = ref
    if kind == "problem":
        return any(re.search("|".join(_PROBLEM_NOUNS)
                             + r"|难以|缺乏|无法|不能|受限|阻碍|昂贵|稀缺|依赖|然而|但",
                             s) for s in before)
    if kind == "noun":
        text = "".join(before).lower()
        return any(w.lower() in text for w in word.split("|"))
    return bool(before)


# --- fragments, formulas, cut-off sentences
_FRAGMENT_START = re.compile(r"^(?:如(?![果何今此])|例如|比如|诸如|将(?!来|近)|把|分别|并且?(?!非)|"
                             r"而且?(?!言)|从而|进而|"
                             r"以及|以便|即可|使(?!用)得?|则|乃至|及其|用于|旨在|包括|以(?=[\u4e00-\u9fff]{2}))")
_NOUN_START = re.compile(r"^(?:一种|一个|一项|一套|一组|一类)")
_VERB = re.compile(r"是|为|能|可|会|用|让|使|将|把|通过|实现|提|具有|包含|包括|在|已|被|得到|带来|进行|有|做|"
                   r"生成|"
                   r"显示|表明|达到|超过|优于|支持|允许|覆盖|涵盖|构成|组成|需要|旨在|用于")
_LIST_HEAD = re.compile(r"(?:几|两|三|四|五|六|七|八|九|十|多|\d+)(?:项|个|种|大|类|方面|部分|阶段|步|点)"
                        r"[^。：:]{0,16}[：:]([^。]*)。")


# a predicate with no subject: the second half of "作者开发了X，有效整合了Y" said alone
VERB_LEAD = re.compile(r"^(?:有效|显著|成功|大幅|极大|进一步|充分|首次)?地?(?:整合|结合|融合|提升|提高|"
                       r"实现|降低|减少|解决|缓解|克服|消除|利用|采用|引入|构建|涵盖|包含|支持|扩展|增强|改进|展示|证明|"
                       r"揭示|提供|避免|达到|取得|超越|超过|优于)(?:了|出)")
# "通过X进行训练，包括A、B。": a means with no one using it and no main clause after it
_MEANS = re.compile(r"^(?:通过|借助|经由)")
_LATER_DEPENDENT = re.compile(r"^(?:并且?|包括|包含|以及|及|和|同时|从而|进而|以|来|使|让|用于|其中|"
                              r"即|如|例如|比如|分别|尤其|特别)")
# "具体包括四个关键贡献。" with nothing after: a list announced and never given
ANNOUNCED = re.compile(r"(?:包括|包含|有|提出了|做出了|带来了|归纳了|总结了)"
                       r"(?:几|两|三|四|五|六|七|八|九|十|多|\d+)(?:个|项|点|大|类|方面)[^。，；：:]{0,8}(?:贡献|创新|发现|改进|部分|方面|步骤|阶段|模块|"
                       r"组件|要点|特点|优势)。$")
BARE_NAME = re.compile(r"^(?:作者|这篇论文|他们)(?:介绍|提出|推出|引入|发布)了[A-Za-z0-9 .^_\-]+。$")


def subjectless(sentence: str) -> bool:
    """A means ("通过…") or a verb with nobody doing it and no clause that names a doer."""
    s = _MARKERS.sub("", sentence).rstrip("。！？!?")
    if VERB_LEAD.match(s):
        return True
    if not _MEANS.match(s):
        return False
    return all(_LATER_DEPENDENT.match(c) or VERB_LEAD.match(c) for c in re.split("[，；]", s)[1:] if c)


def main_clause(sentence: str) -> str | None:
    """"通过X，包括Y，MinMo达到了Z。" from its doer on ("MinMo达到了Z。"), or None without one."""
    if not _MEANS.match(sentence):
        return None
    clauses = sentence.split("，")
    for k in range(1, len(clauses)):
        if not (_LATER_DEPENDENT.match(clauses[k]) or VERB_LEAD.match(clauses[k])):
            return "，".join(clauses[k:])
    return None


def fragment(sentence: str) -> str | None:
    """Why a sentence is not a whole sentence (a piece cut from a longer one), or None."""
    s = _MARKERS.sub("", sentence)
    if _FRAGMENT_START.match(s):
        return "starts like the second half of a sentence"
    if subjectless(s):
        return "has no subject (nobody does what it says)"
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


_DANGLING_END = re.compile(r"(?:[将和与及或对把被并以从向让使]|例如|比如|包括|以及|如|发现|表明|显示|证明|"
                           r"指出|认为)$")


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


THEME_SHARE = 0.3  # a theme of the day needs this share of the papers (and at least three)


def theme_floor(papers: int) -> int:
    return max(3, math.ceil(THEME_SHARE * papers))


# --- a figure restated in plain words ("翻了一倍") and the ratios a line's figures give
RISE = re.compile(r"从\s*(\d+(?:\.\d+)?)\s*%?\s*(?:提高|提升|增加|上升)到\s*(\d+(?:\.\d+)?)\s*%?")
DROP = re.compile(r"(?:降低|减少|缩减|下降)了\s*(\d+(?:\.\d+)?)\s*%")
_RESTATED: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"翻了两番|(?:四|4)倍"), 4.0),
    (re.compile(r"(?:三|3)倍"), 3.0),
    (re.compile(r"翻了一倍|翻了一番|翻倍|(?:两|2)倍"), 2.0),
    (re.compile(r"(?:砍掉|减少|降低|少|省)了一半|减半"), 0.5),
    (re.compile(r"(?:提高|提升|增加|多)了一半"), 1.5),
)
RATIO_TOLERANCE = 0.05  # "差不多翻了一倍" for 1.9x to 2.1x


def restated_ratio(sentence: str) -> float | None:
    """The ratio a plain-words restatement claims (翻了一倍 -> 2), for a line without figures."""
    if _NUMBER.search(sentence):
        return None
    return next((ratio for pattern, ratio in _RESTATED if pattern.search(sentence)), None)


def figure_ratios(text: str) -> list[float]:
    """New over old for every 从X提高到Y, and what is left (1 - p) for every 降低了p%."""
    ratios = [float(m.group(2)) / float(m.group(1)) for m in RISE.finditer(text) if float(m.group(1)) > 0]
    return ratios + [1 - float(m.group(1)) / 100 for m in DROP.finditer(text)]


def ratio_fits(claimed: float, ratios: list[float]) -> bool:
    """Whether every figure of the line before gives ``claimed``: a restatement after two results
    that differ would be true of one only, and the listener cannot tell which."""
    return bool(ratios) and all(abs(r / claimed - 1) <= RATIO_TOLERANCE for r in ratios)
