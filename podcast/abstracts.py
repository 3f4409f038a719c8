"""Understanding one abstract before anyone talks about it.

The template writer never reads an abstract in order. It splits the abstract
into sentences, gives each a role (problem, method, result, release,
limitation, context), rewrites it for a host's mouth (third person, no
parentheses, links or LaTeX, at most about 60 characters per sentence), and
drops sentences that give orders to a language model, because an abstract is
data, not instructions. The same module measures what the writer produced:
which numbers are grounded in the abstract and how much of it was reused
verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .models import Paper
from .script.checks import VERB_LEAD, han_only, subjectless
from .textnorm import clean_markup

ROLES = ("problem", "method", "result", "release", "limitation", "context")

_PAREN = re.compile(r"（[^（）]*）|(?<![A-Za-z])\([^()]*\)")
_AUTHOR_VERBS = (r"提出|引入|设计|开发|构建|介绍|推出|展示|发现|证明|表明|提供|发布|探索|研究|考虑|定义|"
                 r"评估|评测|训练|收集|分析|观察|实现|利用|使用|采用|进行|将|在|通过|首先|还|也|进一步|"
                 r"希望|相信|认为|称|基于|从|把|提|开源|公开|演示|比较|验证|测试|构造|给出|得到|展望|讨论")
_FIRST_PERSON = [
    (re.compile(r"我们(?=提出|引入|设计|开发|构建|介绍|推出|展示|发现|证明|表明|提供|发布)"), "作者"),
    (re.compile(r"本文"), "这篇论文"),
    (re.compile(r"本研究"), "这项研究"),
    (re.compile(r"本综述"), "这篇综述"),
    (re.compile(r"在这项工作中|在本工作中"), "在这项工作里"),
    (re.compile(r"我们的"), "他们的"),
    (re.compile(r"我们(?=方法|模型|框架|系统|则)"), "作者"),
    (re.compile(r"(?:^|(?<=[，。；：]))我们|我们(?=" + _AUTHOR_VERBS + ")"), "作者"),
    # only the "we" of "让我们理解…" is everyone; "基于我们之前的研究" is still the authors
    (re.compile(r"(?<=让|使|令|帮|助|求|碍|迫|促)我们|(?<=阻碍了|帮助了)我们"), "人们"),
    (re.compile(r"我们"), "作者"),
]
_CONNECTIVE = re.compile(r"^(?:最后|此外|同时|然而|但是|另外|因此|总之|具体来说|具体而言|首先|其次|"
                         r"值得注意的是|特别是|更重要的是)[，,]?")
_RELEASE = re.compile(r"https?://|github|已开源|将开源|开源了|公开发布|"
                      r"(代码|权重|模型|数据集|数据和代码|资源)[^。，]{0,10}(开源|公开|发布|获取|可用)", re.I)
_CODE_RELEASE = re.compile(r"代码|github|开源|权重", re.I)
_METHOD = re.compile(r"提出|引入|设计了|开发了|构建了|介绍了|推出|框架|方法是|解决方案是|方案是|"
                     r"通过|利用|采用|"
                     r"(?:我们|本文|作者)(?:探索|研究|考虑)")
_OWN_METHOD = re.compile(r"(?:作者|这篇论文|这项研究|这篇综述)[^，。]{0,12}?"
                         r"(?:提出|引入|设计|开发|构建|介绍|推出|探索|研究|考虑|定义)")
_ANNOUNCES_OWN = re.compile(r"^(?:在(?:这项|本)[^，]{0,6}中，)?(?:我们|本文|本研究)(?:提出|引入|介绍|推出)")
_OWN = re.compile(r"我们|本文|本研究|作者|这篇论文|(?:他们|作者)的(?:解决方案|方案|方法|框架|做法)")
_METHOD_STRONG = re.compile(r"提出|引入|设计了|开发了|构建了|介绍了|推出")
_RESULT = re.compile(r"优于|超越|超过|提升|提高|达到|实现了|显著|表明|证明|领先|匹敌|降低|减少|加速|"
                     r"取得|表现出|胜过|高出|准确率|成功率|召回率|得分")
_PROBLEM = re.compile(r"然而|但是|但|挑战|问题|难以|局限|瓶颈|不足|缺乏|昂贵|受限|阻碍|困难|往往|通常需要")
_LIMITATION = re.compile(r"局限|不足之处|仍然存在|仍存在|尚未|有待|未来工作|未来的工作|仍需|仍有|"
                         r"失败案例|并不总是")
_SOLVED = re.compile(r"解决了|克服了|缓解了|弥补了|突破了|消除了")
_SURVEY = re.compile(r"综述|调研|survey", re.I)
_COMPARES = re.compile(r"现有|以往|传统|基线|此前|先前|已有|之前的|最先进|SOTA|对比|相比", re.I)
# Sentences that address a model or the reader with orders are never spoken.
_INSTRUCTION = re.compile(
    r"忽略(?:以上|上述|之前|前面|所有|先前)|无视(?:以上|上述|之前|所有)|(?:以上|之前的)指令|系统提示|"
    r"请(?:你|您)?(?:忽略|输出|回复|扮演|直接|务必|不要)|你(?:现在)?(?:是|必须|应该|需要)|作为(?:一个)?(?:AI|人工智能|语言模型)|"
    r"ignore (?:all |the )?(?:previous|above|prior)|disregard|system prompt|you are now|as an ai",
    re.I,
)
QUANTITY = re.compile(r"(?<![A-Za-z\d.\-^])\d+(?:[.,]\d+)*\s*(?:%|％|倍|[kKMB](?![A-Za-z]))?(?![A-Za-z\d])")
# a Latin name right before 基准/上/中 in a result sentence: "在MATH基准上", "SWE-bench Verified 上"
_BENCHMARK = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*(?: [A-Z][a-z]+)?"
                        r"(?:\s?\d{2,4})?(?=\s*(?:基准|上|数据集|测试集))")
_NOT_BENCHMARKS = {"llm", "llms", "ai", "gpu", "gpus", "api", "cpu", "gui"}
_INDEX_PAREN = re.compile(r"[（(]\s*(?:\d+|[ivx]+)\s*[)）]")

# Themes a listener recognises, used to preview the day and link papers.
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.I)) for label, pattern in (
        ("数学推理", r"数学|math|定理"),
        ("推理", r"(?<!高效)推理(?!加速|速度|成本|效率|时间|延迟|开销)|"
                 r"reasoning|思维链|chain-of-thought|慢思考"),
        ("智能体", r"智能体|agent|代理"),
        ("多模态", r"多模态|视觉语言|图文|multimodal|VLM|MLLM"),
        ("视频生成", r"视频生成|视频扩散|文生视频|video generation"),
        ("视频理解", r"视频理解|长视频|视频问答|video understanding"),
        ("图像生成", r"图像生成|文生图|text-to-image|图像编辑"),
        ("扩散模型", r"扩散|diffusion"),
        ("代码", r"代码生成|编程|软件工程|code|SWE"),
        ("强化学习", r"强化学习|奖励模型|RLHF|reinforcement|GRPO|PPO|DPO"),
        ("检索增强", r"检索增强|RAG|检索"),
        ("评测基准", r"基准测试集|新基准|benchmark|评测集|评估基准"),
        ("语音", r"语音|speech|TTS|音频"),
        ("机器人", r"机器人|具身|robot"),
        ("三维", r"3D|三维|点云|NeRF|高斯泼溅"),
        ("高效推理", r"(?<!可)量化(?!分析|评估|指标|结果)|剪枝|加速推理|推理加速|高效推理|KV缓存|"
                     r"稀疏注意力|efficient inference"),
        ("安全对齐", r"安全|对齐|越狱|幻觉|alignment"),
        ("长上下文", r"长上下文|长文本|long-context"),
        ("混合专家", r"混合专家|MoE"),
    )
)


def titled_topics(paper: Paper) -> tuple[str, ...]:
    """Topics a paper is truly about: its title says so, not a word somewhere in the abstract."""
    title = f"{paper.title_zh} {paper.title_en}"
    return tuple(label for label, pattern in TOPICS if pattern.search(title))


def topic_count(papers: Sequence[Paper], label: str) -> int | None:
    """How many papers are about ``label`` by their titles; None for a label that is no topic."""
    if label not in dict(TOPICS):
        return None
    return sum(label in titled_topics(p) for p in papers)


_REPO_LINK = re.compile(r"github\.com/|gitlab\.com/|huggingface\.co/(?!papers/)(?:datasets/|"
                        r"spaces/)?[\w.-]+/[\w.-]+",
                        re.I)
_ANY_LINK = re.compile(r"https?://|www\.|[\w-]+\.github\.io", re.I)
_FUTURE = re.compile(r"将(?:会|在|于)?|即将|计划|之后|后(?:公开|发布|开源)|一旦|upon|will", re.I)
_CODE_WORD = re.compile(r"代码|code|实现", re.I)


def release_status(abstract: str) -> str | None:
    """What the abstract really says about a release, by precise rules.

    "code": a repository link (GitHub, GitLab, a Hugging Face model or dataset
    page) given for the code, or a sentence that says the code is at a link;
    "resources": a repository link for data or other resources; "future": the
    release is announced in the future tense; "page": only a project page is
    linked; None: nothing.
    """
    found: set[str] = set()
    for sentence in sentences(abstract):
        link = _ANY_LINK.search(sentence)
        repo = _REPO_LINK.search(sentence)
        future = _FUTURE.search(sentence) and re.search(r"公开|开源|发布|提供|释出|release|"
                                                        r"available", sentence, re.I)
        if future and (link or _CODE_WORD.search(sentence)):
            found.add("future")
        elif (repo and _CODE_WORD.search(sentence)) or (
                link and _CODE_WORD.search(sentence)
                and re.search(r"可在|位于|见|包含|获取|available", sentence, re.I)):
            found.add("code")
        elif repo:
            found.add("resources")
        elif link:
            found.add("page")
    for status in ("code", "resources", "future", "page"):
        if status in found:
            return status
    return None


@dataclass(frozen=True)
class Clause:
    """One sentence of an abstract, ready for a host to say."""

    text: str  # speakable display text, ends with 。
    role: str
    index: int  # position of its source sentence in the abstract
    numbers: int
    source: str  # the original sentence it came from


@dataclass(frozen=True)
class PaperNotes:
    """What the writer knows about a paper after reading its abstract."""

    paper: Paper
    clauses: tuple[Clause, ...]
    topics: tuple[str, ...]
    release: str | None  # "code" or "data" when the abstract announces a release
    survey: bool
    compares: bool
    benchmarks: tuple[str, ...]
    dropped: tuple[str, ...]  # instruction-like sentences that were not used

    def by_role(self, role: str) -> list[Clause]:
        return [c for c in self.clauses if c.role == role]

    @property
    def methods(self) -> list[Clause]:
        """Method sentences, the one that says what the authors built first."""
        def strength(c: Clause) -> int:
            return 2 if _OWN_METHOD.search(c.text) else 1 if _METHOD_STRONG.search(c.text) else 0

        return sorted(self.by_role("method"), key=lambda c: (-strength(c), c.index))

    @property
    def key_result(self) -> Clause | None:
        """The result to quote: one with figures if any sentence has figures."""
        results = sorted(self.by_role("result"), key=lambda c: (-c.numbers, c.index))
        if results and results[0].numbers:
            return results[0]
        facts = sorted((c for c in self.clauses if c.numbers and c.role != "problem"),
                       key=lambda c: (-c.numbers, -c.index))
        if facts:
            return facts[0]
        return results[0] if results else None


def third_person(text: str) -> str:
    """Rewrite an abstract's first person into the hosts' third person."""
    for pattern, repl in _FIRST_PERSON:
        text = pattern.sub(repl, text)
    return text


def sentences(abstract: str) -> list[str]:
    parts = re.split(r"(?<=[。！？!?])", abstract)
    return [p.strip() for p in parts if p.strip()]


def count_numbers(text: str) -> int:
    """Quantities a listener cares about, not digits inside names like URSA-7B."""
    return len(QUANTITY.findall(_INDEX_PAREN.sub("", text)))


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def speakable(sentence: str, name: str | None = None) -> str:
    """Make one abstract sentence fit for a host's mouth (display text, ends with 。).

    ``name`` replaces leftover LaTeX macros such as ``\\implname``, which in
    these abstracts stand for the paper's own system name.
    """
    s = _PAREN.sub("", sentence)
    s = re.sub(r"\\(?!textbf|textit|emph|text\b|%)[A-Za-z]+(?:\{\})?", "\x00", s)
    s = clean_markup(s).replace("\x00", name or "这个方法")
    s = re.sub(r"[“”\"'‘’「」『』【】\[\]]", "", s)
    s = re.sub(r"\s+", " ", s).strip(" ，,；;：:")
    s = re.sub(r"\s*([，。；：！？、])\s*", r"\1", s)
    s = _CONNECTIVE.sub("", s)
    s = third_person(s).rstrip("。！？!?；;，,")
    return s + "。" if s else ""


# A clause that starts like this leans on the one before it ("无需蒸馏，即可匹敌…"),
# so a sentence is never cut right before it.
_DEPENDENT = re.compile(r"^(?:用于|旨在|即可|就|才|则|便|而|并且?|且|以|来|使其|使得|使|让|令|也|都|还|又|仍|"
                        r"甚至|即|"
                        r"其中|分别|从而|进而|以便|以及|和|或|等|同时|乃至|并在|如)")

# ...nor right after a clause that opens a construction the next one completes
# ("即使是最强的系统，…也只有", "作者发现，…").
_OPENER = re.compile(r"即使|虽然|尽管|如果|倘若|只要|只有|不仅|无论|不管|一方面|由于|因为|"
                     r"发现|表明|显示|证明|指出|观察到|意味着|例如|比如|"
                     r"^(?:通过|基于|借助|利用|为了|对于|随着|经过|与|在|从|将|把|当)|"
                     r"(?:时|的情况下|之后|以后|之前)$")


# "我们展示了X的证据，这些模型表现出Y，并探索了Z": the clause after the comma describes the object
# (这些模型), and the later "，并…" goes back to the first subject. Cut there and 这些模型 becomes
# the subject of 探索了, which says the models did what the authors did; so the cut is made before
# "并" instead, and the first subject is said again ("作者还探索了Z"), or the sentence stays whole.
_DESCRIBES_OBJECT = re.compile(r"^(?:这些|这种|这类|这个|该|其)")
_SHARED_PREDICATE = re.compile(r"[，；](?:并且?|同时|而且|进而)(?!非|不)")
_EXPLAINS = re.compile(r"^(?:它|他们|作者)")  # "X的效率：它…" is two sentences; "包括：A、B" is not
_CREATES = re.compile(r"(?:提出|开发|引入|设计|构建|推出)了?[^，；]*"
                      r"(?:机制|方法|框架|模型|系统|模块|策略|算法|架构)$")
_SUBJECT = re.compile(r"^(?:我们|作者|本文|本研究|这项研究|这篇论文)")


def _resubject(body: str, cut: int) -> tuple[str, str] | None:
    """Head and tail for a cut whose tail would steal the head's predicate, or None if unsafe."""
    tail = body[cut + 1 :]
    shared = _SHARED_PREDICATE.search(tail)
    subject = _SUBJECT.match(body)
    if not (_DESCRIBES_OBJECT.match(tail) and shared):
        return body[:cut], tail
    if subject is None:
        return None
    at = cut + 1 + shared.start()
    return body[:at], subject.group(0) + "还" + body[at + 1 + len(shared.group(0)) - 1 :]


