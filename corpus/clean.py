"""Cleaning: turn raw document text into the text that is chunked and cited.

Two steps, usable separately:

* :func:`prepare` normalises characters without dropping any line: BOM and
  zero-width characters, full-width ASCII letters/digits/space/percent, pinyin
  tone annotations glued after characters (``強(qiáng)化`` -> ``強化``) and, for a
  document written in traditional characters, conversion to simplified with
  OpenCC.  Metadata is extracted from this text, because some metadata lives in
  lines that are debris for reading (``发布: 时间:2023-03-31 点击次数:1609``).
* :func:`strip_debris` removes web-page debris line by line (breadcrumbs,
  "扫一扫在手机打开当前页", 上一篇/下一篇, click counters, the 索引号/文号 table of
  government sites, list bullets, stray indentation, surplus blank lines).

:func:`clean_text` is both.  :func:`normalize_query` applies the same
character normalisation to a question, so traditional or full-width questions
match simplified documents.  Chinese punctuation and every digit are kept.
"""

from __future__ import annotations

import re
from functools import lru_cache

from policyqa.corpus.layout import is_page_number, repair_layout, split_flattened
from policyqa.corpus.tables import SEP, linearize_tables

__all__ = [
    "clean_text",
    "prepare",
    "strip_debris",
    "normalize_query",
    "normalize_chars",
    "strip_pinyin",
    "is_traditional",
    "to_simplified",
    "DEBRIS_PATTERNS",
]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# A pinyin syllable in parentheses right after a Han character: 強(qiáng).
_PINYIN_TONED = re.compile(rf"(?<=[{_HAN}])\((?=[a-zü{_TONE_VOWELS}]*[{_TONE_VOWELS}])([a-zü{_TONE_VOWELS}]{{1,7}})\)")
_PINYIN_ANY = re.compile(rf"(?<=[{_HAN}])\(([a-zü{_TONE_VOWELS}]{{1,7}})\)")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # the maintained OpenCC binding

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def is_traditional(text: str, threshold: float = 0.04) -> bool:
    """True when OpenCC t2s changes at least ``threshold`` of the Han characters.

    Simplified text is (almost) a fixed point of t2s; traditional text changes
    in roughly a fifth of its characters.
    """
    han = re.findall(f"[{_HAN}]", text)
    if not han:
        return False
    sample = "".join(han[:20000])
    converted = to_simplified(sample)
    changed = sum(1 for a, b in zip(sample, converted) if a != b)
    return changed >= max(1, threshold * len(sample))


def strip_pinyin(text: str) -> str:
    """Remove pinyin annotations glued after Han characters: 強(qiáng)化 -> 強化.

    Only a text that shows the pattern (at least one tone-marked syllable) is
    touched; then toneless syllables such as ``的(de)`` go too.  Parenthesised
    Latin words elsewhere (``ERP(企业资源计划)``, ``(ERP)``) are left alone.
    """
    if not _PINYIN_TONED.search(text):
        return text
    return _PINYIN_ANY.sub("", text)


def normalize_chars(text: str) -> str:
    """Character-level normalisation shared by documents and questions.

    Full-width ASCII letters and digits, the ideographic space, ``％`` and the
    no-break space become their ASCII forms; BOM/zero-width characters go;
    line ends become ``\\n``.  Chinese punctuation is kept as it is.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    out = []
    for ch in text:
        o = ord(ch)
        if 0xFF10 <= o <= 0xFF19 or 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A or ch == "％":
            out.append(chr(o - 0xFEE0))
        elif ch in "\u3000\u00a0\u2002\u2003\u2009":
            out.append(" ")
        elif ch == "\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def prepare(raw: str) -> str:
    """Linearize tables, normalise characters, strip pinyin annotations,
    convert traditional text, and undo a converter's layout (spaced digits,
    spaces inside clauses, hard line wraps, page numbers between wrapped
    lines: :mod:`policyqa.corpus.layout`).  No substantive line is dropped."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = linearize_tables(text)
    text = normalize_chars(text)
    text = strip_pinyin(text)
    if is_traditional(text):
        text = to_simplified(text)
    from policyqa.corpus.jurisdiction import org_suffixes

    return repair_layout(text, org_suffixes())


# --- debris -----------------------------------------------------------------

