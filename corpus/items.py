"""Policy items: what a clause grants, to whom, on which conditions.

A pure function of one document's :class:`DocMeta` and :class:`Chunk` s::

    items = extract_items(meta, chunks)          # -> list[PolicyItem]

Each sentence of a chunk that grants something (a benefit word from
``data/items.json`` next to an amount, a rate or a cap) gives one item per
tier: 「对新认定为国家级、省级示范智能工厂的企业，分别一次性奖励500万元、200万元」
is two items (国家级 500万元, 省级 200万元).  An item carries the benefit kind,
the amount / rate / cap, a payment schedule, the recipient (honours with
level and star), its conditions as comparable thresholds where the text gives
numbers (入库税收 ≥ 2000万元) and as text where it does not, the region it
applies to, its validity, and the chunk and sentence span it came from.

How a sentence is read (every word list is in ``data/items.json``):

1. Numbers with a unit are found (万元/亿元/元, 克金牌, %, 人, 亩); numbers
   separated only by 、，和 form a list ("分别奖励20万元、15万元、10万元").
2. Each list gets a role from the words around it in its clause: a **cap**
   after 最高/不超过 (or before 封顶); a **threshold** before 以上/以下 or after
   不低于/达到/超过; a **grant** next to a benefit word (奖励100万元,
   10万元奖励, 投资额10%给予补助); anything else (statistics) is ignored.
3. A grant list of N amounts is aligned with the nearest tier list of N in the
   text before it: stars (五星、四星、三星), levels (国家级、省级), an
   enumeration (对A、B、C等) or a threshold list (达到1亿元级、5亿元级…).
4. The text between the previous grant and this one (the *lead*) gives the
   recipient and its conditions; a sentence in the same chunk that states
   conditions (申报条件是…) without granting anything adds them to the items
   after it that concern the same honour.  A following sentence that only
   caps (单个项目补助金额不超过500万元) caps the items before it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from policyqa.corpus.jurisdiction import NATIONAL, doc_jurisdiction
from policyqa.corpus.turns import asks, turn_role
from policyqa.corpus.types import Chunk, DocMeta

__all__ = [
    "NATIONAL", "Condition", "Honour", "ItemCatalog", "PolicyItem", "Vocabulary",
    "chunk_items", "extract_items", "jurisdiction_of", "vocabulary",
]

DATA = Path(__file__).with_name("data") / "items.json"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_SEP = r"[、，,和及与或]|以及"
_CLAUSE_END = "，,；;：:。！？!?"


def _cn_number(s: str) -> float | None:
    """Arabic or simple Chinese numerals: 50, 1.5, 五十, 一百二十, 两千."""
    try:
        return float(s)
    except ValueError:
        pass
    total, cur = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            cur = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (cur or 1) * _CN_UNITS[ch]
            cur = 0
        else:
            return None
    return float(total + cur)


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


# --- vocabulary -------------------------------------------------------------------


class Vocabulary:
    """``data/items.json`` with its word lists compiled once (read-only)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self._compiled: dict[str, re.Pattern[str]] | None = None

    @classmethod
    def from_file(cls, path: str | Path = DATA) -> "Vocabulary":
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def words(self, key: str) -> dict:
        return {k: v for k, v in self.raw[key].items() if not k.startswith("_")}

    @property
    def benefits(self) -> dict[str, str]:
        return self.words("benefits")

    @property
    def general_benefits(self) -> frozenset[str]:
        """Benefit kinds users name interchangeably (奖励, 补助 …)."""
        return frozenset(self.raw.get("general_benefits", ()))

    @property
    def fields(self) -> dict[str, dict]:
        return self.words("fields")

    @property
    def honours(self) -> dict[str, dict]:
        return self.words("honours")

    @property
    def investment_kinds(self) -> dict[str, dict]:
        return self.words("investment_kinds")

    @property
    def levels(self) -> dict[str, dict]:
        return self.words("levels")

    @property
    def sectors(self) -> dict[str, list[str]]:
        return self.words("sectors")

    @staticmethod
    def alt(words: Iterable[str]) -> str:
        """A regex alternation of ``words``, longest first."""
        return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))

    def pattern(self, name: str) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = _compile(self)
        return self._compiled[name]

    @property
    def alias_to_honour(self) -> dict[str, str]:
        return self._lookup("honour", lambda: {a: n for n, h in reversed(list(self.honours.items())) for a in h["aliases"]})

    @property
    def alias_to_kind(self) -> dict[str, str]:
        return self._lookup("kind", lambda: {a: n for n, k in reversed(list(self.investment_kinds.items())) for a in k["aliases"]})

    @property
    def cue_to_field(self) -> dict[str, str]:
        return self._lookup("cue", lambda: {c: n for n, f in reversed(list(self.fields.items())) for c in f["cues"]})

    def _lookup(self, name: str, make) -> dict:
        cache = self.__dict__.setdefault("_lookups", {})
        if name not in cache:
            cache[name] = make()
        return cache[name]


