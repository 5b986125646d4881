"""Compose cited extractive answers and render them as Markdown and plain text.

:class:`ExtractiveComposer` selects the sentences that answer the question
from the top chunks (never whole chunks, never half sentences), keeps caps and
conditions with their figures, groups statements by source with a citation
mark [n], and turns enumerations (申报条件 1、…10、) into lists in source
order.  Rendering escapes document text, so nothing in a document can become
markup or a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from policyqa.corpus.types import DocMeta
from policyqa.index.types import Hit
from policyqa.qa.sentences import (
    LIST_INTENT,
    Sentence,
    asked_figure,
    is_cap_continuation,
    score_sentence,
    split_sentences,
)
from policyqa.qa.terms import missing_terms

RESPONSIBLE_INTENT = re.compile(r"牵头|哪个部门|哪个单位|哪些部门|哪些单位|谁负责|由谁|责任单位|主管部门|which department|who leads", re.I)
from policyqa.qa.types import Citation, Statement

_ITEM = re.compile(r"(?:(?<=[:：。；;\n])|^)\s*(\d{1,2})[、.．](?!\d)")
_YISHI = re.compile(r"(?:(?<=[:：。；;\n])|^)\s*([一二三四五六七八九十])是")


@dataclass(frozen=True)
class Selected:
    hit: Hit
    sentences: tuple[Sentence, ...]
    score: float
    items: tuple[str, ...] = ()
    intro: str = ""


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
                # the last item ends at its sentence end
                if b is None:
                    m_end = re.search(r"[。；;]", item)
                    item = item[: m_end.end()] if m_end else item
                items.append(item.strip().rstrip("；;").strip())
            head = text[: seq[0].start()].strip()
            intro = re.split(r"(?<=[。！？!?])", head)
            intro = [s for s in intro if s.strip()]
            return (intro[-1].strip() if intro else ""), tuple(items)
    return "", ()


class ExtractiveComposer:
    """Chooses answer sentences from ranked hits.

    Args:
        tokenize: the index's tokenizer (question -> content tokens).
        max_sources: most sources quoted in one answer.
        max_sentences: most sentences quoted in all.
        relative: sentences scoring at least this share of the best are kept.
    """

    def __init__(self, tokenize: Callable[[str], list[str]], max_sources: int = 3, max_sentences: int = 3, relative: float = 0.7):
        self.tokenize = tokenize
        self.max_sources = max_sources
        self.max_sentences = max_sentences
        self.relative = relative

    def select(self, question: str, hits: Sequence[Hit], depth: int = 5) -> list[Selected]:
        qtok = self.tokenize(question)
        figure = asked_figure(question)
        wants_list = bool(LIST_INTENT.search(question))
        if RESPONSIBLE_INTENT.search(question):
            for h in hits[:2]:
                if h.chunk.responsible and not missing_terms(question, h.chunk.header + h.chunk.text):
                    return [Selected(h, (Sentence(h.chunk.responsible, -1, -1),), 1.0, intro=h.chunk.section.split(" > ")[0])]
        scored: list[tuple[float, int, Sentence]] = []
        for hi, h in enumerate(hits[:depth]):
            if missing_terms(question, h.chunk.header + "\n" + h.chunk.text):
                continue  # a passage about something else (宿迁's 智改数转 for a 小升规 question)
            discount = 1.0 / (1.0 + 0.25 * hi)
            # the chunk's context (region, section, interview question) lends weight to its sentences
            ctx = score_sentence(qtok, h.chunk.header, None) * 0.2
            for s in split_sentences(h.chunk.text):
                if len(s.text) < 4:
                    continue
                scored.append(((score_sentence(qtok, s.text, figure) + ctx) * discount, hi, s))
        if not scored:
            return []
        best = max(sc for sc, _, _ in scored)
        if best <= 0:
            return []
        keep = sorted((x for x in scored if x[0] >= self.relative * best), key=lambda x: -x[0])
        by_hit: dict[int, list[tuple[float, Sentence]]] = {}
        n = 0
        for sc, hi, s in keep:
            if hi not in by_hit and len(by_hit) >= self.max_sources:
                continue
            if n >= self.max_sentences:
                break
            by_hit.setdefault(hi, []).append((sc, s))
            n += 1
        out: list[Selected] = []
        for hi, picked in sorted(by_hit.items(), key=lambda kv: -max(sc for sc, _ in kv[1])):
            h = hits[hi]
            sents = sorted({s.start: s for _, s in picked}.values(), key=lambda s: s.start)
            sents = self._with_continuations(h.chunk.text, sents)
            intro, items = ("", ())
            if wants_list:
                intro, items = enumerated_items(h.chunk.text)
            out.append(Selected(h, tuple(sents), max(sc for sc, _ in picked), items, intro))
        if figure is not None and any(figure.search(_joined(x)) for x in out):
            out = [x for x in out if figure.search(_joined(x)) or x.items]
        return out

    @staticmethod
    def _with_continuations(text: str, sents: list[Sentence]) -> list[Sentence]:
        all_s = split_sentences(text)
        starts = {s.start for s in sents}
        out = list(sents)
        for i, s in enumerate(all_s):
            if s.start in starts and i + 1 < len(all_s):
                nxt = all_s[i + 1]
                if nxt.start not in starts and is_cap_continuation(nxt.text):
                    out.append(nxt)
                    starts.add(nxt.start)
        return sorted(out, key=lambda s: s.start)


def _joined(sel: Selected) -> str:
    return "".join(s.text for s in sel.sentences)


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


def statements_from(selected: Sequence[Selected], docs: Mapping[str, DocMeta], first_n: int = 1) -> tuple[list[Statement], list[Citation]]:
    statements, citations = [], []
    for i, sel in enumerate(selected):
        n = first_n + i
        region = (docs.get(sel.hit.chunk.doc_id) or DocMeta(doc_id="")).region
        if sel.sentences and sel.sentences[0].start == -1:  # a responsible-unit note
            quote = sel.sentences[0].text
            statements.append(Statement(f"{sel.intro}：{quote}" if sel.intro else quote, n, region))
        elif sel.items:
            quote = (sel.intro + " " if sel.intro else "") + " ".join(f"{j}. {it}" for j, it in enumerate(sel.items, 1))
            statements.append(Statement(sel.intro, n, region, True, sel.items))
        else:
            quote = "".join(s.text for s in sel.sentences)
            statements.append(Statement(quote, n, region))
        citations.append(citation_for(n, sel, docs, quote))
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
        if st.is_list:
            lines.append(f"{tag}{st.text}[{st.n}]" if st.text else f"{tag}[{st.n}]")
            lines += [f"  {j}. {it}" for j, it in enumerate(st.items, 1)]
        else:
            lines.append(f"{tag}{st.text}[{st.n}]")
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
        mark = f"<sup>[{st.n}]</sup>"
        if st.is_list:
            out.append(f"{tag}{md_escape(st.text)}{mark}")
            out.append("")
            out += [f"{j}. {md_escape(it)}" for j, it in enumerate(st.items, 1)]
            out.append("")
        else:
            out.append(f"{tag}{md_escape(st.text)}{mark}")
            out.append("")
    for note in notes:
        out += [f"> ⚠️ {md_escape(note)}", ""]
    if citations:
        out += ["**来源**", ""]
        for c in citations:
            out.append(f"{c.n}. {md_escape(source_line(c))}  ")
            out.append(f"   原文：“{md_escape(c.text)}”")
    return "\n".join(out).strip()
