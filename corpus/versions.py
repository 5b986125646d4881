"""Versions of one policy: which document supersedes which.

Version links are a property of the whole document set, so they are derived
by one pure function, :func:`link_versions`, called whenever the set changes
(``IndexStore.build/add/remove``).  A newer document B supersedes an older
document A when:

1. B's repeal sentence names A (A's title or 文号 in
   ``原《…》（X政发〔2021〕12号）同时废止``) — whatever their issuers; or
2. B repeals earlier policies without naming them
   (``此前出台的…相关政策同时废止``), A has B's jurisdiction and issuer level,
   and their subjects overlap (:data:`GENERIC_REPEAL_MIN`); or
3. A and B have the same jurisdiction and level, the same (known) issuer,
   and the same subject (:data:`SAME_SUBJECT_MIN`): a re-issued policy.

Never linked: two copies of one document (same 文号, or same title and date)
and numbered issues of a series (通告第3号 / 第4号).

A title's *subject* is what is left after removing the cover-notice wrapper
(关于印发《X》的通知 -> X), bracketed notes (（2023年修订）), years, place
names, and the framing words of ``data/versions.json`` (促进, 推动, 若干政策 …):
「射阳县促进工业经济高质量发展若干政策」 -> 「工业经济高质量发展」.  Subjects are
compared by the Dice coefficient of their character bigrams.

Dates order versions (ISO strings); a document without a date is only
linked by an explicit repeal.  Interviews are never versions.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

from policyqa.corpus.jurisdiction import parse_jurisdiction
from policyqa.corpus.regions import find_mentions
from policyqa.corpus.types import DocMeta
from policyqa.corpus.validity import extract_repeal

__all__ = ["link_versions", "linked", "subject", "similarity", "SAME_SUBJECT_MIN", "GENERIC_REPEAL_MIN"]

SAME_SUBJECT_MIN = 0.9  # same jurisdiction and issuer: a re-issued policy
GENERIC_REPEAL_MIN = 0.5  # "此前出台的…政策同时废止": earlier policies on an overlapping subject
NAMED_REPEAL_MIN = 0.9  # a title named in a repeal sentence matches a document's title
_DATA = Path(__file__).with_name("data") / "versions.json"


@lru_cache(maxsize=1)
def _words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    d = json.loads(_DATA.read_text(encoding="utf-8"))
    by_len = lambda ws: tuple(sorted(ws, key=len, reverse=True))  # noqa: E731
    return by_len(d["wrappers"]), by_len(d["framing_words"])


@lru_cache(maxsize=4096)
def subject(title: str) -> str:
    """The subject words of a title (see the module docstring)."""
    t = title or ""
    m = re.search(r"《([^》]+)》", t)
    if m and re.search(r"(?:印发|转发|公布)", t[: m.start()]):
        t = m.group(1)
    if "关于" in t:
        t = t[t.index("关于"):]  # the issuer named before 关于
    t = re.sub(r"[（(][^）)]*[）)]", "", t)
    t = re.sub(r"\d{4}\s*[-—–~至到]\s*\d{4}\s*年?|\d{4}\s*年度?|\d+", "", t)
    for mention in sorted(find_mentions(t), key=lambda x: -x.start):
        if len(mention.text) >= 2:
            t = t[: mention.start] + t[mention.start + len(mention.text):]
    wrappers, framing = _words()
    # a leading place the gazetteer does not know (桐溪县关于…, 桐溪县推动…)
    lead = re.match(r"^[\u4e00-\u9fff]{2,4}(?:县|市|区|旗|省)(?=关于|" + "|".join(map(re.escape, framing)) + ")", t)
    if lead:
        t = t[lead.end():]
    for w in wrappers + framing:
        t = t.replace(w, "")
    return re.sub(r"[\s《》“”\"'、，,。·:：]", "", t)


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) >= 2 else ({s} if s else set())


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of two titles' subjects (0..1)."""
    ga, gb = _bigrams(subject(a)), _bigrams(subject(b))
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def is_policy_title(title: str) -> bool:
    """A whole title of a policy document (ends 办法/意见/政策/通知…), not a
    fragment or a headline."""
    from policyqa.corpus.metadata import TITLE_END

    return bool(TITLE_END.search(re.sub(r"[（(][^）)]*[）)]$", "", title or "")))


def _orgs(issuer: str) -> set[str]:
    return {o for o in re.split(r"\s+", issuer or "") if o}