def _compile(v: Vocabulary) -> dict[str, re.Pattern[str]]:
    money = v.alt(v.raw["money_units"])
    medal = v.alt(v.raw["medal_units"])
    num = r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+"
    stars = v.alt(v.raw["stars"])
    level_words = v.alt(w for lv in v.levels.values() for w in lv["words"])
    marks = v.alt(v.raw["bound_included"] + v.raw["bound_excluded"])
    range_words = v.alt(v.raw["range_words"])
    sep = _SEP
    return {
        "mention": re.compile(
            rf"(?P<num>{num})\s*(?:(?P<money>{money})(?P<per>/亩)?|(?P<medal>{medal})|(?P<pct>[%％])|(?P<count>人|名|家|亩))(?P<ji>级)?"
        ),
        "benefit": re.compile(v.alt(v.benefits)),
        "grant_verb": re.compile(v.alt(v.raw["grant_verbs"] + list(v.benefits))),
        "star_list": re.compile(rf"(?:{stars})级?(?:\s*(?:{sep})\s*(?:{stars})级?)*"),
        "level_list": re.compile(rf"(?:{level_words})(?:\s*(?:{sep})\s*(?:{level_words}))*"),
        "star": re.compile(stars),
        "first_time": re.compile(v.alt(v.raw["first_time"])),
        "payer": re.compile(v.alt(v.raw["payers"])),
        "per_unit": re.compile(v.alt(v.raw["per_unit"])),
        "schedule_ordinal": re.compile(v.alt(v.raw["schedule_ordinals"])),
        "schedule_phrase": re.compile(rf"(?:{v.alt(v.raw['schedule_phrases'])})[^，,。；;]{{0,12}}"),
        "cond_cue": re.compile(v.alt(v.raw["condition_sentence_cues"])),
        "scope_cue": re.compile(v.alt(v.raw["document_scope_cues"])),
        "continuation": re.compile(rf"^(?:{v.alt(v.raw['continuation_starts'])})"),
        # one way to split the spaces between separators (``(?:\s*sep\s*)+`` tried every split: 2^n)
        "sep_only": re.compile(rf"^(?:\s*(?:{sep}))+\s*$"),
        "honour_alias": re.compile(v.alt(a for h in v.honours.values() for a in h["aliases"])),
        "kind_alias": re.compile(v.alt(a for k in v.investment_kinds.values() for a in k["aliases"])),
        "field_cue": re.compile(v.alt(c for f in v.fields.values() for c in f["cues"])),
        "sector_list": re.compile(
            rf"(?:{v.alt(v.raw['sector_condition_words'])})(?:\s*(?:{sep})\s*(?:{v.alt(v.raw['sector_condition_words'])}))*"
            rf"(?=(?:{v.alt(v.raw['sector_subjects'])}))"),
        "sector_word": re.compile(v.alt(v.raw["sector_condition_words"])),
        "relative": re.compile(rf"({v.alt(v.raw['op_before'])})([^，,；;。的]{{0,12}}?(?:{v.alt(v.raw['relative_reference'])})(?:水平)?)"),
        "opener": re.compile(rf"^\s*(?:(?:{v.alt([w for w in v.raw['connectors'] if not w.startswith('对')] + v.raw['payers'])})\s*)*对于?(?!接|外|标|应|比|照)"),
        "lead_words": re.compile(rf"^(?:{v.alt(v.raw['first_time'] + ['经认定的', '认定为', '被认定为', '获批', '列入', '的', '为'])})+"),
        "payer_any": re.compile(v.alt(v.raw["payers"])),
        "cost_share": re.compile(v.alt(v.raw["cost_share_words"])),
        "aggregate": re.compile(rf"(?:{v.alt(v.raw['aggregate_cues'])})(?!过)"),
        "total": re.compile(v.alt(v.raw["total_words"])),
        "per_any": re.compile(r"每[^\d，,。；;、：:（）()]{1,5}$"),
        "per_after": re.compile(r"^\s*/\s*[^\d\s，,。；;、的]{1,2}"),
        "per_enterprise": re.compile(rf"^(?:{v.alt(v.raw['per_enterprise'])})"),
        "pool": re.compile(rf"\s*的?(?:{v.alt(v.raw['pool_nouns'])})"),
        "presence": re.compile(v.alt(v.raw["investment_presence_cues"])),
        "grant_tail": re.compile(rf"(?:分别|再|一次性|{v.alt(v.raw['grant_verbs'])})+$"),
        "residual": _residual_pattern(v),
        "validity": re.compile(r"(\d{4})\s*年?\s*(?:至|到|[-—–~])\s*(\d{4})\s*年底?(?:期间|内|间)"),
        # a range of two figures (500万元（含）至2000万元): :func:`_range_bound`.  Possessive runs and a
        # figure starting after no digit: a long run of spaces or digits is scanned once (adjacent
        # ``\s*`` groups would try every split of it)
        "range_figure": re.compile(rf"[\d.]++\s*+(?:{money}|万|[%％])?"),
        "range_lower": re.compile(rf"\s*+(?P<mark>{marks})?\s*+(?:{range_words})\s*+(?=[\d.])"),
        "range_upper": re.compile(rf"(?<![\d.])\d[\d.]*+\s*+(?:{money}|万|[%％])?\s*+(?:{marks})?\s*+(?:{range_words})\s*+$"),
        "bound_mark": re.compile(rf"\s*+(?:{marks})?"),
    }


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The shipped vocabulary (``corpus/data/items.json``)."""
    return Vocabulary.from_file(DATA)


# --- the item dataclasses -------------------------------------------------------------


@dataclass(frozen=True)
class Honour:
    """A recognition an item rewards: 国家级 专精特新“小巨人”企业, 五星 星级企业."""

    name: str  # canonical name from the vocabulary
    level: str = ""  # 国家级 | 省级 | 市级 | 县级 | 区级 | ""
    star: str = ""  # 五星 | 四星 | 三星 | ""

    def label(self) -> str:
        if self.star:
            if self.name == "星级企业":
                return f"{self.level}{self.star}级企业"
            return f"{self.level}{self.star}{self.name.replace('星级', '')}" if "星级" in self.name else f"{self.level}{self.name}（{self.star}）"
        return f"{self.level}{self.name}"


@dataclass(frozen=True)
class Condition:
    """One condition of an item.

    kind: ``threshold`` (field op value unit), ``relative`` (field op a reference
    such as 全市工业平均水平), ``investment`` (a planned investment of kind
    ``ref``, optionally op value), ``honour`` (holds one of ``honours``),
    ``sector`` (in one of ``sectors``), ``first_time`` (newly recognised this
    year), ``text`` (only stated in words), ``any`` (one of ``options``, each a
    tuple of conditions that must all hold).
    """

    kind: str
    text: str
    field: str = ""  # vocabulary field name (tax_paid_wan, revenue_wan, planned_investments, mu_tax, honours, industry …)
    op: str = ""  # >= > <= <
    value: float | None = None
    unit: str = ""
    ref: str = ""  # relative reference, or investment kind
    honours: tuple[Honour, ...] = ()
    sectors: tuple[str, ...] = ()
    options: tuple[tuple["Condition", ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("honours", "options")}
        d["honours"] = [asdict(h) for h in self.honours]
        d["sectors"] = list(self.sectors)
        d["options"] = [[c.to_dict() for c in opt] for opt in self.options]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Condition":
        return cls(
            kind=d["kind"], text=d.get("text", ""), field=d.get("field", ""), op=d.get("op", ""),
            value=d.get("value"), unit=d.get("unit", ""), ref=d.get("ref", ""),
            honours=tuple(Honour(**h) for h in d.get("honours") or ()),
            sectors=tuple(d.get("sectors") or ()),
            options=tuple(tuple(cls.from_dict(c) for c in opt) for opt in d.get("options") or ()),
        )


@dataclass(frozen=True)
class PolicyItem:
    """One benefit one recipient tier can claim, with where it was read."""

    item_id: str  # chunk id + "~" + ordinal in the chunk: stable while the chunk is
    doc_id: str
    chunk_id: str
    section: str
    kind: str  # 奖励 | 补助 | 补贴 | 奖补 | 贴息 | 减免 | 返还 | 金牌
    tier: str = ""  # 五星 / 国家级 / 1亿元级 / an enumerated recipient; "" for a single item
    recipient: str = ""  # the lead text naming who gets it, as written
    honours: tuple[Honour, ...] = ()  # any one of these (国家级小巨人 or 单项冠军)
    amount_wan: float | None = None  # fixed amount in 万元 (a schedule's total)
    amount_text: str = ""  # as shown: 100万元 / 200克金牌 / 按项目投资额的10% / 最高50万元
    medal_grams: float | None = None
    rate: float | None = None  # 0.1 for 10%
    rate_base: str = ""  # what the rate applies to (项目投资额)
    base_kind: str = ""  # investment kind of the base, for estimates (技术改造)
    cap_wan: float | None = None
    per_unit: str = ""  # 每台 / 每人: the amount is per unit
    schedule: tuple[tuple[str, float], ...] = ()  # (第一个年度, 10.0), (第四个年度, 40.0)
    schedule_text: str = ""  # 分三年拨付
    payer: str = ""  # 市政府 / 区级财政 …
    first_time: bool = False
    conditions: tuple[Condition, ...] = ()
    region: str = ""  # the document's region
    jurisdiction: str = ""  # where it applies: NATIONAL, a province, or the region
    valid_from: str = ""  # ISO date or ""
    valid_to: str = ""
    sentence: str = ""
    span: tuple[int, int] = (0, 0)  # of the sentence within the chunk text

    @property
    def quantified(self) -> bool:
        return any(v is not None for v in (self.amount_wan, self.rate, self.cap_wan, self.medal_grams))

    def label(self) -> str:
        """Who gets it, short: 国家级专精特新“小巨人”企业 / 五星星级企业 / 企业技术改造项目."""
        if self.honours:
            return "或".join(h.label() for h in self.honours)
        rec = self.recipient
        if self.tier and self.tier not in rec:
            rec = f"{rec}（{self.tier}）" if rec else self.tier
        return rec

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["honours"] = [asdict(h) for h in self.honours]
        d["conditions"] = [c.to_dict() for c in self.conditions]
        d["schedule"] = [list(p) for p in self.schedule]
        d["span"] = list(self.span)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PolicyItem":
        d = dict(d)
        d["honours"] = tuple(Honour(**h) for h in d.get("honours") or ())
        d["conditions"] = tuple(Condition.from_dict(c) for c in d.get("conditions") or ())
        d["schedule"] = tuple((str(a), float(b)) for a, b in d.get("schedule") or ())
        d["span"] = tuple(d.get("span") or (0, 0))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


# --- jurisdiction and validity -------------------------------------------------------


def jurisdiction_of(meta: DocMeta, vocab: Vocabulary | None = None) -> str:
    """Where a document's rules apply, as the shared region matcher reads it:
    :data:`NATIONAL`, else a region string (江苏省盐城市亭湖区, 浙江省桐溪县) or "".

    This is :func:`policyqa.corpus.jurisdiction.doc_jurisdiction` (``meta.jurisdiction``,
    falling back to the region for indexes older than jurisdictions), so items and
    the answer stage's region checks cannot disagree.  ``vocab`` is unused (kept
    for callers of the first version).
    """
    return doc_jurisdiction(meta).label


def _doc_validity(meta: DocMeta) -> tuple[str, str]:
    vf, vt = getattr(meta, "valid_from", "") or "", getattr(meta, "valid_to", "") or ""
    if vf or vt:
        return vf, vt
    p = meta.period
    if not p:
        return "", ""
    return (f"{p.start}-01-01" if p.start else ""), (f"{p.end}-12-31" if p.end else "")


# --- sentences, clauses, mentions -------------------------------------------------------


_SENT = re.compile(r"[^\s。！？；;!?][^。！？；;!?\n]*[。！？；;!?]*")


def _sentences(text: str) -> list[tuple[int, int]]:
    out = []
    for m in _SENT.finditer(text):
        s, e = m.start(), m.end()
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s, e))
    return out


_SERIAL_COLUMNS = ("序号", "编号", "序")


def _row_as_sentence(line: str, v: Vocabulary) -> str | None:
    """A table row of a reward schedule (:mod:`policyqa.corpus.tables` renders it
    「序号：2 | 奖励类别：国家级专精特新“小巨人”企业 | 奖励标准：100万元」) read as the
    rule it states: 「对国家级专精特新“小巨人”企业，给予100万元奖励。」.  The benefit is
    named by a column (奖励标准, 补助金额) whose cell states a figure; the other cells,
    serial numbers aside, name who gets it.  None for any other line."""
    from policyqa.corpus.tables import KV, SEP

    if SEP not in line or KV not in line:
        return None
    cells = [c.split(KV, 1) for c in line.split(SEP)]
    if any(len(c) != 2 for c in cells):
        return None
    paid = [(i, m.group(0), value) for i, (name, value) in enumerate(cells)
            if (m := v.pattern("benefit").search(name)) and re.search(r"\d", value) and re.search(r"元|%", value)]
    if len(paid) != 1:
        return None
    at, word, amount = paid[0]
    who = [value.strip() for i, (name, value) in enumerate(cells)
           if i != at and name.strip() not in _SERIAL_COLUMNS and value.strip() and not re.fullmatch(r"[\d.、]+", value.strip())]
    if not who:
        return None
    return f"对{'，'.join(who)}，给予{amount.strip()}{word}。"


def _clause_bounds(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the comma-clause of ``text`` containing ``pos``."""
    s = max(text.rfind(ch, 0, pos) for ch in _CLAUSE_END) + 1
    ends = [i for i in (text.find(ch, pos) for ch in _CLAUSE_END) if i >= 0]
    return s, min(ends) if ends else len(text)


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, s = [], start
    for i in range(start, end):
        if text[i] in _CLAUSE_END:
            if i > s:
                out.append((s, i))
            s = i + 1
    if end > s:
        out.append((s, end))
    return out


