"""Question -> cited answer (or an honest refusal).

``Answerer(retriever, composer, docs)``: normalise -> resolve follow-ups ->
hybrid retrieval -> relevance decision -> region check -> compose -> render
(-> optional LLM, checked, with the extractive answer as fallback).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable, Mapping, Sequence

from policyqa.corpus.clean import normalize_query
from policyqa.corpus.types import DocMeta
from policyqa.index.types import Filters, Hit
from policyqa.qa.compose import (
    ExtractiveComposer,
    Selected,
    enumerated_items,
    render_markdown,
    render_plain,
    statements_from,
)
from policyqa.qa.followup import resolve_history
from policyqa.qa.guard import check_question
from policyqa.qa.regions import asked_regions, docs_for, region_label, strip_regions
from policyqa.qa.terms import missing_terms
from policyqa.qa.sentences import LIST_INTENT, NEEDS_FIGURE, asked_figure, coverage, has_figure
from policyqa.qa.types import Answer, Citation, Turn


_QUESTION_WORDS = re.compile(r"多少|什么|怎么|哪些|哪个|哪几|几个|几项|是否|有没有|能不能|可不可以|如何")


@dataclass(frozen=True)
class Gate:
    """When evidence is strong enough to answer (calibrated on the team set;
    see README "Honesty calibration").

    Chinese questions: the best of the top ``depth`` chunks (context header
    included) must cover at least ``min_coverage`` of the question's weighted
    tokens; no policy term of the question (qa.terms: 小升规, 所得税 …) may be
    missing from all of them; and a missing long word (≥ 3 characters) is
    tolerated only when coverage is high anyway (≥ ``full_coverage``) or the
    dense similarity vouches for a paraphrase (≥ ``paraphrase_dense``, e.g.
    机械臂 for 机器人).  Questions with no Chinese (English) are judged by
    dense similarity alone (≥ ``min_dense_foreign``).
    """

    min_coverage: float = 0.5
    full_coverage: float = 0.75
    paraphrase_dense: float = 0.89
    min_dense_foreign: float = 0.80
    depth: int = 3

    def features(self, qtokens: Sequence[str], hits: Sequence[Hit]) -> dict:
        top = hits[: self.depth]
        texts = [h.chunk.header + "\n" + h.chunk.text for h in top]
        cov = max((coverage(qtokens, t) for t in texts), default=0.0)
        dense = max((h.dense_score or 0.0 for h in top), default=0.0)
        joined = "\n".join(texts).lower()
        missing = [t for t in dict.fromkeys(qtokens) if len(t) >= 3 and t.lower() not in joined and not t.isascii()
                   and not _QUESTION_WORDS.search(t)]
        return {"coverage": cov, "dense": dense, "missing_terms": missing, "joined": joined}

    def passes(self, qtokens: Sequence[str], hits: Sequence[Hit], question: str = "") -> bool:
        if not hits:
            return False
        f = self.features(qtokens, hits)
        if question and not re.search(r"[\u4e00-\u9fff]", question):
            return f["dense"] >= self.min_dense_foreign
        if f["coverage"] < self.min_coverage:
            return False
        if question and missing_terms(question, f["joined"]):
            return False  # a policy term of the question appears in none of the passages
        if not any(h.dense_score is not None for h in hits[: self.depth]):
            return True  # keyword-only retrieval: no dense score to vouch for paraphrases
        return not f["missing_terms"] or f["coverage"] >= self.full_coverage or f["dense"] >= self.paraphrase_dense


class Answerer:
    """Answers questions from a retriever's hits.

    Args:
        retriever: anything with ``search(query, k, filters) -> list[Hit]``.
        composer: an :class:`ExtractiveComposer`.
        docs: document id -> metadata (titles, regions, periods for citations).
        tokenize: the index tokenizer (for relevance and region checks).
        gate: the relevance threshold.
        top_k: hits retrieved per question.
        llm: optional :class:`policyqa.qa.llm.LLMRewriter`; off when None.
        today: the date expired-policy notes are judged against.
    """

    def __init__(
        self,
        retriever,
        composer: ExtractiveComposer,
        docs: Mapping[str, DocMeta],
        tokenize: Callable[[str], list[str]],
        gate: Gate = Gate(),
        top_k: int = 8,
        llm=None,
        today: Callable[[], date] = date.today,
    ):
        self.retriever = retriever
        self.composer = composer
        self.docs = docs
        self.tokenize = tokenize
        self.gate = gate
        self.top_k = top_k
        self.llm = llm
        self.today = today
        self._units: dict[str, list] | None = None

    # -- public ---------------------------------------------------------------

    def answer(self, question: str, history: Sequence[Turn | dict | str] | None = None, filters: Filters | None = None, top_k: int | None = None) -> Answer:
        t0 = time.perf_counter()
        try:
            return self._answer(question, history, filters, top_k or self.top_k, t0)
        except Exception as e:  # never let an exception reach the user; log it for us
            logging.getLogger(__name__).exception("answer failed for %r", question)
            reply = "抱歉，处理这个问题时出错了，请换个说法再试。"
            return Answer(question or "", question or "", reply, reply, refused=True, kind="invalid",
                          timings_ms={"retrieve": 0.0, "compose": 0.0, "total": _ms(t0)}, llm={"error": f"{type(e).__name__}: {e}"})

    # -- steps ----------------------------------------------------------------

    def _answer(self, question, history, filters, top_k, t0) -> Answer:
        checked = check_question(question)
        if checked.reply:
            return Answer(question or "", "", checked.reply, checked.reply, refused=True, kind="invalid",
                          timings_ms={"retrieve": 0.0, "compose": 0.0, "total": _ms(t0)})
        prev = [_turn(h).resolved_question or _turn(h).question for h in (history or [])]
        resolved = resolve_history([normalize_query(p) for p in prev if p], checked.text)
        qtok = self.tokenize(resolved)
        regions = [] if (filters and filters.region) else asked_regions(resolved, self.docs)

        t1 = time.perf_counter()
        hits = self.retriever.search(resolved, k=max(top_k, 30) if regions else top_k, filters=filters)
        regional: list[Hit] = []
        region_docs: list[str] = []
        if regions:
            region_docs = sorted({d for r in regions for d in docs_for(r, self.docs)})
            regional = [h for h in hits if h.chunk.doc_id in region_docs]
            if region_docs and not regional:
                regional = self.retriever.search(resolved, k=top_k, filters=Filters(doc_ids=tuple(region_docs)))
        t_retrieve = _ms(t1)

        t2 = time.perf_counter()
        region_note = None
        if regions:
            selected, result_hits, region_note = self._select_for_regions(resolved, qtok, regions, region_docs, regional, hits, top_k)
        else:
            result_hits = hits
            selected = self.composer.select(resolved, hits) if self.gate.passes(qtok, hits, resolved) else []

        if selected and NEEDS_FIGURE.search(resolved) and not any(_gives_figure(x, resolved) for x in selected):
            selected = []  # asked for a figure the evidence does not give: say so, do not guess
        if not selected:
            return self._refusal(question, resolved, hits, region_note, t_retrieve, t2, t0)

        interview = self._interview_answer(resolved, result_hits)
        if interview is not None and not region_note:
            selected = interview
        statements, citations = statements_from(selected, self.docs)
        notes = self._validity_notes(citations)
        plain = render_plain(statements, citations, lead=region_note or "", notes=notes)
        markdown = render_markdown(statements, citations, lead=region_note or "", notes=notes)
        answer = Answer(
            question=question,
            resolved_question=resolved,
            text=plain,
            markdown=markdown,
            refused=False,
            region_note=region_note,
            notes=tuple(notes),
            citations=tuple(citations),
            statements=tuple(statements),
            hits=tuple(hits),
            kind="interview" if interview is not None and not region_note else "answer",
            timings_ms={"retrieve": t_retrieve, "compose": _ms(t2), "total": _ms(t0)},
        )
        if self.llm is not None:
            answer = self.llm.rewrite(answer)
        return answer

    def _select_for_regions(self, resolved, qtok, regions, region_docs, regional, hits, top_k):
        """Answer from the asked region's documents; failing that, say so first and
        offer other regions' rules, each labelled with its region.

        A region passage that matches the topic but lacks the figure asked for
        (宿州 has a 小巨人 target, not a reward) is kept as the first, labelled
        statement, so the user sees what that region does say.
        """
        names = "、".join(region_label(r) for r in regions)
        figure = asked_figure(resolved)
        ok = bool(regional) and self.gate.passes(qtok, regional, resolved)
        selected = self.composer.select(resolved, regional) if ok else []
        region_only: list[Selected] = []
        if selected and figure is not None and not any(figure.search(_text(x)) or x.items or _is_note(x) for x in selected):
            region_only, selected = selected[:1], []
        if selected:
            return selected, regional, None
        if not region_docs:
            note = f"知识库中没有{names}的政策文件，以下是其他地区文件的相关规定，不适用于{names}，仅供参考。"
        else:
            only = "，只有下面第[1]条相关内容" if region_only else ""
            note = f"{names}的文件中没有找到这项具体规定{only}。以下其他地区文件的规定不适用于{names}，仅供参考。"
        # judged without the region's name, which other regions' passages lack by definition
        general = strip_regions(resolved)
        gtok = self.tokenize(general)
        others = [h for h in hits if h.chunk.doc_id not in region_docs][:top_k]
        selected = self.composer.select(general, others) if self.gate.passes(gtok, others, general) else []
        return region_only + selected, others, note

    def _interview_answer(self, question: str, hits: Sequence[Hit]) -> list[Selected] | None:
        """When the question is one asked in an interview, the official answer."""
        from policyqa.qa.sentences import Sentence, split_sentences

        qn = normalize_query(question)
        for h in hits[:3]:
            c = h.chunk
            if c.kind != "qa" or not c.question:
                continue
            if _similar(qn, normalize_query(c.question)) < 0.55:
                continue
            parts = self._unit_chunks(c)
            out = []
            for p in parts:
                sents = []
                for s in split_sentences(p.text):
                    if s.text.startswith("[主持人]") or c.question in s.text:
                        continue
                    m = re.match(r"\[(?:嘉宾|受访者)\]\s*", s.text)
                    if m:  # quote the speech, not the transcript's speaker mark
                        s = Sentence(s.text[m.end():], s.start + m.end(), s.end)
                    if s.text.strip():
                        sents.append(s)
                hit = Hit(chunk=p, score=h.score, rank=h.rank, dense_score=h.dense_score, sparse_score=h.sparse_score)
                if not sents:
                    continue
                intro, items = enumerated_items("".join(x.text for x in sents)) if LIST_INTENT.search(question) else ("", ())
                out.append(Selected(hit, tuple(sents), h.score, items, intro))
            return out or None
        return None

    def _unit_chunks(self, chunk) -> list:
        """The chunks of an interview Q&A unit (chunk id without its ordinal), in order.

        Read with the retriever's ``chunks_of(doc_id)`` (every backend has it;
        a Milvus index cannot hold all chunks in memory), once per unit.
        """
        unit = chunk.chunk_id.rsplit("#", 1)[0]
        if self._units is None:
            self._units = {}
        if unit not in self._units:
            fetch = getattr(self.retriever, "chunks_of", None)
            parts = fetch(chunk.doc_id) if fetch else [x for x in getattr(self.retriever, "chunks", {}).values() if x.doc_id == chunk.doc_id]
            same = [x for x in parts if x.kind == "qa" and x.chunk_id.rsplit("#", 1)[0] == unit]
            self._units[unit] = sorted(same, key=lambda x: x.start) or [chunk]
        return self._units[unit]

    def _validity_notes(self, citations: Sequence[Citation]) -> list[str]:
        """An expiry note per cited document whose ``valid_to`` has passed
        (else, without a stated validity, whose policy period ended before this year)."""
        notes, seen = [], set()
        today = self.today()
        for c in citations:
            meta = self.docs.get(c.doc_id)
            if not meta or c.doc_id in seen:
                continue
            seen.add(c.doc_id)
            valid_to, p = getattr(meta, "valid_to", ""), meta.period
            if valid_to:
                if valid_to >= today.isoformat():
                    continue
                span = f"{meta.valid_from}至{valid_to}" if meta.valid_from else f"至{valid_to}"
                label = p.label() if p and p.end == int(valid_to[:4]) else span
            elif p and p.end and p.end < today.year:
                label = p.label()
            else:
                continue
            name = f"《{meta.title}》" if meta.title else c.doc_id
            notes.append(f"{name}所述政策期限为{label}，已经结束；请向发文机关核实该政策目前是否仍然有效。")
        return notes

    def _refusal(self, question, resolved, hits, region_note, t_retrieve, t2, t0) -> Answer:
        topics = []
        for h in hits[:3]:
            meta = self.docs.get(h.chunk.doc_id)
            name = (meta.title if meta and meta.title else h.chunk.doc_id)
            region = meta.region if meta else ""
            label = f"{region}《{name}》{h.chunk.section}" if region else f"《{name}》{h.chunk.section}"
            if label not in topics:
                topics.append(label)
        text = f"知识库中没有找到能回答「{resolved}」的政策规定，为避免误导，不作推测。"
        if region_note:
            text = region_note.split("以下是")[0] + "其他地区的文件也没有相关规定。"
        if topics:
            text += "\n知识库中最接近的内容是：\n" + "\n".join(f"- {t}" for t in topics)
        text += "\n建议咨询当地工信、财政等主管部门。"
        from policyqa.qa.compose import md_escape

        md = "\n".join(md_escape(line) if not line.startswith("- ") else "- " + md_escape(line[2:]) for line in text.split("\n"))
        return Answer(question, resolved, text, md, refused=True, region_note=region_note, hits=tuple(hits), kind="refusal",
                      timings_ms={"retrieve": t_retrieve, "compose": _ms(t2), "total": _ms(t0)})


def _gives_figure(sel: Selected, question: str) -> bool:
    """Whether a selection states the kind of figure the question asks for
    (a percentage for 比例/几成, money for 奖多少, a count of 家 for 多少家, else
    any number); clause numbers such as 「22.」 do not count."""
    if sel.items or _is_note(sel):
        return True
    text = re.sub(r"(^|\n)\s*(?:\d{1,3}[.、．]|[（(]\d{1,3}[)）])", " ", _text(sel))
    pattern = asked_figure(question)
    return bool(pattern.search(text)) if pattern is not None else has_figure(text)


def _is_note(sel: Selected) -> bool:
    """A responsible-unit note selected as the answer (no figure, but it answers 谁牵头)."""
    return bool(sel.sentences) and sel.sentences[0].start == -1


def _text(sel: Selected) -> str:
    return "".join(s.text for s in sel.sentences)


def _similar(a: str, b: str) -> float:
    """Dice coefficient of the two strings' character bigrams (0..1)."""
    def grams(s):
        s = "".join(ch for ch in s if ch.isalnum())
        return {s[i : i + 2] for i in range(len(s) - 1)}
    ga, gb = grams(a), grams(b)
    if not ga or not gb:
        return 0.0
    inter = len(ga & gb)
    return 2 * inter / (len(ga) + len(gb)) if min(len(ga), len(gb)) >= 4 else 0.0


def _turn(h) -> Turn:
    if isinstance(h, Turn):
        return h
    if isinstance(h, str):
        return Turn(question=h)
    return Turn(question=str(h.get("question", "")), answer=str(h.get("answer", "")), resolved_question=str(h.get("resolved_question", "")))


def _ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000.0
