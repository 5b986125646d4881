"""Compose cited extractive answers and render them as Markdown and plain text.

:class:`ExtractiveComposer` scores the candidates of the top passages
(:mod:`policyqa.qa.candidates`: sentences with their caps, numbered items,
responsible-unit notes, clause runs for trimming) with the learned selector
(``qa/models/selector.json``, features in :mod:`policyqa.qa.features`) and
decodes an answer: the best unit, trimmed by the learned trimmer
(:mod:`policyqa.qa.trim`) to the clause run that answers; a second unit only
for multi-part questions; every matching item in document order for list questions.  Rendering escapes
document text, so nothing in a document can become markup or a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from policyqa.corpus.chunk import PREAMBLE
from policyqa.corpus.types import DocMeta
from policyqa.index.types import Hit
from policyqa.qa.candidates import _CONDITION_END, Candidate, candidates, cases_intro
from policyqa.qa.cues import FIGURE_KINDS, GENERIC_WEIGHT, Cues, load_cues, names_word, present, present_kinds, states_exclusion, token_weight
from policyqa.qa.features import (CANDIDATE_FEATURES, Query, Reference, TermStats, candidate_features, candidate_features_ref, context_coverage, item_words,
                                  make_query, restates)
from policyqa.qa.model import LinearModel, load_model
from policyqa.qa.tiers import amount_ranges, applies, stated_amounts
from policyqa.qa.trim import Trimmer, allowed_runs, default_trimmer, trim_features
from policyqa.qa.types import Citation, Statement

_ITEM = re.compile(r"(?:(?<=[:：。；;\n])|^)\s*(\d{1,2})[、.．](?!\d)")
_YISHI = re.compile(r"(?:(?<=[:：。；;\n])|^)\s*([一二三四五六七八九十])是")

# Decoding settings used when the model file has none (``policyqa train`` chooses them on the tune halves).
DEFAULT_PARAMS = {"second_margin": 1.0, "list_min": 0.35, "list_max": 12, "depth": 8, "topic_margin": 0.25,
                  "restate": 0.6}


@dataclass(frozen=True)
class Selected:
    """One quoted unit of an answer: a verbatim span of ``hit.chunk`` (or its note)."""

    hit: Hit
    text: str  # the quote
    score: float  # selector probability
    items: tuple[str, ...] = ()
    intro: str = ""  # heading shown before a note or a list
    label: str = ""  # e.g. 「旧版（2021-05-20），已被…取代」
    kind: str = "sentence"
    start: int = 0
    lead: str = ""  # the intro a case of an enumeration is quoted after (「有下列情形之一的，不予享受本政策：」)


@dataclass
class Scored:
    """Candidates of a question's top passages with their selector logits."""

    query: Query
    hits: list[Hit]
    cands: list[Candidate]
    logits: np.ndarray
    X: np.ndarray = field(repr=False, default=None)
    ref: Reference | None = field(repr=False, default=None)  # the units relative features compare with

    def best(self, pred=None) -> int | None:
        order = np.argsort(-self.logits, kind="stable")
        for i in order:
            if pred is None or pred(self.cands[int(i)]):
                return int(i)
        return None


def enumerated_items(text: str) -> tuple[str, tuple[str, ...]]:
    """(intro, items) of a numbered enumeration 1、…2、… (or 一是…二是…) in a
    passage, in source order; ("", ()) when there is none."""
    for pat, first in ((_ITEM, "1"), (_YISHI, "一")):
        marks = list(pat.finditer(text))
        seq, expect = [], first
        cn = "一二三四五六七八九十"
        for m in marks:
            if m.group(1) == expect:
                seq.append(m)
                expect = str(int(expect) + 1) if expect.isdigit() else (cn[cn.index(expect) + 1] if expect != "十" else "")
        if len(seq) >= 3:
            items = []
            for a, b in zip(seq, seq[1:] + [None]):
                end = b.start() if b else len(text)
                item = text[a.end() : end].strip()
                if b is None:
                    m_end = re.search(r"[。；;]", item)
                    item = item[: m_end.end()] if m_end else item
                items.append(item.strip().rstrip("；;").strip())
            head = text[: seq[0].start()].strip()
            intro = re.split(r"(?<=[。！？!?])", head)
            intro = [s for s in intro if s.strip()]
            return (intro[-1].strip() if intro else ""), tuple(items)
    return "", ()