@dataclass
class _Mention:
    start: int
    end: int
    kind: str  # money | medal | rate | count
    value: float  # 万元 | grams | percent | count
    text: str
    unit: str
    tier_suffix: bool  # "1亿元级"


@dataclass
class _Run:
    """Numbers of one kind separated only by 、，和: read as one list."""

    mentions: list[_Mention]
    role: str = "other"  # grant | cap | threshold | other
    op: str = ""

    @property
    def start(self) -> int:
        return self.mentions[0].start

    @property
    def end(self) -> int:
        return self.mentions[-1].end

    @property
    def kind(self) -> str:
        return self.mentions[0].kind

    def __len__(self) -> int:
        return len(self.mentions)


def _mentions(text: str, v: Vocabulary) -> list[_Mention]:
    out = []
    money_units = v.raw["money_units"]
    medal_ok = "金牌" in text
    for m in v.pattern("mention").finditer(text):
        value = _cn_number(m.group("num"))
        if value is None:
            continue
        if m.group("money"):
            unit = m.group("money") + (m.group("per") or "")
            out.append(_Mention(m.start(), m.end(), "money", value * money_units[m.group("money")], m.group(0), unit, bool(m.group("ji"))))
        elif m.group("medal"):
            if not medal_ok:
                continue
            out.append(_Mention(m.start(), m.end(), "medal", value, m.group(0), "克金牌", False))
        elif m.group("pct"):
            out.append(_Mention(m.start(), m.end(), "rate", value, m.group(0), "%", False))
        else:
            out.append(_Mention(m.start(), m.end(), "count", value, m.group(0), m.group("count"), False))
    return out


def _runs(text: str, mentions: list[_Mention], v: Vocabulary) -> list[_Run]:
    runs: list[_Run] = []
    sep_only = v.pattern("sep_only")
    for m in mentions:
        if runs and runs[-1].kind == m.kind and sep_only.match(text[runs[-1].end : m.start]):
            runs[-1].mentions.append(m)
        else:
            runs.append(_Run([m]))
    return runs


def _strip_suffixes(s: str, words: Sequence[str]) -> str:
    changed = True
    while changed and s:
        changed = False
        s2 = s.rstrip(" 　")
        for w in words:
            if w and s2.endswith(w):
                s2 = s2[: -len(w)]
                changed = True
                break
        s = s2
    return s


def _classify(text: str, run: _Run, v: Vocabulary) -> None:
    """Set ``run.role`` (grant / cap / threshold / other) and ``run.op``."""
    cs, ce = _clause_bounds(text, run.start)
    before, after = text[cs : run.start], text[run.end : ce]
    if run.kind == "medal":
        run.role = "grant"
        return
    benefit_words = list(v.benefits) + v.raw["grant_verbs"]
    bare = _strip_suffixes(before, benefit_words + ["金额", "资金", "总额", "额度", "可", "的", "为", "分别", "一次性"])
    if any(bare.endswith(w) for w in v.raw["cap_before"]) or any(after.startswith(w) for w in v.raw["cap_after"]):
        run.role = "cap" if run.kind in ("money", "rate") else "other"
        return
    for w, op in sorted(v.raw["op_after"].items(), key=lambda kv: -len(kv[0])):
        if after.startswith(w):
            run.role, run.op = "threshold", op
            return
    trimmed = _strip_suffixes(before, ["在", "均", "分别", "累计", "年"])
    for w, op in sorted(v.raw["op_before"].items(), key=lambda kv: -len(kv[0])):
        if trimmed.endswith(w):
            run.role, run.op = "threshold", op
            return
    bound = _range_bound(before, after, v)
    if bound:
        run.role, run.op = "threshold", bound
        return
    if run.mentions[-1].tier_suffix:
        run.role, run.op = "threshold", ">="
        return
    if run.kind == "count":
        return
    if run.kind == "rate" and v.pattern("cost_share").search(text[cs:ce]):
        return  # 奖励资金由镇和县财政各承担50%: how the funding is split, not a grant
    if v.pattern("aggregate").search(before[-8:]) or (
            v.pattern("total").search(before[-4:]) and not v.pattern("grant_verb").search(before[-10:])):
        return  # 拨付首批资金1.57亿元 / 预计减免电费6.92亿元: a total, not what one enterprise gets
        # (给予奖励共计500万元 is one enterprise's total: a grant)
    if v.pattern("pool").match(after):
        return  # 给予5000万元担保额度 / 安排1亿元资金规模: the size of a pool, not what one enterprise gets
    if v.pattern("benefit").search(after[:12]) or v.pattern("grant_verb").search(before):
        run.role = "grant"


def _range_bound(before: str, after: str, v: Vocabulary) -> str:
    """The operator of a figure that bounds a range (「设备投资额500万元（含）至2000万元的」): the
    first figure a lower bound (>=, > when marked 不含), the second an upper bound (<, <= when
    marked 含); "" for a figure in no range, and for a range that is what is granted
    (「给予每个项目10—30万元奖励」: a grant verb before it or a benefit word after it)."""
    def granted(head: str, tail: str) -> bool:
        tail = tail[v.pattern("bound_mark").match(tail).end():]
        return bool(v.pattern("grant_verb").search(head[-8:]) or v.pattern("grant_verb").match(tail) or v.pattern("benefit").match(tail))

    m = v.pattern("range_lower").match(after)
    if m:
        second = v.pattern("range_figure").match(after, m.end())
        if granted(before, after[second.end() if second else m.end():]):
            return ""
        return ">" if m.group("mark") in v.raw["bound_excluded"] else ">="
    m = v.pattern("range_upper").search(before)
    if m:
        if granted(before[:m.start()], after):
            return ""
        return "<=" if any(after.lstrip().startswith(w) for w in v.raw["bound_included"]) else "<"
    return ""


# --- recipients: honours, tiers, fields ---------------------------------------------------


