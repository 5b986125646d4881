"""Eligibility questions in the chat, answered through policy matching.

「我们能申请哪些」, 「我们是制造企业，去年入库税收1800万，能评市级星级企业吗」,
「营收8000万的机械零部件企业在亭湖能拿什么补贴」: an enterprise asking what
it can claim.  :func:`read_question` decides whether a question is one (a
typed :class:`Ask`), and reads the partial :class:`~policyqa.qa.match.Profile`
it states — region (the question's, else the conversation's), revenue, tax,
employees, industry, honours held, planned investments — with the item
vocabulary (``corpus/data/items.json``: field cues, honours, investment kinds,
sectors) and the cue words in ``qa/data/eligibility.json``.
:func:`eligibility_answer` runs :func:`policyqa.qa.match.match` over the
knowledge base's items and renders an :class:`~policyqa.qa.types.Answer`:
the applicable items (amount, estimate where computable, every condition
met / not met / needs checking), each cited with its granting sentence; what
the question stated and which profile fields the shown conditions still need.
It returns None when matching has nothing to say (the answerer then answers
the question the ordinary way).

The same module renders comparison questions from items
(:func:`comparison_answer`, 「宿迁和宿州对小巨人分别奖励多少」): one labelled,
cited statement per asked region, and an explicit "no figure" statement for a
region whose documents state none.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from policyqa.corpus.items import Honour, PolicyItem, Vocabulary, _cn_number, _fmt, _investment_kinds, vocabulary
from policyqa.corpus.types import Chunk, DocMeta
from policyqa.qa.match import Investment, Match, MatchResult, Profile, Status, match, profile_honours
from policyqa.qa.types import Answer, Citation, Statement

__all__ = ["Ask", "AskKind", "EligibilityCues", "Outcome", "comparison_answer", "eligibility_answer", "load_eligibility_cues",
           "read_question"]

DATA = Path(__file__).parent / "data" / "eligibility.json"


def _alt(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True, eq=False)
class EligibilityCues:
    ask: re.Pattern
    requirement: re.Pattern
    self_: re.Pattern
    open_: re.Pattern
    amount: re.Pattern
    generic: re.Pattern
    hold: re.Pattern
    investment_verb: re.Pattern
    enterprise: re.Pattern
    money: re.Pattern
    people: re.Pattern
    money_scale: Mapping[str, float]
    gap: str
    money_approx: tuple[str, ...] = ()  # 来, 多, 余 between a number and its unit: 「两千来万」 (qa/tiers.py)
    max_listed: int = 8
    max_not_met: int = 3
    max_elsewhere: int = 2


_NUM = r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+"


@lru_cache(maxsize=4)
def load_eligibility_cues(path: str | Path = DATA) -> EligibilityCues:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    return EligibilityCues(
        ask=re.compile(_alt(d["ask_cues"])),
        requirement=re.compile(_alt(d["requirement_cues"])),
        self_=re.compile(_alt(d["self_cues"])),
        open_=re.compile(_alt(d["open_cues"])),
        amount=re.compile(_alt(d["amount_cues"])),
        generic=re.compile(_alt(d["generic_objects"])),
        hold=re.compile(_alt(d["hold_cues"])),
        investment_verb=re.compile(_alt(d["investment_verbs"])),
        enterprise=re.compile(_alt(d["enterprise_nouns"])),
        # 「10个亿」「两个亿」: the measure word 个 spoken between a number and its unit
        money=re.compile(rf"(?P<num>{_NUM})\s*(?:个\s*)?(?P<unit>{_alt(d['money_scale'])})"),  # one way to read the spaces
        people=re.compile(rf"(?P<num>\d+|[零〇一二两三四五六七八九十百千]+)\s*(?:{_alt(d['people_units'])})"),
        money_scale=dict(d["money_scale"]),
        gap=_alt(d["value_gap"]),
        money_approx=tuple(d.get("money_approx", ())),
        max_listed=int(d.get("max_listed", 8)),
        max_not_met=int(d.get("max_not_met", 3)),
        max_elsewhere=int(d.get("max_elsewhere", 2)),
    )


# --- reading the question -------------------------------------------------------------------


class AskKind(str, Enum):
    """What an eligibility question asks about."""

    NOT_ELIGIBILITY = "not_eligibility"  # an ordinary question: answered the ordinary way
    OPEN = "open"  # 我们能申请哪些: everything the profile may claim
    HONOUR = "honour"  # 能评市级星级企业吗: items for a named honour
    INVESTMENT = "investment"  # 买机器人能拿什么补贴: items on a named investment kind


class Outcome(str, Enum):
    """What matching found for an eligibility question."""

    APPLICABLE = "applicable"  # items the enterprise may claim (some conditions may need checking)
    NONE_APPLICABLE = "none_applicable"  # the asked items exist here, a stated condition fails
    EXPIRED = "expired"  # the region's matching items belong to a policy whose period has ended
    ONLY_ELSEWHERE = "only_elsewhere"  # a named honour / investment: only other regions' items (listed as not applicable)
    NO_ITEMS = "no_items"  # nothing to say: the ordinary answer path takes the question


@dataclass(frozen=True)
class Ask:
    """An eligibility question read: what it asks and the profile it states."""

    kind: AskKind
    profile: Profile = field(default_factory=Profile)
    given: tuple[tuple[str, str], ...] = ()  # (profile field, as read) the question states
    region_from: str = ""  # "question" | "conversation" | ""
    target_honours: tuple[Honour, ...] = ()
    target_kinds: tuple[str, ...] = ()
    topic: str = ""  # an open question's remaining object (税收 in 能享受哪些税收优惠): items must name it

    @property
    def is_eligibility(self) -> bool:
        return self.kind is not AskKind.NOT_ELIGIBILITY


_CLAUSE = re.compile(r"[，,。；;！？!?\s]+")
_SENTENCE_END = re.compile(r"[。！？!?]")


def _money_wan(num: str, unit: str, cues: EligibilityCues) -> float | None:
    n = _cn_number(num)
    return None if n is None else n * cues.money_scale.get(unit, 1.0)


def _field_cues(v: Vocabulary, profile_fields: Sequence[str]) -> list[tuple[str, str]]:
    """(cue, profile field) for the given profile fields, longest cue first."""
    out = [(c, f["profile"]) for f in v.fields.values() if f.get("profile") in profile_fields for c in f["cues"]]
    return sorted(out, key=lambda x: -len(x[0]))


def _field_before(text: str, pos: int, cues: list[tuple[str, str]], gap: str, window: int = 10) -> str:
    """The profile field whose cue stands just before ``pos`` (入库税收1800万, 营收约8000万)."""
    head = text[max(0, pos - window) : pos]
    best, best_end = "", -1
    for cue, f in cues:
        i = head.rfind(cue)
        if i < 0:
            continue
        between = head[i + len(cue) :]
        if re.fullmatch(rf"(?:{gap}|去年|今年|上年|年|全年|度)*", between) and i + len(cue) > best_end:
            best, best_end = f, i + len(cue)
    return best


def read_question(question: str, docs: Mapping[str, DocMeta], history_regions: Sequence[str] = (),
                  cues: EligibilityCues | None = None, vocab: Vocabulary | None = None) -> Ask:
    """Whether ``question`` asks what the enterprise can claim, and the profile it states.

    An eligibility question has an ask cue (能申请, 能评, 能享受 …) and either a self
    cue (我们, 我公司 …) or a profile fact it states (a revenue, tax or head count,
    an honour held); a question about the requirements themselves (要投入多少才能申请,
    需要什么条件) is not one: the ordinary answer quotes them.  ``history_regions``: region labels of earlier turns, latest
    first (the conversation's region when the question names none).
    """
    from policyqa.qa.regions import asked_regions, region_label, strip_regions

    c = cues or load_eligibility_cues()
    v = vocab or vocabulary()
    ask = c.ask.search(question)
    if not ask or c.requirement.search(question):  # 要投入多少才能申请: asks for the conditions themselves
        return Ask(AskKind.NOT_ELIGIBILITY)
    before, after = question[: ask.start()], question[ask.start() :]
    given: list[tuple[str, str]] = []
    numbers: dict[str, float] = {}
    claimed: list[tuple[int, int]] = []
    money_cues = _field_cues(v, ("revenue_wan", "tax_paid_wan"))
    for m in c.money.finditer(question):
        f = _field_before(question, m.start(), money_cues, c.gap)
        val = _money_wan(m.group("num"), m.group("unit"), c)
        if f and val is not None and f not in numbers:
            numbers[f] = val
            claimed.append(m.span())
    for m in c.people.finditer(question):
        f = _field_before(question, m.start(), _field_cues(v, ("employees",)), c.gap)
        val = _cn_number(m.group("num"))
        if f and val is not None and f not in numbers:
            numbers[f] = val
            claimed.append(m.span())
    # planned investments: an investment kind named with a verb or an amount nearby
    investments: list[Investment] = []
    spans: list[tuple[int, int]] = []  # where investment kinds are named as investments
    free_money = [m for m in c.money.finditer(question) if m.span() not in claimed]
    for pos, kind in _investment_kinds(question, v):
        near = [m for m in free_money if abs(m.start() - pos) <= 14]
        amount = None
        if near:
            best = min(near, key=lambda m: abs(m.start() - pos))
            amount = _money_wan(best.group("num"), best.group("unit"), c)
            free_money.remove(best)
        if amount is not None or c.investment_verb.search(question[max(0, pos - 8) : pos + 8]):
            alias = max((a for a in v.investment_kinds[kind]["aliases"] if question.startswith(a, pos)), key=len, default="")
            spans.append((pos, pos + len(alias)))
            if not any(i.kind == kind for i in investments):
                investments.append(Investment(kind, amount))
    kinds_named = [i.kind for i in investments]
    # honours held (我们是高新技术企业) and honours asked about (能评市级星级企业吗)
    held: list[str] = []
    for part in _CLAUSE.split(before):
        h = c.hold.search(part)
        phrase = strip_regions(part[h.end() :]).lstrip("的") if h else ""  # 亭湖的市级四星级企业 -> 市级四星级企业
        if phrase and profile_honours([phrase], v):
            held.append(phrase)
    targets = tuple(profile_honours([p for p in _CLAUSE.split(after) if p], v))
    # industry: sector words in the enterprise's own description (before the ask cue)
    bare = "".join(" " if any(a <= i < b for a, b in spans) else ch for i, ch in enumerate(before))  # 购买工业机器人: no industry
    own = "".join(p for p in _CLAUSE.split(bare) if c.enterprise.search(p))  # 我们是制造企业, 机械零部件企业, 软件企业
    own = v.pattern("honour_alias").sub(" ", own)
    sector_words = sorted({w for words in v.sectors.values() for w in words if w in own}, key=own.find)
    industry = "".join(w for w in sector_words if not any(w != o and w in o for o in sector_words))
    # region: the question's, else the conversation's
    regions = asked_regions(question, docs)
    region, region_from = "", ""
    if regions:
        region, region_from = region_label(regions[0]), "question"
    elif history_regions:
        region, region_from = history_regions[0], "conversation"
    facts = bool(numbers or held or investments and any(i.amount_wan is not None for i in investments))
    # an enterprise described by its industry or place (机械零部件企业, 亭湖区的企业) before the ask cue, in the
    # sentence that asks (「洛阳对企业上市有奖励吗？辅导备案这一步能拿多少？」: the enterprise of the first
    # sentence is what the rule is for, not the asker)
    asking = _SENTENCE_END.split(before)[-1]
    described = bool(industry) or bool(regions and c.enterprise.search(strip_regions(asking)))
    if not (c.self_.search(question) or facts or described):
        return Ask(AskKind.NOT_ELIGIBILITY)
    if region:
        given.append(("region", region + ("（沿用对话中的地区）" if region_from == "conversation" else "")))
    if industry:
        given.append(("industry", industry))
    for f in ("revenue_wan", "tax_paid_wan"):
        if f in numbers:
            given.append((f, f"{_fmt(numbers[f])}万元"))
    if "employees" in numbers:
        given.append(("employees", f"{_fmt(numbers['employees'])}人"))
    if held:
        given.append(("honours", "、".join(held)))
    if investments:
        given.append(("planned_investments", "、".join(i.kind + (f"{_fmt(i.amount_wan)}万元" if i.amount_wan is not None else "")
                                                      for i in investments)))
    profile = Profile(
        region=region, industry=industry, revenue_wan=numbers.get("revenue_wan"), tax_paid_wan=numbers.get("tax_paid_wan"),
        employees=numbers.get("employees"), honours=tuple(held) if held else None,
        planned_investments=tuple(investments) if investments else None,
    )
    topic = ""
    if targets:
        kind = AskKind.HONOUR
    elif kinds_named:
        kind = AskKind.INVESTMENT
    elif ((c.open_.search(clause := question[max((question.rfind(p, 0, ask.start()) for p in "，,。；;"), default=-1) + 1 :])
           and (facts or industry or c.self_.search(question))) or (c.amount.search(clause) and facts)):
        # 能申请哪些 / 有什么政策可以申请: an open cue in the asking clause, with something to match on — a
        # profile fact or sector, or the asker's own firm (「我们是海宁的企业，能申请哪些？」); an enterprise
        # named only by its place (「厂里一个老师傅…在海宁他本人能拿多少奖励？」) asks about a named reward.
        # 能拿多少 asks an amount: of the profile's items when the question states a fact to compute from
        # (「营业收入达到1.5亿元，能拿多少奖励」), else of the rule it names (「筹备上市…成功上市能拿多少？」)
        kind = AskKind.OPEN
        topic = _residual(after[ask.end() - ask.start() :], c)
    else:  # 我们能申请人才公寓吗: a named thing matching cannot judge; answered the ordinary way
        return Ask(AskKind.NOT_ELIGIBILITY)
    return Ask(kind, profile, tuple(given), region_from, targets, tuple(dict.fromkeys(kinds_named)), topic)


def _residual(text: str, c: EligibilityCues) -> str:
    """What an open question asks about besides generic words (税收 in 哪些税收优惠)."""
    from policyqa.qa.regions import strip_regions

    rest = c.generic.sub(" ", strip_regions(text))
    return "".join(re.findall(r"[\u4e00-\u9fffA-Za-z]{2,}", rest))


# --- answering ---------------------------------------------------------------------------------


def _open_honours(result: MatchResult) -> MatchResult:
    """A question names the honours it mentions, not every honour held: an honour condition
    they do not meet is *needs checking* in the chat (a profile's list is complete; a question's is not)."""
    from dataclasses import replace

    from policyqa.qa.match import Check

    def fix(m: Match) -> Match:
        checks = tuple(Check(ch.condition, Status.UNKNOWN, ch.field, "需核实：问题没有说明是否已获得")
                       if ch.condition.kind == "honour" and ch.status is Status.NOT_MET else ch for ch in m.checks)
        if checks == m.checks:
            return m
        ok = all(ch.status is not Status.NOT_MET for ch in checks) and not m.expired and not m.superseded
        return replace(m, checks=checks, applicable=ok and m.rule.applies is not Status.NOT_MET)

    items = sorted((fix(m) for m in result.items), key=lambda m: (not m.applicable, m.superseded, m.expired, -m.rank_amount,
                                                                   m.status is not Status.MET, m.item.item_id))
    return replace(result, items=tuple(items), elsewhere=tuple(fix(m) for m in result.elsewhere))


def _targets_hit(m: Match, ask: Ask, v: Vocabulary) -> bool:
    it = m.item
    if ask.kind is AskKind.HONOUR:
        # an item that states no level (当年首次被认定为五星级企业的) may be the asked one: its conditions say
        return any(h.name == t.name and (not t.level or h.level in (t.level, "")) and (not t.star or not h.star or h.star == t.star)
                   for h in it.honours for t in ask.target_honours) or any(
            c.kind == "honour" and any(h.name == t.name and (not t.level or h.level == t.level) for h in c.honours for t in ask.target_honours)
            for c in it.conditions)
    if ask.kind is AskKind.INVESTMENT:
        from policyqa.qa.match import _includes

        refs = {it.base_kind} | {c.ref for c in it.conditions if c.kind == "investment"}
        refs.discard("")
        # a 工业机器人 purchase counts for an item on 设备 (which includes it), and a 技术改造 plan may contain one
        return any(r == t or t in _includes(r, v) or r in _includes(t, v) for r in refs for t in ask.target_kinds)
    return not ask.topic or ask.topic in it.sentence or ask.topic in it.recipient


def _about_target(check, ask: Ask) -> bool:
    """An honour condition on the very honour asked about (能评星级企业吗): it is the question, not a fact to check."""
    cond = check.condition
    return ask.kind is AskKind.HONOUR and cond.kind == "honour" and all(
        any(h.name == t.name for t in ask.target_honours) for h in cond.honours)


def item_citation(n: int, item: PolicyItem, meta: DocMeta, passage: str = "") -> Citation:
    """The numbered source of one item: its granting sentence, where it stands."""
    return Citation(n=n, doc_id=item.doc_id, chunk_id=item.chunk_id, title=meta.title, doc_number=meta.doc_number,
                    issuer=meta.issuer, date=meta.date, region=meta.region, section=item.section, text=item.sentence,
                    score=1.0, passage=passage)


def _statement_text(m: Match, ask: Ask) -> str:
    est = ""
    if m.estimate_wan is not None and m.item.amount_wan is None:
        est = f"，按问题所给可得约{_fmt(m.estimate_wan)}万元" + (f"（{m.estimate_note}）" if m.estimate_note else "")
    elif m.estimate_note and m.estimate_wan is None:
        est = f"（{m.estimate_note}）"
    checks = [ch for ch in m.checks[1:] if not _about_target(ch, ask)]  # checks[0] is the region rule
    conds = "；".join(f"{ch.status.mark}{ch.text()}" for ch in checks)
    region = m.checks[0]
    head = f"{m.benefit()}：{m.item.amount_text}{est}"
    tail = f"。条件：{conds}" if conds else "。条文未列其他条件"
    if region.status is not Status.MET:
        tail += f"；{region.status.mark}{region.text()}"
    return head + tail


def _needed_fields(matches: Sequence[Match], ask: Ask, v: Vocabulary) -> list[str]:
    """Profile fields the shown items' conditions still need (labels), in schema order."""
    from policyqa.qa.match import PROFILE_FIELDS

    given = {f for f, _ in ask.given}
    need = {f for m in matches for ch in m.checks if ch.status is Status.UNKNOWN and not _about_target(ch, ask)
            for f in ch.field.split(",") if f and f not in given}
    labels = v.raw["profile_fields"]
    return [labels.get(f, f) for f in PROFILE_FIELDS if f in need]


def eligibility_answer(
    question: str,
    resolved: str,
    ask: Ask,
    items: Iterable[PolicyItem],
    docs: Mapping[str, DocMeta],
    passage: Callable[[str], str] = lambda chunk_id: "",
    today: date | None = None,
    cues: EligibilityCues | None = None,
    vocab: Vocabulary | None = None,
) -> tuple[Answer | None, Outcome, MatchResult | None]:
    """The chat answer to an eligibility question (see the module docstring), the
    :class:`Outcome`, and the match result; the answer is None for ``NO_ITEMS``."""
    t0 = time.perf_counter()
    c = cues or load_eligibility_cues()
    v = vocab or vocabulary()
    result = _open_honours(match(ask.profile, items, docs, today=today, vocab=v))
    local = [m for m in result.items if _targets_hit(m, ask, v) and not m.superseded]
    # items needing an honour the question does not mention come after those it may already meet; then
    # those whose conditions the question's facts meet; each by amount
    def rank(m: Match):
        return (any(ch.condition.kind == "honour" and ch.status is Status.UNKNOWN and not _about_target(ch, ask) for ch in m.checks),
                -sum(ch.status is Status.MET for ch in m.checks[1:]), -m.rank_amount)

    ok = sorted((m for m in local if m.applicable), key=rank)[: c.max_listed]
    # a named honour or investment: also say which of its items a stated condition rules out
    failed = [m for m in local if not m.applicable and not m.expired and m.status is Status.NOT_MET]
    failed = failed[: c.max_not_met] if ask.kind is not AskKind.OPEN or not ok else []
    expired = sorted((m for m in local if m.expired and m.status is not Status.NOT_MET), key=rank)[: c.max_listed] if not (ok or failed) else []
    elsewhere = ([m for m in result.elsewhere if _targets_hit(m, ask, v)][: c.max_elsewhere]
                 if not (ok or failed or expired) and ask.kind is not AskKind.OPEN else [])
    if ok:
        outcome = Outcome.APPLICABLE
    elif failed:
        outcome = Outcome.NONE_APPLICABLE
    elif expired:
        outcome = Outcome.EXPIRED
    elif elsewhere:
        outcome = Outcome.ONLY_ELSEWHERE
    else:
        return None, Outcome.NO_ITEMS, result
    statements: list[Statement] = []
    citations: list[Citation] = []
    by_item: dict[str, int] = {}

    def cite(m: Match) -> int:
        key = m.item.chunk_id + "|" + m.item.sentence
        if key not in by_item:
            by_item[key] = len(citations) + 1
            citations.append(item_citation(by_item[key], m.item, m.meta, passage(m.item.chunk_id)))
        return by_item[key]

    for m in ok:
        statements.append(Statement(_statement_text(m, ask), cite(m), m.region_text(), bullet=True))
    for m in failed:
        statements.append(Statement(_statement_text(m, ask), cite(m), m.region_text(), label="条件不符", bullet=True))
    for m in expired:
        statements.append(Statement(_statement_text(m, ask), cite(m), m.region_text(),
                                    label=f"已过期{'，有效期至' + m.item.valid_to if m.item.valid_to else ''}", bullet=True))
    for m in elsewhere:
        statements.append(Statement(_statement_text(m, ask), cite(m), m.region_text(), label="其他地区，不适用，仅供参考", bullet=True))
    lead = _lead(ask, result, outcome, ok, failed, v)
    missing = _needed_fields(ok + failed + expired, ask, v)
    notes = []
    if missing:
        notes.append("问题没有提供" + "、".join(missing) + "，相关条件标为“?需核实”；补充这些信息可以判断得更准确。")
    notes.append("条件按问题所给信息逐条比对（✓符合，✗不符，?需核实），以原文和主管部门解释为准。")
    from policyqa.qa.compose import render_markdown, render_plain

    plain = render_plain(statements, citations, lead=lead, notes=notes)
    markdown = render_markdown(statements, citations, lead=lead, notes=notes)
    info = {
        "ask": ask.kind.value,
        "outcome": outcome.value,
        "profile": ask.profile.to_dict(),
        "given": [f for f, _ in ask.given],
        "not_given": missing,
        "items": [{"item_id": m.item.item_id, "applicable": m.applicable, "estimate_wan": m.estimate_wan,
                   "conditions": [{"text": ch.text(), "status": ch.status.value} for ch in m.checks]} for m in ok + failed + expired + elsewhere],
    }
    ans = Answer(question, resolved, plain, markdown, refused=False, notes=tuple(notes), citations=tuple(citations),
                 statements=tuple(statements), kind="eligibility", decision="answered",
                 timings_ms={"retrieve": 0.0, "compose": (time.perf_counter() - t0) * 1000, "match": result.timings_ms.get("match", 0.0)},
                 extra={"eligibility": info})
    return ans, outcome, result


_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|万元|千元|元|%|％|克)")


