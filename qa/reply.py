"""Decision -> the Answer the user sees: statements, citations, validity notes and
texts rendered from a typed :class:`~policyqa.qa.decision.Decision` alone (no
retrieval, no scoring), for answers and refusals alike."""

from __future__ import annotations

from datetime import date
from typing import Mapping, Sequence

from policyqa.corpus.types import DocMeta
from policyqa.qa.compose import citation_for, md_escape, render_markdown, render_plain, statements_from
from policyqa.qa.decision import Decision, Reason, comparison_missing_text, lead_text, refusal_text, region_note
from policyqa.qa.types import Answer, Citation, Statement


def reply(question: str, resolved: str, d: Decision, hits, timings: dict, docs: Mapping[str, DocMeta], today: date) -> Answer:
    """The Answer of decision ``d`` (a refusal when ``d`` refuses); ``today`` dates the
    validity notes of the cited documents."""
    if d.refused:
        return refusal_answer(question, resolved, d, hits, timings)
    statements, citations = decision_statements(d, docs)
    notes = validity_notes(citations, docs, today)
    lead = lead_text(d)
    plain = render_plain(statements, citations, lead=lead, notes=notes)
    markdown = render_markdown(statements, citations, lead=lead, notes=notes)
    return Answer(
        question=question, resolved_question=resolved, text=plain, markdown=markdown, refused=False,
        region_note=region_note(d), notes=tuple(notes), citations=tuple(citations), statements=tuple(statements),
        hits=tuple(hits), kind="interview" if d.shape == "interview" else "answer", decision=d.reason.value, timings_ms=timings,
    )


def decision_statements(d: Decision, docs: Mapping[str, DocMeta]) -> tuple[list[Statement], list[Citation]]:
    """The statements and their citations, by the decision's shape (interview, comparison,
    list or single)."""
    if d.shape == "interview":
        statements, citations = [], []
        for sel in d.selected:
            n = len(citations) + 1
            meta = docs.get(sel.hit.chunk.doc_id) or DocMeta(doc_id="")
            quote = (sel.intro + " " if sel.intro else "") + " ".join(f"{j}. {it}" for j, it in enumerate(sel.items, 1)) if sel.items else sel.text
            citations.append(citation_for(n, sel, docs, quote))
            statements.append(Statement(sel.intro if sel.items else sel.text, n, meta.region, bool(sel.items), sel.items))
        return statements, citations
    if d.shape == "comparison":
        statements, citations = [], []
        for part in d.parts:
            if part.selected:
                st, ci = statements_from(part.selected, docs, first_n=len(citations) + 1)
                if part.missing:  # its closest clause, which states no figure of the kind asked
                    statements.append(Statement(comparison_missing_text(part.region, part.missing, True, closest=True), 0, part.region))
                statements += st
                citations += ci
            else:
                statements.append(Statement(comparison_missing_text(part.region, [k for k in part.missing if k], part.has_docs), 0, part.region))
        return statements, citations
    return statements_from(d.selected, docs, as_list=d.shape == "list")


def validity_notes(citations: Sequence[Citation], docs: Mapping[str, DocMeta], today: date) -> list[str]:
    """An expiry note per cited document whose ``valid_to`` has passed
    (else, without a stated validity, whose policy period ended before this year)."""
    notes, seen = [], set()
    for c in citations:
        meta = docs.get(c.doc_id)
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


def refusal_answer(question: str, resolved: str, d: Decision, hits, timings: dict) -> Answer:
    """The Answer of a refused or invalid decision, rendered from the decision alone."""
    text = refusal_text(d, resolved or question)
    md = "\n".join(md_escape(line) if not line.startswith("- ") else "- " + md_escape(line[2:]) for line in text.split("\n"))
    kind = "invalid" if d.reason == Reason.INVALID else "refusal"
    return Answer(question or "", resolved, text, md, refused=True, region_note=region_note(d), hits=tuple(hits), kind=kind,
                  decision=d.reason.value, timings_ms=timings)
