"""Policy matching: from an enterprise's profile to the items it can claim.

>>> result = match(parse_profile(obj), catalog.all_items(), docs)
>>> result.to_json()      # the stable ``policyqa match --json`` shape

Every decision is typed: a condition is :class:`Status` ``met`` /
``not_met`` / ``needs_checking`` (naming the profile field it needs), the
region decision is a :class:`RegionRule` named by :func:`region_rule` from
the shared region matcher's answer
(:func:`policyqa.corpus.jurisdiction.applicability`, the one the answer stage
and the index filter use) — and the texts users see are rendered from them.

An item is **applicable** when its region applies (national, provincial or
city items apply to a county inside them; another region's never: those go
to ``elsewhere``), no condition is known to fail, it has not expired
(``valid_to``, from ``DocMeta.valid_to`` or the policy period) and its
document has not been superseded by a newer version (``DocMeta.superseded_by``:
such items are listed with ``superseded`` set, never as applicable).
A profile field that is absent makes the conditions on it ``needs_checking``;
a field that is given is checked (``honours: []`` means none held).
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, Iterable, Mapping, Sequence

from policyqa.corpus.items import Condition, Honour, PolicyItem, Vocabulary, vocabulary
from policyqa.corpus.jurisdiction import NATIONAL, Applicability, applicability, doc_jurisdiction, parse_jurisdiction
from policyqa.corpus.regions import Region, find_mentions, short_name
from policyqa.corpus.types import DocMeta

__all__ = [
    "PROFILE_FIELDS", "Check", "Investment", "Match", "MatchResult", "Profile", "ProfileError",
    "RegionRule", "Status", "match", "parse_profile", "profile_honours", "region_rule",
]

PROFILE_FIELDS = ("region", "industry", "enterprise_type", "revenue_wan", "tax_paid_wan", "employees", "honours", "planned_investments")
_NUMBERS = ("revenue_wan", "tax_paid_wan", "employees")
_MAX_LIST = 100  # honours / planned investments kept from one profile


class Status(str, Enum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "needs_checking"

    @property
    def mark(self) -> str:
        return {"met": "✓", "not_met": "✗", "needs_checking": "?"}[self.value]


class RegionRule(str, Enum):
    """How an item's jurisdiction relates to the enterprise's region."""

    LOCAL = "local"  # the same region
    ABOVE = "above"  # a province / city containing the enterprise's region
    NATIONAL = "national"
    PART = "part"  # a district inside the (coarser) region the profile gives: needs checking
    UNKNOWN = "unknown"  # the item's document states no region
    NO_PROFILE_REGION = "no_profile_region"
    ELSEWHERE = "elsewhere"  # another region: never applicable

    @property
    def applies(self) -> Status:
        if self in (RegionRule.LOCAL, RegionRule.ABOVE, RegionRule.NATIONAL):
            return Status.MET
        return Status.NOT_MET if self is RegionRule.ELSEWHERE else Status.UNKNOWN


def region_rule(jurisdiction: str, region: Region | str | None, level: str = "") -> RegionRule:
    """Whether an item of ``jurisdiction`` (a region string, :data:`NATIONAL` or "")
    applies to an enterprise in ``region`` (the profile's resolved region, see
    :func:`resolve_region`; a :class:`Region` or a label such as 浙江省桐溪县).

    The decision is the shared region matcher's,
    :func:`policyqa.corpus.jurisdiction.applicability` (the one the answer
    stage and the index filter use); this only names its outcome for matching:
    ``applies`` is LOCAL when the item's area is the profile's own, else ABOVE.
    ``level`` is the document's ``issuer_level`` when known.
    """
    if jurisdiction == NATIONAL or level == "national":
        return RegionRule.NATIONAL
    if isinstance(region, Region):
        region = region if region.province else None
    if not region:
        return RegionRule.NO_PROFILE_REGION
    a = applicability(_JurisdictionOnly(jurisdiction, level), region)
    if a is Applicability.NATIONAL:
        return RegionRule.NATIONAL
    if a is Applicability.APPLIES:
        return RegionRule.LOCAL if _same_area(jurisdiction, region, level) else RegionRule.ABOVE
    if a is Applicability.PART:
        return RegionRule.PART
    if a is Applicability.OTHER:
        return RegionRule.ELSEWHERE
    return RegionRule.UNKNOWN


@dataclass(frozen=True)
class _JurisdictionOnly:
    """What :func:`applicability` reads of a document, for an item's stored jurisdiction."""

    jurisdiction: str
    issuer_level: str = ""