def _figure_near_topic(topic: str, region: str, docs: Mapping[str, DocMeta], chunks: Sequence[Chunk], v: Vocabulary,
                       inner: Sequence[str] = ()) -> bool:
    """Whether a line of ``region``'s documents names the topic (an honour or investment kind,
    by its aliases) together with a figure: then a missing item is not a missing figure.
    The documents of the ``inner`` regions (places inside it compared with it) are not its."""
    from policyqa.corpus.items import _honours_in
    from policyqa.qa.match import RegionRule, region_rule

    aliases = [a for h in _honours_in(topic, v) for a in v.honours[h.name]["aliases"]]
    aliases += [a for _, k in _investment_kinds(topic, v) for a in v.investment_kinds[k]["aliases"]]
    mine = {d for d, m in docs.items()
            if region_rule(m.region or "", region) in (RegionRule.LOCAL, RegionRule.ABOVE, RegionRule.PART)
            and not any(region_rule(m.region or "", o) in (RegionRule.LOCAL, RegionRule.PART) for o in inner)}
    for c in chunks:
        if c.doc_id not in mine:
            continue
        for line in re.split(r"[\n。；;]", c.text):
            if _FIGURE.search(line) and any(a in line for a in aliases):
                return True
    return False


def _lead(ask: Ask, result: MatchResult, outcome: Outcome, ok, failed, v: Vocabulary) -> str:
    labels = v.raw["profile_fields"]
    stated = "；".join(f"{labels.get(f, f).split('（')[0]}：{t}" for f, t in ask.given) or "没有提供企业信息"
    lines = [f"按问题中的企业信息（{stated}）与知识库中的政策条款逐条比对："]
    if not result.region:
        lines.append("问题没有说明企业所在地区，以下各条只适用于所标地区的企业。")
    what = ""
    if ask.kind is AskKind.HONOUR:
        what = "、".join(h.label() for h in ask.target_honours)
    elif ask.kind is AskKind.INVESTMENT:
        what = "、".join(ask.target_kinds) + "投资"
    if outcome is Outcome.APPLICABLE:
        lines.append(f"{'关于' + what + '，' if what else ''}可能可以申请的有{len(ok)}项"
                     "（不需其他荣誉资质的、问题所给条件符合多的在前）：")
    elif outcome is Outcome.NONE_APPLICABLE:
        lines.append(f"{'关于' + what + '，' if what else ''}按问题所给信息，以下条款的条件不符：")
    elif outcome is Outcome.EXPIRED:
        lines.append(f"{'关于' + what + '，' if what else ''}知识库中对应的条款所在政策的执行期已经结束，"
                     "以下仅供参考，请向发文机关核实是否仍在执行：")
    else:
        where = result.region or "所问地区"
        lines.append(f"知识库中{where}的文件没有{'关于' + what + '的' if what else '可对应的'}奖补条款；其他地区的规定不适用，仅供参考：")
    return "\n".join(lines)