def split_long(sentence: str, limit: int = 60) -> list[str]:
    """Split a sentence over ``limit`` characters at clause boundaries into sentences.

    Semicolons are preferred, then a colon before a sentence of its own, then the comma
    nearest the middle whose next clause can stand on its own; a sentence with no such
    comma stays whole.
    """
    body = sentence.rstrip("。")
    if len(body) <= limit:
        return [sentence]
    for mark in "；：，":
        cuts = [m.start() for m in re.finditer(mark, body)
                if 8 <= m.start() <= len(body) - 8 and not _DEPENDENT.match(body[m.start() + 1 :])
                and (not VERB_LEAD.match(body[m.start() + 1 :])
                     or _CREATES.search(re.split("[，；]", body[: m.start()])[-1]))
                and (subjectless(body) or not subjectless(body[: m.start()])
                     or re.search("将|把", body[: m.start()]))  # "通过X将Y提升到Z" only lacks its doer
                and (mark != "：" or _EXPLAINS.match(body[m.start() + 1 :]))
                and not _OPENER.search(re.split("[，；]", body[: m.start()])[-1])
                and _resubject(body, m.start()) is not None]
        if cuts:
            break
    else:
        return [sentence]
    cut = min(cuts, key=lambda c: abs(c - len(body) / 2))
    head, tail = _resubject(body, cut) or (body[:cut], body[cut + 1 :])
    if VERB_LEAD.match(tail):  # "作者开发了X，有效整合了Y": what X does, said of X
        tail = "它" + tail
    return split_long(head + "。", limit) + split_long(tail + "。", limit)


