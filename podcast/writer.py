"""Script writers: turn a ``Digest`` into a one- or two-host ``Script``.

Writers are registered by name (``template`` is the offline default) and the
script is saved as YAML a person can edit; ``load_script`` reads it back with
errors that name the file and field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import yaml
from pydantic import ValidationError

from . import plugins
from .abstracts import Clause, PaperNotes, analyse, count_numbers, han_only, split_long
from .errors import PodcastError, ScriptError
from .length import LengthPlan
from .models import Digest, Host, Line, Paper, PaperRef, Script, Segment

WEEKDAYS = "一二三四五六日"


class ScriptWriter(Protocol):
    """What every writer offers; capabilities are attributes, not name checks."""

    name: ClassVar[str]
    needs_network: ClassVar[bool]

    def write(self, digest: Digest, hosts: Sequence[Host], show_title: str,
              plan: LengthPlan | None = None) -> Script:
        """One host means a solo show; ``plan`` sets the per-paper time budgets."""
        ...


@dataclass(frozen=True)
class WriterOptions:
    """What a writer may need besides the digest: a model client, strictness, a warning sink."""

    llm: Any = None  # a podcast.llm.LLM, or an LLMUnavailable saying why there is none
    strict: bool = False  # fail instead of falling back to the template writer
    warn: Callable[[str], None] = lambda _message: None


def register_writer(cls: type) -> type:
    """In-process registration (``podcast.plugins.register_writer``); built-ins use entry points."""
    return plugins.register_writer(cls)


def get_writer(name: str, options: WriterOptions | None = None) -> ScriptWriter:
    """Construct writer ``name`` from the plug-in registry; ``UnknownPlugin`` lists the known ones."""
    writer: ScriptWriter = plugins.writers.get(name)(options or WriterOptions())
    return writer


# ---------------------------------------------------------------- phrase banks
# Every bank is picked from deterministically (date + paper), so a rebuild
# gives the same script, and recently used phrases are avoided.

_INTRO_FIRST = (
    "我们先从今天热度最高的一篇说起，{title}。",
    "第一篇就很有分量，{title}。",
    "开头这篇是今天榜单的头名，{title}。",
    "今天排在最前面的是{title}。",
)
_INTRO_NEXT = (
    "接下来这篇叫{title}。",
    "我们换个方向，看看{title}。",
    "下面要聊的是{title}。",
    "说完这个，再来看{title}。",
    "再看一篇，{title}。",
    "紧接着这篇也挺有意思，{title}。",
    "下一篇的标题是{title}。",
    "然后是{title}。",
)
_INTRO_LINKED = (
    "同样是{topic}方向，下一篇是{title}。",
    "说到{topic}，接下来这篇也有关系，{title}。",
    "还是{topic}，我们再看{title}。",
    "继续聊{topic}，这篇叫{title}。",
)
_INTRO_LAST = (
    "最后一篇，{title}。",
    "今天的最后一篇是{title}。",
    "压轴的是{title}。",
)
_ASK_PROBLEM = (
    "它想解决什么问题？",
    "先说说背景吧，为什么要做这个？",
    "它的出发点是什么？",
    "现在这个方向卡在哪儿？",
)
_ASK_NAMED = ("{name}是个什么东西？", "{name}具体是做什么的？", "听名字挺有意思，{name}在做什么？")
_ASK_SURVEY = ("综述类的文章，它梳理了哪些内容？", "这篇综述覆盖了哪些方面？")
_ASK_PLAIN = ("这篇主要讲什么？", "听名字挺有意思，它在做什么？", "它的核心想法是什么？")
_ASK_SURVEY_FINDINGS = ("它总结出了哪些趋势？", "有什么值得注意的结论吗？")
_ASK_SURVEY_MORE = ("那它具体讲了些什么？", "它是怎么梳理的？")
_ASK_METHOD = ("那作者是怎么做的？", "那他们的办法是什么？", "具体怎么解决的？")
_ASK_METHOD_NAMED = ("那{name}的思路是什么？", "{name}具体是怎么做的？")
_REPLY_PROBLEM = ("嗯。", "对，这确实是个痛点。", "嗯，确实。", "是的。")
_REPLY_METHOD = ("嗯。", "原来如此。", "明白了。", "对。")
_ASK_COMPARED = ("和以前的方法比，提升了多少？", "比之前最好的方法强多少？", "和基线比呢？")
_ASK_BENCH = ("在{bench}上表现怎么样？", "那在{bench}上跑出来的成绩呢？")
_ASK_NUMBERS = ("那效果怎么样，有具体数字吗？", "那具体提升了多少？", "实际跑出来的效果呢？")
_ASK_DIFFERENT = ("它和以前的方法比有什么不同？", "那它的效果怎么样？", "这个思路最后验证了吗？",
                  "实验上站得住吗？")
_ASK_LIMIT = ("有没有什么局限？", "它有什么不足吗？", "作者自己提到了什么限制吗？")
_REACT_NUMBERS = ("这个提升幅度挺可观的。", "嗯，数字很有说服力。", "这个结果挺扎实的。",
                  "嗯，能看出来进步不小。")
_REACT_SURVEY = ("这种综述很适合刚入门的人收藏。", "想快速了解这个领域的话，可以从这篇看起。")
_REACT_PLAIN = ("原来如此，思路很清楚。", "有意思，相当于换了一个角度看老问题。", "这个方向值得持续关注。",
                "对，这种做法在实际应用里很有价值。")
_RELEASE_CODE = ("而且代码已经开源，感兴趣可以去看看。", "好在代码已经开源，可以直接上手试试。",
                 "代码已经开源了。")
_RELEASE_DATA = ("作者也公开了数据，方便大家复现。", "相关数据已经公开了。")
_SOLO_RELEASE = ("另外，代码已经开源，链接在节目简介里。",)
_CLOSE_BYE = ("每篇论文的链接和文字稿都在节目简介里。我们明天见！",
              "论文链接和文字稿都放在节目简介里了。我们明天见！")


# Jargon a listener may not know, explained in our own words the first time a
# paper's spoken text uses it (at most once per episode). No digits here, so
# explanations never add a figure the abstract does not give.
_CONCEPTS: tuple[tuple[str, str, str], ...] = (
    ("蒙特卡洛树搜索", r"蒙特卡洛树搜索|MCTS",
     "可以把它想成下棋时的推演：先往前试走几步，看哪条路赢面大，再把算力集中到最有希望的分支上。"),
    ("过程奖励模型", r"过程奖励模型|PRM",
     "普通的奖励模型只看最后答案对不对，过程奖励模型会给每一步推理打分，更像老师批改解题过程。"),
    ("思维链", r"思维链|CoT",
     "就是让模型把推理步骤一步步写出来，而不是直接报答案，像做数学题时打草稿。"),
    ("蒸馏", r"蒸馏",
     "就是让小模型去模仿大模型的输出，好比徒弟跟着师傅学，学的是师傅的判断方式。"),
    ("直接偏好优化", r"直接偏好优化|DPO",
     "它不单独训练一个打分模型，而是直接拿人更喜欢和不喜欢的两个回答做对比，来调整模型。"),
    ("检索增强生成", r"检索增强|RAG",
     "就是先去资料库里查相关内容，再让模型结合查到的材料回答，有点像开卷考试。"),
    ("混合专家", r"混合专家|MoE",
     "模型里有很多个专家子网络，每次只叫醒其中几个来处理输入，所以总参数很多，算起来却不慢。"),
    ("扩散模型", r"扩散模型|扩散",
     "它从一团噪声出发，一步步去噪，最后还原出清晰的画面，像雕塑家一点点凿掉多余的石头。"),
    ("监督微调", r"监督微调|SFT",
     "就是拿标注好的示范问答，把预训练好的模型再训练一遍，让它学会按要求回答。"),
    ("多模态大模型", r"多模态大|MLLM|视觉语言模型|VLM",
     "就是既能看图又能读文字的大模型，输入可以是一张图片加一个问题。"),
    ("图形界面智能体", r"GUI\s*(?:代理|智能体)",
     "就是能像人一样看着屏幕、点按钮、填表格的智能体，直接操作电脑或手机的界面。"),
    ("测试时扩展", r"测试时(?:计算|扩展|搜索|缩放)",
     "意思是在回答问题的时候多花一些计算，比如多想几条思路再挑最好的，而不是只靠把模型练得更大。"),
    ("奖励模型", r"奖励模型",
     "奖励模型是专门给回答打分的模型，用来告诉另一个模型什么样的回答更好。"),
    ("强化学习", r"强化学习",
     "简单说就是试错学习，做对了给奖励，做错了扣分，模型慢慢学会拿高分的做法。"),
    ("合成数据", r"合成数据|合成的数据|数据合成",
     "就是用模型自己生成训练数据，而不是全靠人工标注，成本低，规模也容易做大。"),
    ("点云", r"点云",
     "点云就是用成千上万个三维坐标点来描述物体的形状，激光雷达扫出来的就是这种数据。"),
    ("高斯泼溅", r"高斯泼溅|高斯溅射|Gaussian Splatting",
     "它用大量带颜色的小椭球来表示三维场景，渲染起来比神经辐射场快得多。"),
    ("神经辐射场", r"神经辐射场|NeRF",
     "它用一个神经网络记住场景里每个位置的颜色和密度，于是能从新的角度渲染出画面。"),
    ("量化", r"量化",
     "就是把模型参数从高精度的数字换成低精度的，模型变小、跑得更快，代价是可能损失一点精度。"),
    ("零样本", r"零样本|zero-shot",
     "意思是模型没见过这个任务的训练例子，也能直接上手去做。"),
    ("低秩适配", r"LoRA|低秩适配",
     "它只训练插进模型里的一小部分参数，原来的大模型保持不动，所以微调成本低很多。"),
    ("世界模型", r"世界模型",
     "世界模型是让人工智能学会预测环境接下来会怎么变化，好比在脑子里先模拟一遍。"),
    ("具身智能", r"具身",
     "指的是有身体的智能，比如机器人，要在真实环境里一边感知一边行动。"),
    ("幻觉", r"幻觉",
     "幻觉指的是模型一本正经地编造并不存在的事实。"),
    ("基准测试", r"基准测试|benchmark",
     "可以理解成一套公开的考题，大家用同一套题比成绩，结果才有可比性。"),
    ("自回归", r"自回归",
     "就是一个接一个地生成，每一步都以前面已经生成的内容为条件。"),
)
_ASK_CONCEPT = ("等一下，{concept}是什么意思？", "给听众解释一下，什么是{concept}？", "{concept}具体指什么？")
_SOLO_CONCEPT = ("这里稍微解释一下{concept}：",)


class Rng:
    """Deterministic choices seeded by the date and a key, so rebuilds match.

    ``used`` is shared across one episode: a phrase is not repeated until
    every other phrase of its bank has had its turn.
    """

    def __init__(self, date: dt.date, key: str, used: dict[tuple[str, ...], list[str]] | None = None) -> None:
        seed = hashlib.sha256(f"{date.isoformat()}|{key}".encode()).digest()
        self._r = random.Random(int.from_bytes(seed[:8], "big"))
        self._used = used if used is not None else {}

    def pick(self, bank: Sequence[str], **fields: str) -> str:
        used = self._used.setdefault(tuple(bank), [])
        fresh = [p for p in bank if p not in used] or list(bank)
        if len(fresh) == len(bank):
            used.clear()
        phrase = self._r.choice(fresh)
        used.append(phrase)
        return phrase.format(**fields) if fields else phrase

    def chance(self, p: float) -> bool:
        return self._r.random() < p


def display_title(title: str) -> str:
    """A title as hosts and notes show it: tags and URLs go, symbols like ^ stay."""
    return re.sub(r"\s+", " ", re.sub(r"</?[A-Za-z][^<>]*>|https?://\S+", "", title)).strip()


def _title_phrase(paper: Paper) -> str:
    name = paper.short_name
    title = f"《{display_title(paper.title_zh)}》"
    if name and name.lower() not in paper.title_zh.lower():
        return f"{title}，英文名叫{name}"
    return title


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


def _counted_topics(notes: Sequence[PaperNotes]) -> list[tuple[str, int]]:
    counts = Counter(t for n in notes for t in n.topics)
    return [(t, k) for t, k in counts.most_common() if k >= 2]


@dataclass(frozen=True)
class _Beat:
    """One planned utterance: who says it (presenter or asker) and what."""

    by: str  # "p" presenter, "q" asker
    text: str
    kind: str  # intro, ask, reply, explain, react


@dataclass
class _Picks:
    """Abstract pieces chosen for one paper, per beat, keyed by position in the abstract."""

    groups: dict[str, dict[tuple[int, int], str]] = field(
        default_factory=lambda: {"problem": {}, "method": {}, "result": {}, "limitation": {}})

    def text(self, group: str) -> list[str]:
        """The group's pieces in the abstract's order, so the argument flows as written."""
        chosen = self.groups[group]
        return [chosen[k] for k in sorted(chosen)]

    @property
    def problem(self) -> list[str]:
        return self.text("problem")

    @property
    def method(self) -> list[str]:
        return self.text("method")

    @property
    def result(self) -> list[str]:
        return self.text("result")

    @property
    def limitation(self) -> list[str]:
        return self.text("limitation")


VERBATIM_CAP = 0.48  # share of an abstract's characters a paper's segment may reuse word for word


@dataclass
class _State:
    """What one episode has used so far: recent phrases, concepts already explained."""

    used: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    explained: set[str] = field(default_factory=set)


def _concept(spoken: str, explained: set[str]) -> tuple[str, str] | None:
    for label, pattern, explanation in _CONCEPTS:
        if label not in explained and re.search(pattern, spoken, re.I):
            return label, explanation
    return None


def _lead_clause(piece: str) -> str:
    """The first clause of a sentence when it can stand alone (keeps any figure)."""
    head = re.split("[，；：]", piece, maxsplit=1)[0]
    if len(han_only(head)) >= 10 and count_numbers(head) == count_numbers(piece):
        return head + "。"
    return piece


def _choose(notes: PaperNotes, budget: float, overhead: float, plan: LengthPlan) -> _Picks:
    """Fill a paper's time budget with abstract pieces, most important first.

    The gist of the method and the key result (the piece with its first figure)
    are always said. Then the problem, the rest of the method, more results and
    the limitation are added while they fit the budget and while no more than
    ``VERBATIM_CAP`` of the abstract's characters have been reused.
    """
    picks = _Picks()
    cap = VERBATIM_CAP * len(han_only(notes.paper.abstract_zh))
    used = 0.0
    spent = overhead
    methods = notes.methods
    first_method = methods[0].index if methods else len(notes.clauses)

    def group_of(clause: Clause) -> str:
        """Background said before the main method belongs with the problem."""
        if clause.role in ("problem", "limitation", "result"):
            return clause.role
        return "problem" if clause.index < first_method else "method"

    def take(clause: Clause | None, limit: int = 99, required_piece: int | None = None) -> None:
        """Say pieces of ``clause`` in order while they fit (``required_piece`` always)."""
        nonlocal used, spent
        if clause is None:
            return
        pieces = split_long(clause.text)
        chosen = picks.groups["result" if clause is key else group_of(clause)]
        for k, piece in enumerate(pieces[:limit]):
            if (clause.index, k) in chosen:
                continue
            over_cap = used + len(han_only(piece)) > cap
            if k == required_piece and over_cap:
                piece = _lead_clause(piece)  # a short abstract: say the gist, not the whole sentence
            cost = plan.pace.seconds(piece)
            if k != required_piece and (spent + cost > budget or over_cap):
                if required_piece is None or k > required_piece:
                    return
                continue
            chosen[(clause.index, k)] = piece
            used += len(han_only(piece))
            spent += cost

    key = notes.key_result
    take(methods[0] if methods else None, limit=1, required_piece=0)
    if key is not None:
        pieces = split_long(key.text)
        numeric = next((i for i, p in enumerate(pieces) if count_numbers(p)), 0)
        take(key, limit=numeric + 1, required_piece=numeric)
    problems = notes.by_role("problem") or [c for c in notes.by_role("context") if c.index < first_method]
    take(problems[0] if problems else None, limit=2)
    take(methods[0] if methods else None)
    take(key)
    others = [c for c in notes.by_role("result") if c is not key and c.numbers]
    take(others[0] if others else None, limit=1)
    take(methods[1] if len(methods) > 1 else None, limit=1)
    take(next(iter(notes.by_role("limitation")), None), limit=1)
    # time left: more of the method and results, in the abstract's order
    for clause in sorted(notes.clauses, key=lambda c: c.index):
        if clause.role in ("method", "result", "context"):
            take(clause)
    return picks


@register_writer
class TemplateWriter:
    """Offline writer: builds each paper's dialogue from the roles of its abstract's sentences.

    With two hosts, a presenter explains and a partner asks questions drawn
    from the abstract's content; with one host, the questions become the
    host's own rhetorical questions.
    """

    name: ClassVar[str] = "template"
    needs_network: ClassVar[bool] = False

    def __init__(self, options: WriterOptions | None = None) -> None:
        self.options = options or WriterOptions()

    def write(self, digest: Digest, hosts: Sequence[Host], show_title: str,
              plan: LengthPlan | None = None) -> Script:
        if not hosts:
            raise PodcastError("the voice preset has no hosts")
        plan = plan or LengthPlan()
        hosts = list(hosts[:2])
        notes = [analyse(p) for p in digest.papers]
        budgets = plan.budgets(len(notes))
        state = _State()
        segments = [self._opening(digest, notes, hosts, show_title)]
        for i, (paper_notes, budget) in enumerate(zip(notes, budgets, strict=True)):
            previous = notes[i - 1] if i else None
            segments.append(self._paper(digest.date, paper_notes, i, len(notes), previous, hosts,
                                        budget, plan, state))
        segments.append(self._closing(digest, notes, hosts))
        return Script(date=digest.date, title=episode_title(digest), writer=self.name,
                      topics=list(digest.hot_topics), hosts=hosts, segments=segments)

    # ------------------------------------------------------------ opening and closing

    def _opening(self, digest: Digest, notes: Sequence[PaperNotes], hosts: list[Host],
                 show_title: str) -> Segment:
        d = digest.date
        n = len(digest.papers)
        a = hosts[0]
        b = hosts[-1]
        topics = _join(list(digest.hot_topics[:4])) or "多个方向"
        themes = _counted_topics(notes)[:3]
        if themes:
            parts = [f"{k}篇和{t}有关" for t, k in themes]
            tail = ("，还有" if len(parts) > 1 else "") + parts[-1]
            preview = "细分来看，有" + "，".join(parts[:-1]) + tail + "。"
        elif n > 1:
            spread = [t for nt in notes for t in nt.topics]
            spread = list(dict.fromkeys(spread))[:3]
            preview = f"方向很分散，{_join(spread)}都有涉及。" if len(spread) > 1 else ""
        else:
            preview = ""
        date_line = f"今天是{d.year}年{d.month}月{d.day}日，星期{WEEKDAYS[d.weekday()]}。"
        count_line = f"今天抱抱脸的每日论文榜上一共有{n}篇论文，热门领域集中在{topics}。{preview}"
        top = f"《{display_title(digest.papers[0].title_zh)}》"
        lead = (f"我们会从热度最高的{top}聊起，然后一篇一篇往下看。" if n > 1
                else f"今天就专心聊这一篇，{top}。")
        if len(hosts) == 1:
            lines = [Line(speaker=a.id, text=f"大家好，欢迎收听{show_title}，我是{a.name}。{date_line}"),
                     Line(speaker=a.id, text=count_line + lead)]
        else:
            lines = [Line(speaker=a.id, text=f"大家好，欢迎收听{show_title}，我是{a.name}。"),
                     Line(speaker=b.id, text=f"我是{b.name}。{date_line}"),
                     Line(speaker=a.id, text=count_line),
                     Line(speaker=b.id, text=lead)]
        return Segment(id="opening", title="开场", kind="opening", lines=lines)

    def _closing(self, digest: Digest, notes: Sequence[PaperNotes], hosts: list[Host]) -> Segment:
        n = len(digest.papers)
        a, b = hosts[0], hosts[-1]
        rng = Rng(digest.date, "closing")
        themes = _counted_topics(notes)
        top = notes[0]
        title = f"《{display_title(top.paper.title_zh)}》"
        key = top.key_result
        if key is not None and key.numbers:
            piece = next(p for p in split_long(key.text) if count_numbers(p))
            fact = f"{title}的结果，{piece}"
        else:
            fact = f"{title}，它是今天讨论最多的一篇。"
        takeaway = f"如果只记住一件事，我会选{fact}"
        if themes:
            theme, k = themes[0]
            takeaway = f"今天的主线很清楚，{k}篇论文都和{theme}有关。{takeaway}"
        bye = rng.pick(_CLOSE_BYE)
        if len(hosts) == 1:
            lines = [Line(speaker=a.id, text=f"好了，今天的{n}篇论文就聊到这里。"),
                     Line(speaker=a.id, text=takeaway),
                     Line(speaker=a.id, text=bye)]
        else:
            lines = [Line(speaker=a.id, text=f"好了，今天的{n}篇论文就聊到这里。"),
                     Line(speaker=b.id, text=takeaway),
                     Line(speaker=a.id, text=bye),
                     Line(speaker=b.id, text="明天见！")]
        return Segment(id="closing", title="结束语", kind="closing", lines=lines)

    # ------------------------------------------------------------ one paper

    def _paper(self, date: dt.date, notes: PaperNotes, index: int, total: int,
               previous: PaperNotes | None, hosts: list[Host], budget: float, plan: LengthPlan,
               state: _State) -> Segment:
        paper = notes.paper
        rng = Rng(date, f"paper-{paper.rank}-{paper.title_en or paper.title_zh}", state.used)
        beats = self._beats(notes, index, total, previous, budget, plan, rng, len(hosts) == 1,
                            state.explained)
        if len(hosts) == 1:
            lines = _solo_lines(beats, hosts[0])
        else:
            swap = index > 0 and rng.chance(0.3)  # now and then the partner presents
            presenter, asker = (hosts[1], hosts[0]) if swap else (hosts[0], hosts[1])
            lines = _merge_turns([Line(speaker=(presenter if b.by == "p" else asker).id, text=b.text)
                                  for b in beats])
        return Segment(id=f"paper-{paper.rank}", title=display_title(paper.title_zh),
                       kind="paper", url=paper.url, lines=lines, budget_seconds=round(budget, 1),
                       paper=PaperRef(rank=paper.rank, title_zh=paper.title_zh, title_en=paper.title_en,
                                      hf_url=paper.hf_url, arxiv_url=paper.arxiv_url,
                                      arxiv_id=paper.arxiv_id))

    def _beats(self, notes: PaperNotes, index: int, total: int, previous: PaperNotes | None,
               budget: float, plan: LengthPlan, rng: Rng, solo: bool, explained: set[str]) -> list[_Beat]:
        paper = notes.paper
        name = paper.short_name
        title = _title_phrase(paper)
        shared = [t for t in notes.topics if previous and t in previous.topics]
        if index == 0:
            intro = rng.pick(_INTRO_FIRST, title=title)
        elif index == total - 1 and total > 2:
            intro = rng.pick(_INTRO_LAST, title=title)
        elif shared:
            intro = rng.pick(_INTRO_LINKED, title=title, topic=shared[0])
        else:
            intro = rng.pick(_INTRO_NEXT, title=title)

        # questions and reactions are known up front so their time counts against the budget
        key = notes.key_result
        if notes.survey:
            ask_result = rng.pick(_ASK_SURVEY_FINDINGS)
        elif key is None:
            ask_result = rng.pick(_ASK_DIFFERENT)
        elif notes.benchmarks and key.numbers and rng.chance(0.5):
            ask_result = rng.pick(_ASK_BENCH, bench=_join(list(notes.benchmarks)))
        elif notes.compares and key.numbers:
            ask_result = rng.pick(_ASK_COMPARED)
        else:
            ask_result = rng.pick(_ASK_NUMBERS if key.numbers else _ASK_DIFFERENT)
        react = rng.pick(_REACT_SURVEY if notes.survey else
                         _REACT_NUMBERS if key is not None and key.numbers else _REACT_PLAIN)
        release = ""
        if notes.release:
            release = rng.pick(_SOLO_RELEASE if solo else
                               _RELEASE_CODE if notes.release == "code" else _RELEASE_DATA)
        overhead = plan.lines_seconds([intro, "它想解决什么问题？", ask_result, react + release])
        picks = _choose(notes, budget, overhead, plan)

        if notes.survey:
            ask_open = rng.pick(_ASK_SURVEY)
        elif picks.problem:
            ask_open = rng.pick(_ASK_PROBLEM)
        elif name:
            ask_open = rng.pick(_ASK_NAMED, name=name)
        else:
            ask_open = rng.pick(_ASK_PLAIN)
        beats = [_Beat("p", intro, "intro"), _Beat("q", ask_open, "ask")]
        if picks.problem:
            beats.append(_Beat("p", "".join(picks.problem), "explain"))
            if rng.chance(0.4):
                beats.append(_Beat("q", rng.pick(_REPLY_PROBLEM), "reply"))
            else:
                bank = (_ASK_SURVEY_MORE if notes.survey else
                        _ASK_METHOD_NAMED if name and rng.chance(0.5) else _ASK_METHOD)
                beats.append(_Beat("q", rng.pick(bank, name=name or ""), "ask"))
        method = picks.method
        if len(method) > 1 and not picks.problem and rng.chance(0.5):
            beats.append(_Beat("p", method[0], "explain"))
            beats.append(_Beat("q", rng.pick(_REPLY_METHOD), "reply"))
            method = method[1:]
        if method:
            beats.append(_Beat("p", "".join(method), "explain"))
        after_method = len(beats)
        if picks.result:
            beats.append(_Beat("q", ask_result, "ask"))
            beats.append(_Beat("p", "".join(picks.result), "explain"))
        if picks.limitation:
            beats.append(_Beat("q", rng.pick(_ASK_LIMIT), "ask"))
            beats.append(_Beat("p", "".join(picks.limitation), "explain"))
        spent = plan.lines_seconds([b.text for b in beats])
        concept = _concept("".join(picks.problem + picks.method), explained)
        if concept is not None:
            label, explanation = concept
            ask = rng.pick(_SOLO_CONCEPT if solo else _ASK_CONCEPT, concept=label)
            cost = plan.line_seconds(ask) + plan.line_seconds(explanation)
            if spent + cost <= budget:
                beats[after_method:after_method] = [_Beat("q", ask, "ask"),
                                                    _Beat("p", explanation, "explain")]
                explained.add(label)
                spent += cost
        if release or spent + plan.line_seconds(react) <= budget:
            beats.append(_Beat("q", (react if spent + plan.line_seconds(react) <= budget else "") + release,
                               "react"))
        return [b for b in beats if b.text]


def _solo_lines(beats: Sequence[_Beat], host: Host) -> list[Line]:
    """One host: questions become rhetorical and lead into the answer; replies are dropped."""
    lines: list[str] = []
    pending = ""
    for beat in beats:
        if beat.kind == "reply":
            continue
        if beat.kind == "ask":
            pending = beat.text
            if pending.endswith("？") and not re.search(r"[吗呢吧]？$", pending):
                pending = pending[:-1] + "呢？"
            continue
        lines.append(pending + beat.text)
        pending = ""
    return [Line(speaker=host.id, text=t) for t in lines]


def _merge_turns(lines: list[Line]) -> list[Line]:
    """Join consecutive lines of one speaker so the hosts always alternate."""
    merged: list[Line] = []
    for line in lines:
        if merged and merged[-1].speaker == line.speaker:
            merged[-1] = Line(speaker=line.speaker, text=merged[-1].text + line.text)
        else:
            merged.append(line)
    return merged


def episode_title(digest: Digest) -> str:
    d = digest.date
    return f"{d.year}年{d.month}月{d.day}日 · {len(digest.papers)}篇AI热门论文"


# ---------------------------------------------------------------- script files


def script_path(root: Path, date: dt.date) -> Path:
    return root / "scripts" / f"{date.isoformat()}.yaml"


def dump_script(script: Script) -> str:
    """YAML with Chinese kept readable and one line of dialogue per entry."""
    data = script.model_dump(mode="json", exclude_none=True)
    if not data.get("notes"):
        data.pop("notes", None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def load_script(path: Path) -> Script:
    """Read a (possibly hand-edited) script; any problem names the file and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ScriptError(path, f"cannot read script: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScriptError(path, "not valid UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScriptError(path, f"invalid YAML: {getattr(exc, 'problem', exc)}", line) from exc
    if not isinstance(data, dict):
        raise ScriptError(path, "expected a mapping with date, title, hosts and segments")
    try:
        script = Script.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ScriptError(path, f"{where}: {msg}" if where else msg) from exc
    return split_long_lines(script)


MAX_LINE = 300  # characters one line may carry; longer hand-written lines are split at sentences


def split_long_lines(script: Script) -> Script:
    """Split over-long lines (a pasted paragraph) into several lines of the same speaker."""
    notes = list(script.notes)
    segments = []
    for si, seg in enumerate(script.segments):
        lines: list[Line] = []
        for li, line in enumerate(seg.lines):
            if len(line.text) <= MAX_LINE:
                lines.append(line)
                continue
            parts = _chunks(line.text)
            lines += [Line(speaker=line.speaker, text=p) for p in parts]
            notes.append(f"segments.{si}.lines.{li}: a {len(line.text):,}-character line was split "
                         f"into {len(parts)} lines")
        segments.append(seg.model_copy(update={"lines": lines}))
    if notes == script.notes:
        return script
    return script.model_copy(update={"segments": segments, "notes": notes})


def _chunks(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for piece in re.split(r"(?<=[。！？!?；;])", text):
        while len(piece) > MAX_LINE:  # no sentence end for a long stretch: cut at a comma, or hard
            cut = max(piece.rfind(c, 0, MAX_LINE) for c in "，,、 ")
            cut = cut + 1 if cut > MAX_LINE // 3 else MAX_LINE
            if current:
                out.append(current)
                current = ""
            out.append(piece[:cut])
            piece = piece[cut:]
        if len(current) + len(piece) > MAX_LINE and current:
            out.append(current)
            current = ""
        current += piece
    if current.strip():
        out.append(current)
    return [p for p in (c.strip() for c in out) if p]