# --- comparison from items -------------------------------------------------------------------------

_DOC_NUMBER = re.compile(r"[〔\[(（]\d{4}[〕\])）]\s*\d+\s*号")
_ARTICLE_HEAD = re.compile(r"^\s*第[一二三四五六七八九十百零〇\d]+条\s*")
_ROW_SERIAL = re.compile(r"^\s*(?:序号|编号)：\s*\d+\s*\|\s*")  # a table row's serial cell (corpus.tables)


def qualifies_more(recipient: str, label: str) -> bool:
    """A grant's ``recipient`` as written says more than the ``label`` a summary shows
    (「通过复核的国家级专精特新“小巨人”企业」 against 「国家级专精特新“小巨人”企业」): what is
    left of it without the label's characters, punctuation and the usual ways of
    introducing a recipient (cues.json ``recipient_standard_words``: 新认定的, 获批)."""
    from policyqa.qa.cues import load_cues

    rest = load_cues().recipient_standard.sub("", recipient)
    return any(ch not in label and ch.isalnum() for ch in rest)


def summary_loses(summary: str, clause: str) -> bool:
    """True when a label-and-amount ``summary`` loses a term of the rule ``clause`` states,
    so the clause itself is shown: a number (an amount, a rate, a period, a count) it does
    not show as written (a document number 〔2017〕86号 is not a figure), or a grant on top
    of another (cues.json ``addon_words``: 「在上述奖励基础上再给予30万元」 is not the reward)."""
    from policyqa.qa.cues import load_cues
    from policyqa.qa.llm import numbers_in

    if load_cues().addon.search(clause) and not load_cues().addon.search(summary):
        return True
    shown = {n.value for n in numbers_in(summary)}
    return any(n.value not in shown for n in numbers_in(_DOC_NUMBER.sub(" ", clause_text(clause))))