def classify(sentence: str, position: float) -> str:
    """The role of a sentence; ``position`` in [0, 1] is where it sits in the abstract."""
    if _RELEASE.search(sentence):
        return "release"
    if position >= 0.5 and _LIMITATION.search(sentence) and not _SOLVED.search(sentence):
        return "limitation"
    if position < 0.8 and _ANNOUNCES_OWN.search(sentence):  # "本文提出X，一个1.5B参数的模型" is the gist
        return "method"
    if count_numbers(sentence) and _RESULT.search(sentence):
        return "result"
    if _METHOD.search(sentence) and (position < 0.8 or _OWN.search(sentence)) and (
            position > 0.15 or _OWN.search(sentence)):
        return "method"
    if _RESULT.search(sentence) and position >= 0.4:
        return "result"
    if _PROBLEM.search(sentence) and position < 0.5:
        return "problem"
    if _METHOD.search(sentence) and (position > 0.15 or _OWN.search(sentence)):
        return "method"
    return "context"


def topics_of(text: str) -> tuple[str, ...]:
    found = [label for label, pattern in TOPICS if pattern.search(text)]
    if "数学推理" in found and "推理" in found:
        found.remove("推理")
    return tuple(found)


def analyse(paper: Paper) -> PaperNotes:
    """Read a paper's abstract into roles, topics and facts the writer can use."""
    raw = sentences(paper.abstract_zh)
    name = paper.short_name
    clauses: list[Clause] = []
    dropped: list[str] = []
    release: str | None = None
    for i, sentence in enumerate(raw):
        if is_instruction(sentence):
            dropped.append(sentence)
            continue
        role = classify(sentence, i / max(1, len(raw) - 1) if len(raw) > 1 else 0.5)
        if role == "release":
            release = "code" if _CODE_RELEASE.search(sentence) else "data"
            continue  # links are never read out; the writer says 代码已经开源 instead
        text = speakable(sentence, name)
        if len(text) < 6:
            continue
        clauses.append(Clause(text, role, i, count_numbers(text), sentence))
    if not any(c.role == "method" for c in clauses):
        # every paper needs a gist: a sentence about the paper itself, else the first non-problem one
        candidates = [j for j, c in enumerate(clauses) if c.role in ("context", "result") and not c.numbers]
        for j in sorted(candidates, key=lambda j: not _OWN.search(clauses[j].text))[:1]:
            c = clauses[j]
            clauses[j] = Clause(c.text, "method", c.index, c.numbers, c.source)
    body = f"{paper.title_zh} {paper.title_en} {paper.abstract_zh}"
    benchmarks = []
    for c in clauses:
        if c.role == "result":
            benchmarks += _BENCHMARK.findall(c.text)
    benchmarks = [b.strip() for b in benchmarks if b.strip() != name and b.lower() not in _NOT_BENCHMARKS
                  and len(re.findall("[A-Za-z]", b)) >= 3 and not (name and b.startswith(name))]
    return PaperNotes(
        paper=paper, clauses=tuple(clauses), topics=topics_of(body), release=release,
        survey=bool(_SURVEY.search(paper.title_zh + paper.title_en)),
        compares=bool(_COMPARES.search(paper.abstract_zh)),
        benchmarks=tuple(dict.fromkeys(benchmarks))[:2],
        dropped=tuple(dropped),
    )