def _quote(text: str) -> str:
    """A clause run ends cleanly: no dangling comma or colon."""
    return text.strip().rstrip("，,；;：:、").strip()


class ExtractiveComposer:
    """Scores answer candidates with the learned selector and decodes answers.

    Args:
        tokenize: the index's tokenizer (question -> content tokens).
        model: the selector (default ``qa/models/selector.json``).
        cues: domain cue words (default ``qa/data/cues.json``).
        params: decoding settings (default: the model file's ``params``):
            ``second_margin`` (a second unit is quoted for a multi-part
            question when its logit is within this of the best), ``list_min`` /
            ``list_max`` (probability an item needs to be listed; most items),
            ``depth`` (passages read).
        trimmer: chooses the clause run of a sentence to quote
            (default ``qa/models/trimmer.json``; None: quote whole units).
        stats: corpus term statistics (IDF); set by the answerer.
        lookup: chunk id -> (sentence spans, vectors), the index's stored
            sentence vectors; None when dense features are unavailable.
    """

    def __init__(self, tokenize: Callable[[str], list[str]], model: LinearModel | None = None, cues: Cues | None = None,
                 params: Mapping | None = None, stats: TermStats | None = None, lookup=None, trimmer: Trimmer | None | str = "default"):
        self.tokenize = tokenize
        self.trimmer = default_trimmer() if trimmer == "default" else trimmer
        self.model = model or load_model("selector", CANDIDATE_FEATURES)
        self.cues = cues or load_cues()
        self.params = {**DEFAULT_PARAMS, **dict(self.model.params), **dict(params or {})}
        self.stats = stats
        self.lookup = lookup
        self.dense = True  # False: the index's embedding model is not the one the selector was fitted with

    def query(self, text: str, vector=None) -> Query:
        return make_query(text, self.tokenize, self.stats, vector, self.cues)

    def score(self, q: Query, hits: Sequence[Hit]) -> Scored:
        hits = list(hits)
        cands = candidates(hits, int(self.params["depth"]), self.cues)
        X, ref = candidate_features_ref(q, hits, cands, self.lookup, self.cues, self.dense)
        logits = self.model.logits(X) if len(cands) else np.zeros(0)
        return Scored(q, hits, cands, logits, X, ref)

    def _trim(self, sc: Scored, i: int) -> tuple[str, float, int]:
        """The unit's text, or the clause run of it the trimmer prefers (:mod:`policyqa.qa.trim`)."""
        c = sc.cands[i]
        base = float(sc.logits[i])
        if c.kind != "sentence" or self.trimmer is None:
            return c.text, base, c.start
        hit = sc.hits[c.hit]
        runs = allowed_runs(sc.query, c, hit, self.cues)
        if not runs:
            return c.text, base, c.start
        lg = self.model.logits(candidate_features(sc.query, sc.hits, runs, self.lookup, self.cues, self.dense, ref=sc.ref))
        j = self.trimmer.choose(trim_features(sc.query, c, runs, base, lg, hit.chunk.text, self.cues))
        if j is None:
            return c.text, base, c.start
        return _quote(runs[j].text), float(lg[j]), runs[j].start

    def select(self, sc: Scored, allow=None, unit_only: bool = False) -> list[Selected]:
        """The best unit (trimmed), plus a second unit when the question asks for
        more than the first states (several figure kinds, or a figure it lacks).
        ``unit_only``: only responsible-unit notes and clauses naming a body."""
        def ok(c):
            if c.host or c.kind == "clause" or (allow is not None and not allow(sc.hits[c.hit])):
                return False
            if c.kind == "note" and not (unit_only or "unit" in sc.query.kinds):
                return False  # a responsible-unit note answers only who is responsible
            return not unit_only or c.kind == "note" or "unit" in present_kinds(c.text, self.cues)
        i = sc.best(ok)
        if i is None:
            return []
        by_figure = i
        i = self._topic_first(sc, i, ok)
        i = self._stated_tier(sc, i, ok)
        i = self._item_asked(sc, i, ok)
        i = self._total_cap(sc, i, ok)
        out = [self._selected(sc, i)]
        first = sc.cands[i]
        kinds_first = present_kinds(first.text, self.cues)
        lacking = [k for k in sc.query.kinds if k not in kinds_first]
        if lacking and i == by_figure:  # (a clause chosen for its topic is not padded with another item's figure)
            margin = float(self.params["second_margin"])
            j = sc.best(lambda c: ok(c) and not _overlaps(c, first) and any(k in present_kinds(c.text, self.cues) for k in lacking))
            if j is not None and sc.logits[j] >= sc.logits[i] - margin:
                out.append(self._selected(sc, j))
        if sc.query.asks_cap and not any(self.cues.cap.search(o.text) for o in out):
            j = self._cap_after(sc, i, ok)
            if j is not None:
                out.append(self._selected(sc, j))
        return out

    def _total_cap(self, sc: Scored, i: int, ok) -> int:
        """For a question asking a cap on a total (「一家企业一年加起来最多能拿多少？」: cues.json
        total_words with a cap asked): the best unit of the chosen unit's document whose cap
        names the document itself (「单个企业年度累计享受本措施奖补资金不超过800万元」:
        document_self_words), not one item's own cap; the chosen unit when none does."""
        q = sc.query
        if not (q.asks_cap and self.cues.total.search(q.text)):
            return i
        def whole(c) -> bool:
            return bool(self.cues.cap.search(c.text) and self.cues.document_self.search(c.text)
                        and "amount" in present_kinds(c.text, self.cues))
        if whole(sc.cands[i]):
            return i
        doc = sc.hits[sc.cands[i].hit].chunk.doc_id
        j = sc.best(lambda c: ok(c) and sc.hits[c.hit].chunk.doc_id == doc and whole(c))
        if j is None:
            return i
        # 「专利奖励加起来最多多少」: a topic word the chosen unit names and the document's cap does not
        # asks that item's own total
        where = lambda k: sc.hits[sc.cands[k].hit].chunk.section + "\n" + sc.cands[k].text  # noqa: E731
        if any(names_word(t, where(i), self.cues) and not names_word(t, where(j), self.cues) for t in self._list_topic(sc, doc)):
            return i
        return j

    def _cap_after(self, sc: Scored, i: int, ok) -> int | None:
        """For a question asking a cap (封顶多少) whose chosen unit states none: the first unit
        after it in the same passage that states one (「…按10%补助；…按12%补助。单个项目补助最高
        不超过800万元。」: the cap limits the rules before it)."""
        c = sc.cands[i]
        after = [j for j, d in enumerate(sc.cands) if d.hit == c.hit and d.start >= c.end and ok(d) and self.cues.cap.search(d.text)]
        return min(after, key=lambda j: sc.cands[j].start) if after else None

    def _stated_tier(self, sc: Scored, i: int, ok) -> int:
        """When the question states a sum (「设备一共买了两千来万」) and the chosen unit's amount
        condition holds none of it (「300万元（含）至1000万元的」), the best unit of the same
        passage or of a sibling item (「2. 设备投资额1000万元（含）至5000万元的」) whose
        condition holds it (:mod:`policyqa.qa.tiers`)."""
        amounts = stated_amounts(sc.query.text)
        if not amounts or applies(amounts, amount_ranges(sc.cands[i].text)) is not False:
            return i
        home = sc.hits[sc.cands[i].hit].chunk
        fits = [j for j, c in enumerate(sc.cands) if j != i and _siblings(home, sc.hits[c.hit].chunk) and ok(c)
                and applies(amounts, amount_ranges(c.text))]
        return max(fits, key=lambda j: sc.logits[j]) if fits else i

    def _item_asked(self, sc: Scored, i: int, ok) -> int:
        """When the chosen unit states the asked amount or rate (cues.json ``item_figure_kinds``)
        for a sibling of the item asked (「主导制定国家标准、行业标准的企业…50万元、20万元」 for
        团体标准), the unit of the same document that names the item and states no amount, rate
        or other figure asked (「主导制定团体标准的奖励办法…另行制定」), best scored first: it
        states a word of the question naming an item that the chosen unit (its title and headings
        included) does not, and every topic word the chosen one states, and no unit stating the
        asked figure names all it names (:func:`~policyqa.qa.features.item_words`); it grants
        something (cues.json ``benefit_words``) and excludes no one.  The answer is then partial:
        the document gives no figure for the item (a preamble is not a rule)."""
        q = sc.query
        kinds = set(q.kinds)
        granted = self.cues.item_figures  # amount, rate
        if not kinds & granted or "unit" in kinds or q.wants_list or not kinds & present_kinds(sc.cands[i].text, self.cues):
            return i
        doc = sc.hits[sc.cands[i].hit].chunk.doc_id
        same = [j for j, c in enumerate(sc.cands) if ok(c) and sc.hits[c.hit].chunk.doc_id == doc]

        def text(j: int) -> str:
            return (sc.hits[sc.cands[j].hit].chunk.header + "\n" + sc.cands[j].text).lower()

        figured = [text(j) for j in same if kinds & present_kinds(sc.cands[j].text, self.cues)]
        chosen = text(i)
        for j in sorted(same, key=lambda j: -float(sc.logits[j])):
            c = sc.cands[j]
            if (sc.hits[c.hit].chunk.kind == "preamble" or (kinds | granted) & present_kinds(c.text, self.cues)
                    or not self.cues.benefit.search(c.text) or states_exclusion(c.text, self.cues)):
                continue
            if item_words(q, text(j), chosen, figured):
                return j
        return i

    def _topic_first(self, sc: Scored, i: int, ok) -> int:
        """When the asked figure pulls the choice to a clause about something else, the
        clause about the topic wins (and the answer is partial): the best candidate
        with the figure features neutral, or one scored within ``second_margin`` of it,
        covers the question's terms clearly better (``topic_margin`` of weighted
        coverage, question terms + heading)."""
        if not sc.query.kinds or sc.X is None:
            return i
        X = sc.X.copy()
        for name in ("fig_asked_absent", "fig_rank", *(f"fig_{k}" for k in self.cues.present)):
            col = CANDIDATE_FEATURES.index(name)
            X[:, col] = self.model.mean[col]
        lg = self.model.logits(X)
        cands = [j for j in range(len(sc.cands)) if ok(sc.cands[j])]
        top = max(lg[j] for j in cands)
        cov = context_coverage(sc.X)
        near = [j for j in cands if lg[j] >= top - float(self.params["second_margin"])]
        j = max(near, key=lambda j: (round(float(cov[j]), 3), lg[j]))
        if j != i and cov[j] >= cov[i] + float(self.params["topic_margin"]):
            return j
        return i

    def _selected(self, sc: Scored, i: int) -> Selected:
        c = sc.cands[i]
        h = sc.hits[c.hit]
        prob = float(1 / (1 + np.exp(-sc.logits[i])))
        if c.kind == "note":
            return Selected(h, c.text, prob, intro=top_heading(h), kind="note", start=-1)
        text, _, start = self._trim(sc, i)
        text, start = self._drop_restatement(sc, text, start)
        text = self._with_next(sc, i, text)
        lead = cases_intro(h.chunk.text, start) if start > 0 else ""
        return Selected(h, text, prob, kind=c.kind, start=start, lead=lead if lead and lead not in text else "")

    def _with_next(self, sc: Scored, i: int, text: str) -> str:
        """A unit that only says again what the question asks (「市自来水集团调整了疫情防控期间查表、
        送单等业务的服务方式」 for 「…如何调整…服务方式？」: at least ``restate`` of its character
        bigrams are the question's, it states no figure the question asks and has no word of its
        own) announces the answer that follows it: the next unit of its passage is quoted with it."""
        limit = float(self.params.get("restate", 1.1))
        c = sc.cands[i]
        if limit > 1.0 or sc.query.wants_list or c.kind not in ("sentence", "item") or restates(sc.query, text) < limit:
            return text
        if set(sc.query.kinds) & present_kinds(text, self.cues):
            return text
        if any(t not in sc.query.text for t in self.tokenize(text) if len(t) >= 2 and t not in self.cues.generic):
            return text  # a word of its own (「红、橙、黄、绿四色」 for 「哪四种颜色」): it answers
        after = [d for d in sc.cands if d.hit == c.hit and d.kind in ("sentence", "item") and d.start >= c.end and not d.host]
        if not after:
            return text
        return text + min(after, key=lambda d: d.start).text

    def _drop_restatement(self, sc: Scored, text: str, start: int) -> tuple[str, int]:
        """Leading clauses that only restate the question are not the answer
        (「对于因疫情影响暂停举办的展会项目，」 for 「…暂停举办的展会项目有何支持政策？」):
        a leading clause whose character bigrams are at least ``restate`` covered by
        the question's is dropped, and so are clause numbers; figures, caps and
        conditions (「…的，」: what the figure after it is for) are never dropped, nor the last clause,
        nor a clause with a word of its own the question does not say (「对新认定的国家级绿色工厂，」
        for 「…省级绿色工厂…」: that word tells which rule the figure is for)."""
        limit = float(self.params.get("restate", 1.1))
        if limit > 1.0 or sc.query.wants_list:
            return text, start
        from policyqa.qa.features import bigrams

        out, off = text, start
        while True:
            m = re.match(r"\s*(?:\d{1,3}[.、．]|[（(]\d{1,3}[)）]|[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)?([^，,；;：:]{2,}?[，,；;：:])", out)
            if not m or m.end() >= len(out.rstrip("。；;")):
                break
            clause = m.group(1)
            grams = bigrams(clause)
            if not grams or present_kinds(clause, self.cues) or self.cues.cap.search(clause):
                break
            if _CONDITION_END.search(clause):
                break  # 「成功上市的，」 is the condition the figure after it is for (as the trimmer keeps it)
            if len(grams & sc.query.bigrams) / len(grams) < limit:
                break
            if any(t not in sc.query.text for t in self.tokenize(clause[:-1]) if len(t) >= 2 and t not in self.cues.generic):
                break  # 「对新认定的国家级绿色工厂，」 for 「市级绿色工厂…」: a word of its own (国家级) says which rule this is
            if _bare_figure(out[m.end():], self.cues):
                break  # what is left would not say what it is for (a table row's 「20万元」)
            out, off = out[m.end():], off + m.end()
        return out, off

    def select_list(self, sc: Scored, allow=None) -> list[Selected]:
        """Every matching item of the best document, in document order (list and overview questions)."""
        ok = lambda c: not c.host and c.kind in ("sentence", "item") and (allow is None or allow(sc.hits[c.hit]))  # noqa: E731
        i = sc.best(ok)
        if i is None:
            return []
        doc = sc.hits[sc.cands[i].hit].chunk.doc_id
        probs = 1 / (1 + np.exp(-sc.logits))
        floor = float(self.params["list_min"])
        # 「有哪些奖励/补贴」: a listed clause states an amount or a rate, and is about the question's topic
        money = bool(self.cues.money_topic.search(sc.query.text))
        topic = self._list_topic(sc, doc) if money else ()
        picked: list[int] = []
        for j in np.argsort(-sc.logits, kind="stable"):
            j = int(j)
            c = sc.cands[j]
            if not ok(c) or sc.hits[c.hit].chunk.doc_id != doc:
                continue
            if money:  # every clause of the document stating an amount or a rate
                if not ({"amount", "rate"} & present_kinds(c.text, self.cues)):
                    continue
                where = sc.hits[c.hit].chunk.section + "\n" + c.text
                if topic and not any(names_word(t, where, self.cues) for t in topic):
                    continue  # 「漯河对企业技术改造有什么奖励？」 does not list the targets of 「二、发展目标」
            elif probs[j] < floor and j != i:
                continue
            if any(_overlaps(c, sc.cands[k]) for k in picked):
                continue
            picked.append(j)
            if len(picked) >= int(self.params["list_max"]):
                break
        picked.sort(key=lambda j: (sc.hits[sc.cands[j].hit].chunk.start, sc.cands[j].start))
        return [Selected(sc.hits[sc.cands[j].hit], sc.cands[j].text, float(probs[j]), intro=heading_of(sc.hits[sc.cands[j].hit]),
                         kind=sc.cands[j].kind, start=sc.cands[j].start) for j in picked]


    def _list_topic(self, sc: Scored, doc: str) -> tuple[str, ...]:
        """The question's topic words (not generic, not asking for a figure, not a money word)
        that tell the clauses of ``doc`` apart: a word its title or region gives every clause
        (数字经济 in 《…数字经济…》, the place) does not."""
        heads = [sc.hits[c.hit].chunk.header for c in sc.cands if sc.hits[c.hit].chunk.doc_id == doc]
        asks = sc.query.asks or ("",) * len(sc.query.tokens)
        words = [t for t, w, k in zip(sc.query.tokens, sc.query.weights, asks)
                 if len(t) >= 2 and not k and w > 0 and token_weight(t, self.cues) > GENERIC_WEIGHT
                 and not self.cues.money_topic.fullmatch(t)]
        words = [t for t in words if not any(t != u and t in u for u in words)]  # 技术改造, not its 技术
        return tuple(t for t in words if not (heads and all(present(t, h, self.cues) for h in heads)))


