"""Sentence splitting and scoring for extractive answers (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

_SENT = re.compile(r"[^。！？；!?;\n]+(?:[。！？；!?;]+[”’」』）)]*)?")
_NOTE = re.compile(r"^[（(][^（）()]*(?:[（(][^（）()]*[）)][^（）()]*)*[）)]$")
_CAP = re.compile(r"不超过|最高|上限|封顶|以内|不高于|最多")
_CONTINUES = re.compile(r"^(?:单个项目|单个企业|单家企业|每家|每个|最高|其中|同时|此外|另外|当年首次|并|且)")
_GENERIC = {
    "企业", "支持", "发展", "推动", "加强", "工作", "建设", "实施", "开展", "推进", "政策", "我市", "全市",
    "我区", "全区", "市级", "相关", "给予", "进行", "提升", "方面", "有关", "情况", "主要", "一批", "单位",
}

NEEDS_FIGURE = re.compile(r"多少|几成|几个|几家|比例|税率|金额|上限|最高|最多|how much|how many|what percentage|rate", re.I)
LIST_INTENT = re.compile(r"条件|哪些|流程|步骤|程序|体系|如何办理|怎么办理|材料|要求|举措|措施|怎么申报|申报条件|what are|conditions|requirements", re.I)


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset within the chunk text
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of a passage; a trailing parenthesised note stays with the
    sentence before it, and a figure is never separated from its unit."""
    out: list[Sentence] = []
    for m in _SENT.finditer(text):
        s, e = m.start(), m.end()
        raw = text[s:e]
        lead = len(raw) - len(raw.lstrip())
        s += lead
        if e <= s:
            continue
        piece = text[s:e].rstrip()
        e = s + len(piece)
        if out and (_NOTE.match(piece) and "\n" not in text[out[-1].end : s]):
            prev = out.pop()
            out.append(Sentence(text[prev.start : e], prev.start, e))
            continue
        out.append(Sentence(piece, s, e))
    return out


def has_figure(text: str) -> bool:
    """Any number at all: an amount, a count, a date, a phone number, a web address."""
    return bool(re.search(r"\d|[一二两三四五六七八九十百千万]+(?:个|家|户|名|人|项|条|所|次|台|件|批|万|亿|成)", text))


def is_cap_continuation(sentence: str) -> bool:
    """A short sentence that limits the one before it (单个项目补助金额不超过500万元。)."""
    return bool(_CONTINUES.match(sentence) or (_CAP.search(sentence) and len(sentence) <= 40))


def token_weight(token: str) -> float:
    if token in _GENERIC:
        return 0.3
    return float(min(len(token), 4))


def coverage(query_tokens: Iterable[str], text: str) -> float:
    """Weighted share of the query's tokens that occur in ``text`` (0..1)."""
    toks = list(dict.fromkeys(query_tokens))
    total = sum(token_weight(t) for t in toks)
    if total <= 0:
        return 0.0
    low = text.lower()
    return sum(token_weight(t) for t in toks if t.lower() in low) / total


_UNIT_ASKED = re.compile(r"(?:多少|几)\s*(家|户|个|台|人次|人|项|亩|倍|克|年|天|万元|亿元|元|次)")
_UNIT_SYNONYMS = {"家": "家|户|个", "户": "家|户", "个": "个|家|项", "人": "人|名"}
_PERCENT_ASKED = re.compile(r"几成|比例|比重|百分之|多少%|税率|percent|rate", re.I)
_MONEY_ASKED = re.compile(r"钱|奖|补贴|补助|资金|金额|扶持|资助|给多少|拿多少|how much|subsid|reward|award", re.I)


def asked_figure(question: str) -> re.Pattern[str] | None:
    """The kind of figure a question asks for, as a pattern a sentence must match:
    多少家 -> a count of 家/户/个, 几成/比例 -> a percentage, 奖多少/补贴 -> money."""
    m = _UNIT_ASKED.search(question)
    if m:
        unit = _UNIT_SYNONYMS.get(m.group(1), m.group(1))
        return re.compile(rf"\d+(?:\.\d+)?\s*(?:{unit})|[一二三四五六七八九十百千]+(?:{unit})")
    if _PERCENT_ASKED.search(question):
        return re.compile(r"\d+(?:\.\d+)?\s*[%％]|[一二三四五六七八九十]成")
    if _MONEY_ASKED.search(question):
        return _MONEY_NO_PCT
    return None


_MONEY_NO_PCT = re.compile(r"\d+(?:\.\d+)?\s*(?:万元|亿元|千元|元|克)|\d+(?:\.\d+)?\s*[%％]\s*(?:给予|的?补助|的?补贴|奖励)|总价的\d+|投入的\d+|投资额\d+")


def score_sentence(query_tokens: Sequence[str], sentence: str, figure: re.Pattern[str] | None) -> float:
    s = coverage(query_tokens, sentence)
    if figure is not None:
        s = s + 0.3 if figure.search(sentence) else s * 0.6
    return s