def _same_area(jurisdiction: str, region: Region | str, level: str = "") -> bool:
    """The item's area is the profile's own (an unplaced county matches itself with or without its province)."""
    d = parse_jurisdiction(jurisdiction, level)
    p = parse_jurisdiction(region.full if isinstance(region, Region) else region)
    if d.area or p.area:
        return d.area == p.area and (d.region == p.region or not d.region.province or not p.region.province)
    return d.region == p.region


# --- the profile ------------------------------------------------------------------------


class ProfileError(ValueError):
    """A profile that cannot be read; ``str(e)`` is a one-line message."""


@dataclass(frozen=True)
class Investment:
    kind: str
    amount_wan: float | None = None


@dataclass(frozen=True)
class Profile:
    """An enterprise, as far as it is known (None: not given)."""

    region: str = ""
    industry: str = ""
    enterprise_type: str = ""
    revenue_wan: float | None = None
    tax_paid_wan: float | None = None
    employees: float | None = None
    honours: tuple[str, ...] | None = None
    planned_investments: tuple[Investment, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The given fields, in the issue's schema."""
        d: dict[str, Any] = {}
        for f in PROFILE_FIELDS:
            v = getattr(self, f)
            if v in (None, ""):
                continue
            if f == "honours":
                v = list(v)
            elif f == "planned_investments":
                v = [{"kind": i.kind, "amount_wan": _num_out(i.amount_wan)} for i in v]
            elif f in _NUMBERS:
                v = _num_out(v)
            d[f] = v
        return d


def _num_out(v: float | None):
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


def _number(name: str, v: Any) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ProfileError(f"profile field '{name}' must be a number, not {v!r}")
    if isinstance(v, str):
        try:
            v = float(v.strip().replace(",", ""))
        except ValueError:
            raise ProfileError(f"profile field '{name}' must be a number in 万元 (e.g. 8000), not {v!r}") from None
    if not isinstance(v, (int, float)) or v != v or v < 0 or v == float("inf"):
        raise ProfileError(f"profile field '{name}' must be a non-negative number, not {v!r}")
    return float(v)


def _text(name: str, v: Any, limit: int = 200) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        raise ProfileError(f"profile field '{name}' must be text, not {type(v).__name__}")
    return v.strip()[:limit]


def parse_profile(obj: Any) -> tuple[Profile, list[str]]:
    """A :class:`Profile` and the names of unknown fields (reported, not fatal).

    Raises :class:`ProfileError` (one line, naming the field) for a value of
    the wrong type.  Numbers may be given as numeric strings ("8000").
    """
    if not isinstance(obj, Mapping):
        raise ProfileError(f"a profile must be a JSON object, not {type(obj).__name__}")
    unknown = [str(k) for k in obj if k not in PROFILE_FIELDS]
    honours = obj.get("honours")
    if honours is not None:
        if isinstance(honours, str):
            honours = [honours]
        if not isinstance(honours, list) or not all(isinstance(h, str) for h in honours):
            raise ProfileError("profile field 'honours' must be a list of names, e.g. [\"高新技术企业\"]")
        honours = tuple(h.strip()[:100] for h in honours if h.strip())[:_MAX_LIST]
    inv = obj.get("planned_investments")
    if inv is not None:
        if not isinstance(inv, list):
            raise ProfileError('profile field \'planned_investments\' must be a list of {"kind", "amount_wan"}')
        out = []
        for i, x in enumerate(inv[:_MAX_LIST]):
            if not isinstance(x, Mapping) or not isinstance(x.get("kind"), str) or not x["kind"].strip():
                raise ProfileError(f'planned_investments[{i}] must be {{"kind": "工业机器人", "amount_wan": 400}}')
            out.append(Investment(x["kind"].strip()[:100], _number(f"planned_investments[{i}].amount_wan", x.get("amount_wan"))))
        inv = tuple(out)
    return Profile(
        region=_text("region", obj.get("region")),
        industry=_text("industry", obj.get("industry")),
        enterprise_type=_text("enterprise_type", obj.get("enterprise_type")),
        revenue_wan=_number("revenue_wan", obj.get("revenue_wan")),
        tax_paid_wan=_number("tax_paid_wan", obj.get("tax_paid_wan")),
        employees=_number("employees", obj.get("employees")),
        honours=honours,
        planned_investments=inv,
    ), unknown


def resolve_region(text: str, docs: Mapping[str, DocMeta] | None = None) -> str:
    """The profile's region as a jurisdiction label ("" when none is named):
    江苏省盐城市亭湖区 for 亭湖区, 浙江省桐溪县 for 桐溪县.

    The most specific place the gazetteer finds; an ambiguous short name (a
    district name used in several cities) is read as the one the knowledge
    base has documents for.  A place the gazetteer does not know (a new or
    renamed county) is read as the area of a document's jurisdiction that
    names it (桐溪县 -> 浙江省桐溪县), else kept as written when it is named
    like a place, so the shared matcher compares it by name.
    """
    text = (text or "").strip()
    if not text:
        return ""
    if text == NATIONAL:
        return ""
    juris = [doc_jurisdiction(m) for m in (docs or {}).values()]
    known = [j.region for j in juris if j.region.province]
    picks: list[tuple[Region, int]] = []  # (reading, end of the mention)
    for m in find_mentions(text, short_districts=True):
        in_kb = [r for r in m.regions if any(r.contains(k) or k.contains(r) for k in known)]
        picks.append(((in_kb or list(m.regions))[0], m.start + len(m.text)))
    best, end = max(picks, key=lambda p: ({"province": 0, "city": 1, "district": 2}[p[0].level], -p[1])) if picks else (Region(), 0)
    # an area the gazetteer does not place (浙江省桐溪县) that the text names
    areas = sorted({j.label for j in juris if j.area and j.level != "park" and short_name(j.area) in text
                    and (not best.province or not j.region.province or j.region.contains(best) or best.contains(j.region))},
                   key=lambda lab: (-len(lab), lab))
    if areas and best.level != "district":
        return areas[0]
    if best.province:
        tail = _PLACE.match(text[end:].strip()) if best.level != "district" else None
        return best.full + (tail.group(0) if tail else "")  # 浙江省 + 桐溪县: a county the gazetteer lacks
    m = _PLACE.search(text)
    return m.group(0) if m else ""


_PLACE = re.compile(r"[\u4e00-\u9fff]{2,8}?(?:自治县|自治州|自治旗|县|市|区|旗|州|盟)")


def profile_honours(names: Iterable[str], vocab: Vocabulary | None = None) -> list[Honour]:
    """Honours a profile lists, read with the item vocabulary: 市级四星级企业 ->
    Honour(星级企业, 市级, 四星); 省智能工厂 -> Honour(示范智能工厂, 省级)."""
    from policyqa.corpus.items import _default_level, _honours_in

    v = vocab or vocabulary()
    out = []
    for n in names:
        n2 = n.replace('"', "“", 1).replace('"', "”", 1)
        stars = v.pattern("star").findall(n2)
        for h in _honours_in(n2, v):
            out.append(_default_level(Honour(h.name, h.level, stars[0] if stars else ""), v))
    return out


def _sectors_of(text: str, v: Vocabulary) -> set[str]:
    return {s for s, words in v.sectors.items() if any(w in text for w in words)}


def _kind_of(name: str, v: Vocabulary) -> str:
    best, best_len = "", 0
    for kind, k in v.investment_kinds.items():
        for a in k["aliases"]:
            if a.lower() in name.lower() and len(a) > best_len:
                best, best_len = kind, len(a)
    return best


def _includes(kind: str, v: Vocabulary) -> set[str]:
    """Kinds that count as ``kind`` (transitively)."""
    seen, todo = set(), [kind]
    while todo:
        k = todo.pop()
        for sub in v.investment_kinds.get(k, {}).get("includes", []):
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


# --- checking conditions --------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One condition of an item checked against a profile."""

    condition: Condition
    status: Status
    field: str = ""  # the profile field it needs / used ("" for text conditions)
    note: str = ""  # what the profile says, or what to check

    def text(self) -> str:
        base = self.condition.text
        return f"{base}（{self.note}）" if self.note else base


def _field_label(name: str, v: Vocabulary) -> str:
    return v.raw["profile_fields"].get(name, name)


def _compare(a: float, op: str, b: float) -> bool:
    return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b}.get(op, a >= b)


