"""Answers whose shape is more than one quoted sentence: responsible units and enumerations.

- :func:`responsible`: the unit responsible for the item that matches the
  question's topic — the item's own 「（责任单位：…）」, else the note governing
  its passage, else the document's assignment clause for the item's article
  number (「第11条、第12条由县科技局负责」, :mod:`policyqa.qa.articles`) — never
  the first unit named somewhere in the passages.
- :func:`enumeration`: for a list question (有哪些条件/材料/情形/措施), every item
  of the enumeration the best answering unit belongs to, in document order:
  the numbered items of its passage, or its sibling passages under the same
  heading (「五、申报材料 > （一）…（二）…」), never the intro sentence as an item.

Both take the scored candidates (:class:`policyqa.qa.compose.Scored`) and a
function giving a document's chunks; cue words live in ``qa/data/shapes.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from policyqa.index.types import Hit
from policyqa.qa.articles import article_of, assigned, assignments, referenced
from policyqa.qa.candidates import item_marks, item_spans
from policyqa.qa.compose import Scored, Selected, heading_of, top_heading
from policyqa.qa.features import CANDIDATE_FEATURES, about_title, bigrams, context_coverage, coverage
from policyqa.qa.llm import chinese_number

DATA = Path(__file__).parent / "data" / "shapes.json"
_ENUM_HEADING = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[、.．](?!\d)|[一二三四五六七八九十]{1,3}、|第[\d一二三四五六七八九十百]+条)")


@dataclass(frozen=True, eq=False)
class Shapes:
    unit_marker: re.Pattern  # a clause naming its responsible unit
    list_intro: re.Pattern  # a sentence that introduces the items after it
    document_noun: re.Pattern  # 政策, 办法, 通知 …: the question is about a document
    document_facts: tuple[tuple[str, re.Pattern], ...]  # (date | issuer | validity, its cue)
    document_deixis: re.Pattern = re.compile("(?!)")  # 这个, 那份 …: a document pointed at by what it is about
    assignment_verbs: tuple[str, ...] = ("负责",)  # 「第8条由县科技局审核」 (qa.articles.assignments)
    remaining_articles: tuple[str, ...] = ()  # 「其余条款由…」


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@lru_cache(maxsize=2)
def load_shapes(path: str | Path = DATA) -> Shapes:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    return Shapes(
        unit_marker=re.compile(_alt(d["unit_markers"]) + r"|由[^，,。；;]{2,40}?(?:牵头|负责)(?!同志|人)"
                               + r"|[\u4e00-\u9fff]{1,16}(?:" + _alt(d["unit_suffixes"]) + r")(?:牵头)?负责(?!同志|人)"),
        list_intro=re.compile("(?:" + _alt(d["list_intro_ends"]) + r")\s*$"),
        document_noun=re.compile(_alt(d["document_nouns"])),
        document_facts=tuple((k, re.compile(_alt(v))) for k, v in d["document_fact_cues"].items()),
        document_deixis=re.compile(_alt(d["document_deixis"])) if d.get("document_deixis") else re.compile("(?!)"),
        assignment_verbs=tuple(d["assignment_verbs"]),
        remaining_articles=tuple(d["remaining_articles"]),
    )


def asked_document_facts(question: str, shapes: Shapes | None = None) -> tuple[str, ...]:
    """What a question asks about a document itself — its ``date`` (印发), ``issuer``
    (哪个单位发的), ``validity`` (施行, 有效期) — when it names a document (这个政策,
    办法 …); () otherwise."""
    s = shapes or load_shapes()
    if not s.document_noun.search(question):
        return ()
    return tuple(k for k, pat in s.document_facts if pat.search(question))


def document_fact_text(meta, facts: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """(statement of the asked facts from a document's metadata, facts it does not state)."""
    parts, missing = [], []
    for f in facts:
        if f == "date" and meta.date:
            y, m, d = (int(x) for x in meta.date.split("-"))
            parts.append(f"印发日期为{y}年{m}月{d}日")
        elif f == "issuer" and meta.issuer:
            parts.append(f"发文单位为{meta.issuer}")
        elif f == "validity" and (meta.validity or meta.valid_from or meta.valid_to):
            phrase = "，".join(p.strip() for p in meta.validity.split(" / ") if p.strip()) if meta.validity else ""
            span = f"{meta.valid_from or '…'}至{meta.valid_to or '…'}" if (meta.valid_from or meta.valid_to) else ""
            parts.append("施行和有效期：" + "；".join(x for x in (phrase, f"即{span}" if span and phrase else span) if x))
            if meta.repeals:  # whether the policy it replaces still applies is part of the answer
                parts.append(meta.repeals.strip().rstrip("。"))
        else:
            missing.append(f)
    name = f"《{meta.title}》" if meta.title else meta.doc_id
    name += f"（{meta.doc_number}）" if meta.doc_number else ""
    return (name + "：" + "；".join(parts) + "。" if parts else ""), tuple(missing)


def asks_overview(question: str, cues) -> bool:
    """An overview of rewards (「有哪些奖励」「补贴政策都有什么」), not a list of something
    else that merely mentions one (「申报奖励需要提交哪些材料」): the money word is what
    the list cue asks for — right after it, or right before a cue that ends the question."""
    for m in cues.overview_cue.finditer(question):
        after = question[m.end():].strip(" ？?。！!的")
        if after:
            if cues.money_topic.match(after[:6].lstrip("些项类种个")):
                return True
            continue
        before = re.sub(r"(?:都|还|一共|主要|具体|的|政策|标准|方面|有)+$", "", question[: m.start()])
        if any(before.endswith(w.group(0)) for w in cues.money_topic.finditer(before)):
            return True
    return False


def topic_logits(composer, sc: Scored, kinds=("unit",)) -> np.ndarray:
    """Selector logits with the features of the figure ``kinds`` neutral (set to their
    mean): which unit is about the question's topic, whether or not it names a body."""
    if sc.X is None or not len(sc.cands):
        return sc.logits
    X = sc.X.copy()
    for name in (f"fig_{k}" for k in kinds):
        if name in CANDIDATE_FEATURES:
            col = CANDIDATE_FEATURES.index(name)
            X[:, col] = composer.model.mean[col]
    return composer.model.logits(X)


def _best(logits: np.ndarray, sc: Scored, ok) -> int | None:
    for i in np.argsort(-logits, kind="stable"):
        if ok(sc.cands[int(i)]):
            return int(i)
    return None


def responsible(composer, sc: Scored, doc_chunks: Callable[[str], Sequence], allow=None, shapes: Shapes | None = None) -> list[Selected]:
    """The responsible unit of the item that matches the question's topic ([] when none is stated)."""
    s = shapes or load_shapes()
    ok = lambda c: not c.host and c.kind in ("sentence", "item", "note") and (allow is None or allow(sc.hits[c.hit]))  # noqa: E731
    lg = topic_logits(composer, sc)
    i = _best(lg, sc, ok)
    if i is None:
        return []
    if sc.X is not None:
        # among units scored about as well, or whose own heading covers more of the question (a lead-unit
        # note governs its section: 「一、加强梯度培育管理」 for 培育), the one covering the question's terms
        # with its headings, then the one whose own heading does (the document title covers every note alike)
        cov = context_coverage(sc.X)
        head = {j: coverage(sc.query, sc.hits[sc.cands[j].hit].chunk.section) for j in range(len(sc.cands)) if ok(sc.cands[j])}
        near = [j for j in head if lg[j] >= lg[i] - float(composer.params["second_margin"]) or head[j] > head[i]]
        i = max(near, key=lambda j: (round(float(cov[j]), 3), round(head[j], 3), float(lg[j])))
    c = sc.cands[i]
    h = sc.hits[c.hit]
    prob = float(1 / (1 + np.exp(-sc.logits[i])))
    if c.kind == "note" and coverage(sc.query, top_heading(h)) == 0 and about_title(sc.query, h.chunk.header.split("\n")[0]):
        governing = _governing_note(sc.query, doc_chunks(h.chunk.doc_id))
        if governing is not None:  # the section about the topic, which retrieval missed, names its lead unit
            return [Selected(Hit(chunk=governing, score=h.score, rank=h.rank), governing.responsible, prob,
                             intro=top_heading(Hit(chunk=governing, score=0.0, rank=0)), kind="note", start=-1)]
    segments = assignments(h.chunk.text, s.assignment_verbs, s.remaining_articles)
    if segments:  # the clause that assigns articles to units was chosen: the unit of the article about the topic
        chunks = doc_chunks(h.chunk.doc_id)
        own = len(sc.query.bigrams & bigrams(h.chunk.section + h.chunk.text))  # a question about that article itself stays
        n = topic_article(sc.query, chunks, exclude=article_of(h.chunk.section, h.chunk.text), above=own)
        a = assigned(segments, n) if n is not None else None
        if a is not None:
            topic = next((ch for ch in chunks if article_of(ch.section, ch.text) == n), None)
            intro = heading_of(Hit(chunk=topic, score=0.0, rank=0)) if topic is not None else heading_of(h)
            return [Selected(h, h.chunk.text[a.start:a.end], prob, intro=intro, kind="note", start=-1)]
    if c.kind == "note":  # the note of the passage whose heading matches the topic
        return [Selected(h, c.text, prob, intro=top_heading(h), kind="note", start=-1)]
    if s.unit_marker.search(c.text):  # the item names its unit itself
        return [Selected(h, c.text.strip(), prob, kind=c.kind, start=c.start)]
    own = _unit_sentence(h.chunk.text, c.start, s)  # …or in another sentence of the same item
    if own is not None:
        a, b = own
        return [Selected(h, h.chunk.text[a:b].strip(), prob, intro=heading_of(h), kind="note", start=-1)]
    if h.chunk.responsible:  # the note governing its passage (牵头单位：…；责任单位：…)
        return [Selected(h, h.chunk.responsible, prob, intro=top_heading(h), kind="note", start=-1)]
    art = article_of(h.chunk.section, h.chunk.text)
    if art is None:
        return []
    found = None
    for ch in sorted(doc_chunks(h.chunk.doc_id), key=lambda x: x.start):
        a = assigned(assignments(ch.text, s.assignment_verbs, s.remaining_articles), art)
        if a is not None and (found is None or (found[1].rest and not a.rest)):  # one naming the article wins
            found = (ch, a)
    if found is None:
        return []
    ch, a = found
    hit = Hit(chunk=ch, score=h.score, rank=h.rank)
    return [Selected(hit, ch.text[a.start:a.end], prob, intro=heading_of(h), kind="note", start=-1)]


def _governing_note(q, chunks: Sequence):
    """For a question whose words are all the document's title's (「徐州…专精特新企业培育…
    责任分工方案」 asked 「…专精特新企业培育的牵头单位是谁」: :func:`~policyqa.qa.features.about_title`):
    of the document's passages with a responsible-unit note (牵头单位：…), the one whose
    outermost heading covers the question's terms (「一、加强梯度培育管理」) more than any other
    section's heading does; None when no heading covers them or two cover them alike.  A note
    governs its section, so the question about the document's own topic is answered with the
    section named for it, though retrieval ranked other sections' items that mention the words
    in passing (「…上市培育计划…」 under 「七、特色金融稳企强企」)."""
    best, top, tie = None, 0.0, False
    seen = set()
    for ch in sorted(chunks, key=lambda x: x.start):
        if not ch.responsible:
            continue
        heading = top_heading(Hit(chunk=ch, score=0.0, rank=0))
        if not heading or heading in seen:
            continue
        seen.add(heading)
        cov = coverage(q, heading)
        if cov > top + 1e-9:
            best, top, tie = ch, cov, False
        elif cov > 0 and abs(cov - top) <= 1e-9:
            tie = True
    return None if best is None or tie else best


def topic_article(q, chunks: Sequence, exclude: int | None = None, above: int = 1) -> int | None:
    """The article number of ``chunks`` (one document's) about the question's topic: the one
    whose heading and text share the most of the question's bigrams, more than ``above`` (at
    least two) and more than any other article; None when no article stands out.  ``exclude``:
    an article not to pick (the assignment clause's own, whose overlap is ``above``)."""
    by_article: dict[int, str] = {}
    for c in chunks:
        n = article_of(c.section, c.text)
        if n is not None and n != exclude:
            by_article[n] = by_article.get(n, "") + c.section + c.text
    if not by_article:
        return None
    overlap = sorted(((len(q.bigrams & bigrams(t)), n) for n, t in by_article.items()), reverse=True)
    if overlap[0][0] <= max(1, above) or (len(overlap) > 1 and overlap[1][0] == overlap[0][0]):
        return None
    return overlap[0][1]


def cited_article(composer, q, sel: Selected, doc_chunks: Callable[[str], Sequence], limit: int = 3) -> Selected | None:
    """The unit of an article ``sel`` refers to by number (「第七条、第九条规定的小升规和专精特新
    奖励实行“免申即享”」 refers to the articles that state those rewards): of the articles it
    names (at most ``limit``, in its own document), the unit the selector scores highest for
    the question; None when it refers to none."""
    h = sel.hit
    if sel.start < 0 or h is None:
        return None
    own = article_of(h.chunk.section, h.chunk.text)
    refs = referenced(sel.text, own)[:limit]
    if not refs:
        return None
    chunks = sorted(doc_chunks(h.chunk.doc_id), key=lambda x: x.start)
    by_article: dict[int, list] = {}
    for c in chunks:
        n = article_of(c.section, c.text)
        if n in refs:
            by_article.setdefault(n, []).append(c)
    if not by_article:
        return None
    # the article about the question's topic: the most of the question's bigrams in its heading and text
    # (「小升规」 shares 升规 with 「第七条 支持小微企业升规」, not with the 小巨人 article cited beside it)
    overlap = {n: len(q.bigrams & bigrams(" ".join(c.section + c.text for c in cs))) for n, cs in by_article.items()}
    top = max(overlap.values())
    hits = [Hit(chunk=c, score=h.score, rank=h.rank) for n, cs in by_article.items() if overlap[n] == top for c in cs]
    got = composer.select(composer.score(q, hits))
    return got[0] if got else None


def _unit_sentence(text: str, at: int, s: Shapes) -> tuple[int, int] | None:
    """The sentence naming a unit within the numbered item of ``text`` that holds
    offset ``at`` (the whole text when it has no items), nearest after ``at``."""
    from policyqa.index.sentences import split_spans

    lo, hi = 0, len(text)
    for a, b in item_spans(text):
        if a <= at < b:
            lo, hi = a, b
            break
    else:
        if item_spans(text):
            return None  # the topic is outside every item: no item to take the unit of
    spans = [(a, b) for a, b in split_spans(text) if a >= lo and b <= hi and s.unit_marker.search(text[a:b])]
    if not spans:
        return None
    return min(spans, key=lambda sp: (sp[0] < at, abs(sp[0] - at)))


def enumeration(composer, sc: Scored, doc_chunks: Callable[[str], Sequence], allow=None, limit: int = 12,
                shapes: Shapes | None = None, newer: Callable[[str], str | None] | None = None) -> list[Selected]:
    """Every item of the enumeration the best answering unit belongs to, in document
    order ([] when it belongs to none: the caller falls back to the selector's list;
    the one item alone when the question names it as a programme of its own,
    :func:`_own_programme`).
    Each item's ``score`` is the selector's probability of the best scored unit inside it
    (0 for an item none of the question's top passages holds), so a caller keeping fewer
    items keeps those that answer.
    ``newer``: document id -> the id of its newer version in the knowledge base (or
    None); an enumeration of a superseded document is read from the newer one, under
    the same heading, when it has it."""
    s = shapes or load_shapes()
    ok = lambda c: not c.host and c.kind in ("sentence", "item") and (allow is None or allow(sc.hits[c.hit]))  # noqa: E731
    i = sc.best(ok)
    if i is None:
        return []
    c = sc.cands[i]
    h = sc.hits[c.hit]
    prob = float(1 / (1 + np.exp(-sc.logits[i])))
    new_id = newer(h.chunk.doc_id) if newer else None
    if new_id:
        same = _counterpart(h.chunk.section, sorted(doc_chunks(new_id), key=lambda x: x.start))
        if same:
            h = Hit(chunk=same[0], score=h.score, rank=h.rank)
            c = None
    chunks = sorted(doc_chunks(h.chunk.doc_id), key=lambda x: x.start)
    own = _items_of(h, prob, s)
    if len(own) >= 2:
        return _scored((own + _continued(h, chunks, prob, limit))[:limit], sc)
    path = [p for p in h.chunk.section.split(" > ") if p]
    # the passage introduces items that are passages of their own (「第二十三条 > （一）」…)
    kids = [ch for ch in chunks if _parent_is(ch, path)]
    if len(kids) >= 2:
        return _scored([_whole(ch, h, prob) for ch in kids[:limit]], sc)
    # the passage is one item of an enumeration split over passages: its siblings under the same heading
    if path and _ENUM_HEADING.match(path[-1]):
        parent = path[:-1]
        sibs = [ch for ch in chunks if _parent_is(ch, parent)]
        if len(sibs) >= 2:
            if _own_programme(composer, sc, h, sibs, parent):
                return _scored([_whole(h.chunk, h, prob)], sc)  # the programme asked, whole: its rules, conditions and caps
            if not parent:
                return []  # a document's top-level parts are the whole document, not an enumeration that answers
            return _scored([_whole(ch, h, prob) for ch in sibs[:limit]], sc)
    # an intro (「…不得用于以下支出：」) whose items open the next passage
    if (c is not None and s.list_intro.search(c.text.rstrip("。 "))) or s.list_intro.search(h.chunk.text.rstrip("。 \n")):
        after = [ch for ch in chunks if ch.start >= h.chunk.end - 1][:1]
        for ch in after:
            items = _items_of(Hit(chunk=ch, score=h.score, rank=h.rank), prob, s)
            if len(items) >= 2:
                return _scored(items[:limit], sc)
    return []


def _own_programme(composer, sc: Scored, h: Hit, sibs: Sequence, parent: list[str]) -> bool:
    """The item ``h`` is a programme of its own that the question names, not one part of
    an enumeration that answers as a whole: a topic word of the question
    (:meth:`ExtractiveComposer._list_topic`) is written in the item's own heading, and
    neither in the heading above the items nor in any other item (「（三）给予招工补贴」
    among 「（一）引进高层次人才」「（二）培育高技能人才」 for 「招工补贴要满足什么条件？」:
    the conditions are those of （三）, not the other programmes).  Conditions listed as
    items (「申报条件 > 1. 2. 3.」) are named by the heading above them, so they stay a list."""
    from policyqa.qa.cues import names_word

    topic = composer._list_topic(sc, h.chunk.doc_id)
    own = [p for p in h.chunk.section.split(" > ") if p][-1]
    above = " ".join(parent)
    others = [ch for ch in sibs if ch.chunk_id != h.chunk.chunk_id and ch.section != h.chunk.section]
    return any(names_word(t, own, composer.cues) and not names_word(t, above, composer.cues)
               and not any(names_word(t, ch.section + "\n" + ch.text, composer.cues) for ch in others)
               for t in topic)


def _scored(items: list[Selected], sc: Scored) -> list[Selected]:
    """``items`` with each score the selector's probability of the best candidate of ``sc``
    lying in it (same passage, overlapping span), 0 when none does."""
    probs = 1 / (1 + np.exp(-np.asarray(sc.logits, dtype=float)))
    out = []
    for it in items:
        cid, a, b = it.hit.chunk.chunk_id, it.start, it.start + len(it.text)
        inside = [float(probs[j]) for j, c in enumerate(sc.cands)
                  if sc.hits[c.hit].chunk.chunk_id == cid and c.start >= 0 and c.start < b and a < c.end]
        out.append(replace(it, score=max(inside, default=0.0)))
    return out


def items_after_intro(composer, sel: Selected, doc_chunks: Callable[[str], Sequence], limit: int = 12,
                      shapes: Shapes | None = None) -> list[Selected]:
    """The items a quoted intro announces (「专项资金不得用于以下支出：」): those of its own
    passage after it, or of the passages under it; [] when ``sel`` is no intro."""
    s = shapes or load_shapes()
    if sel.kind == "note" or sel.start < 0:
        return []
    colon = _INTRO_COLON.search(sel.text)  # 「有下列情形之一的，调出培育库：A的；」: the intro and the first item
    cut = colon.end() if colon else _first_item_after_colon(sel.text)  # 「可以通过三个渠道反映：一是…；」
    if cut is None and not s.list_intro.search(sel.text.rstrip("。 ")):
        return []
    h = sel.hit
    after = sel.start + (cut if cut is not None else len(sel.text) - 1)
    items = [x for x in _items_of(h, sel.score, s) if x.start >= after]
    if len(items) >= 2:
        return items[:limit]
    path = [p for p in h.chunk.section.split(" > ") if p]
    ordered = sorted(doc_chunks(h.chunk.doc_id), key=lambda x: x.start)
    kids = [ch for ch in ordered if _parent_is(ch, path)]
    if len(kids) >= 2:
        return [_whole(ch, h, sel.score) for ch in kids[:limit]]
    rows = _table_after(ordered, path, h.chunk.start + after)  # 「按下表给予补助：」: the rows of the table below it
    if len(rows) >= 2:
        return [_whole(ch, h, sel.score) for ch in rows[:limit]]
    return []


def table_rows(chunks: Sequence, row) -> list:
    """The rows of the table the row ``row`` is one of (``Chunk.kind == "table"``: each row is a
    chunk under the table's label in the section path), in document order."""
    table = row.section.rsplit(" > ", 1)[0]
    return sorted((ch for ch in chunks if ch.kind == "table" and ch.section.rsplit(" > ", 1)[0] == table), key=lambda ch: ch.start)


def _table_after(chunks: Sequence, path: list[str], at: int) -> list:
    """The rows of the first table under the heading ``path`` that starts at ``at`` or later."""
    first = next((ch for ch in sorted(chunks, key=lambda ch: ch.start)
                  if ch.kind == "table" and ch.start >= at and [p for p in ch.section.split(" > ") if p][:-2] == path), None)
    return [ch for ch in table_rows(chunks, first) if ch.start >= at] if first is not None else []


def _counterpart(section: str, chunks: Sequence) -> list:
    """The passages of a newer version that stand where ``section`` stood in the older one:
    the same heading path; else the same headings with their numbers left out (an article
    renumbered, 「第七条 降低用能成本」 -> 「第六条 降低用能成本」); else the enumerated items
    under the same parent heading (the article itself was dropped or renamed)."""
    same = [ch for ch in chunks if ch.section == section]
    if same:
        return same
    bare = lambda sec: [_ENUM_HEADING.sub("", p).strip() for p in sec.split(" > ") if p]  # noqa: E731
    same = [ch for ch in chunks if bare(ch.section) == bare(section)]
    if same:
        return same
    parent = [p for p in section.split(" > ") if p][:-1]
    return [ch for ch in chunks if parent and _parent_is(ch, parent)]


def enumeration_parent(h: Hit, doc_chunks: Callable[[str], Sequence]):
    """The passage whose text introduces the enumerated item ``h`` is (「（二十）严格信用约束
    有下列情形之一的企业，不得享受本措施：」 above 「… > 3.」); None when ``h`` is no item."""
    path = [p for p in h.chunk.section.split(" > ") if p]
    if len(path) < 2 or not _ENUM_HEADING.match(path[-1]):
        return None
    return next((ch for ch in doc_chunks(h.chunk.doc_id) if [p for p in ch.section.split(" > ") if p] == path[:-1]), None)


def _parent_is(chunk, parent: list[str]) -> bool:
    path = [p for p in chunk.section.split(" > ") if p]
    return len(path) == len(parent) + 1 and path[:-1] == parent and bool(_ENUM_HEADING.match(path[-1]))


_INTRO_COLON = re.compile(r"(?:下列|以下|如下)[^：:。]{0,20}[：:]")


def _first_item_after_colon(text: str) -> int | None:
    """Where an enumeration's first item starts right after a colon in ``text`` (「…反映：一是…」,
    「…申报：（一）…」, 「…条件：1.…」): the colon announces the items; None when none does."""
    for at, _, numeral in item_marks(text):
        if at > 0 and _number(numeral) == 1 and text[:at].rstrip().endswith(("：", ":")):
            return at
    return None


def _continued(h: Hit, chunks: Sequence, prob: float, limit: int) -> list[Selected]:
    """Items of an enumeration the chunker split off: when the passage's last numbered item
    runs to its end and the next passage of its section follows on directly, the items of
    that passage that go on numbering it (「四是…。」 | 「…格局。五是…」: 五是, 六是; a marker of
    another kind, or a number out of sequence, ends it)."""
    spans = item_spans(h.chunk.text)
    if not spans or h.chunk.text[spans[-1][1]:].strip():
        return []  # the enumeration ends inside this passage
    last = next(((k, _number(n)) for a, k, n in item_marks(h.chunk.text) if a == spans[-1][0]), None)
    out: list[Selected] = []
    cur = h.chunk
    while last is not None and last[1] is not None and len(out) < limit:
        nxt = next((c for c in chunks if c.doc_id == cur.doc_id and c.section == cur.section and 0 <= c.start - cur.end <= 2), None)
        if nxt is None:
            break
        text = nxt.text
        starts = []
        for a, kind, numeral in item_marks(text):
            if kind != last[0]:
                continue
            if _number(numeral) != last[1] + 1:
                break
            starts.append(a)
            last = (kind, last[1] + 1)
        if not starts:
            break
        hit = Hit(chunk=nxt, score=0.0, rank=h.rank)
        for a, b in zip(starts, starts[1:] + [None]):
            e = b if b is not None else (text.find("\n", a) if "\n" in text[a:] else len(text))
            out.append(Selected(hit, text[a:e].strip().rstrip("；;"), prob, intro=heading_of(h), kind="item", start=a))
        if text[e:].strip():
            break  # the enumeration ends inside this passage
        cur = nxt
    return out


def _number(numeral: str) -> int | None:
    return int(numeral) if numeral.isdigit() else chinese_number(numeral)


def _items_of(h: Hit, prob: float, s: Shapes | None = None) -> list[Selected]:
    """The numbered items of a passage; else the 「；」-separated clauses after an intro
    such as 「有下列情形之一的，调出培育库：A的；B的；C的。」."""
    text = h.chunk.text
    heading = heading_of(h)
    spans = item_spans(text)
    if len(spans) < 2:
        m = _INTRO_COLON.search(text)
        spans = []
        if m:
            pos = m.end()
            for part in re.finditer(r"[^；;。]+[；;。]?", text[m.end():]):
                a = m.end() + part.start()
                piece = part.group(0)
                if piece.strip(" ；;。\n"):
                    spans.append((a, a + len(piece)))
                if piece.endswith("。"):
                    break
            spans = spans if len(spans) >= 2 else []
    return [Selected(h, text[a:b].strip().rstrip("；;"), prob, intro=heading, kind="item", start=a) for a, b in spans]


def _whole(chunk, like: Hit, prob: float) -> Selected:
    hit = Hit(chunk=chunk, score=like.score if chunk.chunk_id == like.chunk.chunk_id else 0.0, rank=like.rank)
    return Selected(hit, chunk.text.strip(), prob, intro="", kind="item", start=0)