def _honours(text: str, v: Vocabulary) -> list[tuple[int, int, str]]:
    """(start, end, canonical name) of honours named in ``text``, most specific kept."""
    table = v.alias_to_honour
    found = [(m.start(), m.end(), table[m.group(0)]) for m in v.pattern("honour_alias").finditer(text)]
    names = {n for _, _, n in found}
    dropped = {s for n in names for s in v.honours[n].get("suppresses", [])}
    return [f for f in found if f[2] not in dropped]


def _level_before(text: str, pos: int, v: Vocabulary, window: int = 4) -> str:
    """Level stated directly before ``pos``: 国家级专精特新, 省智能工厂, 省级企业上云."""
    head = text[max(0, pos - window) : pos]
    best, best_end = "", -1
    for level, lv in v.levels.items():
        for w in lv["words"]:
            i = head.rfind(w)
            if i >= 0 and i + len(w) > best_end:
                best, best_end = level, i + len(w)
        for w in lv["prefix"]:
            if head.endswith(w) and len(head) > best_end:
                best, best_end = level, len(head)
    return best


def _level_word_at(text: str, v: Vocabulary) -> tuple[str, int]:
    """A level written out at the start of ``text`` (省级未来工厂 -> (省级, 2)), else ("", 0)."""
    for level, lv in v.levels.items():
        for w in lv["words"]:
            if text.startswith(w):
                return level, len(w)
    return "", 0


def _recognition(text: str, v: Vocabulary, cue_text: str | None = None) -> Honour | None:
    """A recognition the honours vocabulary does not name, as written in a recipient:
    对新认定的国家级绿色供应链管理企业 -> Honour(绿色供应链管理企业, 国家级);
    获得中国驰名商标认定的企业 -> Honour(中国驰名商标); 获得省长质量奖 -> Honour(省长质量奖).

    A recognition verb (认定, 评为, 获评, 入选 …) comes before the name; after 获得 /
    取得 the name must end with a recognition noun (奖, 认证, 称号 …), so 获得银行贷款
    is no honour.  ``cue_text``: where to look for the verb when ``text`` is one
    element of an enumeration (the lead before it).  Words in ``data/items.json``
    (``recognition``).  None when there is no recognition, or the vocabulary knows it.
    """
    r = v.raw["recognition"]
    verbs = v.alt(r["verbs"] + r["obtain_verbs"])
    m = re.search(verbs, text)
    if m:
        verb, name = m.group(0), text[m.end():]
    elif cue_text is not None and (c := re.findall(verbs, cue_text)):
        verb, name = c[-1], text
    else:
        return None
    name = re.sub(r"^(?:的|为|是)+", "", name.strip(" ，,、：:"))
    for _ in range(2):
        for end in sorted(r["name_ends"], key=len, reverse=True):
            if name.endswith(end) and len(name) > len(end):
                name = name[: -len(end)]
    if verb in r["obtain_verbs"] and not name.endswith(tuple(r["nouns"])):
        return None
    if name.endswith("认定") and len(name) > 4:
        name = name[:-2]  # 中国驰名商标认定 -> 中国驰名商标
    level, _ = _level_word_at(name, v)
    lead = v.pattern("level_list").match(name)  # 国家级、省级、市级企业研究院: the tiers say the level
    if lead:
        level = level if len([w for w in re.split(_SEP, lead.group(0)) if w.strip()]) == 1 else ""
        name = name[lead.end():]
    name = name.strip(" ，,、")
    if len(re.findall(r"[\u4e00-\u9fff]", name)) < 3 or v.pattern("honour_alias").search(name) or v.pattern("mention").search(name):
        return None
    return Honour(name, level)


def _honours_in(text: str, v: Vocabulary) -> list[Honour]:
    out: dict[str, Honour] = {}
    for s, e, name in _honours(text, v):
        level = _level_before(text, s, v)
        # 企业上云 after 省级: the level may be one word back (省级企业上云)
        if not level:
            level = _level_before(text, s, v, window=6)
        if name not in out or (level and not out[name].level):
            out[name] = Honour(name, level or "")
    return list(out.values())


def _tier_lists(lead: str, lead_offset: int, k: int, threshold_runs: list[_Run], v: Vocabulary) -> list[tuple[int, str, list[str]]]:
    """Candidate tier lists of length ``k`` in the lead: (end position, type, labels)."""
    out: list[tuple[int, str, list[str]]] = []
    for m in v.pattern("star_list").finditer(lead):
        labels = v.pattern("star").findall(m.group(0))
        if len(labels) == k:
            out.append((m.end(), "star", labels))
    for m in v.pattern("level_list").finditer(lead):
        labels = [w for w in re.split(_SEP, m.group(0)) if w.strip()]
        after = lead[m.end() : m.end() + 2]
        if len(labels) == k and not after.startswith(("财政", "政府", "以上", "以下")):
            out.append((m.end(), "level", [w.strip() for w in labels]))
    i = lead.rfind("对")
    if i >= 0:
        tail = re.split(r"等|分别|[，,；;：:]", lead[i + 1 :], maxsplit=1)[0]
        raw_parts = [p.strip() for p in re.split(_SEP, tail) if p.strip()]
        if raw_parts:  # …、省级智能制造示范车间的企业: the subject after 的 is not part of the list
            raw_parts[-1] = re.sub(r"的[^的]*$", "", raw_parts[-1]) or raw_parts[-1]
        parts = [_strip_lead_words(p, v) for p in raw_parts]
        # 对年销售收入首次突破5亿元、10亿元…: the elements are figures, a threshold list
        if len(parts) == k and k > 1 and not any(v.pattern("mention").search(p) for p in parts):
            out.append((i + 1 + len(tail), "enum", parts))
    for r in threshold_runs:
        if len(r) == k:
            out.append((r.end - lead_offset, "threshold", [m.text for m in r.mentions]))
    return out


def _strip_lead_words(s: str, v: Vocabulary) -> str:
    """An enumerated recipient without its leading verbs: 新认定为省级… -> 省级…."""
    m = v.pattern("lead_words").match(s)
    return s[m.end():] if m and m.end() < len(s) else s


_TIER_PREF = {"star": 0, "level": 1, "enum": 2, "threshold": 3}


def _field_of(text: str, pos: int, v: Vocabulary, window: int = 40, percent: bool | None = None) -> tuple[str, int]:
    """The condition field whose cue ends nearest before ``pos`` (and the cue's
    start); with ``percent`` set, only fields measured in % (or only fields
    that are not): 营业收入增速不低于10% is a growth rate, not a revenue."""
    last = None
    for m in v.pattern("field_cue").finditer(text, max(0, pos - window), pos):
        f = v.cue_to_field[m.group(0)]
        if percent is None or (v.fields[f]["unit"] == "%") == percent:
            last = m
    if last is None:
        return "", -1
    return v.cue_to_field[last.group(0)], last.start()


def _investment_kinds(text: str, v: Vocabulary) -> list[tuple[int, str]]:
    table = v.alias_to_kind
    return [(m.start(), table[m.group(0)]) for m in v.pattern("kind_alias").finditer(text)]


def _kind_before(text: str, pos: int, v: Vocabulary) -> str:
    """The investment kind named last before ``pos`` in its clause, outside
    parentheses: 设备（含软件）投资额不低于500万元 -> 设备."""
    cs, _ = _clause_bounds(text, pos)
    head = re.sub(r"[（(][^（）()]*[）)]", lambda m: " " * len(m.group(0)), text[cs:pos])
    kinds = _investment_kinds(head, v)
    return kinds[-1][1] if kinds else ""


def _most_specific(kinds: Sequence[str], v: Vocabulary) -> str:
    if not kinds:
        return ""
    ik = v.investment_kinds
    return min(reversed(list(dict.fromkeys(kinds))), key=lambda k: len(ik[k]["includes"]))


def _sectors(text: str, v: Vocabulary) -> tuple[str, ...]:
    """Sectors a condition names: 独立核算工业、服务业、建筑业企业 -> (工业, 服务业, 建筑业)."""
    words = v.raw["sector_condition_words"]
    found: list[str] = []
    for m in v.pattern("sector_list").finditer(text):
        for w in v.pattern("sector_word").findall(m.group(0)):
            if words[w] not in found:
                found.append(words[w])
    return tuple(found)


