"""Undo what a PDF/Word-to-text converter did to a document's layout.

Converted documents (PDF → HTML, PDF → text) carry the converter's marks:

* digits spaced out: ``第 1 0 条``, ``2 0 2 3 年``, ``〔 2023 〕``;
* spaces inside words and clauses: ``给予 企业300万元奖励``, ``统筹、协 调``;
* hard line breaks at the page width, inside sentences;
* page numbers (``- 3 -``, ``第 3 页``) between the lines of a paragraph.

:func:`repair_layout` removes them.  Each repair is decided from the document
itself, never from a list of cases:

* spaced digits are joined only when every group is one digit and the run
  touches a Han character, a bracket of a 文号 or a unit (``第 1 0 条``), so
  ``2023 10 个`` or a table row ``1 2 3`` keep their spaces;
* spaces between Han characters are removed only in a document that shows
  converter spacing (at least ``min_spaced`` such spaces inside prose
  clauses), and only inside prose lines: titles, signatures (``工业和信息化部
  财政部``), table rows, the space after a heading marker (``第一条 本办法``)
  and names in brackets (``(陈芳 茆长城)``) keep theirs.  Documents flattened
  to one line per page or per document (spaces standing for line breaks) are
  left alone;
* lines are joined only when the document is hard-wrapped: most of its long
  lines have the same display width (the page width), and a line of that
  width continues on the next unless the next starts a heading, a date, a
  signature or a table row.  In a proportional font a full line's width
  varies with its digits, so a line nearly that wide continues too when it
  ends inside a sentence; and an item (（四）) the wrap put at a line start
  continues the line before when that holds the item before it (（三）).

Latin words and their spaces are never touched.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass

__all__ = ["LayoutConfig", "repair_layout", "display_width", "is_page_number", "is_flattened", "split_flattened", "HAN"]

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CN_NUM = "一二三四五六七八九十百零〇两"
_PROSE_PUNCT = "，。；：、！？"
# 第 十 条 / 第 1 0 条 / 第 二 章: a heading marker written with spaces
_SPACED_MARKER = re.compile(rf"第\s*([{_CN_NUM}\d](?:\s*[{_CN_NUM}\d])*)\s*(条|章|节|编|部分|款|项)")
# a run of single digits separated by single spaces: "1 0", "2 0 2 3"
_DIGIT_RUN = re.compile(r"(?<![\d.])\d(?: \d)+(?![\d.])")
_BRACKET_SPACE = re.compile(r"([〔\[［])\s+(?=\d)|(?<=\d)\s+([〕\]］])")
_SPACE_HAN = re.compile(rf"(?<=[{HAN}]) +(?=[{HAN}])")
_HEAD_MARKER = re.compile(rf"^(?:第[{_CN_NUM}\d]+(?:条(?![、，,和及与至或第])|章|节|编|部分)|[{_CN_NUM}]+、|[（(][{_CN_NUM}\d]+[）)]|\d{{1,3}}[.．、])\s*")
_PAGE_NUMBER = re.compile(r"^(?:[-－—–~]\s*\d{1,4}\s*[-－—–~]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})$")
_DATE_LINE = re.compile(r"^[（(]?\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日[）)]?$")
_TERMINAL = "。！？；：”’）)》"


@dataclass(frozen=True)
class LayoutConfig:
    """Thresholds of :func:`repair_layout`.

    min_spaced: spaces between Han characters inside prose clauses that mark a
        document as converter-spaced (one such space is a typo or a name list).
    min_wrapped: full-width lines needed to call a document hard-wrapped.
    wrap_share: share of its long lines that must sit at the page width.
    flattened_chars: a line at least this long whose spaces precede headings
        is a flattened page or document; its spaces stand for line breaks.
    near_width: in a hard-wrapped document, a line at least this share of the
        page width that ends inside a sentence (no 。；：！？) continues on the
        next: a proportional font fits fewer wide characters than digits, so
        a PDF's full lines are not all one display width.
    """

    min_spaced: int = 2
    min_wrapped: int = 4
    wrap_share: float = 0.35
    flattened_chars: int = 300
    near_width: float = 0.85


def display_width(s: str) -> int:
    """Width in half-width columns: CJK and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def is_page_number(line: str) -> bool:
    """A page number or page footer alone on its line (``- 3 -``, ``第 3 页 共 9 页``)."""
    return bool(_PAGE_NUMBER.match(line.strip()))


def _join_digit_run(m: re.Match[str]) -> str:
    text = m.string
    before = text[m.start() - 1] if m.start() else ""
    after = text[m.end()] if m.end() < len(text) else ""
    if after == " " and m.end() + 1 < len(text):
        after = text[m.end() + 1]
    if before == " " and m.start() >= 2:
        before = text[m.start() - 2]
    touches = re.match(rf"[{HAN}〔〕\[\]［］%％]", after or "") or re.match(rf"[第〔\[［]", before or "")
    return m.group(0).replace(" ", "") if touches else m.group(0)