# ---------------------------------------------------------------- measuring


def numbers_in(text: str) -> set[str]:
    """Quantities in ``text``, normalised for comparison (``\\%`` and spaces removed)."""
    text = _INDEX_PAREN.sub("", text.replace("\\%", "%").replace("％", "%"))
    return {re.sub(r"\s+", "", n) for n in QUANTITY.findall(text)}


def ungrounded(spoken: str, sources: Sequence[str]) -> set[str]:
    """Numbers a host says that none of ``sources`` (abstract, title) gives."""
    allowed: set[str] = set()
    for source in sources:
        allowed |= numbers_in(source)
        # a digit that is part of a name in the title (URSA-7B) may be said
        allowed |= set(re.findall(r"\d+(?:\.\d+)?", source))
    said = numbers_in(spoken)
    bare = {re.sub(r"[%倍kKMB]$", "", n) for n in allowed}
    return {n for n in said if n not in allowed and n not in bare}


def verbatim_ratio(abstract: str, spoken: str, n: int = 10) -> float:
    """Share of the abstract's Chinese characters that appear in ``spoken`` inside
    an identical run of at least ``n`` of them. Latin names, digits and
    punctuation are left out: saying "DeepSeek-R1" again is not reading prose."""
    a, s = han_only(abstract), han_only(spoken)
    if len(a) < n:
        return 0.0
    grams = {s[i : i + n] for i in range(len(s) - n + 1)}
    covered = [False] * len(a)
    for i in range(len(a) - n + 1):
        if a[i : i + n] in grams:
            covered[i : i + n] = [True] * n
    return sum(covered) / len(a)
