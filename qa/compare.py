"""Compare the same kind of item across regions (``policyqa compare TOPIC``).

>>> table = compare("小巨人", catalog.all_items(), docs, chunks)
>>> print(table.to_text())
| 地区 | 事项 | 金额 | 出处 |
| 江苏省宿迁市 | 国家级专精特新“小巨人”企业或国家级制造业单项冠军 | 100万元 | 《…》 |
| 安徽省宿州市 | — | （未列奖励金额）原文：…力争新培育国家级专精特新“小巨人”企业2家… | 《…》 |

The topic is read with the item vocabulary: an honour it names (小巨人 ->
专精特新“小巨人”企业, with a level if given: 省级专精特新) selects items
rewarding that honour; an investment kind (工业机器人) selects items on such
investments and on the kinds it includes (技术改造 counts 智能化改造, items.json
"includes"), the very kind's items first; anything else is matched as text in
the granting sentence.  A region whose documents mention the topic without granting anything for it
gets one cell saying no amount is stated, citing the mention.  Regions with
current amounts come first, largest first; a region's items in document order
(the very kind's first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from policyqa.corpus.items import NATIONAL, PolicyItem, Vocabulary, _honours_in, _investment_kinds, _sentences, jurisdiction_of, vocabulary
from policyqa.corpus.types import Chunk, DocMeta
from policyqa.qa.match import _includes

__all__ = ["Cell", "Comparison", "compare"]


@dataclass(frozen=True)
class Cell:
    region: str  # where it applies (全国 for national items)
    label: str  # who gets it: 国家级专精特新“小巨人”企业 / 五星级企业 / ""
    amount_text: str  # 100万元 / 按设备投资额的8%，最高300万元 / （未列奖励金额）
    doc_id: str
    chunk_id: str
    citation: str  # 《title》（文号），issuer，date，section：「sentence」
    expired: bool = False
    item_id: str = ""  # "" for a mention without an amount
    superseded: bool = False  # its document has a newer version (DocMeta.superseded_by)

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "label": self.label, "amount_text": self.amount_text, "doc_id": self.doc_id,
                "chunk_id": self.chunk_id, "citation": self.citation, "expired": self.expired, "item_id": self.item_id,
                "superseded": self.superseded}


@dataclass(frozen=True)
class Comparison:
    topic: str
    reading: str  # how the topic was read: 荣誉 专精特新“小巨人”企业 / 投资 工业机器人 / 文字 …
    cells: tuple[Cell, ...]

    def regions(self) -> list[str]:
        return list(dict.fromkeys(c.region for c in self.cells))

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "reading": self.reading, "regions": self.regions(),
                "cells": [c.to_json() for c in self.cells]}

    def to_text(self) -> str:
        if not self.cells:
            return f"知识库中没有关于「{self.topic}」的政策条款。"
        lines = [f"「{self.topic}」各地政策对比（{self.reading}）", "", "| 地区 | 事项 | 金额 | 出处 |", "|---|---|---|---|"]
        for c in self.cells:
            amount = c.amount_text + ("（已被新版取代）" if c.superseded else "（已过期）" if c.expired else "")
            lines.append(f"| {c.region} | {c.label or '—'} | {amount} | {c.citation} |")
        return "\n".join(lines)


def _citation(meta: DocMeta, section: str, sentence: str) -> str:
    head = f"《{meta.title or meta.doc_id}》" + (f"（{meta.doc_number}）" if meta.doc_number else "")
    return "，".join([head] + [x for x in (meta.issuer, meta.date, section) if x]) + f"：「{sentence}」"


def _region_label(jur: str) -> str:
    return "全国" if jur == NATIONAL else (jur or "未标明地区")


def _keep(jur: str, wanted: Sequence[str], level: str = "") -> bool:
    """A cell of jurisdiction ``jur`` belongs in a table for the ``wanted`` regions when,
    by the shared region matcher, its rule applies there or it covers a part of one."""
    from policyqa.qa.match import RegionRule, region_rule

    if not wanted:
        return True
    if jur == NATIONAL:
        return False
    return any(region_rule(jur, w, level) in (RegionRule.LOCAL, RegionRule.ABOVE, RegionRule.PART) for w in wanted)


def compare(
    topic: str,
    items: Iterable[PolicyItem],
    docs: Mapping[str, DocMeta],
    chunks: Iterable[Chunk] = (),
    regions: Sequence[str] = (),
    today: date | None = None,
    vocab: Vocabulary | None = None,
) -> Comparison:
    """A table of the items on ``topic`` by region (see the module docstring).

    ``regions``: only these (names such as 宿迁, 江苏省盐城市亭湖区; a region
    keeps the documents of places inside it and of the places containing it);
    national items are shown only when no region is asked for.
    """
    from policyqa.qa.match import resolve_region

    v = vocab or vocabulary()
    today = today or date.today()
    topic = topic.strip()
    exact = lambda it: True  # noqa: E731  the item is of the very kind asked (not one it includes)
    honours = _honours_in(topic, v)
    kinds = [k for _, k in _investment_kinds(topic, v)]
    wanted = [r for r in (resolve_region(x, docs) for x in regions) if r]
    if honours:
        names = {h.name for h in honours}
        levels = {h.level for h in honours if h.level}
        reading = "荣誉资质：" + "、".join(h.label() for h in honours)

        def hit(it: PolicyItem) -> bool:
            return any(h.name in names and (not levels or h.level in levels) for h in it.honours)

        aliases = [a for n in names for a in v.honours[n]["aliases"]]
    elif kinds:
        reading = "投资类别：" + "、".join(dict.fromkeys(kinds))
        # a kind the asked one includes counts as it (智能化改造 is 技术改造: items.json "includes")
        counted = set(kinds).union(*(_includes(k, v) for k in kinds))

        def refs(it: PolicyItem) -> set[str]:  # the investment kinds an item is on
            return {it.base_kind} | {c.ref for c in it.conditions if c.kind == "investment"}

        def hit(it: PolicyItem) -> bool:
            return bool(refs(it) & counted)

        def exact(it: PolicyItem) -> bool:
            return bool(refs(it) & set(kinds))

        aliases = [a for k in kinds for a in v.investment_kinds[k]["aliases"]]
    else:
        reading = "原文包含该词"

        def hit(it: PolicyItem) -> bool:
            return topic in it.sentence

        aliases = [topic]
    # a kind of benefit the topic names that users do not use for any other (贴息, 减免): its items only
    specific = {kind for word, kind in v.benefits.items() if word in topic} - v.general_benefits
    if specific:
        reading += "（" + "、".join(sorted(specific)) + "）"
    cells: list[Cell] = []
    covered: set[str] = set()
    items = list(items)
    items_by_id = {it.item_id: it for it in items}
    for it in items:
        meta = docs.get(it.doc_id) or DocMeta(doc_id=it.doc_id)
        if not it.quantified or not hit(it) or (specific and it.kind not in specific) or not _keep(it.jurisdiction, wanted, meta.issuer_level):
            continue
        expired = bool(it.valid_to) and it.valid_to < today.isoformat()
        cells.append(Cell(_region_label(it.jurisdiction), it.label(), it.amount_text, it.doc_id, it.chunk_id,
                          _citation(meta, it.section, it.sentence), expired, it.item_id, bool(meta.superseded_by)))
        covered.add(it.jurisdiction)
    # regions whose documents name the topic but grant nothing quantified for it
    seen_docs: set[str] = set()
    for c in chunks:
        meta = docs.get(c.doc_id)
        if meta is None or c.doc_id in seen_docs:
            continue
        jur = jurisdiction_of(meta, v)
        if jur in covered or not _keep(jur, wanted, meta.issuer_level):
            continue
        for s, e in _sentences(c.text):
            sent = c.text[s:e]
            if any(a in sent for a in aliases) and (not honours or _level_ok(sent, honours, v)):
                cells.append(Cell(_region_label(jur), "", f"（未列奖励金额）原文：{sent[:60]}", c.doc_id, c.chunk_id,
                                  _citation(meta, c.section, sent)))
                seen_docs.add(c.doc_id)
                break
    # regions with current amounts first, largest first; mentions without an amount last.  Within a
    # region the items of the very kind asked come before those of kinds it includes, and each group
    # reads in document order: a base tier stated as a rate without a cap (8% from 500万元) comes
    # before the higher tier that states the cap, not after every capped item
    amounts = {id(c): _amount(c, items_by_id) for c in cells}
    order = {it.item_id: i for i, it in enumerate(items)}
    broader = {it.item_id for it in items if not exact(it)}
    best: dict[str, tuple] = {}
    for c in cells:
        key = (c.item_id == "", c.superseded or c.expired, -amounts[id(c)])
        best[c.region] = min(best.get(c.region, key), key)
    cells.sort(key=lambda c: (best[c.region], c.region, c.item_id == "", c.superseded or c.expired, c.item_id in broader,
                              order.get(c.item_id, len(order))))
    return Comparison(topic, reading, tuple(cells))


def _amount(c: Cell, items_by_id: Mapping[str, PolicyItem]) -> float:
    it = items_by_id.get(c.item_id)
    if it is None:
        return 0.0
    return float(next((x for x in (it.amount_wan, it.cap_wan) if x is not None), 0.0))


def _level_ok(sentence: str, honours, v: Vocabulary) -> bool:
    levels = {h.level for h in honours if h.level}
    if not levels:
        return True
    found = _honours_in(sentence, v)
    return any(h.level in levels or not h.level for h in found if h.name in {x.name for x in honours})
