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