def _issuers_compatible(a: DocMeta, b: DocMeta) -> bool:
    if not a.issuer or not b.issuer:
        return True
    oa, ob = _orgs(a.issuer), _orgs(b.issuer)
    return bool(oa & ob) or any(x in y or y in x for x in oa for y in ob)


def _same_area(a: DocMeta, b: DocMeta) -> bool:
    """Same jurisdiction and level; an area the gazetteer does not place
    (桐溪县) matches itself with or without its province."""
    ja, jb = a.jurisdiction or a.region, b.jurisdiction or b.region
    if not (ja and jb):
        return bool(a.issuer) and a.issuer == b.issuer
    if a.issuer_level and b.issuer_level and a.issuer_level != b.issuer_level:
        return False
    if ja == jb:
        return True
    pa, pb = parse_jurisdiction(ja, a.issuer_level), parse_jurisdiction(jb, b.issuer_level)
    return bool(pa.area) and pa.area == pb.area and (not pa.region.province or not pb.region.province or pa.region == pb.region)


def _named_by(repealer: DocMeta, older: DocMeta) -> bool:
    rep = extract_repeal(repealer.repeals)
    if older.doc_number and older.doc_number != repealer.doc_number and older.doc_number in rep.doc_numbers:
        return True
    for t in rep.titles:
        if older.title and (t == older.title or f"《{t}》" in older.title):
            return True  # named exactly (or as the policy its cover notice issues)
        if older.title and similarity(t, older.title) >= NAMED_REPEAL_MIN and _same_area(repealer, older):
            return True
    return False


_SERIES = re.compile(r"第\s*[\d一二三四五六七八九十百]+\s*[号期批次]|[（(]\s*\d+\s*[)）]")


def _copies(a: DocMeta, b: DocMeta) -> bool:
    """Two copies of one document (crawled twice): same 文号, or same title and date."""
    return bool(a.doc_number and a.doc_number == b.doc_number) or (a.title == b.title and a.date == b.date)


def _series(a: DocMeta, b: DocMeta) -> bool:
    """Numbered issues of one series (通告第3号, 第4号): not versions of each other."""
    na, nb = _SERIES.findall(a.title or ""), _SERIES.findall(b.title or "")
    return bool(na or nb) and na != nb


def _supersedes(newer: DocMeta, older: DocMeta) -> bool:
    if newer.doc_id == older.doc_id or "interview" in (newer.doc_type, older.doc_type) or _copies(newer, older):
        return False
    if newer.repeals and _named_by(newer, older):
        return True
    if not (newer.date and older.date and older.date < newer.date):
        return False
    if not _same_area(newer, older) or _series(newer, older):
        return False
    sim = similarity(newer.title, older.title)
    if newer.repeals and extract_repeal(newer.repeals).generic and sim >= GENERIC_REPEAL_MIN:
        return True
    # no repeal stated: a re-issue of a policy by the same body on the same subject
    return (sim >= SAME_SUBJECT_MIN and bool(newer.issuer and older.issuer) and _issuers_compatible(newer, older)
            and is_policy_title(newer.title) and is_policy_title(older.title))


def link_versions(metas: Sequence[DocMeta]) -> list[DocMeta]:
    """``metas`` (same order) with ``supersedes``/``superseded_by`` derived
    from the whole set; any links they carried before are replaced.

    Pure: equal inputs give equal outputs, other fields are untouched.
    """
    metas = list(metas)
    newer_of: dict[str, list[str]] = {m.doc_id: [] for m in metas}
    older_of: dict[str, list[str]] = {m.doc_id: [] for m in metas}
    for b in metas:
        for a in metas:
            if _supersedes(b, a) and not _supersedes(a, b):
                older_of[b.doc_id].append(a.doc_id)
                newer_of[a.doc_id].append(b.doc_id)
    by_id = {m.doc_id: m for m in metas}
    order = lambda ids: tuple(sorted(dict.fromkeys(ids), key=lambda i: (by_id[i].date, i)))  # noqa: E731
    from dataclasses import replace

    out = []
    for m in metas:
        sup, by = order(older_of[m.doc_id]), order(newer_of[m.doc_id])
        out.append(m if (sup, by) == (m.supersedes, m.superseded_by) else replace(m, supersedes=sup, superseded_by=by))
    return out


def linked(docs: Mapping[str, DocMeta]) -> dict[str, DocMeta]:
    """:func:`link_versions` over a doc id -> metadata mapping (a new dict, same order)."""
    return {m.doc_id: m for m in link_versions(list(docs.values()))}
