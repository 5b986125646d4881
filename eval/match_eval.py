"""Evaluation of item extraction and profile matching (``policyqa eval-match``).

Data (``eval/match/``, see its README): hand-labelled clauses and enterprise
profiles with the items they should match, over the built-in documents plus
the fixture documents.  Both sets have fixed tune/test halves by
:func:`policyqa.eval.questions.split_of` of each entry's id.

Metrics are plain functions over plain rows and never mutate their inputs:

- extraction, per labelled clause: **amount+cap exact** (the multiset of
  (amount, cap, rate, medal) of the clause's quantified items equals the
  label) and **tier exact** (the same with each item's tier); per item:
  found / labelled.
- matching, micro-averaged over profiles: **precision** and **recall** of the
  applicable quantified items against the expected ones, **amount accuracy**
  (share of matched expected items whose ``estimate_wan`` equals the label),
  **other-region violations** (items of a region that does not contain the
  profile's region presented as applicable: must be 0), and latency.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from policyqa.corpus.items import PolicyItem, Vocabulary, chunk_items, vocabulary
from policyqa.corpus.types import Chunk, DocMeta
from policyqa.eval.questions import split_of

HERE = Path(__file__).with_name("match")
DOCUMENTS = HERE / "documents"
CLAUSES = HERE / "clauses.jsonl"
PROFILES = HERE / "profiles.jsonl"


def _rows(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{Path(path).name} line {n} is not JSON ({e.msg})") from None
    return rows


def select(rows: Sequence[dict], split: str) -> list[dict]:
    if split == "all":
        return list(rows)
    if split not in ("tune", "test"):
        raise ValueError(f"unknown split {split!r}; choose tune, test or all")
    return [r for r in rows if split_of(r["id"]) == split]


# --- extraction -----------------------------------------------------------------------


def _num(x: Any) -> float | None:
    return None if x is None else round(float(x), 6)


def item_key(it: Mapping[str, Any], with_tier: bool) -> tuple:
    """What "exact" compares: amount, cap, rate, medal (and the tier)."""
    k = (_num(it.get("amount_wan")), _num(it.get("cap_wan")), _num(it.get("rate")), _num(it.get("medal_grams")))
    return ((it.get("tier") or "").strip(),) + k if with_tier else k


def extract_clause(text: str, vocab: Vocabulary | None = None) -> list[PolicyItem]:
    """Items of one clause read on its own (as a one-chunk document)."""
    meta = DocMeta(doc_id="clause")
    chunk = Chunk(chunk_id="clause#0", doc_id="clause", section="", text=text, start=0, end=len(text))
    return [it for it in chunk_items(meta, chunk, vocab or vocabulary(), jurisdiction="") if it.quantified]


@dataclass(frozen=True)
class ClauseResult:
    id: str
    doc: str
    expected: tuple[tuple, ...]
    predicted: tuple[tuple, ...]
    amount_cap_exact: bool
    tier_exact: bool
    items_found: int  # labelled items found exactly (with tier)


def score_clause(row: Mapping[str, Any], vocab: Vocabulary | None = None) -> ClauseResult:
    pred = [it.to_dict() for it in extract_clause(row["text"], vocab)]
    exp = list(row.get("items") or [])
    e_k, p_k = Counter(item_key(i, False) for i in exp), Counter(item_key(i, False) for i in pred)
    e_t, p_t = Counter(item_key(i, True) for i in exp), Counter(item_key(i, True) for i in pred)
    return ClauseResult(
        row["id"], row.get("doc", ""),
        tuple(sorted(e_t.elements(), key=str)), tuple(sorted(p_t.elements(), key=str)),
        e_k == p_k, e_t == p_t, sum((e_t & p_t).values()),
    )


def extraction_summary(results: Sequence[ClauseResult]) -> dict[str, Any]:
    n = len(results)
    n_items = sum(len(r.expected) for r in results)
    n_pred = sum(len(r.predicted) for r in results)
    found = sum(r.items_found for r in results)
    return {
        "clauses": n,
        "labelled_items": n_items,
        "amount_cap_exact": round(sum(r.amount_cap_exact for r in results) / n, 3) if n else None,
        "tier_exact": round(sum(r.tier_exact for r in results) / n, 3) if n else None,
        "item_recall": round(found / n_items, 3) if n_items else None,
        "item_precision": round(found / n_pred, 3) if n_pred else None,
    }


def evaluate_extraction(path: Path = CLAUSES, split: str = "all", vocab: Vocabulary | None = None) -> tuple[list[ClauseResult], dict]:
    rows = select(_rows(path), split)
    results = [score_clause(r, vocab) for r in rows]
    return results, extraction_summary(results)


# --- matching -------------------------------------------------------------------------


def knowledge_base(paths: Sequence[str | Path] | None = None):
    """(docs, chunks, catalog) of the built-in documents plus the fixture documents."""
    from policyqa.corpus.items import ItemCatalog
    from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, load_corpus

    report = load_corpus(paths or [builtin_corpus_dir(), DOCUMENTS])
    docs = {d.doc_id: d.meta for d in report.documents}
    chunks = chunk_documents(report.documents)
    return docs, chunks, ItemCatalog.build(docs, chunks)


def _same(exp: Mapping[str, Any], it: PolicyItem) -> bool:
    return (exp["doc"] == it.doc_id and exp["match"] in it.sentence
            and ("tier" not in exp or (exp["tier"] or "") == it.tier))


def _pair(expected: Sequence[Mapping[str, Any]], items: Sequence[PolicyItem]) -> list[tuple[int, int]]:
    """One-to-one pairs (expected index, item index), first fit in order."""
    used: set[int] = set()
    pairs = []
    for i, e in enumerate(expected):
        for j, it in enumerate(items):
            if j not in used and _same(e, it):
                used.add(j)
                pairs.append((i, j))
                break
    return pairs


def region_violations(result) -> list[str]:
    """Applicable items whose jurisdiction neither contains nor lies in the
    profile's region (judged here independently of the matcher's own rule)."""
    from policyqa.corpus.items import NATIONAL
    from policyqa.corpus.regions import parse_region

    if result.region is None:
        return []
    out = []
    for m in result.items:
        if not m.applicable or m.item.jurisdiction == NATIONAL:
            continue
        r = parse_region(m.item.jurisdiction)
        if r.province and not (r.contains(result.region) or result.region.contains(r)):
            out.append(m.item.item_id)
    return out


@dataclass(frozen=True)
class ProfileResult:
    id: str
    expected: int
    predicted: int
    true_positive: int
    amount_checked: int
    amount_correct: int
    expired_expected: int
    expired_flagged: int
    violations: tuple[str, ...]
    latency_ms: float
    unknown_fields: tuple[str, ...]
    missed: tuple[str, ...] = ()  # expected entries not matched (doc | match | tier)
    extra: tuple[str, ...] = ()  # predicted items not expected (item id | amount text)
    wrong_amounts: tuple[str, ...] = ()


def score_profile(row: Mapping[str, Any], docs, catalog) -> ProfileResult:
    from policyqa.qa.match import match, parse_profile

    today = date.fromisoformat(row["today"]) if row.get("today") else None
    t0 = time.perf_counter()
    profile, unknown = parse_profile(row["profile"])
    result = match(profile, catalog.all_items(), docs, today=today, unknown_fields=unknown)
    latency = (time.perf_counter() - t0) * 1000
    applicable = [m for m in result.items if m.applicable]
    expected = list(row.get("expect") or [])
    pairs = _pair(expected, [m.item for m in applicable])
    matched_e = {i for i, _ in pairs}
    matched_p = {j for _, j in pairs}
    checked = correct = 0
    wrong = []
    for i, j in pairs:
        if "estimate_wan" in expected[i]:
            checked += 1
            want, got = expected[i]["estimate_wan"], applicable[j].estimate_wan
            if (want is None and got is None) or (want is not None and got is not None and abs(want - got) < 0.01):
                correct += 1
            else:
                wrong.append(f"{applicable[j].item.item_id}: {got} (expected {want})")
    exp_expired = list(row.get("expect_expired") or [])
    flagged = [m.item for m in result.items if m.expired and not m.applicable]
    n_flagged = len(_pair(exp_expired, flagged))
    return ProfileResult(
        row["id"], len(expected), len(applicable), len(pairs), checked, correct, len(exp_expired), n_flagged,
        tuple(region_violations(result)), round(latency, 2), tuple(unknown),
        tuple(f"{e['doc']} | {e['match']} | {e.get('tier', '')}" for i, e in enumerate(expected) if i not in matched_e),
        tuple(f"{m.item.item_id} | {m.item.amount_text}" for j, m in enumerate(applicable) if j not in matched_p),
        tuple(wrong),
    )


def matching_summary(results: Sequence[ProfileResult]) -> dict[str, Any]:
    tp = sum(r.true_positive for r in results)
    pred = sum(r.predicted for r in results)
    exp = sum(r.expected for r in results)
    checked = sum(r.amount_checked for r in results)
    lat = sorted(r.latency_ms for r in results)
    ee = sum(r.expired_expected for r in results)
    return {
        "profiles": len(results),
        "expected_items": exp,
        "predicted_items": pred,
        "precision": round(tp / pred, 3) if pred else None,
        "recall": round(tp / exp, 3) if exp else None,
        "amount_accuracy": round(sum(r.amount_correct for r in results) / checked, 3) if checked else None,
        "amounts_checked": checked,
        "expired_flagged": round(sum(r.expired_flagged for r in results) / ee, 3) if ee else None,
        "other_region_violations": sum(len(r.violations) for r in results),
        "latency_ms_p50": lat[len(lat) // 2] if lat else None,
        "latency_ms_max": lat[-1] if lat else None,
    }


def evaluate_matching(path: Path = PROFILES, split: str = "all", kb=None) -> tuple[list[ProfileResult], dict]:
    from policyqa.qa.match import resolve_region

    docs, _, catalog = kb or knowledge_base()
    resolve_region("江苏省", docs)  # compile the gazetteer once (a one-off shared with answers), outside the timings
    rows = select(_rows(path), split)
    results = [score_profile(r, docs, catalog) for r in rows]
    return results, matching_summary(results)