# Lines that are removed whole (matched against the stripped, simplified line).
DEBRIS_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^当前位置[:：]?.*$",
        r"^您(现在)?的?位置[:：].*$",
        r"^首页$",
        r"^首页\s*[>＞›»].*$",
        r"^[>＞›»]\s*\S.*$",  # breadcrumb continuation "> 政民互动 > 在线访谈"
        r"^上一篇[:：]?.*$",
        r"^下一篇[:：]?.*$",
        r"^.*(点击次数|点击数|浏览次数|阅读次数|访问次数)[:：]\s*\d*.*$",
        r"^发布[:：]\s*时间[:：].*$",
        r"^发布(?:日期|时间)[:：].*$",
        r"^索引号[:：].*$",
        r"^信息名称[:：].*$",
        r"^发布机构[:：].*$",
        r"^成文日期[:：].*$",
        r"^文号[:：].*$",
        r"^主题分类[:：].*$",
        r"^(来源|作者|编辑|责任编辑)[:：].{0,30}$",
        r"^文字实录$",
        r"^(【?打印本页】?|【?关闭窗口】?|【?字体[:：]?\s*大\s*中\s*小】?|分享到[:：]?.*)$",
    )
)
# Fragments removed wherever they stand (they are glued to text on some pages).
_DEBRIS_FRAGMENTS = re.compile(
    r"扫一扫在手机打开当前页|【打印本页】|【关闭窗口】|【字体[:：]?\s*大\s*中\s*小】"
)
_BULLET = re.compile(r"^(?:[•·●○■□◆◇▪►▶※]|[-*+](?=\s))\s*")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_CJK_PUNCT = "，。、；：？！“”‘’（）《》〔〕【】—…"
# Spaces next to Chinese punctuation, or between a Han character and a digit,
# are layout, not content ("不低于 800 万元").  Spaces between two Han
# characters are kept: titles use them as separators.
_SPACE_PUNCT = re.compile(rf"(?<=[{_CJK_PUNCT}]) +| +(?=[{_CJK_PUNCT}])")
_SPACE_HAN_DIGIT = re.compile(rf"(?<=[{_HAN}]) +(?=\d)|(?<=\d) +(?=[{_HAN}])")
_CLAUSE_SPACE = re.compile(r"^(\d{1,3}) +([.．、])")


def is_debris_line(line: str) -> bool:
    s = line.strip()
    return any(p.match(s) for p in DEBRIS_PATTERNS) or is_page_number(s)


def _clean_line(line: str) -> str:
    s = _DEBRIS_FRAGMENTS.sub("", line).strip()
    s = _BULLET.sub("", s)
    s = _MD_HEADING.sub("", s)
    if SEP in s:  # a table row: tidy each cell, keep the separators
        return SEP.join(_clean_cell(c) for c in s.split(SEP))
    return _clean_cell(s)


def _clean_cell(s: str) -> str:
    s = re.sub(r" {2,}", " ", s.strip())
    s = _CLAUSE_SPACE.sub(r"\1\2", s)
    s = _SPACE_PUNCT.sub("", s)
    s = _SPACE_HAN_DIGIT.sub("", s)
    return s.strip()


def strip_debris(text: str) -> str:
    """Drop debris lines, bullets and indentation; keep one blank line at most.
    A flattened line (a page or document on one line) is first split back at its
    headings (:func:`policyqa.corpus.layout.split_flattened`)."""
    out: list[str] = []
    for line in (part for raw in text.split("\n") for part in split_flattened(raw)):
        if is_debris_line(line):
            continue
        s = _clean_line(line)
        if not s:
            if out and out[-1] != "":
                out.append("")
            continue
        if is_debris_line(s):
            continue
        out.append(s)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def clean_text(raw: str) -> str:
    """The full cleaner: :func:`prepare` then :func:`strip_debris`."""
    return strip_debris(prepare(raw))


def normalize_query(q: str) -> str:
    """Normalise a question (or any short text) like document text.

    Always converts traditional to simplified (short texts are too short to
    detect reliably, and simplified text is a fixed point of the conversion).
    """
    s = normalize_chars(q)
    s = strip_pinyin(s)
    s = to_simplified(s)
    s = re.sub(r"\s+", " ", s).strip()
    return s
