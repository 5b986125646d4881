"""When a policy takes effect, until when, and what it repeals.

:func:`extract_validity` reads the phrases of ``data/validity.json`` from a
document's text:

* a start: ``自2023年3月1日起施行``, ``自发布之日起施行`` (the publication
  date), ``自印发之日起执行`` (the document's date);
* an end: ``有效期至2026年12月31日``, ``执行期限为2023年1月1日至2025年12月31日``,
  ``自2023年1月1日起至2025年12月31日止``, or a length counted from the start:
  ``有效期3年``, ``暂定三年有效期``, ``有效期为两年``;
* a repeal: the sentence that declares earlier policies void
  (``原《…》（X政发〔2021〕12号）同时废止``, ``此前出台的…相关政策同时废止``),
  with the titles and 文号 it names.

Dates are ISO strings; a year alone means its first day (start) or last day
(end); ``2026年底`` is 31 December.  A clause about the document itself
(本办法/本政策/本意见…) wins over one quoting another policy; otherwise the last
clause found wins (the effective-date clause closes a document).
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

__all__ = ["Validity", "Repeal", "extract_validity", "extract_repeal", "parse_count", "validity_data"]

_DATA = Path(__file__).with_name("data") / "validity.json"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SELF = re.compile(r"本(?:办法|政策|意见|通知|措施|细则|方案|规定|决定|规划|计划|条例|实施意见|若干政策|若干措施|政策措施|文件|公告)")
# a written date: 2023年3月1日, 2023年3月, 2023年, 2026年底/年末, 2023-03-01, 2023.3.1
_DATE = r"(?:\d{4}\s*年\s*(?:\d{1,2}\s*月\s*(?:\d{1,2}\s*日)?|[底末])?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
_COUNT = r"(?:\d{1,3}|[一二两三四五六七八九十]{1,3})"
_SENTENCE = re.compile(r"[^。；;\n]*[。；;\n]?")


@lru_cache(maxsize=1)
def validity_data() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def parse_count(s: str) -> int | None:
    """3 / 三 / 十二 / 两 -> int."""
    s = s.strip()
    if s.isdigit():
        return int(s)
    if not s or any(c not in _CN_DIGITS and c != "十" for c in s):
        return None
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(s)


def _to_iso(s: str, end: bool) -> str:
    s = re.sub(r"\s+", "", s)
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        y, mo, d = map(int, m.groups())
    else:
        m = re.fullmatch(r"(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?|([底末]))?", s)
        if not m:
            return ""
        y = int(m.group(1))
        if m.group(4) or not m.group(2):
            mo, d = (12, 31) if (end or m.group(4)) else (1, 1)
        else:
            mo = int(m.group(2))
            d = int(m.group(3)) if m.group(3) else (calendar.monthrange(y, mo)[1] if end and 1 <= mo <= 12 else 1)
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return ""


def _add(iso: str, years: int = 0, months: int = 0) -> str:
    """The last day of a term of ``years``/``months`` starting on ``iso``."""
    d = date.fromisoformat(iso)
    total = d.month - 1 + months + 12 * years
    y, m = d.year + total // 12, total % 12 + 1
    day = min(d.day, calendar.monthrange(y, m)[1])
    end = date(y, m, day)
    return date.fromordinal(end.toordinal() - 1).isoformat()


@dataclass(frozen=True)
class Repeal:
    """A sentence declaring earlier policies void, and what it names."""

    text: str = ""
    titles: tuple[str, ...] = ()
    doc_numbers: tuple[str, ...] = ()

    @property
    def generic(self) -> bool:
        """Names no title or 文号 (此前出台的…相关政策同时废止)."""
        return bool(self.text) and not self.titles and not self.doc_numbers


@dataclass(frozen=True)
class Validity:
    valid_from: str = ""
    valid_to: str = ""
    text: str = ""  # the phrases read, joined by " / "
    repeal: Repeal = field(default_factory=Repeal)


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    d = validity_data()
    verbs = _alternation(d["start_verbs"])
    anchors = _alternation(d["start_anchors"])
    return {
        # 自2023年1月1日起至2025年12月31日止 / 自2023年1月1日至2025年12月31日
        "from_to": re.compile(rf"自\s*({_DATE})\s*(?:起)?\s*(?:至|到|—|-|–|~)\s*({_DATE})\s*(?:止)?"),
        # 执行期限为2023年1月1日至2025年12月31日 / 有效期：2023—2025年
        "range": re.compile(rf"(?:{_alternation(d['range_cues'])})[^。；\n\d]{{0,8}}?({_DATE}|\d{{4}})\s*(?:起)?\s*(?:至|到|—|-|–|~)\s*({_DATE})"),
        # 有效期至2026年12月31日
        "until": re.compile(rf"(?:{_alternation(d['until_cues'])})\s*({_DATE})"),
        # 自2023年3月1日起施行 / 自发布之日起施行
        "start": re.compile(rf"(?:自|从|于)\s*({_DATE}|{anchors})\s*(?:起)?\s*(?:正式)?(?:{verbs})"),
        # 有效期3年 / 暂定三年有效期 / 有效期为两年 / 试行期一年
        "duration": re.compile(rf"(?:{_alternation(d['duration_cues'])})\s*(?:为|暂定为|暂定|：|:)?\s*({_COUNT})\s*(年|个月)"),
        "duration_rev": re.compile(rf"暂定\s*({_COUNT})\s*(年|个月)\s*(?:有效期|有效)?"),
    }


def _sentences(text: str):
    """(start, sentence) pairs, split at 。；; and line ends."""
    for m in _SENTENCE.finditer(text):
        if m.group(0).strip():
            yield m.start(), m.group(0)


def _best(matches: list[tuple[bool, int, re.Match[str]]]) -> re.Match[str] | None:
    """A clause about the document itself first, else the last one."""
    if not matches:
        return None
    own = [m for m in matches if m[0]]
    return (own or matches)[-1][2]


def extract_repeal(text: str) -> Repeal:
    """The (last) sentence that repeals earlier policies, with the titles and 文号 it names."""
    verb = re.compile(f"(?:{_alternation(validity_data()['repeal_verbs'])})(?!日期|时间|情况)")
    found = None
    for _, sent in _sentences(text):
        m = verb.search(sent)
        if m and not re.search(r"(?:^|[，,；;])\s*(?:如果|如|若|凡|遇)(?!干)[^。]{0,30}(?:废止|停止执行)", sent):
            if len(sent) > 200:  # a run-on line: the clause leading to the verb
                head = sent[max(0, m.start() - 150) : m.start()]
                cut = max(head.rfind("，"), head.rfind(","), head.rfind(" "))
                sent = head[cut + 1 :] + sent[m.start() : m.end() + 40].split("。")[0]
            found = sent.strip()
    if not found:
        return Repeal()
    titles = tuple(dict.fromkeys(re.findall(r"《([^》]{2,80})》", found)))
    numbers = tuple(dict.fromkeys(re.sub(r"\s+", "", x) for x in re.findall(r"[\u4e00-\u9fff]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号", found)))
    return Repeal(found, titles, numbers)


def extract_validity(text: str, doc_date: str = "", published: str = "") -> Validity:
    """Start and end of validity stated in ``text`` (see the module docstring).

    ``doc_date`` (the document's own date) anchors 自印发之日起 and a length
    without a stated start; ``published`` (its publication date, if known)
    anchors 自发布之日起 (else ``doc_date``)."""
    pats = _patterns()
    anchors = validity_data()["start_anchors"]
    hits: dict[str, list[tuple[bool, int, re.Match[str]]]] = {k: [] for k in pats}
    for start, sent in _sentences(text):
        own = bool(_SELF.search(sent))
        for name, pat in pats.items():
            for m in pat.finditer(sent):
                hits[name].append((own, start + m.start(), m))
    phrases: list[str] = []
    valid_from = valid_to = ""

    m = _best(hits["from_to"]) or _best(hits["range"])
    if m:
        start = m.group(1) if re.search(r"[年\-/.]", m.group(1)) else m.group(1) + "年"  # 2023—2025年: a bare first year
        valid_from, valid_to = _to_iso(start, False), _to_iso(m.group(2), True)
        phrases.append(m.group(0))
    m = _best(hits["start"])
    if m and not valid_from:
        what = m.group(1)
        if what in anchors:
            valid_from = (published or doc_date) if anchors[what] == "published" else (doc_date or published)
        else:
            valid_from = _to_iso(what, False)
        phrases.append(m.group(0))
    m = _best(hits["until"])
    if m and not valid_to:
        valid_to = _to_iso(m.group(1), True)
        phrases.append(m.group(0))
    m = _best(hits["duration"]) or _best(hits["duration_rev"])
    if m and not valid_to:
        n = parse_count(m.group(1))
        base = valid_from or doc_date
        if n and base:
            valid_to = _add(base, years=n) if m.group(2) == "年" else _add(base, months=n)
            phrases.append(m.group(0))
    return Validity(valid_from, valid_to, " / ".join(dict.fromkeys(p.strip() for p in phrases)), extract_repeal(text))
