"""Question -> typed decision -> cited answer (or an honest refusal).

``Answerer`` runs typed steps: check the input -> resolve a follow-up ->
retrieve -> read the question's shape (single, list, comparison, responsible
unit) -> score the candidates of the top passages (learned selector) ->
decide (:class:`policyqa.qa.decision.Decision`: answered, partial,
refused_out_of_corpus, refused_region, invalid) with a calibrated
answerability probability (learned, ``qa/models/answerable.json``) -> render
the texts from the decision (:mod:`policyqa.qa.reply`; -> optional LLM, checked).  Use
:func:`policyqa.qa.service.make_answerer` to wire one over an index: the
service and the evaluation share it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from datetime import date
from typing import Callable, Mapping, Sequence

import numpy as np

from policyqa.corpus.clean import normalize_query
from policyqa.corpus.jurisdiction import NATIONAL, doc_jurisdiction
from policyqa.corpus.turns import asks, turn_role
from policyqa.corpus.types import DocMeta
from policyqa.index.types import Filters, Hit
from policyqa.qa.conversation import FollowupSteps, turn
from policyqa.qa.compose import ExtractiveComposer, Scored, Selected, beyond_heading, enumerated_items, heading_of
from policyqa.qa.cues import asked_kinds, asks_exclusion, asks_list, comparison_topic, full_forms, present_kinds, states_exclusion, with_synonyms
from policyqa.qa.decision import Decision, Reason, RegionPart
from policyqa.qa.features import (ANSWERABILITY_FEATURES, CANDIDATE_FEATURES, TermStats, answerability_features, document_texts,
                                  coverage, joined_passages, region_absent, unknown_terms, weight_share)
from policyqa.qa.glossary import with_chinese_terms
from policyqa.qa.guard import check_question
from policyqa.qa.model import LinearModel, load_model
from policyqa.qa.shapes import (
    asked_document_facts,
    cited_article,
    asks_overview,
    document_fact_text,
    enumeration,
    enumeration_parent,
    items_after_intro,
    load_shapes,
    responsible,
    table_rows,
)
from policyqa.qa.regions import asked_regions, docs_for, names_joined_places, own_objects, region_label, strip_regions, without_inner
from policyqa.qa.reply import refusal_answer, reply
from policyqa.qa.versions import named_docs, named_version, newer_first, newer_versions, similar
from policyqa.qa.types import Answer, Turn

_COV = CANDIDATE_FEATURES.index("cov")
DEFAULT_TOP_K = 10  # passages retrieved per question (service and evaluation alike)
MAX_PER_REGION = 3  # quoted units per region in a comparison
OTHER_PLACES = 2  # other places whose rules a question about a place without one is offered
EACH_PLACE = 3  # places whose rules a figure question naming no place gets, when several places' documents state one
EXCLUSION_DEPTH = 5  # top passages whose units may answer who is excluded from a benefit
SET_ASIDE = -50.0  # the logit of a unit set aside for a question's shape (probability ~0)
DEFAULT_THRESHOLD = 0.5


class Answerer(FollowupSteps):
    """Answers questions from a retriever's hits.

    Args:
        retriever: anything with ``search(query, k, filters) -> list[Hit]``;
            a ``dense`` attribute with ``query_vectors`` (index.hybrid) lets
            the answer stage reuse the question's vector.
        composer: an :class:`ExtractiveComposer` (the learned selector).
        docs: document id -> metadata (titles, regions, dates, versions).
        tokenize: the index tokenizer.
        top_k: hits retrieved per question.
        llm: optional :class:`policyqa.qa.llm.LLMRewriter`; off when None.
        today: the date expired-policy notes are judged against.
        answerable: the answerability model (default ``qa/models/answerable.json``);
            its ``params["threshold"]`` was chosen on the tune halves.
        sentences: the index's :class:`policyqa.index.sentences.SentenceIndex`
            (stored sentence vectors), or None.
        items: returns the index's policy items (an ``ItemCatalog``) when first
            needed: eligibility and comparison questions are answered from them
            (:mod:`policyqa.qa.eligibility`); None: never.
        other_places: when the asked place's documents lack the rule, the other places
            (among those of the best passages) whose rule is offered, each judged on its
            own passages, labelled with its place.
        each_place: a question asking a figure that names no place, when the documents of
            several places state a rule for it: the places (at most this many, best-ranked
            first) whose rule is given, one labelled statement each; 0 or 1: the best rule only.
    """

    def __init__(self, retriever, composer: ExtractiveComposer, docs: Mapping[str, DocMeta], tokenize: Callable[[str], list[str]],
                 top_k: int = DEFAULT_TOP_K, llm=None, today: Callable[[], date] = date.today,
                 answerable: LinearModel | None = None, sentences=None, dense_features: bool = True, items: Callable | None = None,
                 other_places: int = OTHER_PLACES, each_place: int = EACH_PLACE):
        self.retriever = retriever
        self.other_places = other_places
        self.each_place = each_place
        self._n_places: int | None = None  # places with documents of their own (:meth:`_each_place`)
        self.composer = composer
        self.docs = docs
        self.tokenize = tokenize
        self.top_k = top_k
        self.llm = llm
        self.today = today
        self.answerable = answerable or load_model("answerable", ANSWERABILITY_FEATURES)
        self.threshold = float(self.answerable.params.get("threshold", DEFAULT_THRESHOLD))
        # a question naming a region whose topic words its documents lack while another region's passage
        # states them (:func:`region_absent`) is read as about that other region's rule; chosen by
        # ``policyqa train`` on the tune halves (absent from a model file: the check is off)
        ra = self.answerable.params.get("region_absent_min")
        self.region_absent_min = float(ra) if ra is not None else None
        self.sentences = sentences
        self.dense_features = dense_features
        composer.dense = dense_features
        self.cues = composer.cues
        self._stats_ready = False
        self._units: dict[str, list] | None = None
        self._texts: dict[str, str] = {}  # document id -> its text, lower case (:meth:`_doc_texts`)
        self.items = items

    # -- public ---------------------------------------------------------------

    def answer(self, question: str, history: Sequence[Turn | dict | str] | None = None, filters: Filters | None = None, top_k: int | None = None) -> Answer:
        t0 = time.perf_counter()
        try:
            return self._answer(question, history, filters, top_k or self.top_k, t0)
        except Exception as e:  # never let an exception reach the user; log it for us
            logging.getLogger(__name__).exception("answer failed for %r", question)
            reply = "抱歉，处理这个问题时出错了，请换个说法再试。"
            return Answer(question or "", question or "", reply, reply, refused=True, kind="invalid", decision=Reason.INVALID.value,
                          timings_ms={"retrieve": 0.0, "compose": 0.0, "total": _ms(t0)}, llm={"error": f"{type(e).__name__}: {e}"})

    # -- setup ----------------------------------------------------------------

    def _search(self, text: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """Retrieval for a question: searched with the synonyms of its words (:func:`with_synonyms`);
        a hit only BM25 found gets its cosine to the question too (:func:`with_dense_scores`)."""
        searched = with_synonyms(text, self.cues)
        hits = self.retriever.search(searched, k=k, filters=filters)
        longer = written_out(text, hits, self.tokenize, self.cues)
        if longer:  # searched again with the full forms the passages write
            searched = f"{searched}（{' '.join(longer)}）"
            hits = self.retriever.search(searched, k=k, filters=filters)
        return with_dense_scores(hits, self.retriever, searched)

    def _prepare(self) -> None:
        """Corpus term statistics and the sentence-vector lookup, once."""
        if self._stats_ready:
            return
        chunks = getattr(self.retriever, "chunks", None) or {}
        if self.composer.stats is None and chunks:
            self.composer.stats = TermStats.from_texts([c.indexed_text() for c in chunks.values()], self.tokenize)
        if self.composer.lookup is None and self.sentences is not None and self._encoder() is not None and self.dense_features:
            self.composer.lookup = self.sentences.lookup
        self._stats_ready = True

    def _encoder(self):
        dense = getattr(self.retriever, "dense", None)
        return getattr(dense, "query_vectors", None)

    def _query(self, text: str, vector=None):
        """Features' view of the question; ``vector`` reuses a vector already computed
        (the question without its place names is embedded as the question itself)."""
        enc = self._encoder()
        vec = vector
        if vec is None and enc is not None and self.composer.lookup is not None:  # the vector retrieval computed
            vec = np.asarray(enc([with_synonyms(text, self.cues)])[0], dtype=np.float32)
        return self.composer.query(text, vec)

    # -- steps ----------------------------------------------------------------

    def _answer(self, question, history, filters, top_k, t0) -> Answer:
        checked = check_question(question)
        if checked.reply:
            return invalid_answer(question, t0)
        self._prepare()
        resolved, follow, prev_docs = self._resolve(checked.text, history, filters)
        out = self._attempt(question, checked, resolved, follow, prev_docs, history, filters, top_k, t0)
        if isinstance(out, Answer) or follow is not None or not out[1].refused or asked_regions(checked.text, self.docs):
            return out if isinstance(out, Answer) else self._render(question, *out, t0)
        # refused as a question of its own, though it may continue the previous turn without the cues
        # that mark a follow-up (「到期以后怎么办？」, 「那银行这边有没有配套的金融产品？」): read in that
        # context it is answered, or the refusal stands
        context = self._in_context(checked.text, history, filters)
        if context is not None:
            again = self._attempt(question, checked, *context, history, filters, top_k, t0)
            if not isinstance(again, Answer) and not again[1].refused:
                return self._render(question, *again, t0)
        return self._render(question, *out, t0)

    def _attempt(self, question, checked, resolved, follow, prev_docs, history, filters, top_k, t0):
        """An Answer (from policy items) or what rendering needs: (resolved, decision, hits,
        retrieval ms, compose start)."""
        if checked.english:  # searched and scored with the Chinese words of its policy terms
            resolved = with_chinese_terms(resolved)
        try:  # issue 13: eligibility questions through matching, comparisons from items
            from_items = self._from_items(question, checked.text, resolved, history, filters, t0)
        except Exception:  # a failure there never costs the ordinary answer
            logging.getLogger(__name__).exception("answer from policy items failed for %r", question)
            from_items = None
        if from_items is not None:
            return from_items
        t1 = time.perf_counter()
        regions = [] if (filters and filters.region) else asked_regions(resolved, self.docs)
        hits = newer_first(self.docs, self._search(resolved, k=max(top_k, 30) if regions else top_k, filters=filters), resolved)
        named = sorted(named_docs(self.docs, resolved) | named_version(self.docs, resolved))
        if named and not (filters and filters.doc_ids):  # a question naming a document (by its 文号 or title) is answered from it first
            within = self._search(resolved, k=top_k, filters=Filters(doc_ids=tuple(named)))
            if within:
                n = max(len(hits), len(within))
                hits = within + [h for h in hits if h.chunk.doc_id not in named]
                hits = [replace(h, rank=i + 1) for i, h in enumerate(hits[:n])]
        if prev_docs and not regions:  # a follow-up stays within the previous turn's documents when they mention it
            within = self._search(resolved, k=top_k, filters=Filters(doc_ids=tuple(prev_docs)))
            if within:
                hits = within + [h for h in hits if h.chunk.doc_id not in prev_docs]
                hits = [replace(h, rank=i + 1) for i, h in enumerate(hits[:top_k])]
        t_retrieve = _ms(t1)
        t2 = time.perf_counter()
        q = self._query(resolved)
        english = checked.english
        # a follow-up moving to another place (「那宿迁呢？」): should the new place have no such rule, the
        # previous turn's place is the other place shown, the one the user compares it with
        prefer = tuple(prev_docs or (follow[3] if follow is not None else ()))
        facts = asked_document_facts(resolved)
        doc_d = self._document(resolved, facts, regions, hits, named) if facts else None
        if doc_d is not None:
            d = doc_d
        elif len(regions) >= 2 and self._is_comparison(resolved, regions):
            d = self._compare(resolved, q, regions, hits, top_k)
            if d.refused:  # no region's documents judged about the topic alone: as a question about the places together
                d = self._regional(resolved, q, regions, hits, top_k, english, prefer)
        elif regions:
            d = self._regional(resolved, q, regions, hits, top_k, english, prefer)
        else:
            d = self._decide(q, hits, english, filters, top_k)
            if follow is None and not prev_docs and not named and not (filters and not filters.is_empty()):
                d = self._each_place(resolved, q, d, english, top_k)
        d = self._followup_outcome(d, follow, resolved, q, checked.text, prev_docs, history, top_k)
        return resolved, d, hits, t_retrieve, t2

    # -- decisions --------------------------------------------------------------

    def _p_answerable(self, sc: Scored, english: bool, allow=None, outside: Sequence[Hit] | None = None) -> float:
        i = sc.best(lambda c: not c.host and c.kind != "clause" and (allow is None or allow(sc.hits[c.hit])))
        if i is None:
            return 0.0
        best_logit = float(sc.logits[i])
        best_cov = float(sc.X[i][_COV]) if sc.X is not None else 0.0
        x = answerability_features(sc.query, sc.hits, best_logit, best_cov, english, self.cues, dense=self.dense_features, outside=outside)
        return float(self.answerable.proba(x[None, :])[0])

    def _decide(self, q, hits: Sequence[Hit], english: bool, filters, top_k: int, outside: Sequence[Hit] | None = None) -> Decision:
        """Single-scope question: answer, partial answer, or refusal (``outside``: for a
        scope of one region's documents, the best passages of the others, as in :meth:`_regional`)."""
        if not hits:
            return Decision(Reason.REFUSED_OUT_OF_CORPUS)
        sc = self.composer.score(q, hits)
        p = self._p_answerable(sc, english, outside=outside)
        if p < self.threshold:
            return self._partial(q, hits, english, outside=outside) or Decision(Reason.REFUSED_OUT_OF_CORPUS, p_answerable=p, nearest=self._nearest(hits))
        selected, shape = self._select(q, sc, filters, top_k)
        if not selected:
            return Decision(Reason.REFUSED_OUT_OF_CORPUS, p_answerable=p, nearest=self._nearest(hits))
        selected, shape = self._complete_intro(selected, shape, q)
        selected = self._respective(q, sc, selected, shape)
        selected, shape = self._table_rows(q, sc, selected, shape)
        selected = self._with_cited(q, selected, shape)
        selected = self._versions(q, selected, top_k)
        missing = self._missing(q, selected)
        reason = Reason.PARTIAL if missing else Reason.ANSWERED
        return Decision(reason, tuple(selected), missing=tuple(missing), shape=shape, p_answerable=p)

    def _document(self, question: str, facts: Sequence[str], regions, hits: Sequence[Hit], named: Sequence[str]) -> Decision | None:
        """A question about a document itself (when it was issued, by whom, how long it
        applies): answered from that document's metadata, cited; the document is the one
        the question names, else the best-ranked one of the asked region's own (a national
        document applies there too, but 「醴陵的新政策什么时候施行」 asks about 醴陵's), else of
        the documents applying there, else the best-ranked."""
        region_docs = {d for r in regions for d in docs_for(r, self.docs)} if regions else None
        if regions and not region_docs:
            return None
        own = {d for d in region_docs if self._has_own([d])} if region_docs else set()
        doc_id = (next(iter(named), None) or next((h.chunk.doc_id for h in hits if h.chunk.doc_id in own), None)
                  or self._titled(question, [h.chunk.doc_id for h in hits if region_docs is None or h.chunk.doc_id in region_docs]))
        if doc_id is None and region_docs:
            got = self._search(question, k=1, filters=Filters(doc_ids=tuple(sorted(own or region_docs))))
            doc_id = got[0].chunk.doc_id if got else None
        meta = self.docs.get(doc_id) if doc_id else None
        if meta is None:
            return None
        text, missing = document_fact_text(meta, facts)
        if not text:
            return None
        chunks = sorted(self._doc_chunks(doc_id), key=lambda c: c.start)
        if not chunks:
            return None
        clue = (meta.validity.split(" / ")[0] if "validity" in facts and meta.validity else "")
        chunk = next((c for c in chunks if clue and clue in c.text), chunks[0])
        hit = next((h for h in hits if h.chunk.chunk_id == chunk.chunk_id), Hit(chunk=chunk, score=0.0, rank=1))
        names = tuple(region_label(r) for r in regions)
        kinds = tuple("date" if f != "issuer" else "unit" for f in missing)
        return Decision(Reason.PARTIAL if missing else Reason.ANSWERED, (Selected(hit, text, 1.0, kind="document", start=-1),),
                        regions=names, missing=tuple(dict.fromkeys(kinds)), shape="document")

    def _complete_intro(self, selected: list[Selected], shape: str, q=None) -> tuple[list[Selected], str]:
        """A single quote that only announces items (「…不得用于以下支出：」) is completed
        with those items, as a list; not when it states the figure a question that asks for
        no list asks (「认定工作每年组织一次，…须符合以下条件：」 for 「多长时间组织一次」), unless
        the question asks a cap and the intro states none (「投资额300万元以上的…按以下标准给予补助：」
        for 「最多能拿多少」: its figure is a threshold)."""
        if len(selected) != 1 or shape not in ("single", "unit"):
            return selected, shape
        head = re.split(r"[：:]", selected[0].text, maxsplit=1)[0]  # the intro itself, without the items it announces
        if (q is not None and q.kinds and not q.wants_list and set(q.kinds) & present_kinds(head, self.cues)
                and (not q.asks_cap or self.cues.cap.search(head))):  # a cap asked: a threshold (投资额300万元以上) is no answer
            return selected, shape
        items = items_after_intro(self.composer, selected[0], self._doc_chunks, int(self.composer.params["list_max"]))
        return (items, "list") if items else (selected, shape)

    def _respective(self, q, sc: Scored, selected: list[Selected], shape: str) -> list[Selected]:
        """「从国家级到市级分别奖励多少」: a question asking several figures at once (``cues.json``
        ``respective_cues``) whose chosen clause states only some of them is answered with the run of
        clauses of that sentence from the chosen one to the farthest that states an asked kind of figure
        and names a word of the question the chosen clause (and its heading) does not."""
        if shape != "single" or len(selected) != 1 or not q.kinds or not self.cues.respective.search(q.whole):
            return selected
        s = selected[0]
        if s.start < 0 or s.kind not in ("sentence", "item"):
            return selected
        chunk = s.hit.chunk
        text, a = chunk.text, s.start
        b = a + len(s.text)
        missing = self._unnamed(q, s.text + chunk.section)
        if not missing:
            return selected
        lo, hi = a, b
        for c in sc.cands:
            if (sc.hits[c.hit].chunk.chunk_id != chunk.chunk_id or c.host or c.start < 0 or c.kind not in ("sentence", "item")
                    or a < c.end and c.start < b):
                continue
            between = text[c.end:a] if c.end <= a else text[b:c.start]
            if re.search(r"[。！？!?\n]", between) or not (set(q.kinds) & present_kinds(c.text, self.cues)):
                continue  # another sentence, or no asked figure
            if any(t in c.text for t in missing):
                lo, hi = min(lo, c.start), max(hi, c.end)
        if (lo, hi) == (a, b):
            return selected
        return [replace(s, text=text[lo:hi].strip(), start=lo, lead="")]

    def _unnamed(self, q, seen: str, whole: bool = False) -> list[str]:
        """The question's topic words (two characters or more; not generic, not question or
        respective words) that ``seen`` (a quote and its heading) does not name; ``whole``: the
        words of the question as asked, its place names included (「玉林市级」 names a level)."""
        tokens = dict.fromkeys(t.lower() for t in self.tokenize(q.whole)) if whole and q.asked else q.tokens
        return [t for t in tokens if len(t) >= 2 and t not in seen and t not in self.cues.generic
                and not self.cues.question_word.search(t) and not self.cues.respective.search(t)]

    def _table_rows(self, q, sc: Scored, selected: list[Selected], shape: str) -> tuple[list[Selected], str]:
        """One row of a table (``Chunk.kind == "table"``: every row is a unit of its own) chosen
        for a question asking several things at once is answered with the rows of that table it
        asks, in table order: for a list question asking a figure (哪几类…比例多少) every row stating an
        asked kind of figure; for 「从国家级到市级分别奖多少」 (``respective_cues``) the rows from the chosen one to
        the farthest naming a word of the question the chosen row does not — as :meth:`_respective`
        reads the clauses of one sentence.  At most ``list_max`` rows; otherwise unchanged."""
        if len(selected) != 1 or shape not in ("single", "list") or selected[0].hit.chunk.kind != "table":
            return selected, shape
        respective = bool(q.kinds) and bool(self.cues.respective.search(q.whole))
        if not (respective or q.wants_list):
            return selected, shape
        s = selected[0]
        chunk = s.hit.chunk
        rows = table_rows(self._doc_chunks(chunk.doc_id), chunk)
        at = next((i for i, c in enumerate(rows) if c.chunk_id == chunk.chunk_id), None)
        if at is None or len(rows) < 2:
            return selected, shape
        if respective:
            missing = self._unnamed(q, s.text + chunk.section, whole=True)  # place-named levels too (「玉林市级」)
            named = [i for i, c in enumerate(rows) if i != at and any(t in c.text for t in missing)]
            if not named:
                return selected, shape
            chosen = rows[min(at, *named) : max(at, *named) + 1]
        else:  # a list of figures (「哪几类设备能补？比例各是多少」); a list of conditions is no list of a table's rows
            kinds = [k for k in q.kinds if k != "unit"]
            if not kinds:
                return selected, shape
            chosen = [c for c in rows if set(kinds) & self._stated(c.text)]
        limit = int(self.composer.params["list_max"])
        if len(chosen) < 2 or len(chosen) > limit:
            return selected, shape
        ranked = {h.chunk.chunk_id: h for h in sc.hits}
        out = [s if c.chunk_id == chunk.chunk_id else
               Selected(ranked.get(c.chunk_id) or Hit(chunk=c, score=0.0, rank=len(sc.hits) + 1), c.text, s.score, kind="sentence", start=0)
               for c in chosen]
        return out, "list"

    def _with_cited(self, q, selected: list[Selected], shape: str) -> list[Selected]:
        """A single quote that lacks the figure asked and refers to other articles by number
        (「第七条规定的小升规奖励实行免申即享」 for 「小升规奖多少」) is preceded by the unit of
        those articles that answers the question (:func:`cited_article`) when that unit states it."""
        if shape != "single" or not selected or not q.kinds:
            return selected
        first = selected[0]
        lacking = [k for k in q.kinds if k not in self._stated(" ".join(s.text for s in selected))]
        if not lacking:
            return selected
        got = cited_article(self.composer, q, first, self._doc_chunks)
        if got is None or any(s.hit.chunk.chunk_id == got.hit.chunk.chunk_id and s.start == got.start for s in selected):
            return selected
        return [got, *selected] if any(k in self._stated(got.text) for k in lacking) else selected

    def _partial(self, q, hits: Sequence[Hit], english: bool, outside: Sequence[Hit] | None = None) -> Decision | None:
        """Topic found, the figure asked not stated: the passages are judged about the
        question's topic alone (the same answerability model, no figure kind asked);
        when they are, the closest clause with a plain "not stated" (Reason.PARTIAL)."""
        if not q.kinds or not hits:
            return None
        q0 = replace(q, kinds=())
        sc = self.composer.score(q0, hits)
        p0 = self._p_answerable(sc, english, outside=outside)
        if p0 < self.threshold:
            return None
        selected = [beyond_heading(s) for s in self.composer.select(sc)[:1]]
        if not selected:
            return None
        if "unit" in q.kinds and self._missing(q, selected):
            # who is responsible for the rule found: the unit its item is assigned to (a note, an article
            # of responsibilities 「第1—3条由县工信局…负责」), as the question would have got it judged whole
            named = responsible(self.composer, sc, self._doc_chunks)
            if named and not self._missing(q, named):
                selected = named
        missing = tuple(self._missing(q, selected))  # the figure may be there after all, in words the cues miss
        return Decision(Reason.PARTIAL if missing else Reason.ANSWERED, tuple(selected), missing=missing, p_answerable=p0)

    def _stated(self, text: str) -> set[str]:
        """Figure kinds a text states; a clause naming its responsible body (由…负责,
        责任单位 …: ``qa/data/shapes.json``) states the unit."""
        out = set(present_kinds(text, self.cues))
        if load_shapes().unit_marker.search(text):
            out.add("unit")
        return out

    def _select(self, q, sc: Scored, filters, top_k: int, allow=None) -> tuple[list[Selected], str]:
        interview = self._interview_answer(q.text, sc.hits)
        if interview is not None and allow is None:
            return interview, "interview"
        excluding = self._exclusions(q, sc, allow)
        if excluding is not None:  # who is excluded: only units stating an exclusion answer
            sc = excluding
            if (q.wants_list or not q.kinds) and "unit" not in q.kinds:
                listed = self._exclusion_list(sc)
                if listed:  # one exclusion is a single unit, not the enumeration around it
                    return listed, "list" if len(listed) >= 2 else "single"
        if q.wants_list and "unit" not in q.kinds:
            i = sc.best(lambda c: not c.host and c.kind in ("sentence", "item") and (allow is None or allow(sc.hits[c.hit])))
            if i is None:
                return [], "list"
            best_hit = sc.hits[sc.cands[i].hit]
            # an overview of rewards (「有哪些奖励/补贴」): every clause of the best document stating one
            overview = asks_overview(q.text, self.cues)
            if overview:
                doc_id = best_hit.chunk.doc_id
                if doc_id not in named_version(self.docs, q.whole):  # a superseded document's list is read from its newer version
                    doc_id = next(iter(newer_versions(self.docs, doc_id)), doc_id)
                more = self._document_hits(q.text, doc_id, max(top_k, 40))
                if more:
                    composer = self.composer
                    old_depth = composer.params["depth"]
                    composer.params = {**composer.params, "depth": len(more)}
                    try:
                        sc2 = composer.score(q, more)
                    finally:
                        composer.params = {**composer.params, "depth": old_depth}
                    listed = self.composer.select_list(sc2)
                    if len(listed) >= 2:
                        return listed, "list"
            else:  # conditions, materials, steps: the items of the enumeration that answers
                named = named_version(self.docs, q.whole)  # the version the question names is read, not its newer one
                listed = enumeration(self.composer, sc, self._doc_chunks, allow, int(self.composer.params["list_max"]),
                                     newer=lambda d: None if d in named else next(iter(newer_versions(self.docs, d)), None))
                if len(listed) >= 2:
                    return listed, "list"
                if listed:  # the one programme the question names, whole
                    return listed, "single"
                same = lambda h: h.chunk.chunk_id == best_hit.chunk.chunk_id  # noqa: E731
                listed = self.composer.select_list(sc, same)
                if len(listed) >= 2:
                    return listed, "list"
        if "unit" in q.kinds:  # a responsible unit: the note (or sentence naming a body) of the item that matches
            named = responsible(self.composer, sc, self._doc_chunks, allow) or self.composer.select(sc, allow, unit_only=True)
            if named:
                return self._with_figure(q, sc, named, allow), "unit"
        return self.composer.select(sc, allow), "single"

    def _titled(self, question: str, ranked: Sequence[str]) -> str | None:
        """Of the documents of the top passages (in rank order), the best-ranked; when the question
        points at a document by what it is about (「这个新型工业化政策」: ``shapes.json``
        ``document_deixis``), the one whose title holds most of the question's words."""
        docs = list(dict.fromkeys(d for d in ranked if d in self.docs))
        if not docs or not load_shapes().document_deixis.search(question):
            return docs[0] if docs else None
        words = [t for t in self.tokenize(question) if len(t) >= 2 and t not in self.cues.generic]
        return min(enumerate(docs), key=lambda i_d: (-sum(1 for w in words if w in self.docs[i_d[1]].title), i_d[0]))[1]

    def _exclusions(self, q, sc: Scored, allow=None) -> Scored | None:
        """For a question asking who or what is excluded from a benefit (:func:`asks_exclusion`):
        the scores with every unit set aside that neither states an exclusion
        (:func:`states_exclusion`) nor is a case an exclusion intro lists (「有下列情形之一的，
        不得享受本措施：」 above its item), when a unit of the top ``EXCLUSION_DEPTH`` passages
        is one; None otherwise (the question is answered as any other)."""
        if not asks_exclusion(q.text, self.cues):
            return None
        listed = {}
        for h in sc.hits[:EXCLUSION_DEPTH]:
            parent = enumeration_parent(h, self._doc_chunks)
            listed[h.chunk.chunk_id] = parent is not None and self._intro_excludes(parent.text)
        keep = np.array([not c.host and c.kind in ("sentence", "item") and c.hit < EXCLUSION_DEPTH
                         and (allow is None or allow(sc.hits[c.hit]))
                         and (listed[sc.hits[c.hit].chunk.chunk_id] or states_exclusion(c.text, self.cues)) for c in sc.cands], dtype=bool)
        if not keep.any():
            return None
        return replace(sc, logits=np.where(keep, sc.logits, SET_ASIDE))

    def _intro_excludes(self, text: str) -> bool:
        """The last sentence of ``text`` announces items (ends with a colon) and states an exclusion."""
        last = re.split(r"(?<=[。；;])", text.strip())[-1].strip()
        return bool(load_shapes().list_intro.search(last)) and states_exclusion(last, self.cues)

    def _exclusion_list(self, sc: Scored) -> list[Selected]:
        """Who is excluded (「哪些情况享受不了」, 「什么样的企业不能申报」): every unit of the
        best one's document that states an exclusion (``sc`` as :meth:`_exclusions` leaves
        it), in document order, each intro (「有下列情形之一的，不得享受本措施：」) with the
        cases it lists; at most ``list_max``."""
        keep = [j for j in range(len(sc.cands)) if sc.logits[j] > SET_ASIDE]
        if not keep:
            return []
        limit = int(self.composer.params["list_max"])
        best = max(keep, key=lambda j: sc.logits[j])
        doc = sc.hits[sc.cands[best].hit].chunk.doc_id
        probs = 1 / (1 + np.exp(-np.asarray(sc.logits, dtype=float)))
        units: list[Selected] = []
        for j in keep:
            c, h = sc.cands[j], sc.hits[sc.cands[j].hit]
            if h.chunk.doc_id != doc:
                continue
            parent = enumeration_parent(h, self._doc_chunks)
            if parent is not None and self._intro_excludes(parent.text):  # a listed case: its intro, which lists them all
                intro = re.split(r"(?<=[。；;])", parent.text.strip())[-1].strip()
                h = Hit(chunk=parent, score=h.score, rank=h.rank)
                units.append(Selected(h, intro, float(probs[j]), intro=heading_of(h), kind="sentence", start=parent.text.rfind(intro)))
            else:
                units.append(Selected(h, c.text, float(probs[j]), intro=heading_of(h), kind=c.kind, start=c.start))
        units.sort(key=lambda s: (s.hit.chunk.start, s.start))
        out: list[Selected] = []
        taken: list[Selected] = []  # the units quoted, and the intros whose cases are
        for sel in units:
            if any(o.hit.chunk.chunk_id == sel.hit.chunk.chunk_id and o.start <= sel.start < o.start + max(len(o.text), 1) for o in taken):
                continue  # the same unit, or one of the cases an intro before it lists
            items = items_after_intro(self.composer, sel, self._doc_chunks, limit)
            head = re.split(r"[：:]", sel.text, maxsplit=1)[0].strip()
            quoted = [replace(it, intro=head) for it in items] if items else [sel]
            out += quoted
            taken += [sel, *quoted]
        return out[:limit]

    def _with_figure(self, q, sc: Scored, named: list[Selected], allow=None) -> list[Selected]:
        """A question asking a figure too (「补多少？找哪个部门？」): the unit that states it, then
        the responsible unit, when that does not state the figure itself."""
        figures = [k for k in q.kinds if k != "unit"]
        if not figures or any(set(figures) & self._stated(s.text) for s in named):
            return named
        first = next((s for s in self.composer.select(sc, allow) if s.kind != "note" and set(figures) & self._stated(s.text)), None)
        if first is None or any(first.text in s.text or s.text in first.text for s in named):
            return named
        return [first, *named]

    def _document_hits(self, question: str, doc_id: str, limit: int) -> list[Hit]:
        """The chunks of one document as hits: ranked ones first (their retrieval scores),
        then the rest in document order; at most ``limit``."""
        ranked = self._search(question, k=limit, filters=Filters(doc_ids=(doc_id,)))
        seen = {h.chunk.chunk_id for h in ranked}
        rest = sorted((c for c in self._doc_chunks(doc_id) if c.chunk_id not in seen), key=lambda c: c.start)
        out = list(ranked)
        for c in rest[: max(0, limit - len(out))]:
            out.append(Hit(chunk=c, score=0.0, rank=len(out) + 1))
        return out

    def _missing(self, q, selected: Sequence[Selected]) -> list[str]:
        if not q.kinds:
            return []
        stated = set()
        for s in selected:
            stated |= self._stated(s.text + " ".join(s.items))
            if s.kind == "note":
                stated.add("unit")
        return [k for k in q.kinds if k not in stated] if not any(k in stated for k in q.kinds) else []

    def _regional(self, resolved: str, q, regions, hits: Sequence[Hit], top_k: int, english: bool, prefer: Sequence[str] = ()) -> Decision:
        """A question about a named region: its documents answer it, or we say they don't
        and offer other regions' rules, each labelled with its region (those of the documents
        ``prefer``, the previous turn's, when they state it)."""
        names = tuple(region_label(r) for r in regions)
        own_docs = sorted({d for r in regions for d in docs_for(r, self.docs)})
        # judged without the region's name, on the topic alone: within the region's documents every
        # clause states it through its header, so the name is coverage for all of them; other
        # regions' passages lack it by definition
        general = strip_regions(resolved, self.docs, keep=self.cues.abroad)
        gq = replace(self._query(general, q.vector), asked=resolved) if general else q  # the version it names is the whole question's
        in_text = self._named_in_text(gq, [h for h in hits if h.chunk.doc_id not in own_docs][:top_k], regions)
        region_docs = sorted(set(own_docs) | in_text)
        regional = [h for h in hits if h.chunk.doc_id in region_docs][:top_k]
        if region_docs and not regional:
            regional = newer_first(self.docs, self._search(resolved, k=top_k, filters=Filters(doc_ids=tuple(region_docs))), resolved)
        region_only: list[Selected] = []
        unknown: tuple[str, ...] = ()  # asked words the knowledge base never writes (:meth:`_unknown`)
        answered: Decision | None = None  # the region's own answer, held back while another region's is looked at
        p_region = 0.0
        others = [h for h in hits if h.chunk.doc_id not in region_docs][:top_k]
        if regional:
            sc = self.composer.score(gq, regional)
            p_region = self._p_answerable(sc, english, outside=others)  # judged against what other regions state
            if p_region >= self.threshold:
                selected, shape = self._select(gq, sc, Filters(doc_ids=tuple(region_docs)), top_k)
                selected, shape = self._complete_intro(selected, shape, gq)
                selected = self._respective(gq, sc, selected, shape)
                selected, shape = self._table_rows(gq, sc, selected, shape)
                selected = self._with_cited(gq, selected, shape)
                selected = self._versions(gq, selected, top_k)
                missing = self._missing(gq, selected)
                if selected and not missing:  # from national documents alone when the region has none of its own
                    answered = Decision(Reason.ANSWERED, tuple(selected), regions=names, shape=shape, p_answerable=p_region,
                                        region_has_docs=self._has_own(region_docs),
                                        named_in_text=any(s.hit.chunk.doc_id in in_text for s in selected))
                    if not self._elsewhere(gq, region_docs, others):
                        unknown = self._unknown(gq, region_docs, others)
                        if not unknown:
                            return answered
                        answered = None  # nothing in the knowledge base is about it: the clause is only the nearest
                region_only = selected[:1]
            elif (part := self._partial(gq, regional, english, outside=others)) is not None:
                if part.reason == Reason.ANSWERED and not (unknown := self._unknown(gq, region_docs, others)):
                    return replace(part, regions=names, region_has_docs=self._has_own(region_docs),
                                   named_in_text=any(s.hit.chunk.doc_id in in_text for s in part.selected))
                region_only, p_region = list(part.selected), part.p_answerable or 0.0
        if region_only and not unknown:  # its closest clause, the figure asked not stated: about a word no document writes?
            unknown = self._unknown(gq, region_docs, others)
        selected: list[Selected] = []
        others = [h for h in hits if h.chunk.doc_id not in own_docs][:top_k]  # (with those read as the place's)
        preferred = [h for h in hits if h.chunk.doc_id in prefer and h.chunk.doc_id not in own_docs][:top_k]
        if preferred:
            selected = self._other_rule(gq, preferred, english, top_k, Filters(doc_ids=tuple(prefer)))[1]
        if not selected and others:
            selected = self._other_rule(gq, others, english, top_k)[1]
            # more places that state it, each judged on its own passages (a document that states no
            # place is not another place: it was read with the others above)
            shown = {self._place_of(s.hit.chunk.doc_id) for s in selected}
            for pool in self._by_place(others):
                if len(shown) >= self.other_places:
                    break
                if self._place_of(pool[0].chunk.doc_id) in shown or not self._placed(pool[0].chunk.doc_id):
                    continue
                more = self._other_rule(gq, pool, english, top_k)[1]
                if more:
                    selected += more
                    shown.add(self._place_of(pool[0].chunk.doc_id))
        if answered is not None and not selected:  # no other region states it either: the region's own answer
            return answered
        if unknown and region_only:
            # the place's nearest clause under a lead naming the unknown words; no other place's rule follows:
            # none is about a word no document writes
            return Decision(Reason.REFUSED_REGION, tuple(region_only), regions=names, region_has_docs=self._has_own(own_docs),
                            p_answerable=p_region, own_closest=True, unknown=unknown)
        if region_only and not selected:
            return Decision(Reason.PARTIAL, tuple(region_only), regions=names, missing=tuple(self._missing(gq, region_only)), p_answerable=p_region,
                            region_has_docs=self._has_own(region_docs), named_in_text=any(s.hit.chunk.doc_id in in_text for s in region_only))
        if not selected and not region_only:
            return Decision(Reason.REFUSED_REGION, regions=names, region_has_docs=self._has_own(own_docs), nearest=self._nearest(hits))
        placed = [self._placed(s.hit.chunk.doc_id) for s in selected]
        return Decision(Reason.REFUSED_REGION, tuple(region_only + selected), regions=names, region_has_docs=self._has_own(own_docs),
                        missing=tuple(self._missing(gq, region_only)) if region_only else (), p_answerable=p_region,
                        unplaced=not all(placed), other_regions=any(placed), own_closest=bool(region_only))

    def _each_place(self, resolved: str, q, d: Decision, english: bool, top_k: int) -> Decision:
        """A question asking a figure (not a list) that names no place, over the documents of
        several places, whose rules differ from place to place (「入规能奖多少」): the rule of each
        place among the best passages whose own passages answer it (as :meth:`_other_rule` judges
        another place's) and cover as much of the question as any, one labelled part per place,
        best-ranked place first, at most ``each_place``, with a lead saying that the question names
        no place and the rules differ.  ``d`` (the single best rule, or the refusal) when fewer
        than two places answer so, or when ``d`` quotes a rule that applies everywhere (a
        national document)."""
        if self.each_place < 2 or not q.kinds or q.wants_list or d.reason == Reason.INVALID or d.shape == "interview":
            return d
        if d.selected and not self._local(d.selected[0].hit.chunk.doc_id):
            return d
        if self._n_places is None:  # the documents are fixed for an answerer: counted once
            self._n_places = len({self._place_of(doc) for doc in self.docs if self._local(doc)})
        if self._n_places < 2:
            return d  # one place's documents (and national ones) only: nothing to tell apart
        wide = self._search(resolved, k=max(30, top_k))
        pools = [g for g in self._by_place(wide) if self._local(g[0].chunk.doc_id)]
        if len(pools) < 2:
            return d
        found = []  # (place, its units, how much of the question they cover), best-ranked place first
        for pool in pools[: self.each_place + 2]:
            selected = self._other_rule(q, pool[:top_k], english, top_k)[1]
            if selected:
                cov = max(coverage(q, s.hit.chunk.section + "\n" + s.text) for s in selected)
                found.append((self._place_of(pool[0].chunk.doc_id), selected, cov))
        # a place's rule covering less of what is asked than another's is not the same rule: only those covering as much
        best = max((c for _, _, c in found), default=0.0)
        parts = [RegionPart(place, _best_in_order(sel, MAX_PER_REGION)) for place, sel, c in found if c >= best][: self.each_place]
        if len(parts) < 2:
            return d
        return Decision(Reason.ANSWERED, tuple(s for p in parts for s in p.selected), regions=tuple(p.region for p in parts),
                        shape="comparison", parts=tuple(parts), place_unasked=True)

    def _local(self, doc_id: str) -> bool:
        """The document is a place's own (its jurisdiction known and not national)."""
        m = self.docs.get(doc_id)
        if m is None:
            return False
        j = doc_jurisdiction(m)
        return j.known and j.level != "national"

    def _other_rule(self, gq, pool: Sequence[Hit], english: bool, top_k: int, filters=None) -> tuple[float, list[Selected]]:
        """Another place's rule for ``gq`` from ``pool`` (its passages): the answerability and
        the selected units, none when it is below the threshold or lacks the asked figure."""
        sc = self.composer.score(gq, pool)
        p = self._p_answerable(sc, english)
        if p < self.threshold:
            return p, []
        selected, _ = self._select(gq, sc, filters, top_k)
        selected = self._versions(gq, selected, top_k)
        return p, ([] if self._missing(gq, selected) else selected)

    def _place_of(self, doc_id: str) -> str:
        """The place a document applies to (its jurisdiction), or its id when it states none."""
        m = self.docs.get(doc_id)
        return (m.jurisdiction if m is not None else "") or doc_id

    def _by_place(self, hits: Sequence[Hit]) -> list[list[Hit]]:
        """``hits`` grouped by the place their documents apply to (:meth:`_place_of`), the
        groups in the order of their best-ranked passage."""
        groups: dict[str, list[Hit]] = {}
        for h in hits:
            groups.setdefault(self._place_of(h.chunk.doc_id), []).append(h)
        return list(groups.values())

    def _elsewhere(self, q, region_docs: Sequence[str], others: Sequence[Hit]) -> bool:
        """Whether ``q``, asked about the region whose documents are ``region_docs``, is about
        another region's rule: enough of its topic words (:func:`region_absent`, at least
        ``region_absent_min``) are in none of the region's documents but in the other regions'
        best passages (「长葛…小巨人到期复核…」: 复核 is only in 绵阳's rules)."""
        if self.region_absent_min is None or not others or not region_docs:
            return False
        return region_absent(q, self._doc_texts(region_docs), joined_passages(others)) >= self.region_absent_min

    def _unknown(self, q, region_docs: Sequence[str], others: Sequence[Hit]) -> tuple[str, ...]:
        """The question's topic words that the knowledge base never writes (:func:`unknown_terms`)
        when they weigh at least ``region_absent_min`` of it, as :meth:`_elsewhere`'s words
        written elsewhere do; else ().  「宿迁对企业招用残疾人有什么补贴？」: no document mentions
        残疾人, so 宿迁's clause on 补助 is its nearest text, not a rule on it."""
        if self.region_absent_min is None or not region_docs:
            return ()
        self._prepare()
        if self.composer.stats is None:
            return ()
        terms = unknown_terms(q, self._doc_texts(region_docs), joined_passages(others), self.composer.stats)
        return tuple(terms) if weight_share(q, terms) >= self.region_absent_min else ()

    def _from_items(self, question: str, text: str, resolved: str, history, filters: Filters | None, t0: float) -> Answer | None:
        """An eligibility question answered through matching, or a comparison across
        regions from policy items (:mod:`policyqa.qa.eligibility`); None: answer as usual."""
        if self.items is None or (filters and not filters.is_empty()):
            return None
        from policyqa.qa import eligibility as el

        past = [resolved] + [turn(h).resolved_question or turn(h).question for h in reversed(history or [])]
        ask = el.read_question(text, self.docs, [region_label(r) for p in past for r in asked_regions(p, self.docs)][:1])
        chunks = getattr(self.retriever, "chunks", None) or {}

        def passage(cid: str) -> str:
            c = chunks.get(cid) if hasattr(chunks, "get") else None
            return c.text if c is not None else ""

        regions = asked_regions(resolved, self.docs)
        comparing = len(regions) >= 2 and self._is_comparison(resolved, regions)
        if ask.is_eligibility and not comparing:  # 「在平阴和谷城，企业新引进博士…分别…」 compares two places' rules
            ans, _, _ = el.eligibility_answer(question, resolved, ask, self.items().all_items(), self.docs, passage, today=self.today())
        else:
            if not comparing:
                return None
            ans = el.comparison_answer(question, resolved, strip_regions(resolved), [region_label(r) for r in regions],
                                       self.items().all_items(), self.docs, chunks.values(), passage, today=self.today())
        if ans is None:
            return None
        t1 = time.perf_counter()  # the passages retrieval ranks for it, kept with the answer (``Answer.hits``)
        hits = self._search(resolved, k=self.top_k)
        return replace(ans, hits=tuple(hits), timings_ms={**ans.timings_ms, "retrieve": _ms(t1), "total": _ms(t0)})

    def _placed(self, doc_id: str) -> bool:
        """The document states its place (or is national): its rule is another region's, not
        one that may apply anywhere (:meth:`Jurisdiction.known`)."""
        m = self.docs.get(doc_id)
        return m is None or doc_jurisdiction(m).known

    def _named_in_text(self, gq, outside: Sequence[Hit], regions) -> set[str]:
        """The document of the passage outside the place's own documents that answers the question
        best on its topic alone (``gq``, without the place names, so a passage is not chosen for
        naming the place), when that document states no place but the passage, its heading or its
        title names the asked place or a place in it (「广东税务第一时间…」): it is read as the
        place's.  Empty otherwise."""
        if not any(not self._placed(h.chunk.doc_id) and self._names_place(h, regions) for h in outside):
            return set()
        sc = self.composer.score(gq, outside)
        i = sc.best(lambda c: not c.host)
        if i is None:
            return set()
        h = sc.hits[sc.cands[i].hit]
        return {h.chunk.doc_id} if not self._placed(h.chunk.doc_id) and self._names_place(h, regions) else set()

    def _names_place(self, hit: Hit, regions) -> bool:
        """The passage, its heading or its document's title names one of ``regions`` or a place inside one."""
        from policyqa.corpus.regions import find_mentions

        m = self.docs.get(hit.chunk.doc_id)
        text = "\n".join([m.title if m is not None and m.title else "", hit.chunk.section, hit.chunk.text])
        return any(r == p or r.contains(p) for x in find_mentions(text) for p in x.regions for r in regions)

    def _has_own(self, doc_ids: Sequence[str]) -> bool:
        """Some of these documents (those applying to a region) are the region's own or its
        city's or province's, not only national ones that apply everywhere."""
        return any((m := self.docs.get(d)) is not None and m.jurisdiction != NATIONAL for d in doc_ids)

    def _is_comparison(self, question: str, regions) -> bool:
        """Two or more places asked together: a comparison cue (分别, 各是, 对比 …), a word
        asking for a difference (一样, 区别 …) or places joined by 和/与/跟/及/、, also after
        a qualifier of the first (「谷城2021年那版和平阴」, 「谷城（2024版）和平阴」)."""
        if self.cues.comparison_cue.search(question) or self.cues.difference.search(question):
            return True
        return names_joined_places(question, self.docs)

    def _compare(self, resolved: str, q, regions, hits: Sequence[Hit], top_k: int) -> Decision:
        """One labelled statement per region, each decided like a single-region question
        (the question without its place names, over that region's documents alone): a
        region whose closest clause states no figure of the kind asked is quoted with a
        plain "not stated"; a region whose documents are not about it says so."""
        general = strip_regions(resolved, self.docs, keep=self.cues.abroad)
        # embedded without the place names and the comparing words (区别, 分别 …): each region is judged
        # on the topic alone; the kinds asked and whether a list is asked are the whole question's
        # (comparing rewards asks amounts; 「有啥不同」 asks no list, though 「有啥」 is left)
        topic = comparison_topic(general, self.cues) or general
        kinds, wants_list = asked_kinds(general, self.cues), asks_list(general, self.cues)
        gq = replace(self._query(topic), kinds=kinds, wants_list=wants_list, asked=resolved)
        # places each with their own object (「宿迁的技改补助和四川省的智能化改造补助」): each row is
        # asked about its own object only, not the other place's too
        objects = own_objects(resolved, regions, self.docs, self.cues.object_end)
        parts = []
        for r in regions:
            topic_r = (comparison_topic(objects[r], self.cues) or objects[r]) if r in objects else topic
            gq_r = replace(self._query(topic_r), kinds=kinds, wants_list=wants_list, asked=resolved) if r in objects else gq
            # a province compared with its own city (「绵阳和四川省」): the province's row is its documents
            # without the city's, which have a row of their own
            docs = without_inner(r, regions, docs_for(r, self.docs), self.docs)
            if not docs:
                parts.append(RegionPart(region_label(r), has_docs=False, missing=kinds))
                continue
            own = self._has_own(docs)
            # the region's own documents first; national ones, which apply everywhere, when those state nothing
            scopes = [[x for x in docs if self._has_own([x])], docs] if own else [docs]
            # searched as the question about this place alone (「江苏省徐州市」+ topic), as :meth:`_regional`
            # searches it: the passages carry their place in their headers, and the retrieval scores
            # the answerability model reads were fitted on questions that name it
            asked_here = region_label(r) + topic_r
            # and judged against the other places' passages, as that question is: a place whose
            # documents state nothing of the topic while another place's do is not answered with
            # its nearest other rule (「研发中心」 answered with 南康's 小巨人 article)
            outside = [h for h in hits if h.chunk.doc_id not in docs][:top_k]
            for scope in scopes:
                rh = newer_first(self.docs, self._search(asked_here, k=top_k, filters=Filters(doc_ids=tuple(scope))), resolved)  # a version the question names
                d = (self._decide(gq_r, rh, False, Filters(doc_ids=tuple(scope)), top_k, outside=outside) if rh
                     else Decision(Reason.REFUSED_OUT_OF_CORPUS))
                if not d.refused and d.selected and self._elsewhere(gq_r, docs, outside):
                    # its documents lack the topic words another place's passages state (「研发中心」 asked of a
                    # place whose rules never name it): no statement of its own, not its nearest other rule
                    d = Decision(Reason.REFUSED_OUT_OF_CORPUS)
                if not d.refused and d.selected and not d.missing:
                    break
            sel = _best_in_order(d.selected, MAX_PER_REGION) if not d.refused else ()
            missing = tuple(d.missing) if sel else (tuple(kinds) or ("",))
            parts.append(RegionPart(region_label(r), sel, missing, has_docs=own or bool(sel)))
        selected = tuple(s for p in parts for s in p.selected)
        if not selected:
            return Decision(Reason.REFUSED_OUT_OF_CORPUS, regions=tuple(p.region for p in parts), shape="comparison", nearest=self._nearest(hits))
        return Decision(Reason.ANSWERED, selected, regions=tuple(p.region for p in parts), shape="comparison", parts=tuple(parts))

    # -- versions ---------------------------------------------------------------

    def _versions(self, q, selected: list[Selected], top_k: int) -> list[Selected]:
        """Lead with the newer version of a document; label the older one, with its date, as superseded."""
        if not selected or len(selected) > 3:
            return selected
        first = selected[0]
        newer = newer_versions(self.docs, first.hit.chunk.doc_id)
        if not newer or named_docs({first.hit.chunk.doc_id: self.docs.get(first.hit.chunk.doc_id)}, q.whole) or first.hit.chunk.doc_id in named_version(self.docs, q.whole):
            return selected
        new_id = newer[0]
        if not any(s.hit.chunk.doc_id == new_id for s in selected):
            rh = self._search(q.text, k=top_k, filters=Filters(doc_ids=(new_id,)))
            if not rh:
                return selected
            got = self.composer.select(self.composer.score(q, rh))[:1]
            if not got:
                return selected
            selected = got + selected
        out = []
        for s in selected:
            nv = newer_versions(self.docs, s.hit.chunk.doc_id)
            if nv:
                m = self.docs.get(s.hit.chunk.doc_id)
                nm = self.docs.get(nv[0])
                new_name = (f"《{nm.title}》" if nm and nm.title else nv[0]) + (f"（{nm.doc_number}）" if nm and nm.doc_number else "")
                s = replace(s, label=f"旧版，{m.date if m else ''}发布，已被{new_name}取代")
            out.append(s)
        out.sort(key=lambda s: bool(s.label))
        return out

    # -- interview ----------------------------------------------------------------

    def _interview_answer(self, question: str, hits: Sequence[Hit]) -> list[Selected] | None:
        """When the question is the one an interview asked, the official answer (its
        numbered points as a list for a list question)."""
        from policyqa.index.sentences import split_spans

        qn = normalize_query(question)
        for h in hits[:3]:
            c = h.chunk
            if c.kind != "qa" or not c.question or similar(qn, normalize_query(c.question)) < 0.55:
                continue
            parts = self._unit_chunks(c)
            out = []
            for p in parts:
                texts = []
                for s, e in split_spans(p.text):
                    t = p.text[s:e]
                    role = turn_role(t)
                    if (role and asks(role[0])) or c.question in t:
                        continue
                    t = t[role[1]:] if role else t
                    if t.strip():
                        texts.append(t)
                if not texts:
                    continue
                joined = "".join(texts)
                intro, items = enumerated_items(joined) if self.cues.list_cue.search(question) else ("", ())
                hit = Hit(chunk=p, score=h.score, rank=h.rank, dense_score=h.dense_score, sparse_score=h.sparse_score)
                out.append(Selected(hit, intro if items else joined, 1.0, items, intro, kind="interview"))
            return out or None
        return None

    def _unit_chunks(self, chunk) -> list:
        """The chunks of an interview Q&A unit (chunk id without its ordinal), in order;
        read with the retriever's ``chunks_of(doc_id)`` (a Milvus index cannot hold every
        chunk in memory), once per unit."""
        unit = chunk.chunk_id.rsplit("#", 1)[0]
        if self._units is None:
            self._units = {}
        if unit not in self._units:
            same = [x for x in self._doc_chunks(chunk.doc_id) if x.kind == "qa" and x.chunk_id.rsplit("#", 1)[0] == unit]
            self._units[unit] = sorted(same, key=lambda x: x.start) or [chunk]
        return self._units[unit]

    def _doc_texts(self, doc_ids: Sequence[str]) -> list[str]:
        """Each document of ``doc_ids`` as one lower-case text (headers and passages), read once
        per answerer (which is rebuilt when the documents change)."""
        if not self._texts and getattr(self.retriever, "chunks_of", None) is None:  # every document in one pass
            self._texts.update(document_texts((getattr(self.retriever, "chunks", None) or {}).values()))
        for d in doc_ids:
            if d not in self._texts:
                self._texts[d] = document_texts(self._doc_chunks(d)).get(d, "")
        return [self._texts[d] for d in doc_ids]

    def _doc_chunks(self, doc_id: str) -> list:
        fetch = getattr(self.retriever, "chunks_of", None)
        if fetch is not None:
            return list(fetch(doc_id))
        return [x for x in (getattr(self.retriever, "chunks", None) or {}).values() if x.doc_id == doc_id]

    # -- rendering ------------------------------------------------------------------

    def _nearest(self, hits: Sequence[Hit]) -> tuple[str, ...]:
        topics = []
        for h in hits[:3]:
            meta = self.docs.get(h.chunk.doc_id)
            name = meta.title if meta and meta.title else h.chunk.doc_id
            region = meta.region if meta else ""
            label = f"{region}《{name}》{h.chunk.section}" if region else f"《{name}》{h.chunk.section}"
            if label not in topics:
                topics.append(label)
        return tuple(topics)


    def _render(self, question: str, resolved: str, d: Decision, hits, t_retrieve: float, t2: float, t0: float) -> Answer:
        timings = {"retrieve": t_retrieve, "compose": _ms(t2), "total": _ms(t0)}
        answer = reply(question, resolved, d, hits, timings, self.docs, self.today())
        if self.llm is not None and not answer.refused:
            answer = self.llm.rewrite(answer)
        return answer


def written_out(question: str, hits: Sequence[Hit], tokenize, cues) -> tuple[str, ...]:
    """Full forms, in the retrieved passages, of the question's words that no passage writes
    as such (:func:`full_forms`: 工业和信息化部 for 工信部, 规模以上工业企业 for 规上工业企业):
    searched with them, BM25 also finds the passages that write the word out.  A word some
    passage writes as it is, or that the cue files call generic, is left alone (measured on
    the tune data: read for every word, ordinary words such as 上海市 and 中小企业 were
    "expanded" into chance character runs and recall fell)."""
    out: list[str] = []
    for tok in dict.fromkeys(tokenize(question)):
        if len(tok) < 3 or tok in cues.generic or any(tok in h.chunk.text for h in hits):
            continue
        for h in hits:
            for f in full_forms(tok, h.chunk.text):
                if f not in question and f not in out:
                    out.append(f)
                break  # the shortest form of each passage
    return tuple(out)


def with_dense_scores(hits: list[Hit], retriever, text: str) -> list[Hit]:
    """``hits`` with the cosine of ``text``'s vector (already computed by the search) to each hit
    that only BM25 found, read from the stored passage vectors: the answerability features then
    see how far such a passage is from the question instead of an unknown value.  Unchanged
    when no hit came from the dense list (BM25-only retrieval) or the backend cannot list its
    vectors."""
    missing = [i for i, h in enumerate(hits) if h.dense_score is None]
    dense = getattr(retriever, "dense", None)
    if not missing or dense is None or len(missing) == len(hits):  # BM25-only retrieval embeds nothing
        return hits
    try:
        vecs = np.asarray(dense.index.vectors([hits[i].chunk.chunk_id for i in missing]), dtype=np.float32)
        qv = np.asarray(dense.query_vectors([text])[0], dtype=np.float32)
    except Exception:  # noqa: BLE001  a backend without a vector listing (Milvus): left unknown
        return hits
    out = list(hits)
    for i, score in zip(missing, vecs @ qv):
        out[i] = replace(hits[i], dense_score=float(score))
    return out


def invalid_answer(question: str | None, t0: float | None = None) -> Answer | None:
    """The reply to a question that cannot be answered as asked (empty, too long, no
    words: :func:`~policyqa.qa.guard.check_question`), or None for a real question.
    Needs no index, so the CLI replies before loading one."""
    checked = check_question(question)
    if not checked.reply:
        return None
    t0 = time.perf_counter() if t0 is None else t0
    timings = {"retrieve": 0.0, "compose": _ms(t0), "total": _ms(t0)}
    return refusal_answer(question or "", "", Decision(Reason.INVALID, message=checked.reply), (), timings)


def _ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000.0


def _best_in_order(selected: Sequence[Selected], n: int) -> tuple[Selected, ...]:
    """At most ``n`` of ``selected``: the highest scored (earlier first among equals), in
    their order in ``selected`` (an enumeration's items stay in document order)."""
    keep = sorted(sorted(range(len(selected)), key=lambda i: -selected[i].score)[:n])
    return tuple(selected[i] for i in keep)