def check(cond: Condition, p: Profile, v: Vocabulary, held: Sequence[Honour]) -> Check:
    """Check one condition against a profile."""
    k = cond.kind
    if k == "any":
        checks = [[check(c, p, v, held) for c in opt] for opt in cond.options]
        statuses = [_all(cs) for cs in checks]
        status = Status.MET if Status.MET in statuses else Status.NOT_MET if all(s is Status.NOT_MET for s in statuses) else Status.UNKNOWN
        notes = "；".join(c.note for cs in checks for c in cs if c.note)
        fields = sorted({c.field for cs in checks for c in cs if c.field})
        return Check(cond, status, ",".join(fields), _dedupe_notes(notes))
    if k == "threshold":
        f = v.fields.get(cond.field, {})
        pf = f.get("profile", "")
        if not pf:
            return Check(cond, Status.UNKNOWN, "", f"需核实：企业画像不含{f.get('label', cond.field)}")
        val = getattr(p, pf, None)
        if val is None or cond.value is None:
            return Check(cond, Status.UNKNOWN, pf, f"需核实：画像未填{_field_label(pf, v)}（{pf}）")
        ok = _compare(val, cond.op, cond.value)
        return Check(cond, Status.MET if ok else Status.NOT_MET, pf, f"画像：{_num_out(round(val, 2))}{cond.unit}")
    if k == "relative":
        return Check(cond, Status.UNKNOWN, "", f"需核实：企业画像不含{v.fields.get(cond.field, {}).get('label', cond.field)}")
    if k == "investment":
        return _check_investment(cond, p, v)
    if k == "honour":
        if p.honours is None:
            return Check(cond, Status.UNKNOWN, "honours", "需核实：画像未填荣誉资质（honours）")
        best = Status.NOT_MET
        for h in cond.honours:
            if h.name not in v.honours:  # a recognition the vocabulary does not know: compared as written
                status, note = _open_honour(h, p.honours, v)
                if status is Status.MET:
                    return Check(cond, Status.MET, "honours", note)
                if status is Status.UNKNOWN:
                    best = Status.UNKNOWN
                continue
            for g in held:
                if g.name != h.name:
                    continue
                level_ok = not h.level or g.level == h.level
                star_ok = not h.star or g.star == h.star
                if level_ok and star_ok:
                    return Check(cond, Status.MET, "honours", f"画像：{g.label()}")
                if (not g.level and h.level) or (not g.star and h.star):
                    best = Status.UNKNOWN
        note = "需核实级别" if best is Status.UNKNOWN else "画像所列荣誉资质中没有"
        return Check(cond, best, "honours", note)
    if k == "sector":
        given = " ".join(x for x in (p.industry, p.enterprise_type) if x)
        if not given:
            return Check(cond, Status.UNKNOWN, "industry", "需核实：画像未填行业（industry）")
        mine = _sectors_of(given, v)
        if not mine:
            return Check(cond, Status.UNKNOWN, "industry", f"需核实：无法判断「{given}」属于哪个行业门类")
        ok = bool(mine & set(cond.sectors))
        return Check(cond, Status.MET if ok else Status.NOT_MET, "industry", f"画像：{given}")
    if k == "first_time":
        return Check(cond, Status.UNKNOWN, "honours", "需核实")
    return Check(cond, Status.UNKNOWN, "", "需人工核实")