def _sector_spans(text: str, v: Vocabulary) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in v.pattern("sector_list").finditer(text)]


def _threshold_condition(text: str, run: _Run, idx: int | None, v: Vocabulary, kind_hint: str = "") -> Condition:
    m = run.mentions[idx if idx is not None else 0]
    fname, _ = _field_of(text, run.start, v, percent=m.kind == "rate")
    f = v.fields.get(fname, {})
    unit = {"money": "万元/亩" if m.unit.endswith("/亩") else "万元", "rate": "%"}.get(m.kind, m.unit)
    value = m.value
    label = f.get("label", "")
    opsym = v.raw["op_words_text"].get(run.op, run.op)
    if fname == "planned_investments":
        ref = _kind_before(text, run.start, v) or kind_hint
        shown = f"{ref}{label}" if ref else label
        return Condition("investment", f"{shown} {opsym} {_fmt(value)}{unit}", fname, run.op, value, unit, ref=ref)
    if not fname:  # 单户担保金额1000万元以下: say it as written
        cs, ce = _clause_bounds(text, run.start)
        return Condition("text", _clean_recipient(text[cs:ce], v) or f"{opsym} {m.text}", "", run.op, value, unit)
    return Condition("threshold", f"{label} {opsym} {_fmt(value)}{unit}", fname, run.op, value, unit)


def _relative_conditions(text: str, v: Vocabulary) -> list[tuple[int, int, Condition]]:
    """增长率高于全市工业平均水平: a field compared with a reference, no number."""
    out = []
    ops = v.raw["op_before"]
    for m in v.pattern("relative").finditer(text):
        fname, fstart = _field_of(text, m.start(), v, window=20)
        if not fname:
            continue
        f = v.fields[fname]
        op = ops[m.group(1)]
        opsym = v.raw["op_words_text"].get(op, op)
        out.append((fstart, m.end(), Condition("relative", f"{f['label']} {opsym} {m.group(2)}", fname, op, None, f["unit"], ref=m.group(2))))
    return out


# --- building items -----------------------------------------------------------------


def _lead_start(text: str, start: int, run_start: int, v: Vocabulary) -> int:
    """Cut the lead after the last earlier clause that itself grants something
    (…给予资金支持外，市财政对…): that clause belongs to another benefit."""
    own_cs, _ = _clause_bounds(text, run_start)
    if v.pattern("continuation").match(text[own_cs:run_start].lstrip()):
        return start  # 给予奖补，每家企业奖补资金最高300万元: the same grant, quantified
    cut = start
    for cs, ce in _clauses(text, start, own_cs):
        if v.pattern("benefit").search(text[cs:ce]):
            cut = ce + 1
    return min(cut, run_start)


_CLAUSE_NUMBER = re.compile(r"^\s*(?:第[一二三四五六七八九十百零〇\d]+条|[（(][一二三四五六七八九十\d]+[）)]|\d{1,3}\s*[.．、](?!\d))\s*")


def _clean_recipient(s: str, v: Vocabulary) -> str:
    s = _CLAUSE_NUMBER.sub("", s).strip(" ，,；;：:、")
    s = v.pattern("payer_any").sub("", s)
    for w in sorted(v.raw["connectors"], key=len, reverse=True):
        if s.startswith(w):
            s = s[len(w) :]
    s = v.pattern("grant_tail").sub("", s.strip(" ，,"))
    return s.strip(" ，,的")


def _conditions_of_lead(
    text: str, lead_start: int, run: _Run, threshold_runs: list[_Run], tier_run: _Run | None,
    v: Vocabulary, kind_hint: str,
) -> tuple[list[Condition], list[list[Condition]], list[tuple[int, int]]]:
    """Conditions shared by every tier, per-tier threshold conditions, and the spans they cover."""
    shared: list[Condition] = []
    per_tier: list[list[Condition]] = [[] for _ in run.mentions]
    covered: list[tuple[int, int]] = []
    lead = text[lead_start : run.start]
    for r in threshold_runs:
        if r.start < lead_start or r.end > run.start:
            continue
        fname, fstart = _field_of(text, r.start, v, percent=r.kind == "rate")
        covered.append((fstart if fstart >= 0 else r.start, r.end))
        if len(r) == len(run) and len(run) > 1:
            for i in range(len(r)):
                per_tier[i].append(_threshold_condition(text, r, i, v, kind_hint))
        else:
            shared.append(_threshold_condition(text, r, None, v, kind_hint))
    for s, e, c in _relative_conditions(lead, v):
        shared.append(c)
        covered.append((lead_start + s, lead_start + e))
    sectors = _sectors(lead, v)
    if sectors:
        shared.append(Condition("sector", "、".join(sectors) + "企业", "industry", sectors=sectors))
    return shared, per_tier, covered


def _recipient_start(text: str, lead_start: int, run_start: int, v: Vocabulary) -> int:
    """Start of the clause naming the recipient: the last clause of the lead that
    opens with 对/对于 (after a connector or payer), else the lead's start."""
    opener = v.pattern("opener")
    start = lead_start
    for cs, ce in _clauses(text, lead_start, run_start):
        if opener.match(text[cs:ce]):
            start = cs
    return start


def _residual_pattern(v: Vocabulary) -> re.Pattern[str]:
    words = [w for h in v.honours.values() for w in h["aliases"]]
    words += [w for k in v.investment_kinds.values() for w in k["aliases"]]
    words += [w for f in v.fields.values() for w in f["cues"]]
    words += [w for lv in v.levels.values() for w in lv["words"] + lv["prefix"]]
    words += list(v.raw["sector_condition_words"]) + v.raw["first_time"] + v.raw["payers"] + v.raw["stars"]
    words += list(v.benefits) + v.raw["grant_verbs"] + v.raw["filler_words"] + v.raw["connectors"]
    words += v.raw["cap_before"] + v.raw["per_unit"] + v.raw["continuation_starts"]
    words += v.raw["schedule_phrases"] + v.raw["total_words"]  # 分阶段给予奖励共计: how it is paid, not who gets it
    return re.compile(rf"[（(][^（）()]*[）)]|\d+(?:\.\d+)?|{v.alt(words)}")


def _text_conditions(text: str, rec_start: int, run_start: int, covered: list[tuple[int, int]], v: Vocabulary) -> list[Condition]:
    """Clauses of the recipient text that the parsed conditions do not explain.

    A clause's *residual* is what is left after removing the spans of parsed
    conditions and every vocabulary word (honours, fields, levels, sectors,
    payers, benefit and filler words); four or more Han characters left means
    the clause says something only a person can check (正常使用后,
    实施关键岗位工业机器人替代项目): it becomes a ``text`` condition.
    """
    pat = v.pattern("residual")
    out = []
    for cs, ce in _clauses(text, rec_start, run_start):
        chars = list(text[cs:ce])
        for s, e in covered:
            for i in range(max(s, cs), min(e, ce)):
                chars[i - cs] = " "
        residual = pat.sub(" ", "".join(chars))
        if len(re.findall(r"[\u4e00-\u9fff]", residual)) >= 4:
            c = _clean_recipient(text[cs:ce], v)
            if c:
                out.append(Condition("text", c))
    return out


def _conditions_sentence(text: str, v: Vocabulary, cue: str = "cond_cue", with_text: bool = False) -> tuple[list[Condition], list[Honour]] | None:
    """A sentence stating conditions without granting: its conditions (alternatives
    when several clauses set the same field) and the honours it is about.

    ``with_text`` also keeps clauses only a person can check (无严重失信行为)
    as ``text`` conditions, and a sector named alone (适用于…工业企业).
    """
    if not v.pattern(cue).search(text):
        return None
    mentions = _mentions(text, v)
    runs = _runs(text, mentions, v)
    for r in runs:
        _classify(text, r, v)
    if any(r.role == "grant" for r in runs):
        return None
    groups: list[list[Condition]] = []
    extra: list[Condition] = []
    for cs, ce in _clauses(text, 0, len(text)):
        conds = [_threshold_condition(text, r, None, v) for r in runs if r.role == "threshold" and cs <= r.start < ce]
        conds += [c for _, _, c in _relative_conditions(text[cs:ce], v)]
        sectors = _sectors(text[cs:ce], v)
        if sectors and (conds or with_text):
            conds.append(Condition("sector", "、".join(sectors) + "企业", "industry", sectors=sectors))
        if conds:
            groups.append(conds)
        elif with_text and not any(r.role == "cap" and cs <= r.start < ce for r in runs):
            extra += _text_conditions(text, cs, ce, [], v)  # (a clause that caps a total is no condition)
    if not groups and not extra:
        return None
    honours = _honours_in(text, v)
    fields = [c.field for g in groups for c in g if c.kind in ("threshold", "investment")]
    if len(groups) > 1 and len(set(fields)) < len(fields):
        text_any = "；或".join("，".join(c.text for c in g) for g in groups)
        return [Condition("any", text_any, options=tuple(tuple(g) for g in groups))] + extra, honours
    return [c for g in groups for c in g] + extra, honours