def _fix_numbers(line: str) -> str:
    line = _SPACED_MARKER.sub(lambda m: "第" + re.sub(r"\s+", "", m.group(1)) + m.group(2), line)
    line = _DIGIT_RUN.sub(_join_digit_run, line)
    line = _BRACKET_SPACE.sub(lambda m: m.group(1) or m.group(2), line)
    return line


def is_flattened(line: str, cfg: LayoutConfig = LayoutConfig()) -> bool:
    """A page or document flattened onto one line: spaces stand before its headings."""
    structural = re.findall(rf" +(?:[{_CN_NUM}]+、|[（(][{_CN_NUM}]+[）)]|第[{_CN_NUM}]+条|\d{{1,2}}[.、])", line)
    return len(structural) >= 2 or (len(line) >= cfg.flattened_chars and len(structural) >= 1)


# a heading after the spaces of a flattened line: 一、 （一） 第X条 第X章 …, or a numbered 1. (1) ① (not 3.5)
_FLAT_HEAD = re.compile(rf"\s+(?=第[{_CN_NUM}\d]+(?:条(?![、，,和及与至或第])|章|节|编|部分)|[{_CN_NUM}]+、|[（(][{_CN_NUM}]+[）)])")
_FLAT_NUMBERED = re.compile(r"\s+(?=\d{1,3}(?:[.．](?!\d)|、)|[（(]\d{1,3}[）)]|[\u2460-\u2473])")
_CLAUSE_ENDS = "。！？；;：:!?）)”"


def split_flattened(line: str, cfg: LayoutConfig = LayoutConfig()) -> list[str]:
    """A flattened line (:func:`is_flattened`) split back into lines at its headings.

    The spaces of a page or document flattened onto one line stand for its line
    breaks; a break is restored where the spaces precede a heading (一、 （一）
    第X条 第X章), or a numbered item (1. (1) ①) after a sentence or clause end
    or right after such a heading (「二、稳定就业 1.对…」), so a decimal
    「3.5亿元」 or a list inside a sentence stays.  Any other line
    is returned whole.
    """
    if not is_flattened(line, cfg):
        return [line]
    heads = sorted({m.start() for m in _FLAT_HEAD.finditer(line) if m.start() > 0})
    cuts = list(heads)
    for m in _FLAT_NUMBERED.finditer(line):
        i = m.start()
        k = bisect_left(heads, i)  # the last heading before i (a search, not a scan: a huge line stays linear-log)
        last = heads[k - 1] if k else -1
        after_heading = last >= 0 and i - last <= 31 and not re.search(r"[，,。；;：:]", line[last:i])
        if i > 0 and (line[i - 1] in _CLAUSE_ENDS or after_heading):
            cuts.append(i)
    if not cuts:
        return [line]
    cuts = sorted(set(cuts))
    return [line[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(line)]) if line[a:b].strip()]


def _bracket_depths(line: str) -> list[int]:
    depth, out = 0, []
    for ch in line:
        if ch in "（(《":
            depth += 1
        out.append(depth)
        if ch in "）)》" and depth:
            depth -= 1
    return out


def _prose_spaces(line: str, org_suffixes: tuple[str, ...]) -> tuple[list[int], list[int]]:
    """Positions of spaces between Han characters that a converter may have put
    inside a prose clause, split into (outside brackets, inside 《》 brackets).

    Not counted: spaces of lines without clause punctuation (titles,
    signatures, table rows), the space after a heading marker, spaces after
    an organisation's name (``工业和信息化部 财政部``) and inside （）."""
    if not any(p in line for p in _PROSE_PUNCT) or " | " in line:
        return [], []
    head = _HEAD_MARKER.match(line)
    skip_to = head.end() if head else 0
    depths = _bracket_depths(line)
    outside, titles = [], []
    for m in _SPACE_HAN.finditer(line):
        if m.start() <= skip_to:
            continue
        left = line[: m.start()]
        if left.endswith(org_suffixes):
            continue
        if depths[m.start()]:
            opener = max(left.rfind("（"), left.rfind("("), left.rfind("《"))
            if opener >= 0 and line[opener] == "《":
                titles.append(m.start())
            continue
        outside.append(m.start())
    return outside, titles


def _remove_at(line: str, positions: list[int]) -> str:
    if not positions:
        return line
    out, pos = [], 0
    for p in sorted(positions):
        out.append(line[pos:p])
        pos = p
        while pos < len(line) and line[pos] == " ":
            pos += 1
    out.append(line[pos:])
    return "".join(out)


