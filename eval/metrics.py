"""Evaluation metrics: pure functions over plain values and ``QuestionResult``.

Nothing here mutates its inputs or keeps state between calls (the only cache
is the looked-up text normaliser).  Conventions:

* ranks are 1-based; ``k`` must be >= 1;
* a metric with no eligible question is ``None`` (JSON ``null``), never 0;
* text comparison for facts and ROUGE goes through ``normalize``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from policyqa.corpus.types import Chunk

KS = (1, 5, 10)
METRIC_KEYS = (
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "doc_recall@1",
    "doc_recall@5",
    "doc_recall@10",
    "facts_all",
    "facts_mean",
    "rouge_l",
    "refusal_rate",
    "false_refusal_rate",
    "latency_ms_p50",
    "latency_ms_p95",
    "n",
)
_KEEP = {"%", "‰"}  # punctuation that changes a fact's meaning, so it is kept


# --------------------------------------------------------------------------- text


@lru_cache(maxsize=1)
def _script_normaliser() -> Callable[[str], str]:
    """``policyqa.corpus.clean.normalize_query`` if importable, else OpenCC t2s, else identity."""
    try:
        from policyqa.corpus.clean import normalize_query

        return normalize_query
    except ImportError:
        pass
    try:
        import opencc

        return opencc.OpenCC("t2s").convert
    except ImportError:  # pragma: no cover - opencc is a project dependency
        return lambda s: s


def normalize(text: str) -> str:
    """Comparison form of ``text`` used by facts matching and ROUGE-L.

    Exactly these steps, in order:

    1. ``policyqa.corpus.clean.normalize_query`` (traditional -> simplified,
       full-width -> half-width) when that module is importable; otherwise
       OpenCC ``t2s`` conversion.
    2. Unicode NFKC (full-width letters, digits and punctuation -> ASCII forms).
    3. ``str.casefold`` (English is compared case-insensitively).
    4. Remove every whitespace character and every punctuation character
       (Unicode categories ``P*``: ，,；;。、：:“”"（）()〔〕《》-—… etc.), except
       ``%``/``‰`` and a ``.`` standing between two digits (a decimal point, so
       ``163.3亿元`` keeps its point).  Symbols (``S*``: ``≥ + ×``) are kept.

    ``normalize("年销售收入 ≥ 2亿元；")`` == ``"年销售收入≥2亿元"``.
    """
    text = unicodedata.normalize("NFKC", _script_normaliser()(text)).casefold()
    text = "".join(ch for ch in text if not ch.isspace())
    out = []
    for i, ch in enumerate(text):
        if ch in _KEEP or not unicodedata.category(ch).startswith("P"):
            out.append(ch)
        elif ch == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            out.append(ch)
    return "".join(out)


def _squeeze(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def evidence_relevant(chunk_text: str, evidence: str) -> bool:
    """Whether a chunk holds the gold evidence.

    Both arguments are already cleaned text; they are compared after removing
    all whitespace.  True when the chunk contains the whole evidence, or a
    contiguous piece of it at least half its length (rounded up) -- evidence
    that crosses a chunk boundary counts for the chunk holding its larger part.
    Empty evidence is never relevant.
    """
    ev, chunk = _squeeze(evidence), _squeeze(chunk_text)
    if not ev or not chunk:
        return False
    if ev in chunk:
        return True
    need = math.ceil(len(ev) / 2)
    return any(ev[i : i + need] in chunk for i in range(len(ev) - need + 1))


def chunk_relevant(chunk: Chunk, evidence: str, gold_docs: Sequence[str] = ()) -> bool:
    """``evidence_relevant`` for a ``Chunk``, looking at the chunk's own context too.

    The passage is tested together with its section path, its interview
    question and its responsibility note (``chunk.responsible``), because the
    answer to "which unit leads X" or to a period stated in a heading lives
    there rather than in ``chunk.text``.  The document title in ``chunk.header``
    is not used (it would make every chunk of a document match an evidence
    that quotes the title).  When ``gold_docs`` is given, chunks of other
    documents are never relevant (the half-evidence rule would otherwise
    accept a generic phrase such as 国家级专精特新“小巨人”企业 anywhere).
    ``evidence`` must already be cleaned (``policyqa.corpus.clean.clean_text``).
    """
    if gold_docs and chunk.doc_id not in gold_docs:
        return False
    context = "\n".join(part for part in (chunk.section, chunk.question, chunk.responsible, chunk.text) if part)
    return evidence_relevant(context, evidence)


# ---------------------------------------------------------------------- retrieval


def _check_k(k: int) -> None:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def recall_at_k(relevant_flags: Sequence[bool], k: int) -> float:
    """1.0 if any of the first ``k`` ranked results is relevant, else 0.0."""
    _check_k(k)
    return 1.0 if any(relevant_flags[:k]) else 0.0


def mrr_at_k(relevant_flags: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank (1/rank) of the first relevant result within the top ``k``; 0.0 if none."""
    _check_k(k)
    for rank, flag in enumerate(relevant_flags[:k], start=1):
        if flag:
            return 1.0 / rank
    return 0.0


def doc_recall_at_k(ranked_doc_ids: Sequence[str], gold_doc_ids: Sequence[str], k: int) -> float:
    """1.0 if any gold document is among the documents of the first ``k`` ranked results.

    ``ranked_doc_ids`` is the document id of each ranked result (chunk), so ids
    may repeat.  Several gold documents are alternatives (each holds the same
    evidence), hence "any".  Raises ``ValueError`` when there is no gold doc.
    """
    _check_k(k)
    if not gold_doc_ids:
        raise ValueError("doc_recall_at_k needs at least one gold document id")
    gold = set(gold_doc_ids)
    return 1.0 if any(d in gold for d in ranked_doc_ids[:k]) else 0.0


# ------------------------------------------------------------------------ answers


def _fact_hits(answer_text: str, must_include: Sequence[str]) -> list[bool]:
    if not must_include:
        raise ValueError("must_include is empty: there are no facts to check")
    answer = normalize(answer_text)
    return [normalize(f) in answer for f in must_include]


def fact_flags(answer_text: str, must_include: Sequence[str]) -> list[bool]:
    """Whether each ``must_include`` fact is in the answer (normalised substring), in order."""
    return _fact_hits(answer_text, must_include) if must_include else []


def facts_recall(answer_text: str, must_include: Sequence[str]) -> float:
    """Fraction of ``must_include`` facts found in the answer (both normalised, substring match)."""
    hits = _fact_hits(answer_text, must_include)
    return sum(hits) / len(hits)


def facts_all(answer_text: str, must_include: Sequence[str]) -> bool:
    """True when every ``must_include`` fact is found in the answer (see ``facts_recall``)."""
    return all(_fact_hits(answer_text, must_include))


def _lcs_length(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for ch in a:
        cur = [0]
        for j, other in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if ch == other else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l_f(candidate: str, reference: str) -> float:
    """Character-level ROUGE-L F1 (beta = 1) of ``candidate`` against ``reference``.

    Both are ``normalize``d; P = LCS/len(candidate), R = LCS/len(reference),
    F = 2PR/(P+R).  0.0 when either is empty after normalisation or nothing matches.
    """
    cand, ref = normalize(candidate), normalize(reference)
    if not cand or not ref:
        return 0.0
    lcs = _lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(cand), lcs / len(ref)
    return 2 * p * r / (p + r)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100) with linear interpolation, as ``numpy.percentile``'s default."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p must be within 0..100, got {p!r}")
    data = sorted(values)
    pos = (len(data) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


# ------------------------------------------------------------------- per question


@dataclass(frozen=True)
class QuestionResult:
    """What the system did for one question, with what is needed to score it."""

    id: str
    kind: str = ""
    relevant: tuple[bool, ...] | None = None  # evidence_relevant per ranked chunk; None: no evidence
    ranked_doc_ids: tuple[str, ...] = ()  # doc id of each ranked chunk, best first
    gold_docs: tuple[str, ...] = ()
    answer: str = ""  # the system's answer text
    must_include: tuple[str, ...] = ()
    reference: str = ""  # reference answer
    refused: bool = False  # the system declined to answer
    out_of_corpus: bool = False  # refusing is the right behaviour
    latency_ms: float | None = None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def refusal_rates(records: Sequence[QuestionResult]) -> tuple[float | None, float | None]:
    """(share of out-of-corpus questions refused, share of the other questions refused).

    The first is good when high, the second (false refusals) when low; each is
    ``None`` when there is no question of that group.
    """
    ooc = [float(r.refused) for r in records if r.out_of_corpus]
    others = [float(r.refused) for r in records if not r.out_of_corpus]
    return _mean(ooc), _mean(others)


def _summary(records: Sequence[QuestionResult]) -> dict:
    flagged = [r.relevant for r in records if r.relevant is not None and not r.out_of_corpus]
    with_docs = [r for r in records if r.gold_docs and not r.out_of_corpus]
    with_facts = [r for r in records if r.must_include]
    with_ref = [r for r in records if r.reference.strip() and not r.out_of_corpus]
    latencies = [r.latency_ms for r in records if r.latency_ms is not None]
    out: dict = {}
    for k in KS:
        out[f"recall@{k}"] = _mean([recall_at_k(f, k) for f in flagged])
    out["mrr@10"] = _mean([mrr_at_k(f, 10) for f in flagged])
    for k in KS:
        out[f"doc_recall@{k}"] = _mean([doc_recall_at_k(r.ranked_doc_ids, r.gold_docs, k) for r in with_docs])
    out["facts_all"] = _mean([float(facts_all(r.answer, r.must_include)) for r in with_facts])
    out["facts_mean"] = _mean([facts_recall(r.answer, r.must_include) for r in with_facts])
    out["rouge_l"] = _mean([rouge_l_f(r.answer, r.reference) for r in with_ref])
    out["refusal_rate"], out["false_refusal_rate"] = refusal_rates(records)
    out["latency_ms_p50"] = percentile(latencies, 50) if latencies else None
    out["latency_ms_p95"] = percentile(latencies, 95) if latencies else None
    out["n"] = len(records)
    return out


def aggregate(records: Sequence[QuestionResult]) -> dict:
    """Mean metrics over ``records``, overall and per ``kind``.

    Keys: ``METRIC_KEYS`` plus ``by_kind`` ({kind: same keys without
    ``by_kind``}, kinds sorted; an empty kind is grouped as ``""``).
    Eligibility: retrieval metrics (recall@k, mrr@10) average over questions
    with relevance flags, doc_recall@k over questions with gold docs, both
    excluding out-of-corpus questions; facts_* over questions with
    ``must_include``; rouge_l over in-corpus questions with a reference
    answer; refusal rates as in ``refusal_rates``; latency percentiles over
    records with a latency.  ``facts_all`` is the share of questions whose
    answer holds all facts, ``facts_mean`` the mean of ``facts_recall``.
    A metric with no eligible question is ``None``; ``n`` counts all records.
    """
    out = _summary(records)
    kinds = sorted({r.kind for r in records})
    out["by_kind"] = {kind: _summary([r for r in records if r.kind == kind]) for kind in kinds}
    return out