def document_conditions(chunks: Iterable[Chunk], vocab: Vocabulary | None = None) -> list[Condition]:
    """Conditions a document sets for everything it grants: sentences about
    申报企业 / 本细则适用于… that grant nothing themselves (第二条 申报企业须同时满足…)."""
    v = vocab or vocabulary()
    out: list[Condition] = []
    for c in chunks:
        if c.kind in ("qa", "text") or not v.pattern("scope_cue").search(c.text):
            continue  # an interview answer speaks of one programme, not the whole document
        for s, e in _sentences(c.text):
            got = _conditions_sentence(c.text[s:e], v, cue="scope_cue", with_text=True)
            if got and not got[1]:  # 申报的示范智能车间须…: conditions of a named programme only
                out += [x for x in got[0] if x not in out]
    return out


def chunk_items(meta: DocMeta, chunk: Chunk, vocab: Vocabulary | None = None, jurisdiction: str | None = None) -> list[PolicyItem]:
    """The items granted in one chunk (see the module docstring)."""
    v = vocab or vocabulary()
    text = chunk.text
    if not v.pattern("grant_verb").search(text):
        return []  # no word that grants (给予/奖励/补助…): nothing to read
    jur = jurisdiction if jurisdiction is not None else jurisdiction_of(meta, v)
    doc_from, doc_to = _doc_validity(meta)
    context: list[tuple[list[Condition], list[Honour]]] = []
    built: list[dict] = []
    prev_sentence_items: list[dict] = []
    line_items: list[dict] = []  # the items of this line (one article or item of the document)
    for ss, se in _sentences(text):
        if not text[text.rfind("\n", 0, ss) + 1:ss].strip():
            line_items = []  # the sentence starts a line
        sent = _row_as_sentence(text[ss:se], v) or text[ss:se]  # a table row of a reward schedule reads as its rule
        if sent.rstrip().endswith(("?", "？")) or ((t := turn_role(sent)) and asks(t[0])):
            continue  # a question asks, it grants nothing
        has_benefit = bool(v.pattern("benefit").search(sent))
        if not has_benefit and not v.pattern("cond_cue").search(sent) and not v.pattern("mention").search(sent):
            prev_sentence_items = []
            continue  # nothing granted, capped or required here
        mentions = _mentions(sent, v)
        runs = _runs(sent, mentions, v)
        for r in runs:
            _classify(sent, r, v)
        grants = [r for r in runs if r.role == "grant"]
        caps = [r for r in runs if r.role == "cap"]
        if not grants:
            own = bool(caps) and bool(v.pattern("continuation").match(sent))
            # 「…按9%补助；…按11%补助；列入省计划的，补助比例再提高1个百分点。单个项目补助最高不超过600万元。」:
            # a sentence of its own that caps (单个项目…) reaches every rate of its line no cap reached yet,
            # across a sentence between that grants nothing (a fixed amount needs no cap)
            open_rates = [it for it in line_items if it["cap_wan"] is None and it["amount_wan"] is None
                          and (it["rate"] is not None or it.get("per_unit")) and not any(it is p for p in prev_sentence_items)]
            if caps and (prev_sentence_items or (own and open_rates)) and (own or not re.search(r"对|的", sent[: caps[0].start])):
                if prev_sentence_items:
                    _apply_caps(prev_sentence_items, caps[0])
                if own and open_rates and len(caps[0].mentions) == 1:
                    _apply_caps(open_rates, caps[0])
                continue
            if caps and has_benefit and re.search(r"对|给予|予以", sent[: caps[0].start]):
                grants = caps  # 给予最高50万元奖励: a cap-only grant (a bare 奖励总额不超过… caps a total)
                caps = []
            elif has_benefit and (item := _unquantified(sent, v)):
                item["span"] = (ss, se)
                built.append(item)
                prev_sentence_items = [item]
                continue
            else:
                cond = _conditions_sentence(sent, v)
                if cond:
                    context.append(cond)
                prev_sentence_items = []
                continue
        thresholds = [r for r in runs if r.role == "threshold"]
        sentence_items: list[dict] = []
        prev_end, prev_seg_items = 0, []
        schedule_group: list[dict] = []
        levels_seen: dict[str, str] = {}
        for gi, run in enumerate(grants):
            lead_start = _lead_start(sent, prev_end, run.start, v)
            lead = sent[lead_start : run.start]
            items = _build_run(sent, lead_start, run, thresholds, v)
            for it in items:
                it["_run"] = (run.start, run.end)
            own_honours = _honours_in(sent[lead_start : _clause_bounds(sent, run.start)[1]], v)
            inherit = not own_honours and not any(c.kind != "text" for it in items for c in it["conditions"]) and prev_seg_items and "对" not in lead
            for it in items:
                if inherit:
                    base = prev_seg_items[0]
                    it["honours"] = [_with_star(h, it["tier"]) for h in base["honours"]] if it["tier"] in v.raw["stars"] else base["honours"]
                    it["conditions"] = [c for c in base["conditions"] if c.kind != "honour"] + it["conditions"]
                    it["payer"] = it["payer"] or base["payer"]
                    it["first_time"] = it["first_time"] or base["first_time"]
                    it["recipient"] = it["recipient"] or base["recipient"]
            for it in items:  # 五星企业…、四星企业…: a later tier keeps the level stated for the first
                it["honours"] = [Honour(h.name, h.level or levels_seen.get(h.name, ""), h.star) for h in it["honours"]]
                levels_seen.update({h.name: h.level for h in it["honours"] if h.level})
            # caps after this grant (and before the next) cap its items
            nxt = grants[gi + 1].start if gi + 1 < len(grants) else len(sent)
            for c in caps:
                if run.end <= c.start < nxt:
                    _apply_caps(items, c)
            ordinal = v.pattern("schedule_ordinal").search(lead)
            if ordinal and len(items) == 1 and items[0]["amount_wan"] is not None:
                items[0]["schedule"] = [(ordinal.group(0), items[0]["amount_wan"])]
                if schedule_group:
                    head = schedule_group[0]
                    head["schedule"] = head["schedule"] + items[0]["schedule"]
                    head["amount_wan"] = sum(a for _, a in head["schedule"])
                    prev_end, prev_seg_items = run.end, [head]
                    continue
                schedule_group.append(items[0])
            sentence_items.extend(items)
            prev_end, prev_seg_items = run.end, items
        sentence_items = _fold_breakdown(sent, sentence_items, v)
        if prev_sentence_items and sent.lstrip().startswith(tuple(v.raw["refinement_starts"])):
            _refine(sentence_items, prev_sentence_items)
        sched = v.pattern("schedule_phrase").search(sent)
        validity = v.pattern("validity").search(sent)
        for it in sentence_items:
            it["span"] = (ss, se)
            if sched:
                it["schedule_text"] = sched.group(0).rstrip("，,的")
            if validity:
                it["valid_from"], it["valid_to"] = f"{validity.group(1)}-01-01", f"{validity.group(2)}-12-31"
        built.extend(sentence_items)
        line_items.extend(sentence_items)
        prev_sentence_items = sentence_items
        # conditions stated earlier in the chunk apply to its later items about the same honour
        for it in sentence_items:
            for conds, honours in context:
                names = {h.name for h in honours}
                if not names or names & {h.name for h in it["honours"]}:
                    it["conditions"] = conds + it["conditions"]
    out = []
    for n, it in enumerate(built):
        it.pop("_run", None)
        s, e = it.pop("span")
        sentence = text[s:e]
        out.append(_finish(it, meta, chunk, n, sentence, (s, e), jur, doc_from, doc_to, v))
    return out