def _starts_block(line: str) -> bool:
    """A line that begins something new: heading, date, table row, signature-like short line."""
    return bool(_HEAD_MARKER.match(line)) or bool(_DATE_LINE.match(line)) or "\t" in line or " | " in line or line.startswith(("附件", "附表"))


def _page_width(lines: list[str], cfg: LayoutConfig) -> int:
    """The document's wrap width in display columns, or 0 when it is not hard-wrapped."""
    widths = [display_width(ln) for ln in lines if len(ln) >= 12 and "\t" not in ln]
    if len(widths) < cfg.min_wrapped:
        return 0
    counts = Counter(widths)
    best, best_n = 0, 0
    for w in counts:  # the width with most lines within [w-3, w]
        n = sum(c for x, c in counts.items() if w - 3 <= x <= w)
        if n > best_n or (n == best_n and w > best):
            best, best_n = w, n
    at_width = [x for x in widths if best - 3 <= x <= best]
    longer = [x for x in widths if x > best + 4]  # a few columns over: the converter's spaces
    if best_n < cfg.min_wrapped or best_n < cfg.wrap_share * len(widths) or len(longer) > 0.1 * len(widths):
        return 0
    return best if at_width else 0


def _join_wrapped(lines: list[str], cfg: LayoutConfig) -> list[str]:
    width = _page_width([ln for ln in lines if not is_page_number(ln)], cfg)
    if not width:
        return lines
    out: list[str] = []
    joining = near = False
    for ln in lines:
        if is_page_number(ln):
            continue  # a page footer inside a wrapped document: layout, not content
        if ln and ((joining and not _starts_block(ln)) or (near and _inline_item(out[-1], ln))):
            sep = " " if re.search(r"[A-Za-z]$", out[-1]) and re.match(r"[A-Za-z]", ln) else ""  # English words wrap at a space
            out[-1] = out[-1] + sep + ln
        else:
            out.append(ln)
        w = display_width(ln)
        near = bool(out[-1]) and w >= cfg.near_width * width
        joining = bool(out[-1]) and (w >= width - 3 or (near and not ln.endswith(_SENTENCE_END)))
    return out


_SENTENCE_END = ("。", "！", "？", "；", "：", "!", "?", ";", ":")
_ITEM_START = re.compile(rf"^[（(]([{_CN_NUM}]{{1,3}}|\d{{1,2}})[）)]")


def _inline_item(before: str, line: str) -> bool:
    """``line`` starts item N of an enumeration whose item N-1 stands inside the (nearly
    full) line before it (「…：（一）…；（二）…；（三）…；」 then 「（四）…」): the page width
    broke the paragraph there, the item continues it."""
    m = _ITEM_START.match(line)
    if not m:
        return False
    n = _numeral(m.group(1))
    if n is None or n < 2:
        return False
    prev = {str(n - 1), _CN_DIGITS[n - 1] if n - 1 < len(_CN_DIGITS) else ""} - {""}
    return any(re.search(rf"(?<=.)[（(]{re.escape(p)}[）)]", before) for p in prev)


_CN_DIGITS = ("〇", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


def _numeral(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text in _CN_DIGITS:
        return _CN_DIGITS.index(text)
    if text.startswith("十") and len(text) == 2 and text[1] in _CN_DIGITS:
        return 10 + _CN_DIGITS.index(text[1])
    return None


def repair_layout(text: str, org_suffixes: tuple[str, ...] = (), config: LayoutConfig = LayoutConfig()) -> str:
    """Text with converter spacing and hard wraps removed (see the module docstring).

    ``text`` has ``\\n`` line ends and normalised characters.  Lines are
    compared stripped; leading indentation is kept on lines that are not joined.
    """
    raw_lines = text.split("\n")
    lines = [_fix_numbers(ln) for ln in raw_lines]
    nonempty = [ln.strip() for ln in lines if ln.strip()]
    if len(nonempty) >= 3:
        flat = [is_flattened(ln, config) for ln in lines]
        found = [(_prose_spaces(ln.strip(), org_suffixes) if not f else ([], [])) for ln, f in zip(lines, flat)]
        if sum(len(o) for o, _ in found) >= config.min_spaced:
            fixed = []
            for ln, (o, t) in zip(lines, found):
                indent = ln[: len(ln) - len(ln.lstrip())]
                fixed.append(indent + _remove_at(ln.strip(), o + t) if (o or t) else ln)
            lines = fixed
        stripped = [ln.strip() for ln in lines]
        joined = _join_wrapped(stripped, config)
        if joined != stripped:
            lines = joined
    return "\n".join(lines)
