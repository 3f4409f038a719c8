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
from .abstracts import (
    Clause,
    PaperNotes,
    analyse,
    count_numbers,
    han_only,
    release_status,
    split_long,
    titled_topics,
)
from .errors import PodcastError, ScriptError
from .length import LengthPlan
from .models import Digest, Host, Line, Paper, PaperRef, Script, Segment
from .phrases import Phrases, load_phrases
from .script.checks import (
    COMPARE,
    NEGATIVE,
    RISE,
    back_reference,
    cut_off,
    figure_ratios,
    fits,
    formula,
    fragment,
    has_antecedent,
    main_clause,
    question_type,
    ratio_fits,
    subjectless,
    theme_floor,
)

WEEKDAYS = "一二三四五六日"


class ScriptWriter(Protocol):
    """What every writer offers; capabilities are attributes, not name checks."""

    name: ClassVar[str]
    needs_network: ClassVar[bool]
    # optional ``deterministic: ClassVar[bool]``: True lets a rebuild reuse the script it wrote

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
    phrases: Phrases | None = None  # the phrase banks and glossary (built-in plus the project's)


def register_writer(cls: type) -> type:
    """In-process registration (``podcast.plugins.register_writer``); built-ins use entry points."""
    return plugins.register_writer(cls)


def get_writer(name: str, options: WriterOptions | None = None) -> ScriptWriter:
    """Construct writer ``name`` from the plug-in registry; ``UnknownPlugin`` lists the known ones."""
    writer: ScriptWriter = plugins.writers.get(name)(options or WriterOptions())
    return writer


# ---------------------------------------------------------------- phrases
# The phrase banks and the glossary are data (podcast/data/phrases.toml, which a
# project extends with voices/phrases.toml). Every pick is deterministic (date +
# paper), and no phrase is said twice in one episode: when a bank runs out, the
# line is left out rather than repeated.


class Rng:
    """Deterministic choices seeded by the date and a key, so rebuilds match.

    ``used`` is shared across one episode: a phrase once said is not offered again.
    """

    def __init__(self, date: dt.date, key: str, used: set[str] | None = None) -> None:
        seed = hashlib.sha256(f"{date.isoformat()}|{key}".encode()).digest()
        self._r = random.Random(int.from_bytes(seed[:8], "big"))
        self._used = used if used is not None else set()

    def pick(self, bank: Sequence[str], prefixes: Sequence[str] = ("",), **fields: str) -> str | None:
        """A phrase not yet said in this episode; bare phrases first, then with an opener."""
        for openers in ([""], [p for p in prefixes if p]):
            fresh = []
            for phrase in bank:
                text = phrase.format(**fields) if fields else phrase
                for opener in openers:
                    if opener and (text.startswith(opener) or (opener == "那" and text.startswith("那"))):
                        continue
                    candidate = opener + text
                    if candidate not in self._used:
                        fresh.append(candidate)
            if fresh:
                choice = self._r.choice(fresh)
                self._used.add(choice)
                return choice
        return None

    def chance(self, p: float) -> bool:
        return self._r.random() < p


def display_title(title: str) -> str:
    """A title as hosts and notes show it: tags and URLs go, symbols like ^ stay."""
    return re.sub(r"\s+", " ", re.sub(r"</?[A-Za-z][^<>]*>|https?://\S+", "", title)).strip()


def _name(paper: Paper) -> str | None:
    """The paper's short name, when it can be said (Transformer^2 is a formula, not a name to speak)."""
    name = paper.short_name
    return name if name and not formula(name) else None


def _title_phrase(paper: Paper) -> str:
    name = _name(paper)
    title = f"《{display_title(paper.title_zh)}》"
    if name and name.lower() not in paper.title_zh.lower():
        return f"{title}，英文名叫{name}"
    return title


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


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
    """What one episode has used so far: phrases said, concepts already explained."""

    used: set[str] = field(default_factory=set)
    explained: set[str] = field(default_factory=set)


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
        pieces = _pieces(clause)
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
        pieces = _pieces(key)
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


_ENUMERATED = re.compile(r"[（(]\s*(?:\d{1,2}|[ivx]{1,4}|[a-h])\s*[)）]")
_SOFT_REF = re.compile(r"^(?:此外|另外|同时|而且|并且|为此|因此|所以|于是|然而|但是|不过|基于此|对此|"
                       r"由此)[，,]?")
