"""Pictures for the digest and the web page: the keyword cloud and the trend chart.

Both are drawn per day into the episode folder, so an old digest keeps its own
pictures. Chinese text needs a CJK font; we use Noto Sans CJK SC from the
``mplfonts`` wheel (SIL Open Font License), so nothing is installed system-wide
and no glyph falls back to a tofu box.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import SetupError
from .models import Digest, Episode

FONT_FILE = "NotoSansCJKsc-Regular.otf"

# Words that say nothing about the day: digest labels, function words, and
# research boilerplate that every abstract uses.
STOP_WORDS = frozenset(
    "标题 摘要 原文 论文 链接 本文 我们 他们 作者 研究 提出 方法 "
    "模型 一种 通过 进行 基于 实现 以及 能够 可以 使用 利用 提供 "
    "这些 这个 这种 其中 此外 同时 然而 但是 因此 并且 而且 以上 "
    "之间 包括 具有 显著 有效 新的 现有 当前 最近 近年来 表明 展示 "
    "证明 结果 实验 性能 能力 任务 数据 框架 方面 问题 领域 广泛 "
    "大量 更好 进一步 不同 多个 各种 相关 主要 开源 代码 提升 提高 "
    "达到 显示 比较 以及 例如 如何 什么 可能 需要 已经 仍然 用于 "
    "作为 来自 对于 由于 为了 不仅 还 "
    # boilerplate verbs and nouns of abstracts, and web-page words from project links
    "结果表明 研究表明 实验表明 包含 包括 引入 优于 超越 相比 解决 改进 挑战 涵盖 旨在 采用 构建 "
    "展现 发现 探索 依赖 支持 取得 表现 效果 方式 方案 过程 步骤 实证 基线 指标 输入 输出 基础 "
    "无缝 对象 操作 整体 关键 特定 复杂 有限 尤其 仍 项目 页面 主页 网址 地址 获取 发布 "
    "显著提升 显著提高 大幅 相当 一系列 一个 两种 第一 首个 全面 综合 核心 额外 直接"
    .split()
)
# Multi-character terms jieba would otherwise split into fragments ("外推到" -> "外" "推到",
# "多模态" -> "多" "模态", "数据集上" -> "数据" "集上").
USER_WORDS = (
    "多模态 大语言模型 语言模型 视觉语言模型 智能体 多智能体 思维链 数据集 强化学习 外推 扩散模型 "
    "混合专家 注意力机制 检索增强生成 自博弈 高斯泼溅 形式化证明 长上下文 推理模型 奖励模型 世界模型 "
    "具身智能 视频生成 图像生成 知识蒸馏 零样本 少样本 端到端 微调 对齐 幻觉 量化 剪枝 token"
    .split()
)
WEAK_WORDS = frozenset(
    "大型 语言 生成 训练 推理 学习 评估 基准 测试 设计 系统 技术 "
    "算法 信息 应用 数据集"
    .split()
)
_ENGLISH_TERM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_ENGLISH_STOP = frozenset({"the", "and", "of", "for", "with", "in", "on", "to", "a", "an", "via", "is", "we",
                           "our", "by", "from", "at", "as"})


@functools.lru_cache(maxsize=1)
def cjk_font() -> Path:
    """The bundled CJK font file."""
    try:
        import mplfonts
    except ImportError as exc:  # pragma: no cover - a dependency
        raise SetupError("the CJK font comes from the 'mplfonts' package: run 'uv sync'") from exc
    path = Path(mplfonts.__file__).parent / "fonts" / FONT_FILE
    if not path.exists():
        raise SetupError(f"CJK font {FONT_FILE} missing from the mplfonts package")
    return path


@functools.cache
def _user_words() -> None:
    import jieba

    for word in USER_WORDS:
        jieba.add_word(word, freq=200_000, tag="nz")


def keywords(digest: Digest, limit: int = 80) -> dict[str, float]:
    """Weighted keywords of the day: jieba TF-IDF over Chinese text, English terms kept whole."""
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    _user_words()
    chinese_parts = []
    english: Counter[str] = Counter()
    for paper in digest.papers:
        text = f"{paper.title_zh}。{paper.title_zh}。{paper.abstract_zh}"  # titles count double
        text = re.sub(r"https?://\S+|\\[A-Za-z]+|</?[A-Za-z][^<>]*>", " ", text)
        for term in _ENGLISH_TERM.findall(text):
            if len(term) >= 2 and term.lower() not in _ENGLISH_STOP and not term.isdigit():
                english[term] += 1
        chinese_parts.append(_ENGLISH_TERM.sub(" ", text))
    weights: dict[str, float] = {}
    tags = jieba.analyse.extract_tags("\n".join(chinese_parts), topK=limit * 2, withWeight=True,
                                      allowPOS=("n", "nz", "vn", "nt", "nr", "ns", "v", "an"))
    for word, weight in tags:
        if word in STOP_WORDS or len(word) < 2 or word.isdigit():
            continue
        weights[word] = weight * (0.4 if word in WEAK_WORDS else 1.0)
    if weights and english:
        top = max(weights.values())
        most = max(english.values())
        for term, n in english.most_common(limit // 3):
            weights[term] = max(weights.get(term, 0.0), top * (0.12 + 0.7 * n / most))
    return dict(sorted(weights.items(), key=lambda kv: -kv[1])[:limit])


def word_cloud(digest: Digest, width: int = 1200, height: int = 600) -> bytes:
    """The keyword cloud as PNG bytes (deterministic for a given digest)."""
    from wordcloud import WordCloud

    words = keywords(digest)
    if not words:
        words = {"AI": 1.0}
    cloud = WordCloud(font_path=str(cjk_font()), width=width, height=height, background_color="white",
                      colormap="viridis", random_state=7, prefer_horizontal=0.95, max_words=len(words),
                      min_font_size=12, margin=4)
    image = cloud.generate_from_frequencies(words).to_image()
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


GAP_DAYS = 7  # more days than this between neighbouring episodes is a break, not a weekend


def trend_gaps(days: Sequence[tuple[dt.date, int]]) -> list[tuple[int, int]]:
    """(slot, days) for every slot whose episode follows the previous one after a break: the chart
    gives one slot per episode, so a break would otherwise look like the next working day."""
    dates = sorted(d for d, _ in days)
    return [(i, (b - a).days) for i, (a, b) in enumerate(itertools.pairwise(dates), start=1)
            if (b - a).days > GAP_DAYS]


def trend_chart(days: Sequence[tuple[dt.date, int]], width: float = 10, height: float = 4.2) -> bytes:
    """Papers per day (bars) and the running total (line) for the given episodes, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    font_manager.fontManager.addfont(str(font))
    family = font_manager.FontProperties(fname=str(font)).get_name()
    days = sorted(days)
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(width, height), dpi=120)
        dates = [d for d, _ in days]
        counts = [n for _, n in days]
        x = np.arange(len(days))  # one slot per episode: weekends leave no empty gaps
        ax.bar(x, counts, width=0.65, color="#2f6fb0", label="当日论文数")
        ax.set_ylabel("当日论文数")
        ax.set_ylim(0, max([*counts, 1]) * 1.25)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        total = ax.twinx()
        running = np.cumsum(counts)
        gaps = trend_gaps(days)
        cuts = [0, *(i for i, _ in gaps), len(days)]
        for n, (lo, hi) in enumerate(itertools.pairwise(cuts)):  # the line does not bridge a break
            total.plot(x[lo:hi], running[lo:hi], color="#e07b39", marker="o", linewidth=2,
                       label="累计论文数" if n == 0 else None)
        for i, gap in gaps:
            ax.axvline(i - 0.5, color="#888888", linestyle=(0, (4, 3)), linewidth=1.2)
            ax.text(i - 0.5, ax.get_ylim()[1] * 0.97, f"间隔{gap}天", rotation=90, ha="right", va="top",
                    fontsize=8, color="#666666")
        total.set_ylabel("累计论文数")
        total.set_ylim(0, max(1, sum(counts)) * 1.1)
        total.yaxis.set_major_locator(MaxNLocator(integer=True))
        step = max(1, -(-len(days) // 10))
        fmt = "%m-%d" if (dates[-1] - dates[0]).days < 300 else "%Y-%m-%d"
        ax.set_xticks(x[::step], [d.strftime(fmt) for d in dates[::step]])
        ax.set_xlim(-0.8, len(days) - 0.2)
        fig.autofmt_xdate(rotation=30)
        ax.set_title(f"近{len(days)}期论文趋势（{dates[0]:%Y-%m-%d} 至 {dates[-1]:%Y-%m-%d}）")
        lines = ax.get_legend_handles_labels()
        more = total.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def recent_days(episodes: Sequence[Episode], day: dt.date, papers: int,
                last: int = 30) -> list[tuple[dt.date, int]]:
    """The day plus up to ``last - 1`` earlier episodes, for that day's trend chart."""
    earlier = {e.date: e.papers for e in episodes if e.date < day}
    keep = sorted(earlier.items())[-(last - 1):] if last > 1 else []
    return [*keep, (day, papers)]


def is_blank(png: bytes) -> bool:
    """True for an image with (almost) no ink, used to refuse a broken picture."""
    from PIL import Image

    gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32)
    return float(gray.std()) < 2.0 or math.isnan(float(gray.std()))