_QUOTES = re.compile(r"[“”\"'「」『』《》\s·]")


def _open_honour(h: Honour, names: Sequence[str], v: Vocabulary) -> tuple[Status, str]:
    """A recognition named as written (浙江制造认证, 省级未来工厂) against the profile's honours:
    met when a listed honour contains its name at its level; needs checking when the level
    or only part of the name is given; not met otherwise (the list is complete)."""
    from policyqa.corpus.items import _level_word_at

    core = _QUOTES.sub("", h.name)
    best = Status.NOT_MET, ""
    for raw in names:
        text = _QUOTES.sub("", raw)
        i = text.find(core)
        if i < 0:
            if len(text) >= 4 and text in core:
                best = Status.UNKNOWN, f"需核实：画像所列「{raw}」是否即{h.label()}"
            continue
        levels = [lv for lv, d in v.levels.items() if any(w in text[:i] for w in d["words"] + d["prefix"])]
        if not h.level or h.level in levels:
            return Status.MET, f"画像：{raw}"
        if not levels:
            best = Status.UNKNOWN, "需核实级别"
    return best if best[1] else (Status.NOT_MET, "画像所列荣誉资质中没有")


def _dedupe_notes(s: str) -> str:
    return "；".join(dict.fromkeys(x for x in s.split("；") if x))