def _siblings(a, b) -> bool:
    """Two chunks are one passage, or items under one heading of one document."""
    return a.chunk_id == b.chunk_id or (a.doc_id == b.doc_id and " > " in a.section
                                        and a.section.rsplit(" > ", 1)[0] == b.section.rsplit(" > ", 1)[0])


def _bare_figure(text: str, cues: Cues) -> bool:
    """``text`` is figures and little else (「20万元」, 「10%，最高50万元」): fewer than two
    Chinese characters besides its figures and cap words."""
    rest = cues.cap.sub("", text)
    for k in FIGURE_KINDS:
        rest = cues.present[k].sub("", rest)
    return len(re.findall(r"[\u4e00-\u9fff]", rest)) < 2


def heading_of(h: Hit) -> str:
    """The passage's own innermost heading; "" for text before a document's first heading."""
    parts = [p for p in h.chunk.section.split(" > ") if p and p != PREAMBLE]
    return parts[-1] if parts else ""


def top_heading(h: Hit) -> str:
    """The passage's outermost heading (a note's intro: the article or part it governs); ""
    for text before a document's first heading (「前言」 is our label, not the document's)."""
    parts = [p for p in h.chunk.section.split(" > ") if p and p != PREAMBLE]
    return parts[0] if parts else ""


