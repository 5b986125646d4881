"""Which region a question asks about, and which documents cover it."""

from __future__ import annotations

from typing import Mapping

from policyqa.corpus.jurisdiction import region_matches
from policyqa.corpus.regions import Region, find_mentions, parse_region
from policyqa.corpus.types import DocMeta


def asked_regions(question: str, docs: Mapping[str, DocMeta]) -> list[Region]:
    """Regions named in a question, most specific reading first.

    An ambiguous short name (a district name used in several cities) is read
    as the candidate the knowledge base has documents for, if any.
    """
    known = [parse_region(m.region) for m in docs.values() if m.region]
    out: list[Region] = []
    for m in find_mentions(question, short_districts=True):
        cands = list(m.regions)
        in_kb = [r for r in cands if any(r.contains(k) or k.contains(r) for k in known)]
        pick = (in_kb or cands)[0]
        if pick not in out:
            out.append(pick)
    # keep only the most specific of nested mentions (江苏省盐城市亭湖区: 亭湖区)
    return [r for r in out if not any(o != r and r.contains(o) for o in out)]


def docs_for(region: Region, docs: Mapping[str, DocMeta]) -> list[str]:
    """Documents that apply to ``region``: national ones, those of the region
    itself, of a region containing it (a city policy applies to its districts)
    or, for a province or city question, of places inside it
    (:func:`policyqa.corpus.jurisdiction.region_matches`)."""
    return [doc_id for doc_id, meta in docs.items() if region_matches(meta, region)]


def region_label(region: Region) -> str:
    return region.full or region.name


def strip_regions(question: str) -> str:
    """The question without its place names (亭湖区评上小巨人奖多少 -> 评上小巨人奖多少)."""
    out, pos = [], 0
    for m in find_mentions(question, short_districts=True):
        out.append(question[pos : m.start])
        pos = m.start + len(m.text)
    out.append(question[pos:])
    return "".join(out).strip(" ，,")