def _refine(items: list[dict], previous: list[dict]) -> None:
    """「其中，列入省重点项目的，补助比例提高到15%」: a grant for some of those just described
    keeps their conditions (and the base of their rate)."""
    base = previous[-1]
    shared = [c for c in base["conditions"] if all(c in p["conditions"] for p in previous)]
    for it in items:
        it["conditions"] = [c for c in shared if c not in it["conditions"]] + it["conditions"]
        it["honours"] = it["honours"] or list(base["honours"])
        if it["rate"] is not None and not it["rate_base"] and base["rate"] is not None:
            it["rate_base"], it["base_kind"] = base["rate_base"], base["base_kind"]


def _fold_breakdown(sent: str, items: list[dict], v: Vocabulary) -> list[dict]:
    """A total followed by its parts is one grant paid in parts:
    「分阶段给予奖励共计600万元：完成股改的奖励100万元，…成功上市的奖励300万元」 is one
    item of 600万元 whose schedule is the parts (when they add up to the total)."""
    for i, it in enumerate(items):
        if it["amount_wan"] is None or "_run" not in it:
            continue
        start, end = it["_run"]
        if not v.pattern("total").search(sent[max(0, start - 4):start]) or not re.match(r"\s*[:：]", sent[end:end + 2]):
            continue
        parts = [x for x in items[i + 1:] if x["amount_wan"] is not None and "_run" in x and x["_run"][0] > end]
        if len(parts) < 2 or abs(sum(x["amount_wan"] for x in parts) - it["amount_wan"]) > 1e-6:
            continue
        schedule = []
        for x in parts:
            cs, _ = _clause_bounds(sent, x["_run"][0])
            label = _clean_recipient(sent[max(cs, end + 1):x["_run"][0]], v)
            schedule.append((label or "分期", x["amount_wan"]))
        it["schedule"] = schedule
        return [x for x in items if not any(x is p for p in parts)]
    return items


def _with_star(h: Honour, star: str) -> Honour:
    return Honour(h.name, h.level, star)


def _apply_caps(items: list[dict], cap: _Run) -> None:
    values = [m.value for m in cap.mentions]
    if cap.kind != "money":
        return
    targets = items if len(values) == 1 else items[-len(values):]
    for i, it in enumerate(targets):
        it["cap_wan"] = values[0] if len(values) == 1 else values[i]


def _build_run(sent: str, lead_start: int, run: _Run, thresholds: list[_Run], v: Vocabulary) -> list[dict]:
    """The items of one grant list (one per tier)."""
    lead = sent[lead_start : run.start]
    k = len(run)
    cands = _tier_lists(lead, lead_start, k, [r for r in thresholds if lead_start <= r.start < run.start], v) if k > 1 else []
    tiers: list[str] = [""] * k
    tier_type = ""
    if cands:
        best = min(cands, key=lambda c: (_TIER_PREF[c[1]], c[0] if c[1] == "threshold" else -c[0]))
        tier_type, tiers = best[1], best[2]
    cs, ce = _clause_bounds(sent, run.start)
    benefit = _benefit_kind(sent, run, cs, ce, v)
    payer_m = list(v.pattern("payer").finditer(sent[lead_start : run.start]))
    payer = payer_m[-1].group(0) if payer_m else ""
    first = bool(v.pattern("first_time").search(lead))
    # rate base: 按(照)…X的10%
    rate_base, base_kind = "", ""
    if run.kind == "rate":
        m = re.search(r"按(?:照)?([^，,；;。]*?)的?\s*$", sent[cs : run.start])
        rate_base = (m.group(1) if m else "").strip()
        rate_base = re.sub(r"^(?:照|实际)?", "", rate_base) if rate_base.startswith("照") else rate_base
        # 设备（含软件）投资额: the base is the equipment; the parentheses say what it includes
        outside = re.sub(r"[（(][^（）()]*[）)]", "", rate_base)
        base_kind = _most_specific([k2 for _, k2 in _investment_kinds(outside, v)], v) or _most_specific(
            [k2 for _, k2 in _investment_kinds(rate_base, v)], v)
    kinds_in_lead = [k2 for _, k2 in _investment_kinds(lead, v)]
    kind_hint = base_kind or _most_specific(kinds_in_lead, v)
    if run.kind == "rate" and not base_kind:
        base_kind = kind_hint if re.search(r"投资|投入|总价|购置|金额|费用", rate_base) else ""
    shared, per_tier, covered = _conditions_of_lead(sent, lead_start, run, thresholds, None, v, kind_hint)
    if run.kind == "rate" and rate_base:
        covered.append((sent.rfind("按", cs, run.start), run.start))
    for m in v.pattern("validity").finditer(sent):
        covered.append((m.start(), m.end()))
    for s0, e0 in _sector_spans(sent[lead_start : run.start], v):
        covered.append((lead_start + s0, lead_start + e0))
    rec_start = _recipient_start(sent, lead_start, run.start, v)
    text_conds = _text_conditions(sent, rec_start, run.start, covered, v)
    lead_honours = _honours_in(sent[lead_start:ce], v) if tier_type != "enum" else []
    rec_cs, rec_ce = _clause_bounds(sent, rec_start)
    if rec_start > lead_start or sent[rec_start:].lstrip().startswith("对"):
        recipient = _clean_recipient(sent[rec_start : min(rec_ce, run.start)], v)
    else:  # no 对-clause: the lead's first clause says who
        lead_clauses = _clauses(sent, lead_start, run.start)
        recipient = _clean_recipient(sent[lead_clauses[0][0] : lead_clauses[0][1]], v) if lead_clauses else ""
    per_unit = _per_unit(sent, cs, run, v)
    rec_text = sent[rec_start : min(rec_ce, run.start)]
    # 省级未来工厂、智能工厂: a level written before the first element of an enumeration is every element's
    enum_level = _level_word_at(tiers[0], v)[0] if tier_type == "enum" and tiers and tiers[0] else ""
    items = []
    for i, m in enumerate(run.mentions):
        tier = tiers[i] if i < len(tiers) else ""
        honours = list(lead_honours)
        if tier_type == "enum":
            honours = _honours_in(tier, v)
            if enum_level and not _level_word_at(tier, v)[0]:
                honours = [Honour(h.name, h.level or enum_level, h.star) for h in honours]
            if not honours and (h := _recognition(tier, v, cue_text=lead)):
                honours = [Honour(h.name, h.level or (enum_level if not _level_word_at(tier, v)[0] else ""))]
        elif tier_type == "star":
            honours = [Honour(h.name, h.level, tier) for h in honours]
        elif tier_type == "level":
            honours = [Honour(h.name, tier, h.star) for h in honours] if honours else []
        elif k == 1:
            star = v.pattern("star").findall(lead)
            if star:
                tier = star[-1]
                honours = [Honour(h.name, h.level, tier) for h in honours]
            elif honours and honours[0].level:
                tier = honours[0].level
        if not honours and tier_type != "enum" and (h := _recognition(rec_text, v)):
            # a recognition the vocabulary does not know, named as written (its level: the tier's, if a level list)
            honours = [Honour(h.name, tier if tier_type == "level" else h.level)]
        honours = [_default_level(h, v) for h in honours]
        conds: list[Condition] = shared + per_tier[i]
        has_inv = any(c.kind == "investment" for c in conds)
        # 按投资额10%…, or 对企业购置工业机器人的 / 对智能化改造项目…: the item needs such an investment
        needs = base_kind or (kind_hint if v.pattern("presence").search(sent[rec_start : run.start]) else "")
        if needs and not has_inv:
            conds.append(Condition("investment", f"计划{needs}投资", "planned_investments", ref=needs))
        if first:
            fm = v.pattern("first_time").search(lead)
            conds.append(Condition("first_time", f"须为首次获得或达到（原文「{fm.group(0)}」）", "honours"))
        unknown = [h.name for h in honours if h.name not in v.honours]  # said by the honour condition already
        conds += [c for c in text_conds if not any(n in c.text for n in unknown)]
        it = dict(
            kind=benefit, tier=tier, recipient=recipient if tier_type != "enum" else tier, honours=honours,
            amount_wan=None, amount_text="", medal_grams=None, rate=None, rate_base=rate_base, base_kind=base_kind,
            cap_wan=None, per_unit=per_unit, schedule=[], schedule_text="",
            payer=payer, first_time=first, conditions=conds, valid_from="", valid_to="",
        )
        if run.role == "cap":
            it["cap_wan"] = m.value if m.kind == "money" else None
        elif m.kind == "money":
            it["amount_wan"] = m.value
        elif m.kind == "medal":
            it["medal_grams"] = m.value
            it["kind"] = "金牌"
        elif m.kind == "rate":
            it["rate"] = m.value / 100
        items.append(it)
    return items


