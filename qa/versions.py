"""Versions of one policy in the knowledge base (pure functions of the documents' metadata).

A document is superseded by another named in its metadata (``superseded_by``, or the other's
``supersedes``), else by one of the same issuer with a nearly identical title and a later date.
A question may name a version by number, full title or year (「2021年那版」); the hits of a
search are reordered so the newer version leads and the older one stays available."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Mapping, Sequence

from policyqa.corpus.types import DocMeta
from policyqa.index.types import Hit


def ids(value) -> tuple[str, ...]:
    """Document ids from a metadata field that may be empty, one id or several."""
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def similar(a: str, b: str) -> float:
    """Dice coefficient of the two strings' character bigrams (0..1; 0 when either has fewer than four)."""
    def grams(s):
        s = "".join(ch for ch in s if ch.isalnum())
        return {s[i : i + 2] for i in range(len(s) - 1)}
    ga, gb = grams(a), grams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb)) if min(len(ga), len(gb)) >= 4 else 0.0


def named_docs(metas: Mapping[str, DocMeta | None], question: str) -> set[str]:
    """Documents a question names by their number (谷政发〔2021〕9号) or full title."""
    q = re.sub(r"\s+", "", question)
    out = set()
    for d, m in metas.items():
        if m is None:
            continue
        num = re.sub(r"\s+", "", m.doc_number or "")
        if (num and num in q) or (m.title and len(m.title) >= 6 and m.title in q):
            out.add(d)
    return out


def newer_versions(docs: Mapping[str, DocMeta], doc_id: str) -> list[str]:
    """Documents in the knowledge base that supersede ``doc_id``: named by the corpus
    metadata (``superseded_by``) when present, else the same issuer with a nearly
    identical title and a later date."""
    meta = docs.get(doc_id)
    if meta is None:
        return []
    out = [d for d in ids(getattr(meta, "superseded_by", None)) if d in docs]
    out += [d for d, m in docs.items() if doc_id in ids(getattr(m, "supersedes", None)) and d not in out]
    if out:
        return out
    for other_id, m in docs.items():
        if other_id == doc_id or not m.date or not meta.date or m.date <= meta.date:
            continue
        if m.issuer and m.issuer == meta.issuer and similar(m.title, meta.title) >= 0.6:
            out.append(other_id)
    return sorted(out, key=lambda d: docs[d].date, reverse=True)


def named_version(docs: Mapping[str, DocMeta], question: str) -> set[str]:
    """Documents a question names as a version by year (「2021年那版」「2024年版的政策」):
    those of that year that have another version in the knowledge base."""
    years = set(re.findall(r"(\d{4})\s*年(?:的)?(?:那版|那一版|版本?|旧版|老版|新版)", question))
    if not years:
        return set()
    out = set()
    for d, m in docs.items():
        if m.date[:4] in years and (newer_versions(docs, d) or any(d in newer_versions(docs, o) for o in docs if o != d)):
            out.add(d)
    return out


def newer_first(docs: Mapping[str, DocMeta], hits: Sequence[Hit], asked: str = "") -> list[Hit]:
    """Hits with every passage of a superseded document moved after the first passage
    of its newer version (when that version was retrieved too), ranks renumbered:
    the newer document leads, the older one stays available (and is labelled).  A
    document the question ``asked`` names keeps its place."""
    hits = list(hits)
    present = {h.chunk.doc_id for h in hits}
    named = (named_docs({d: docs.get(d) for d in present}, asked) | named_version(docs, asked)) if asked else set()
    newer = {d: [n for n in newer_versions(docs, d) if n in present] if d not in named else [] for d in present}
    if not any(newer.values()):
        return hits
    out: list[Hit] = []
    waiting: dict[str, list[Hit]] = {}
    for h in hits:
        d = h.chunk.doc_id
        if newer[d] and not any(o.chunk.doc_id in newer[d] for o in out):
            waiting.setdefault(newer[d][0], []).append(h)
            continue
        out.append(h)
        out += waiting.pop(d, [])
    for rest in waiting.values():
        out += rest
    return [replace(h, rank=i + 1) for i, h in enumerate(out)]