def _all(checks: Sequence[Check]) -> Status:
    if any(c.status is Status.NOT_MET for c in checks):
        return Status.NOT_MET
    return Status.MET if all(c.status is Status.MET for c in checks) else Status.UNKNOWN


def _matching_investments(kind: str, p: Profile, v: Vocabulary) -> tuple[list[Investment], list[Investment]]:
    """Planned investments that count as ``kind`` (sure) and that may (broader plans)."""
    sure, maybe = [], []
    wanted = {kind} | _includes(kind, v) if kind else None
    for inv in p.planned_investments or ():
        ik = _kind_of(inv.kind, v)
        if wanted is None or ik in wanted:
            sure.append(inv)
        elif ik and kind in _includes(ik, v):
            maybe.append(inv)  # a 技术改造 plan may contain the 设备 the item asks for
    return sure, maybe


def _check_investment(cond: Condition, p: Profile, v: Vocabulary) -> Check:
    if p.planned_investments is None:
        return Check(cond, Status.UNKNOWN, "planned_investments", "需核实：画像未填计划投资（planned_investments）")
    sure, maybe = _matching_investments(cond.ref, p, v)
    if sure:
        if cond.value is None:
            return Check(cond, Status.MET, "planned_investments", "画像：" + "、".join(_inv_text(i) for i in sure))
        amounts = [i.amount_wan for i in sure if i.amount_wan is not None]
        if not amounts:
            return Check(cond, Status.UNKNOWN, "planned_investments", "需核实：画像未填投资金额")
        best = max(sure, key=lambda i: i.amount_wan or 0)
        ok = _compare(best.amount_wan or 0, cond.op, cond.value)
        return Check(cond, Status.MET if ok else Status.NOT_MET, "planned_investments", f"画像：{_inv_text(best)}")
    if maybe:
        return Check(cond, Status.UNKNOWN, "planned_investments",
                     f"需核实：计划的{'、'.join(_inv_text(i) for i in maybe)}中是否含{cond.ref or '所述'}投资")
    what = cond.ref or "相关"
    return Check(cond, Status.NOT_MET, "planned_investments", f"画像所列计划投资中没有{what}投资")