def _per_unit(sent: str, cs: int, run: _Run, v: Vocabulary) -> str:
    """每台 / 每吨标准煤 / 每人每月 before the amount, or /笔 after it: the amount is
    per unit.  Per enterprise or per project (每家企业, 每户) is not."""
    head = sent[max(cs, run.start - 12) : run.start]
    # the words between the unit and the amount: 每个认证给予奖励10万元, 每人每年3万元
    head = re.sub(rf"(?:的|标准|按照|按|不超过|最高|为|一次性|分别|{v.alt(v.raw['grant_verbs'] + list(v.benefits))})+$", "", head)
    for i in [j for j, ch in enumerate(head) if ch == "每"]:  # the first 每 of 每人每年 says the unit
        tail = head[i:]
        if v.pattern("per_any").search(tail) and not v.pattern("per_enterprise").match(tail):
            return tail
    after = v.pattern("per_after").match(sent[run.end : run.end + 4])
    return after.group(0).strip() if after else ""


def _default_level(h: Honour, v: Vocabulary) -> Honour:
    if h.level:
        return h
    return Honour(h.name, v.honours.get(h.name, {}).get("default_level", ""), h.star)


def _benefit_kind(sent: str, run: _Run, cs: int, ce: int, v: Vocabulary) -> str:
    after = v.pattern("benefit").search(sent[run.end : ce][:14])
    if after:
        return v.benefits[after.group(0)]
    before = list(v.pattern("benefit").finditer(sent[cs : run.start]))
    if before:
        return v.benefits[before[-1].group(0)]
    any_ = v.pattern("benefit").search(sent)
    return v.benefits[any_.group(0)] if any_ else "奖励"


def _unquantified(sent: str, v: Vocabulary) -> dict | None:
    """A clause granting something without an amount (按规定给予资金补贴)."""
    m = re.search(rf"(?:给予|予以)[^，,。；;]{{0,10}}?({v.pattern('benefit').pattern})", sent)
    if not m:
        return None
    kind = v.benefits[m.group(1)]
    rec_start = _recipient_start(sent, 0, m.start(), v)
    rec_cs, rec_ce = _clause_bounds(sent, rec_start)
    lead = sent[rec_start : min(rec_ce, m.start())]
    honours = [_default_level(h, v) for h in _honours_in(lead, v)]
    rec = _clean_recipient(re.split(r"给予|予以|按照|按", lead)[0], v)
    conds = [Condition("text", rec)] if rec else []
    return dict(kind=kind, tier="", recipient=rec, honours=honours, amount_wan=None, amount_text="", medal_grams=None,
                rate=None, rate_base="", base_kind="", cap_wan=None, per_unit="", schedule=[], schedule_text="",
                payer="", first_time=False, conditions=conds, valid_from="", valid_to="")


def _honour_condition(honours: Sequence[Honour]) -> list[Condition]:
    if not honours:
        return []
    return [Condition("honour", "或".join(h.label() for h in honours), "honours", honours=tuple(honours))]


def _amount_text(it: dict) -> str:
    parts = []
    if it["schedule"] and len(it["schedule"]) > 1:
        parts.append("，".join(f"{lab}{_fmt(a)}万元" for lab, a in it["schedule"]) + f"（合计{_fmt(it['amount_wan'])}万元）")
    elif it["amount_wan"] is not None:
        parts.append(f"{it['per_unit']}{_fmt(it['amount_wan'])}万元")
    elif it["medal_grams"] is not None:
        parts.append(f"{_fmt(it['medal_grams'])}克金牌")
    elif it["rate"] is not None:
        base = it["rate_base"]
        parts.append(f"按{base}的{_fmt(round(it['rate'] * 100, 4))}%" if base else f"{_fmt(round(it['rate'] * 100, 4))}%")
    if it["cap_wan"] is not None:
        parts.append(f"最高{_fmt(it['cap_wan'])}万元")
    if it["schedule_text"]:
        parts.append(it["schedule_text"])
    return "，".join(parts) or "未列明金额"


def _finish(it: dict, meta: DocMeta, chunk: Chunk, n: int, sentence: str, span: tuple[int, int], jur: str,
            doc_from: str, doc_to: str, v: Vocabulary) -> PolicyItem:
    return PolicyItem(
        item_id=f"{chunk.chunk_id}~{n}",
        doc_id=chunk.doc_id,
        chunk_id=chunk.chunk_id,
        section=chunk.section,
        kind=it["kind"],
        tier=it["tier"],
        recipient=it["recipient"][:80],
        honours=tuple(it["honours"]),
        amount_wan=it["amount_wan"],
        amount_text=_amount_text(it),
        medal_grams=it["medal_grams"],
        rate=it["rate"],
        rate_base=it["rate_base"],
        base_kind=it["base_kind"],
        cap_wan=it["cap_wan"],
        per_unit=it["per_unit"],
        schedule=tuple((a, float(b)) for a, b in it["schedule"]) if len(it["schedule"]) > 1 else (),
        schedule_text=it["schedule_text"],
        payer=it["payer"],
        first_time=it["first_time"],
        conditions=tuple(dict.fromkeys(_honour_condition(it["honours"]) + [c for c in it["conditions"] if c.kind != "honour"])),
        region=meta.region,
        jurisdiction=jur,
        valid_from=it["valid_from"] or doc_from,
        valid_to=it["valid_to"] or doc_to,
        sentence=sentence,
        span=span,
    )


def extract_items(meta: DocMeta, chunks: Iterable[Chunk], vocab: Vocabulary | None = None) -> list[PolicyItem]:
    """Every item granted in a document's chunks (chunks of other documents are skipped)."""
    v = vocab or vocabulary()
    jur = jurisdiction_of(meta, v)
    own = [c for c in chunks if c.doc_id == meta.doc_id]
    out: list[PolicyItem] = []
    for c in own:
        out.extend(chunk_items(meta, c, v, jur))
    general = document_conditions(own, v) if meta.doc_type != "interview" else []
    if general:
        out = [replace(it, conditions=it.conditions + tuple(g for g in general if g not in it.conditions)) for it in out]
    return out


# --- a catalogue over a knowledge base --------------------------------------------------------


class ItemCatalog:
    """Items of every document of a knowledge base, derived from its chunks.

    ``ItemCatalog.build(docs, chunks)`` extracts them all (about a millisecond
    per chunk); :meth:`items_for` and :meth:`all_items` read them.
    """

    def __init__(self, by_doc: Mapping[str, Sequence[PolicyItem]], build_ms: float = 0.0) -> None:
        self._by_doc = {d: tuple(v) for d, v in by_doc.items()}
        self.build_ms = build_ms

    @classmethod
    def build(cls, docs: Mapping[str, DocMeta], chunks: Iterable[Chunk], vocab: Vocabulary | None = None) -> "ItemCatalog":
        import time

        t0 = time.perf_counter()
        v = vocab or vocabulary()
        per_doc: dict[str, list[Chunk]] = {d: [] for d in docs}
        for c in chunks:
            if c.doc_id in per_doc:
                per_doc[c.doc_id].append(c)
        by_doc = {d: extract_items(docs[d], cs, v) for d, cs in per_doc.items()}
        return cls(by_doc, (time.perf_counter() - t0) * 1000)

    def items_for(self, doc_id: str) -> tuple[PolicyItem, ...]:
        if doc_id not in self._by_doc:
            raise KeyError(f"no document '{doc_id}' in the knowledge base")
        return self._by_doc[doc_id]

    def all_items(self) -> list[PolicyItem]:
        return [it for items in self._by_doc.values() for it in items]

    def doc_ids(self) -> list[str]:
        return sorted(self._by_doc)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_doc.values())