def _overlaps(a: Candidate, b: Candidate) -> bool:
    if a.hit != b.hit:
        return False
    if a.start < 0 or b.start < 0:
        return a.start == b.start
    return a.start < b.end and b.start < a.end


def citation_for(n: int, sel: Selected, docs: Mapping[str, DocMeta], quote: str) -> Citation:
    c = sel.hit.chunk
    meta = docs.get(c.doc_id) or DocMeta(doc_id=c.doc_id)
    return Citation(
        n=n,
        doc_id=c.doc_id,
        chunk_id=c.chunk_id,
        title=meta.title,
        doc_number=meta.doc_number,
        issuer=meta.issuer,
        date=meta.date,
        region=meta.region,
        section=c.section,
        text=quote,
        score=float(sel.hit.score),
        passage=c.text,
    )


def statements_from(selected: Sequence[Selected], docs: Mapping[str, DocMeta], first_n: int = 1, as_list: bool = False) -> tuple[list[Statement], list[Citation]]:
    """One statement and one numbered citation per selected unit; units quoted
    from the same chunk share a citation number."""
    statements, citations = [], []
    by_chunk: dict[str, int] = {}
    for sel in selected:
        meta = docs.get(sel.hit.chunk.doc_id) or DocMeta(doc_id="")
        cid = sel.hit.chunk.chunk_id
        if sel.kind == "note":
            text = f"{sel.intro}：{sel.text}" if sel.intro else sel.text
        elif as_list and sel.intro:
            # (a heading the quote already says, a table row's label, adds nothing)
            text = f"{sel.intro}：{sel.text}" if not sel.text.startswith(sel.intro[:4]) and sel.intro not in sel.text else sel.text
        elif sel.lead:  # a case of an enumeration says what it is a case of
            text = f"{sel.lead}{sel.text}"
        else:
            text = sel.text
        if cid in by_chunk:
            n = by_chunk[cid]
            c = citations[n - first_n]
            citations[n - first_n] = Citation(**{**c.__dict__, "text": c.text + ("" if sel.text in c.text else " …" + sel.text)})
        else:
            n = first_n + len(citations)
            by_chunk[cid] = n
            citations.append(citation_for(n, sel, docs, sel.text))
        statements.append(Statement(text, n, meta.region, label=sel.label, bullet=as_list))
    return statements, citations