_ALSO = re.compile(r"^((?:作者|他们|它))(?:还|也)")
_OWN_THING = re.compile(r"^(?:该|此)(方法|框架|模型|系统|流程|管道|方案|算法|架构|技术)")
_ANNOUNCEMENT = re.compile(r"[，；](?:具体)?(?:包括|包含|有)[^，。；]{0,12}?"
                           r"(?:几|两|三|四|五|六|七|八|九|十|多|\d+)(?:个|项|点|大|类|方面)[^。，；]{0,8}。$")
_QUANTITY_WORD = re.compile(r"(?:超过|高达|约|近)?\d+(?:\.\d+)?\s*(?:%|倍)")
_MEASURES = re.compile(r"基准|评测|数据集|benchmark|bench(?![a-z])|dataset", re.I)
_SHORTFALL = re.compile(r"仍|尚未|依然|远低于|远不及|落后|差距|不如")


def _pieces(clause: Clause) -> list[str]:
    """What a host may say of one abstract sentence: whole sentences, never a half-said one.

    An enumerated list is said up to its colon (its items are not read one by
    one, and a list of one is worse than none); a split that would leave a
    piece without a predicate keeps the sentence whole; a formula or a
    sentence the source cut off is not said at all.
    """
    text = clause.text
    if _ENUMERATED.search(clause.source) and "：" in text:
        head, items = text.split("：", 1)
        if re.search(r"(?:发现|表明|显示|证明|观察到|指出)$", head):  # findings: each item is a clause
            parts = [p for p in re.split("[；;]", items.rstrip("。")) if p]
            said = [f"{head}，{parts[0]}。"] + [f"{p}。" for p in parts[1:]]
            return [p for p in said if not (fragment(p) or cut_off(p) or formula(p) or len(p) > 100)]
        text = head + "。"  # a list of things: say what the list is, not a list of one
    text = _ANNOUNCEMENT.sub("。", text)  # "，具体包括四个关键贡献。": the list itself is not said
    if subjectless(text):
        text = "作者" + text  # in an abstract, the one who does what a bare predicate says is the authors
    if not re.search(r"[。！？!?]\s*$", clause.source) or formula(text) or cut_off(text) or fragment(text):
        return []
    pieces = split_long(text)
    if len(pieces) == 1 and len(text) > 100:  # a long means clause the listener can do without
        pieces = split_long(main_clause(text) or text)
    while len(pieces) > 1 and len(han_only(pieces[0])) < 10:  # "作者介绍了X。" says nothing yet:
        # it goes only with what says what X is; "一个…模型" is an apposition, not a sentence
        glue = "，" if re.match(r"一(?:个|种|项|套|组|类)", pieces[1]) else "。"
        pieces[:2] = [pieces[0].rstrip("。") + glue + pieces[1]]
    pieces = ["作者" + p if subjectless(p) and re.search("将|把", p) else p for p in pieces]
    if any(fragment(p) or cut_off(p) for p in pieces):
        return [text] if len(text) <= 100 else []
    return pieces


def _standalone(piece: str, before: list[str]) -> str | None:
    """``piece`` if what it refers back to was said, rewritten to stand alone if it can, else None."""
    ref = back_reference(piece)
    if ref is None or has_antecedent(ref, before):
        return piece
    own = _OWN_THING.sub(r"作者的\1", piece, count=1)  # in an abstract, 该方法 is the authors' method
    own_ref = back_reference(own)
    if own != piece and (own_ref is None or has_antecedent(own_ref, before)):
        return own
    if ref[0] == "any":
        fixed = _ALSO.sub(r"\1", _SOFT_REF.sub("", piece))
        if fixed != piece and back_reference(fixed) is None and not fragment(fixed):
            return fixed
    return None