def _inv_text(i: Investment) -> str:
    return f"{i.kind}{_num_out(i.amount_wan)}万元" if i.amount_wan is not None else i.kind


def estimate(item: PolicyItem, p: Profile, v: Vocabulary) -> tuple[float | None, str]:
    """What the item would pay this enterprise, where the text and profile say:
    a fixed amount; rate × the planned investment it applies to, capped."""
    if item.amount_wan is not None:
        if item.per_unit:
            return None, f"{item.per_unit}{_num_out(item.amount_wan)}万元，按数量计"
        return item.amount_wan, ""
    if item.rate is not None and item.base_kind:
        sure, _ = _matching_investments(item.base_kind, p, v)
        amounts = [i.amount_wan for i in sure if i.amount_wan is not None]
        if amounts:
            base = max(amounts)
            est = base * item.rate
            note = f"{_num_out(base)}万元×{_num_out(round(item.rate * 100, 4))}%"
            if item.cap_wan is not None and est > item.cap_wan:
                est, note = item.cap_wan, note + f"，按上限{_num_out(item.cap_wan)}万元"
            return round(est, 2), note
    return None, ""


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One item judged for one profile."""

    item: PolicyItem
    meta: DocMeta
    rule: RegionRule
    checks: tuple[Check, ...]
    applicable: bool
    expired: bool
    estimate_wan: float | None = None
    estimate_note: str = ""

    @property
    def superseded_by(self) -> tuple[str, ...]:
        """Newer versions of the item's document (``DocMeta.superseded_by``): the item no longer applies."""
        return tuple(self.meta.superseded_by)

    @property
    def superseded(self) -> bool:
        return bool(self.meta.superseded_by)

    @property
    def status(self) -> Status:
        return _all(self.checks)

    @property
    def rank_amount(self) -> float:
        it = self.item
        for x in (self.estimate_wan, it.amount_wan, it.cap_wan):
            if x is not None:
                return float(x)
        return 0.0

    def region_text(self) -> str:
        j = self.item.jurisdiction
        return "全国" if j == NATIONAL else (j or "未标明地区")

    def benefit(self) -> str:
        who = self.item.label()
        return f"{who}：{self.item.kind}" if who else self.item.kind

    def citation(self) -> str:
        m, it = self.meta, self.item
        title = f"《{m.title}》" if m.title else f"《{m.doc_id}》"
        head = title + (f"（{m.doc_number}）" if m.doc_number else "")
        parts = [head] + [x for x in (m.issuer, m.date, it.section) if x]
        return "，".join(parts) + f"：「{it.sentence}」"

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.item.doc_id,
            "chunk_id": self.item.chunk_id,
            "title": self.meta.title,
            "region": self.region_text(),
            "benefit": self.benefit(),
            "amount_text": self.item.amount_text,
            "estimate_wan": _num_out(self.estimate_wan),
            "conditions": [{"text": c.text(), "status": c.status.value} for c in self.checks],
            "applicable": self.applicable,
            "expired": self.expired,
            "citation": self.citation(),
            "region_rule": self.rule.value,
            "superseded": self.superseded,
            "superseded_by": list(self.superseded_by),
        }