# --- rendering ---------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~])")


def md_escape(text: str) -> str:
    """Escape text for Markdown so that it renders literally (no links, no HTML)."""
    text = text.replace("&", "&amp;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def source_line(c: Citation) -> str:
    title = f"《{c.title}》" if c.title else c.doc_id
    parts = [title + (f"（{c.doc_number}）" if c.doc_number else "")]
    parts += [p for p in (c.issuer, c.date, c.region, c.section) if p]
    return "，".join(parts)


def render_plain(statements: Sequence[Statement], citations: Sequence[Citation], lead: str = "", notes: Sequence[str] = (), label_regions: bool = True) -> str:
    lines: list[str] = []
    if lead:
        lines += [lead, ""]
    for st in statements:
        tag = f"【{st.region}】" if label_regions and st.region else ""
        tag += f"（{st.label}）" if st.label else ""
        tag = ("- " + tag) if st.bullet else tag
        if st.is_list:
            lines.append(f"{tag}{st.text}[{st.n}]" if st.text else f"{tag}[{st.n}]")
            lines += [f"  {j}. {it}" for j, it in enumerate(st.items, 1)]
        else:
            lines.append(f"{tag}{st.text}[{st.n}]" if st.n else f"{tag}{st.text}")
    for note in notes:
        lines += ["", f"提示：{note}"]
    if citations:
        lines += ["", "来源："]
        for c in citations:
            lines.append(f"[{c.n}] {source_line(c)}")
            lines.append(f"    原文：“{c.text}”")
    return "\n".join(lines).strip()


def render_markdown(statements: Sequence[Statement], citations: Sequence[Citation], lead: str = "", notes: Sequence[str] = (), label_regions: bool = True) -> str:
    out: list[str] = []
    if lead:
        out += [md_escape(lead), ""]
    for st in statements:
        # 【**region**】: CommonMark only bolds **…** here when the markers sit inside the brackets
        tag = f"【**{md_escape(st.region)}**】" if label_regions and st.region else ""
        tag += f"（{md_escape(st.label)}）" if st.label else ""
        tag = ("- " + tag) if st.bullet else tag
        mark = f"<sup>[{st.n}]</sup>" if st.n else ""
        if st.is_list:
            out.append(f"{tag}{md_escape(st.text)}{mark}")
            out.append("")
            out += [f"{j}. {md_escape(it)}" for j, it in enumerate(st.items, 1)]
            out.append("")
        else:
            out.append(f"{tag}{md_escape(st.text)}{mark}")
            if not st.bullet:
                out.append("")
    for note in notes:
        out += [f"> ⚠️ {md_escape(note)}", ""]
    if citations:
        out += ["**来源**", ""]
        for c in citations:
            out.append(f"{c.n}. {md_escape(source_line(c))}  ")
            out.append(f"   原文：“{md_escape(c.text)}”")
    return "\n".join(out).strip()


def beyond_heading(sel: Selected) -> Selected:
    """A quote that only repeats its passage's heading (「第一条 支持企业家培训。」) says
    nothing: the passage's whole clause is quoted instead (when it is short)."""
    c = sel.hit.chunk
    head = re.sub(r"\s+", "", sel.text.rstrip("。. "))
    if sel.kind == "note" or not head or head not in re.sub(r"\s+", "", c.section) or len(c.text) > 300:
        return sel
    return replace(sel, text=c.text.strip(), start=0)