def _coherent(ordered: list[tuple[tuple[int, int], str, str]], notes: PaperNotes,
              title: str) -> list[tuple[tuple[int, int], str, str]]:
    """Speak a back-referring sentence only after what it refers to (added if need be) or not at all."""
    out: list[tuple[tuple[int, int], str, str]] = []
    said = {key for key, _, _ in ordered}
    for key, group, piece in ordered:
        before = [p for _, _, p in out]
        ref = back_reference(piece)
        fixed = _standalone(piece, [*before, title] if ref is not None and ref[0] in ("noun", "deictic")
                            else before)
        if fixed is None:
            # add the sentence before it in the abstract, when that one stands on its own
            prior = [c for c in notes.clauses if c.index == key[0] - 1] if key[1] == 0 else []
            extra = [(prior[0].index, k, p) for k, p in enumerate(_pieces(prior[0]))] if prior else []
            extra = [(i, k, p) for i, k, p in extra if (i, k) not in said]
            if extra and all(back_reference(p) is None for _, _, p in extra[:1]):
                added = [((i, k), group, p) for i, k, p in extra]
                trial = before + [p for _, _, p in added]
                reused = len(han_only("".join(p for _, _, p in ordered) + "".join(p for _, _, p in added)))
                fits_cap = reused <= VERBATIM_CAP * len(han_only(notes.paper.abstract_zh))
                if fits_cap and (ref is None or has_antecedent(ref, [*trial, title])):
                    out += added
                    said |= {k for k, _, _ in added}
                    fixed = piece
        if fixed is not None and all(fixed != p for _, _, p in out):
            out.append((key, group, fixed))
    return out


def _up_to_figure(piece: str) -> str:
    """The clauses of ``piece`` up to its first figure: a recap names the result, not all of it."""
    clauses = piece.rstrip("。").split("，")
    end = next((i for i, c in enumerate(clauses) if count_numbers(c) and COMPARE.search(c)),
               next((i for i, c in enumerate(clauses) if count_numbers(c)), len(clauses) - 1))
    return "，".join(clauses[: end + 1]) + "。"


def _ratio_phrase(text: str) -> str | None:
    """Which plain-words restatement the figures allow exactly (double, triple or half): only
    when every figure of the line gives the same ratio, so the listener knows what it is about."""
    ratios = figure_ratios(text)
    for bank, ratio in (("restate_double", 2.0), ("restate_triple", 3.0), ("restate_half", 0.5)):
        if ratio_fits(ratio, ratios):
            return bank
    return None


def _big_gain(text: str) -> bool:
    """An improvement worth a reaction: a rise of five points or a fifth, or a multiple."""
    if NEGATIVE.search(text) or not COMPARE.search(text):
        return False
    for m in RISE.finditer(text):
        a, b = float(m.group(1)), float(m.group(2))
        if b - a >= 5 or (a > 0 and b / a >= 1.2):
            return True
    return bool(re.search(r"(?:[2-9]|\d{2,})(?:\.\d+)?\s*倍|(?:降低|减少|提升|提高)了?\s*(?:[2-9]\d|"
                          r"\d{3})(?:\.\d+)?\s*%",
                          text))


def _fields(topics: Sequence[str]) -> list[str]:
    """The digest's hot fields that are research fields ("GPT" and "综合" are not)."""
    return [t for t in topics if not re.search(r"GPT|综合|其他|其它", t, re.I)]


def _themes(papers: Sequence[Paper]) -> list[tuple[str, int]]:
    """Topics at least two papers are about by their titles, most first."""
    counts = Counter(t for p in papers for t in titled_topics(p))
    return [(t, k) for t, k in counts.most_common() if k >= 2]


