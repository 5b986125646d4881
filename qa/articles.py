"""Article numbers, the articles a clause refers to, and the clauses that assign
articles to responsible units.

County and city policies often close with one clause that names the unit
responsible for each article by number (「第1—3条由县工信局、县统计局负责；第11条、
第12条由县科技局负责；…」).  The unit for an item is then found by the item's
article number, not by the first body named near it.  Pure functions over text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_NUM = r"[\d一二三四五六七八九十百零〇两]+"
_ARTICLE = re.compile(rf"第({_NUM})条")
# one way only to read each article of the list (「第1条」「第1—3条」「第1条至第3条」「第六至八条」, then a
# separator): a list the clause's verb never follows must fail in linear time, not try every way of
# giving 条 to one optional group or another (2^n for n articles)
# An item numbered 「（三）」 is referred to as 「第（三）项」 (or 「第三项」) as an article is as 「第三条」.
_NO = rf"[（(]?{_NUM}[）)]?"
_ARTICLES = rf"(?:第{_NO}[条项]?(?:\s*[—\-–~～至到]\s*第?{_NO}[条项]?)?\s*(?:[、，,和及与]\s*)?)+"
VERBS = ("负责",)  # the verb of an assignment when no cue list is given (qa/data/shapes.json: assignment_verbs)


@lru_cache(maxsize=8)
def _segment(verbs: tuple[str, ...], rest: tuple[str, ...]) -> re.Pattern:
    """「第1—3条」「第11条、第12条」「第四至六条」 (or 「其余条款」) … 「由 X 负责 / 审核」: one
    segment of an assignment clause."""
    alt = lambda ws: "|".join(re.escape(w) for w in sorted(set(ws), key=len, reverse=True))  # noqa: E731
    heads = f"({_ARTICLES})|({alt(rest) if rest else '(?!)'})"
    return re.compile(rf"(?:{heads})由([^；;。]{{2,80}}?)(?:牵头)?(?:{alt(verbs)})")
_RANGE = re.compile(rf"第?[（(]?({_NUM})[）)]?[条项]?\s*(?:[—\-–~～至到]\s*第?[（(]?({_NUM})[）)]?)?[条项]?")
_ITEM = re.compile(rf"[（(]({_NUM})[）)]")  # an item's own number at the start of its heading


def number(s: str) -> int | None:
    """Value of an article number: 12, 十二, 二十六 (None when it is not one)."""
    if s.isdigit():
        return int(s)
    from policyqa.corpus.items import _cn_number

    v = _cn_number(s.replace("两", "二").replace("〇", "零"))
    return int(v) if v is not None and v > 0 else None


def article_of(section: str, text: str) -> int | None:
    """The article number a passage belongs to: the last 「第N条」 of its section path,
    else one opening its text; in a document of numbered items and no articles, the
    outermost item number 「（N）」 of its path (what 「第（N）项」 names; an item's own
    （一） sub-items, if any, are not what an assignment clause numbers)."""
    parts = [p.strip() for p in section.split(" > ") if p.strip()]
    for part in reversed(parts):
        m = _ARTICLE.match(part)
        if m:
            return number(m.group(1))
    m = _ARTICLE.match(text.strip())
    if m:
        return number(m.group(1))
    for part in parts + [text.strip()]:
        m = _ITEM.match(part)
        if m:
            return number(m.group(1))
    return None


@dataclass(frozen=True)
class Assignment:
    """One segment of an assignment clause: articles -> the units responsible."""

    articles: frozenset[int]  # empty for 「其余条款由…」: every article the clause does not name
    units: str  # 县工业和信息化局、县统计局
    start: int  # span of the segment in the clause's text
    end: int

    @property
    def rest(self) -> bool:
        return not self.articles


def assignments(text: str, verbs: tuple[str, ...] = VERBS, rest: tuple[str, ...] = ()) -> list[Assignment]:
    """The article -> unit segments of an assignment clause (empty when ``text`` is none).
    ``verbs``: what the unit does (负责, 审核 …); ``rest``: words naming the articles not named
    (其余条款), kept only after a segment that names articles."""
    out = []
    for m in _segment(tuple(verbs), tuple(rest)).finditer(text):
        if m.group(1) is None:  # 「其余条款由…」
            if out:
                out.append(Assignment(frozenset(), m.group(3).strip(" ，,"), m.start(), m.end()))
            continue
        arts: set[int] = set()
        for r in _RANGE.finditer(m.group(1)):
            a = number(r.group(1))
            b = number(r.group(2)) if r.group(2) else a
            if a is None or b is None or b < a or b - a > 100:
                continue
            arts.update(range(a, b + 1))
        if arts:
            out.append(Assignment(frozenset(arts), m.group(3).strip(" ，,"), m.start(), m.end()))
    return out


def assigned(segments: list[Assignment], article: int) -> Assignment | None:
    """The segment responsible for ``article``: one naming it, else a 「其余条款」 one."""
    return next((a for a in segments if article in a.articles), None) or next((a for a in segments if a.rest), None)


# 「第七条、第九条规定的」「按第3至5条」: article numbers in running text; one right after a title
# (「《…办法》第五条」) is another document's
_REFERENCE = re.compile(rf"(?<!》)(?<!》\s)第({_NUM})条(?:\s*[—\-–~～至到]\s*第?({_NUM})条)?")


def referenced(text: str, own: int | None = None) -> list[int]:
    """Article numbers ``text`` refers to, in order of mention, without ``own`` (the
    article the text belongs to) and without the number that opens it as its heading
    (「第二十五条　规范资金兑现。…第七条、第九条规定的小升规…」 -> [7, 9])."""
    out: list[int] = []
    body = text.lstrip()
    head = _ARTICLE.match(body)
    # the opening number is the article's own heading when it is ``own``, or (``own`` unknown) when
    # a space follows it as after a heading, not a 「、」 or 「规定」 as after a reference
    is_heading = head is not None and (number(head.group(1)) == own or (own is None and body[head.end():head.end() + 1].isspace()))
    skip = len(text) - len(body) + head.end() if is_heading else 0
    for m in _REFERENCE.finditer(text, skip):
        a = number(m.group(1))
        b = number(m.group(2)) if m.group(2) else a
        if a is None or b is None or b < a or b - a > 20:
            continue
        out += [n for n in range(a, b + 1) if n != own and n not in out]
    return out