@dataclass(frozen=True)
class MatchResult:
    profile: Profile
    region: str  # the profile's region as resolved (江苏省盐城市亭湖区, 浙江省桐溪县) or ""
    unknown_fields: tuple[str, ...] = ()
    items: tuple[Match, ...] = ()  # this region's (and above) items: applicable first, by amount
    elsewhere: tuple[Match, ...] = ()  # other regions' current items the profile would otherwise meet
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def applicable(self) -> list[Match]:
        return [m for m in self.items if m.applicable]

    def to_json(self) -> dict[str, Any]:
        """The stable ``policyqa match --json`` shape (issue 13), followed by ``region``
        (the profile's region as read) and ``unknown_fields`` (profile fields ignored);
        each item's issue-13 keys are followed by ``region_rule``, ``superseded`` and
        ``superseded_by``."""
        return {
            "profile": self.profile.to_dict(),
            "items": [m.to_json() for m in self.items],
            "elsewhere": [m.to_json() for m in self.elsewhere],
            "region": self.region,
            "unknown_fields": list(self.unknown_fields),
        }

    def to_csv(self) -> str:
        """One row per item (applicable, not met, elsewhere), ready for a spreadsheet."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["序号", "可申请", "已过期", "已被取代", "适用地区", "政策事项", "金额标准", "预计金额（万元）", "条件", "出处"])
        rows = [(m, "是" if m.applicable else "否") for m in self.items] + [(m, "否（其他地区）") for m in self.elsewhere]
        for n, (m, ok) in enumerate(rows, 1):
            conds = "；".join(f"{c.status.mark}{c.text()}" for c in m.checks)
            w.writerow([n, ok, "是" if m.expired else "否", "是" if m.superseded else "否", m.region_text(), m.benefit(), m.item.amount_text,
                        "" if m.estimate_wan is None else _num_out(m.estimate_wan), conds, m.citation()])
        return buf.getvalue()

    def to_text(self, limit_not_met: int = 10, limit_elsewhere: int = 10) -> str:
        """Copy-ready plain text: applicable items by amount, then what is not met."""
        p = self.profile
        desc = [x for x in (self.region or p.region, p.industry, p.enterprise_type) if x]
        for f, lab in (("revenue_wan", "年营收"), ("tax_paid_wan", "入库税收")):
            if getattr(p, f) is not None:
                desc.append(f"{lab}{_num_out(getattr(p, f))}万元")
        if p.honours:
            desc.append("荣誉资质：" + "、".join(p.honours))
        if p.planned_investments:
            desc.append("计划投资：" + "、".join(_inv_text(i) for i in p.planned_investments))
        lines = ["企业画像：" + ("｜".join(desc) or "（未填）")]
        if self.unknown_fields:
            lines.append("（未识别的字段，已忽略：" + "、".join(self.unknown_fields) + "）")
        if not self.region:
            lines.append("（未填或无法识别所在地区：各地政策均列出，是否适用需核实）")
        ok = [m for m in self.items if m.applicable]
        lines.append("")
        lines.append(f"可申请的政策（{len(ok)}项，按金额排序）：" if ok else "未找到可申请的政策。")
        for n, m in enumerate(ok, 1):
            lines += _render(n, m)
        old = [m for m in self.items if m.superseded and m.status is not Status.NOT_MET]
        if old:
            lines.append("")
            lines.append("已被新版政策取代（不再适用，仅供参考）：")
            lines += [f"- 【{m.region_text()}】{m.benefit()} {m.item.amount_text}（已被{'、'.join(m.superseded_by)}取代）：{m.citation()}"
                      for m in old]
        expired = [m for m in self.items if m.expired and not m.superseded and not m.applicable and m.status is not Status.NOT_MET]
        if expired:
            lines.append("")
            lines.append("已过期（政策执行期已结束，仅供参考）：")
            lines += [f"- 【{m.region_text()}】{m.benefit()} {m.item.amount_text}（有效期至{m.item.valid_to}）：{m.citation()}" for m in expired]
        unmet = [m for m in self.items if not m.applicable and not m.expired and not m.superseded][:limit_not_met]
        if unmet:
            lines.append("")
            lines.append("本地政策中条件不符的：")
            for m in unmet:
                miss = "；".join(c.text() for c in m.checks if c.status is Status.NOT_MET)
                lines.append(f"- {m.benefit()} {m.item.amount_text} —— 不符：{miss}")
        if self.elsewhere:
            lines.append("")
            lines.append("其他地区的同类政策（不适用于本企业，仅供参考）：")
            for m in self.elsewhere[:limit_elsewhere]:
                lines.append(f"- 【{m.region_text()}】{m.benefit()} {m.item.amount_text}：{m.citation()}")
        return "\n".join(lines)


def _render(n: int, m: Match) -> list[str]:
    est = ""
    if m.estimate_wan is not None:
        est = f" —— 预计{_num_out(m.estimate_wan)}万元" + (f"（{m.estimate_note}）" if m.estimate_note else "")
    elif m.estimate_note:
        est = f" —— {m.estimate_note}"
    out = [f"{n}. 【{m.region_text()}】{m.benefit()}：{m.item.amount_text}{est}"]
    out.append("   条件：" + "；".join(f"{c.status.mark} {c.text()}" for c in m.checks))
    out.append(f"   出处：{m.citation()}")
    return out


def _region_check(rule: RegionRule, item: PolicyItem, region: str) -> Check:
    where = "全国" if item.jurisdiction == NATIONAL else (item.jurisdiction or "未标明地区")
    mine = region
    text = {
        RegionRule.NATIONAL: "适用地区：全国性政策",
        RegionRule.LOCAL: f"适用地区：{where}（本地政策）",
        RegionRule.ABOVE: f"适用地区：{where}（覆盖{mine}）",
        RegionRule.PART: f"适用地区：{where}（在{mine}范围内，需核实企业是否位于该地）",
        RegionRule.UNKNOWN: "适用地区：文件未标明，需核实",
        RegionRule.NO_PROFILE_REGION: f"适用地区：{where}（画像未填地区，需核实）",
        RegionRule.ELSEWHERE: f"适用地区：{where}（不适用于{mine}）",
    }[rule]
    cond = Condition("region", text, "region")
    return Check(cond, rule.applies, "region")


def _expired(item: PolicyItem, today: date) -> bool:
    return bool(item.valid_to) and item.valid_to < today.isoformat()


def match(
    profile: Profile,
    items: Iterable[PolicyItem],
    docs: Mapping[str, DocMeta],
    today: date | None = None,
    unknown_fields: Sequence[str] = (),
    include_unquantified: bool = False,
    vocab: Vocabulary | None = None,
) -> MatchResult:
    """Judge every item for ``profile``; see the module docstring.

    Items without any figure (按规定给予补贴) are left out unless
    ``include_unquantified``; they cannot be ranked by amount.
    """
    t0 = time.perf_counter()
    v = vocab or vocabulary()
    today = today or date.today()
    region = resolve_region(profile.region, docs)
    held = profile_honours(profile.honours or (), v)
    local: list[Match] = []
    elsewhere: list[Match] = []
    for it in items:
        if not include_unquantified and not it.quantified:
            continue
        meta = docs.get(it.doc_id) or DocMeta(doc_id=it.doc_id)
        rule = region_rule(it.jurisdiction, region, meta.issuer_level)
        checks = (_region_check(rule, it, region),) + tuple(check(c, profile, v, held) for c in it.conditions)
        expired = _expired(it, today)
        est, note = estimate(it, profile, v)
        if rule is RegionRule.ELSEWHERE:
            if not expired and not meta.superseded_by and all(c.status is not Status.NOT_MET for c in checks[1:]):
                elsewhere.append(Match(it, meta, rule, checks, False, expired, est, note))
            continue
        ok = all(c.status is not Status.NOT_MET for c in checks) and not expired and not meta.superseded_by
        local.append(Match(it, meta, rule, checks, ok, expired, est, note))
    local.sort(key=lambda m: (not m.applicable, m.superseded, m.expired, -m.rank_amount, m.status is not Status.MET,
                              m.item.item_id))
    elsewhere.sort(key=lambda m: (-m.rank_amount, m.item.item_id))
    return MatchResult(profile, region, tuple(unknown_fields), tuple(local), tuple(elsewhere),
                       {"match": round((time.perf_counter() - t0) * 1000, 2)})