class TemplateWriter:
    """Offline writer: builds each paper's dialogue from the roles of its abstract's sentences.

    The presenter's lines are the abstract's sentences rewritten for speech, in
    the abstract's order; the partner asks a question only when the sentence
    that follows answers it, and reacts only to what was just said. With one
    host, the questions become the host's own rhetorical questions.
    """

    name: ClassVar[str] = "template"
    needs_network: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True  # the same digest, hosts and phrases give the same script

    def __init__(self, options: WriterOptions | None = None) -> None:
        self.options = options or WriterOptions()
        self.phrases = self.options.phrases or load_phrases()

    def write(self, digest: Digest, hosts: Sequence[Host], show_title: str,
              plan: LengthPlan | None = None) -> Script:
        if not hosts:
            raise PodcastError("the voice preset has no hosts")
        plan = plan or LengthPlan()
        hosts = list(hosts[:2])
        notes = [analyse(p) for p in digest.papers]
        budgets = plan.budgets(len(notes))
        state = _State()
        segments = [self._opening(digest, hosts, show_title)]
        for i, (paper_notes, budget) in enumerate(zip(notes, budgets, strict=True)):
            previous = notes[i - 1] if i else None
            segments.append(self._paper(digest.date, paper_notes, i, len(notes), previous, hosts,
                                        budget, plan, state))
        segments.append(self._closing(digest, notes, hosts, state))
        return Script(date=digest.date, title=episode_title(digest), writer=self.name,
                      topics=list(digest.hot_topics), hosts=hosts, segments=segments)

    # ------------------------------------------------------------ opening and closing

    def _opening(self, digest: Digest, hosts: list[Host], show_title: str) -> Segment:
        d = digest.date
        n = len(digest.papers)
        a = hosts[0]
        b = hosts[-1]
        fields = _fields(digest.hot_topics[:4])
        themes = _themes(digest.papers)[:3]
        if themes:
            parts = [f"{k}篇和{t}有关" for t, k in themes]
            tail = ("，还有" if len(parts) > 1 else "") + parts[-1]
            preview = "从标题看，有" + "，".join(parts[:-1]) + tail + "。"
        elif n > 2:
            preview = "从标题看，方向比较分散。"
        else:
            preview = ""
        date_line = f"今天是{d.year}年{d.month}月{d.day}日，星期{WEEKDAYS[d.weekday()]}。"
        count = f"一共有{n}篇论文" if n > 1 else f"只有{n}篇论文"
        field_text = f"，摘要里的热门领域是{_join(fields)}" if fields else ""
        count_line = f"今天抱抱脸的每日论文榜上{count}{field_text}。{preview}"
        top = f"《{display_title(digest.papers[0].title_zh)}》"
        lead = (f"我们从列表最前面的{top}聊起，然后一篇一篇往下看。" if n > 1
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

    def _closing(self, digest: Digest, notes: Sequence[PaperNotes], hosts: list[Host],
                 state: _State) -> Segment:
        n = len(digest.papers)
        a, b = hosts[0], hosts[-1]
        rng = Rng(digest.date, "closing", state.used)
        top = notes[0]
        title = f"《{display_title(top.paper.title_zh)}》"
        key = top.key_result
        pieces = [p for p in (_pieces(key) if key is not None else [])
                  if count_numbers(p) and back_reference(p) is None]
        fact = f"{title}。"
        if pieces:
            short = _up_to_figure(pieces[0])
            figure = _QUANTITY_WORD.findall(short)
            if short.count("，") < pieces[0].count("，") or len(short) <= 40:
                fact = f"{title}的结果，{short}"
            elif rise := RISE.search(short):  # a change is named by both ends, never by its start alone
                fact = f"{title}，尤其是{rise.group(0)}这个变化。"
            elif figure:  # the figure closes the sentence: name it, not the whole sentence again
                fact = f"{title}，尤其是{figure[0]}这个数字。"
        takeaway = f"如果只记住一件事，我会选{fact}"
        themes = _themes(digest.papers)
        if themes and themes[0][1] >= theme_floor(n):
            theme, k = themes[0]
            takeaway = (f"今天的主线很清楚，{k}篇论文都和{theme}有关。" if 2 * k >= n
                        else f"今天有{k}篇论文都和{theme}有关，这是今天最集中的话题。") + takeaway
        bye = rng.pick(self.phrases["close_bye"]) or self.phrases["close_bye"][0]
        done = f"好了，今天的{n}篇论文就聊到这里。" if n > 1 else "好了，今天这一篇就聊到这里。"
        if len(hosts) == 1:
            lines = [Line(speaker=a.id, text=done), Line(speaker=a.id, text=takeaway),
                     Line(speaker=a.id, text=bye)]
        else:
            lines = [Line(speaker=a.id, text=done), Line(speaker=b.id, text=takeaway),
                     Line(speaker=a.id, text=bye), Line(speaker=b.id, text="明天见！")]
        return Segment(id="closing", title="结束语", kind="closing", lines=lines)

    # ------------------------------------------------------------ one paper

    def _paper(self, date: dt.date, notes: PaperNotes, index: int, total: int,
               previous: PaperNotes | None, hosts: list[Host], budget: float, plan: LengthPlan,
               state: _State) -> Segment:
        paper = notes.paper
        rng = Rng(date, f"paper-{paper.rank}-{paper.title_en or paper.title_zh}", state.used)
        solo = len(hosts) == 1
        beats = self._beats(notes, index, total, previous, budget, plan, rng, solo, state.explained)
        if solo:
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

    def _intro(self, notes: PaperNotes, index: int, total: int, previous: PaperNotes | None,
               rng: Rng) -> str:
        ph = self.phrases
        title = _title_phrase(notes.paper)
        shared = [t for t in titled_topics(notes.paper)
                  if previous is not None and t in titled_topics(previous.paper)]
        choice = None
        if index == 0:
            choice = rng.pick(ph["intro_first"], title=title)
        elif index == total - 1 and total > 2:
            choice = rng.pick(ph["intro_last"], title=title)
        elif shared:
            choice = rng.pick(ph["intro_linked"], title=title, topic=shared[0])
        return choice or rng.pick(ph["intro_next"], title=title) or f"下一篇，{title}。"

    def _question(self, rng: Rng, answer: str, kinds: Sequence[str], notes: PaperNotes,
                  asked: set[str] | None = None) -> str | None:
        """A question of the first kind in ``kinds`` that ``answer`` really answers.

        ``asked`` holds the kinds already asked about this paper: asking "what is their method"
        after the method was explained sounds as if nobody listened, so a kind is asked once.
        """
        ph = self.phrases
        name = _name(notes.paper)
        asked = asked if asked is not None else set()
        # a benchmark or dataset paper measures; "how did they solve it" presumes a solution
        measures = bool(_MEASURES.search(f"{notes.paper.title_zh} {notes.paper.title_en}"))
        banks = {
            "motivation": [ph["ask_motivation"]],
            "method": ([ph["ask_method_named"]] if name else []) + [ph["ask_method"]],
            "how-much": [ph["ask_figure"]],
            "numbers": [ph["ask_numbers"]],
            "result": [ph["ask_result"]],
            "evidence": [ph["ask_evidence"]],
            "limitation": [ph["ask_limit"]],
            "gist": ([ph["ask_gist_named"]] if name else []) + [ph["ask_gist"]],
            "survey": [ph["ask_survey"]],
        }
        for kind in kinds:
            if kind in asked or not fits(kind, answer):
                continue
            options = list(banks[kind])
            if kind == "method" and measures:
                options = [tuple(q for q in bank if "解决" not in q) for bank in options]
            if kind in ("how-much", "numbers", "result") and notes.benchmarks:
                # a name the answer makes its subject (uCO3D在多样性上…) is what is measured, not where
                bench = next((b for b in notes.benchmarks if b in answer and b != name
                              and not re.search(re.escape(b) + "(?:在|的|是|能)", answer)), None)
                if bench:
                    options.insert(0, tuple(p.replace("{bench}", bench) for p in ph["ask_bench"]))
            if len(options) > 1 and rng.chance(0.5):
                options = options[1:] + options[:1]
            for bank in options:
                q = rng.pick(bank, ph["ask_prefix"], name=name or "")
                allowed = {kind, None} | ({"result", "evidence"} if kind != "gist" else set())
                if q is not None and question_type(q) in allowed and fits(question_type(q), answer):
                    asked.add(kind)
                    return q
        return None

    def _beats(self, notes: PaperNotes, index: int, total: int, previous: PaperNotes | None,
               budget: float, plan: LengthPlan, rng: Rng, solo: bool, explained: set[str]) -> list[_Beat]:
        ph = self.phrases
        paper = notes.paper
        intro = self._intro(notes, index, total, previous, rng)
        overhead = plan.lines_seconds([intro, "它想解决什么问题？", "效果怎么样？", "嗯，明白了。"])
        picks = _choose(notes, budget, overhead, plan)
        ordered = sorted(((key, group, piece) for group, chosen in picks.groups.items()
                          for key, piece in chosen.items()), key=lambda t: t[0])
        ordered = _coherent(ordered, notes, intro)
        beats = [_Beat("p", intro, "intro")]
        if not ordered:
            return beats
        first = ordered[0][2]
        asked: set[str] = set()
        opener = self._question(rng, first, ["survey"] if notes.survey else
                                (["motivation", "gist"] if ordered[0][1] == "problem" else ["gist"]), notes,
                                asked)
        head = display_title(paper.title_zh).split("：")[0]
        # with no fitting question, ask for what the first sentence gives: the paper, or its background;
        # a sentence that is neither (a result said first) gets a question that presumes nothing
        if opener is None:
            bank = "ask_what" if fits("gist", first) else "ask_background" if fits("background", first) \
                else "ask_open"
            opener = rng.pick(ph[bank]) or f"《{head}》这篇讲的是什么？"
        beats.append(_Beat("q", opener, "ask"))
        pending = question_type(opener)  # what the turn being spoken is answering
        turn: list[str] = []
        channels = 0
        last_group = ordered[0][1]
        for k, (_, group, piece) in enumerate(ordered):
            # a turn that answers "what is wrong with it" holds only sentences that say so
            strays = bool(turn) and pending in ("motivation", "limitation") and not fits(pending, piece)
            if turn and (group != last_group or len(turn) >= 3 or strays):
                kinds = {"method": [] if notes.survey else ["method"],  # a survey reviews, it does not build
                         "result": ["how-much", "numbers", "evidence", "result"],
                         "limitation": ["limitation"], "problem": ["motivation"]}.get(group, [])
                q = self._question(rng, piece, kinds, notes, asked) if group != last_group else None
                if q is None and (strays or (channels == 0 and rng.chance(0.5))):
                    q = rng.pick(ph["back_channel"])
                    channels += q is not None
                if q is None and strays:
                    continue  # nothing to bridge with: leave the sentence out rather than mis-answer
                if q is not None:
                    beats.append(_Beat("p", "".join(turn), "explain"))
                    beats.append(_Beat("q", q, "ask" if q.endswith("？") else "reply"))
                    pending = question_type(q)
                    turn = []
            if (not turn and group == "problem" and k == 0 and rng.chance(0.3)
                    and back_reference(piece) is None):
                piece = (rng.pick(ph["marker_problem"]) or "") + piece
            turn.append(piece)
            last_group = group
        beats.append(_Beat("p", "".join(turn), "explain"))
        spent = plan.lines_seconds([b.text for b in beats])
        self._explain(notes, beats, plan, rng, solo, explained, budget - spent)
        beats.append(self._reaction(notes, beats, rng, solo))
        return [b for b in beats if b.text]

    def _explain(self, notes: PaperNotes, beats: list[_Beat], plan: LengthPlan, rng: Rng, solo: bool,
                 explained: set[str], room: float) -> None:
        """Explain one term the paper itself uses, right after the turn that says it."""
        paper = notes.paper
        own = f"{paper.title_zh} {paper.title_en} {paper.abstract_zh}"
        for at, beat in enumerate(beats):
            if beat.by != "p" or beat.kind != "explain":
                continue
            for concept in self.phrases.concepts:
                if (concept.label in explained or not concept.occurs_in(own)
                        or not concept.occurs_in(beat.text)):
                    continue
                ask = rng.pick(self.phrases["solo_concept" if solo else "ask_concept"], concept=concept.label)
                marker = rng.pick(self.phrases["marker_explain"]) or ""
                if ask is None:
                    return
                answer = marker + concept.explain
                if plan.line_seconds(ask) + plan.line_seconds(answer) > room:
                    return
                beats[at + 1:at + 1] = [_Beat("q", ask, "ask"), _Beat("p", answer, "explain")]
                explained.add(concept.label)
                return

    def _reaction(self, notes: PaperNotes, beats: list[_Beat], rng: Rng, solo: bool) -> _Beat:
        """React to what the presenter last said, and say what the abstract says of a release."""
        ph = self.phrases
        last = next(b.text for b in reversed(beats) if b.by == "p")
        restate = _ratio_phrase(last)
        react = None
        if restate:
            react = rng.pick(ph[restate])
        elif NEGATIVE.search(last) and _SHORTFALL.search(last):
            react = rng.pick(ph["react_negative"])
        elif _big_gain(last):
            react = rng.pick(ph["react_improvement"])
        elif notes.survey:
            react = rng.pick(ph["react_survey"])
        elif rng.chance(0.6):
            react = rng.pick(ph["react_neutral"])
        status = release_status(notes.paper.abstract_zh)
        release = None
        if status:
            bank = {"code": "release_code", "resources": "release_resources", "future": "release_future",
                    "page": "release_page"}[status]
            release = rng.pick(ph[("solo_" if solo else "") + bank])
        return _Beat("q", (react or "") + (release or ""), "react")


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