def clause_text(sentence: str) -> str:
    """A granting sentence as an answer statement: without its leading article number
    (第十条; the citation names the article) or a table row's serial cell (序号：2 | …)."""
    return _ROW_SERIAL.sub("", _ARTICLE_HEAD.sub("", sentence)).strip()



def comparison_answer(
    question: str,
    resolved: str,
    topic: str,
    regions: Sequence[str],
    items: Iterable[PolicyItem],
    docs: Mapping[str, DocMeta],
    chunks: Iterable[Chunk] = (),
    passage: Callable[[str], str] = lambda chunk_id: "",
    today: date | None = None,
    vocab: Vocabulary | None = None,
) -> Answer | None:
    """One labelled, cited statement per asked region from the items on ``topic``
    (:func:`policyqa.qa.compare.compare`); a region whose documents give no figure
    says so (citing the mention when there is one); a Markdown table in ``markdown``.
    None when the topic names no honour or investment kind, or no region has an item."""
    from policyqa.qa.compare import compare
    from policyqa.qa.compose import md_escape, render_plain
    from policyqa.qa.match import RegionRule, region_rule, resolve_region

    from policyqa.corpus.items import _honours_in

    t0 = time.perf_counter()
    v = vocab or vocabulary()
    items = list(items)
    if not _honours_in(topic, v) and not _investment_kinds(topic, v):
        return None
    chunks = list(chunks)
    table = compare(topic, items, docs, chunks, regions=regions, today=today, vocab=v)
    if not any(cell.item_id for cell in table.cells):
        return None
    statements: list[Statement] = []
    citations: list[Citation] = []
    rows: list[tuple[str, str, str, int]] = []
    items_by_id = {it.item_id: it for it in items}
    per_region = []
    labels = [resolve_region(asked, docs) or asked for asked in regions]
    for label in labels:
        # a province compared with its own city (「绵阳和四川省」): the city's items are the city's row only
        inner = [o for o in labels if o != label and region_rule(o, label) is RegionRule.PART]
        cells = [cell for cell in table.cells
                 if region_rule(cell.region, label) in (RegionRule.LOCAL, RegionRule.ABOVE, RegionRule.PART)
                 and not any(region_rule(cell.region, o) in (RegionRule.LOCAL, RegionRule.PART) for o in inner)]
        if not any(cell.item_id for cell in cells) and _figure_near_topic(topic, label, docs, chunks, v, inner):
            # no item here, yet a line of its documents names the topic with a figure (a table row items do
            # not read): "no figure" is not said from items; the passage-based comparison answers instead
            return None
        per_region.append((label, cells))
    shown: dict[str, dict[str, int]] = {}  # clauses shown in full, by region: clause -> its citation number
    for label, cells in per_region:
        if not cells:
            has_docs = any(region_rule(m.region or "", label) in (RegionRule.LOCAL, RegionRule.ABOVE, RegionRule.PART) for m in docs.values() if m.region)
            text = (f"{label}的文件中没有写明{table.reading.split('：')[-1]}的奖励金额。" if has_docs else f"知识库中没有{label}的政策文件。")
            statements.append(Statement(text, 0, label))
            rows.append((label, "—", "（文件中没有写明金额）" if has_docs else "（知识库中没有该地区的文件）", 0))
            continue
        current = [cell for cell in cells if cell.item_id and not (cell.superseded or cell.expired)]
        if current:  # an older version's or an expired figure is not this region's rule any more
            cells = current
        for cell in cells[:4]:
            flag = "（已被新版取代）" if cell.superseded else "（已过期）" if cell.expired else ""
            it = items_by_id.get(cell.item_id)
            text = f"{cell.label or '—'}：{cell.amount_text}" if cell.item_id else f"文件提到{table.reading.split('：')[-1]}，但没有写明奖励金额"
            if it is not None and (summary_loses(text, it.sentence) or qualifies_more(it.recipient, text)):
                # the summary loses a term the clause states (贴息期限不超过2年, 重新认定的10万元): the clause
                # itself is the statement, once per region however many of its items are compared
                if it.sentence in shown.setdefault(cell.region, {}):
                    rows.append((cell.region, cell.label or "—", cell.amount_text + flag, shown[cell.region][it.sentence]))
                    continue
                shown[cell.region][it.sentence] = len(citations) + 1
                text = clause_text(it.sentence)
            n = len(citations) + 1
            meta = docs.get(cell.doc_id) or DocMeta(doc_id=cell.doc_id)
            if it is not None:
                citations.append(item_citation(n, it, meta, passage(cell.chunk_id)))
            else:  # a mention without an amount: cite the sentence that names the topic
                sent = cell.citation.rsplit("：「", 1)[-1].rstrip("」")
                citations.append(Citation(n, cell.doc_id, cell.chunk_id, meta.title, meta.doc_number, meta.issuer, meta.date,
                                          meta.region, "", sent, 1.0, passage(cell.chunk_id)))
            statements.append(Statement(text + (flag if cell.item_id else ""), n, cell.region))
            rows.append((cell.region, cell.label or "—", (cell.amount_text if cell.item_id else "（文件提到，但没有写明奖励金额）") + flag, n))
    if not citations:
        return None
    lead = f"各地对{table.reading.split('：')[-1]}的规定（按各地文件逐一列出，互不通用）："
    plain = render_plain(statements, citations, lead=lead)
    md = [md_escape(lead), "", "| 地区 | 事项 | 金额 | 出处 |", "|---|---|---|---|"]
    md += [f"| {md_escape(r)} | {md_escape(lab)} | {md_escape(amt)} | {f'[{n}]' if n else '—'} |" for r, lab, amt, n in rows]
    from policyqa.qa.compose import source_line

    md += ["", "**来源**", ""] + [f"{c.n}. {md_escape(source_line(c))}  \n   原文：“{md_escape(c.text)}”" for c in citations]
    return Answer(question, resolved, plain, "\n".join(md), refused=False, citations=tuple(citations), statements=tuple(statements),
                  kind="answer", decision="answered", timings_ms={"retrieve": 0.0, "compose": (time.perf_counter() - t0) * 1000},
                  extra={"comparison": table.to_json()})
