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
from typing import Any, Mapping, Sequence

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
    """An expected entry names an item: its document, a substring of its sentence, and
    optionally its tier, or its amount / rate (to tell the items of one sentence apart)."""
    return (exp["doc"] == it.doc_id and exp["match"] in it.sentence
            and ("tier" not in exp or (exp["tier"] or "") == it.tier)
            and ("amount_wan" not in exp or _num(exp["amount_wan"]) == _num(it.amount_wan))
            and ("rate" not in exp or _num(exp["rate"]) == _num(it.rate)))


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
    profile's region (judged here independently of the matcher's own rule:
    gazetteer containment, and an area the gazetteer does not place — 桐溪县 —
    only matches the same area)."""
    from policyqa.corpus.jurisdiction import parse_jurisdiction
    from policyqa.corpus.regions import short_name

    if not result.region:
        return []
    p = parse_jurisdiction(result.region)
    out = []
    for m in result.items:
        d = parse_jurisdiction(m.item.jurisdiction)
        if not m.applicable or d.level == "national" or not d.known:
            continue
        if d.area:
            ok = bool(p.area) and short_name(d.area) == short_name(p.area) and (
                not d.region.province or not p.region.province or d.region == p.region)
        else:
            ok = bool(d.region.province) and (d.region.contains(p.region) or (not p.area and p.region.contains(d.region)))
        if not ok:
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
    # optional expectations (the held-out set uses them): items that must not be applicable,
    # items that must be listed as superseded, items that must be listed under "elsewhere"
    should_not: int = 0
    should_not_violations: tuple[str, ...] = ()
    superseded_expected: int = 0
    superseded_flagged: int = 0
    elsewhere_expected: int = 0
    elsewhere_found: int = 0


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
    not_ok = list(row.get("expect_not") or [])
    violations = [f"{e['doc']} | {e['match']}" for e in not_ok if any(_same(e, m.item) for m in applicable)]
    exp_old = list(row.get("expect_superseded") or [])
    n_old = len(_pair(exp_old, [m.item for m in result.items if m.superseded and not m.applicable]))
    exp_else = list(row.get("expect_elsewhere") or [])
    n_else = len(_pair(exp_else, [m.item for m in result.elsewhere]))
    return ProfileResult(
        row["id"], len(expected), len(applicable), len(pairs), checked, correct, len(exp_expired), n_flagged,
        tuple(region_violations(result)), round(latency, 2), tuple(unknown),
        tuple(f"{e['doc']} | {e['match']} | {e.get('tier', '')}" for i, e in enumerate(expected) if i not in matched_e),
        tuple(f"{m.item.item_id} | {m.item.amount_text}" for j, m in enumerate(applicable) if j not in matched_p),
        tuple(wrong), len(not_ok), tuple(violations), len(exp_old), n_old, len(exp_else), n_else,
    )


def _share(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


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
        "should_not_checked": sum(r.should_not for r in results),
        "should_not_violations": sum(len(r.should_not_violations) for r in results),
        "superseded_flagged": _share(sum(r.superseded_flagged for r in results), sum(r.superseded_expected for r in results)),
        "elsewhere_found": _share(sum(r.elsewhere_found for r in results), sum(r.elsewhere_expected for r in results)),
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


# --- a whole run, details and report ------------------------------------------------------


@dataclass
class EvalRun:
    split: str
    clauses: list[ClauseResult]
    profiles: list[ProfileResult]
    extraction: dict
    matching: dict
    build_ms: float
    n_items: int
    n_docs: int
    amounts: list[tuple[float, float]] = field(default_factory=list)  # (expected, estimated) of matched items
    corpus: str = "built-in + eval/match/documents"

    def summary(self) -> dict[str, Any]:
        return {"split": self.split, "extraction": self.extraction, "matching": self.matching,
                "catalog": {"documents": self.n_docs, "items": self.n_items, "build_ms": round(self.build_ms, 1)}}


def run(clauses: Path | None = CLAUSES, profiles: Path = PROFILES, split: str = "all", corpus: Sequence[str] | None = None) -> EvalRun:
    """Both evaluations on one half (extraction skipped when ``clauses`` is None); the knowledge base is built once."""
    clause_results, ext = evaluate_extraction(clauses, split) if clauses is not None else ([], extraction_summary([]))
    docs, chunks, catalog = knowledge_base(corpus)
    t0 = time.perf_counter()
    from policyqa.corpus.items import ItemCatalog

    catalog = ItemCatalog.build(docs, chunks)  # timed again, warm: the cost a knowledge base pays when it opens
    build_ms = (time.perf_counter() - t0) * 1000
    prof_results, mat = evaluate_matching(profiles, split, kb=(docs, chunks, catalog))
    amounts = _amount_pairs(profiles, split, docs, catalog)
    return EvalRun(split, clause_results, prof_results, ext, mat, build_ms, len(catalog), len(docs), amounts,
                   " ".join(map(str, corpus)) if corpus else "built-in + eval/match/documents")


def _amount_pairs(path: Path, split: str, docs, catalog) -> list[tuple[float, float]]:
    from policyqa.qa.match import match, parse_profile

    out = []
    for row in select(_rows(path), split):
        p, _ = parse_profile(row["profile"])
        res = match(p, catalog.all_items(), docs, today=date.fromisoformat(row["today"]) if row.get("today") else None)
        app = [m for m in res.items if m.applicable]
        exp = list(row.get("expect") or [])
        for i, j in _pair(exp, [m.item for m in app]):
            want = exp[i].get("estimate_wan")
            if want is not None:
                out.append((float(want), float(app[j].estimate_wan) if app[j].estimate_wan is not None else 0.0))
    return out


def write_details(path: Path, r: EvalRun) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for c in r.clauses:
            f.write(json.dumps({"type": "clause", "id": c.id, "doc": c.doc, "amount_cap_exact": c.amount_cap_exact,
                                "tier_exact": c.tier_exact, "expected": c.expected, "predicted": c.predicted}, ensure_ascii=False) + "\n")
        for p in r.profiles:
            f.write(json.dumps({"type": "profile", **{k: v for k, v in p.__dict__.items()}}, ensure_ascii=False) + "\n")


def write_report(path: Path, r: EvalRun, command: str) -> None:
    """A Markdown report and one PNG figure (``<report>.png``) beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig_path = path.with_suffix(".png")
    _figure(fig_path, r)
    ex, ma = r.extraction, r.matching
    lines = [
        f"# Policy matching evaluation ({r.split} half)", "",
        f"Command: `{command}`  ",
        f"Knowledge base: {r.n_docs} documents ({r.corpus}), {r.n_items} items extracted in "
        f"{r.build_ms:.0f} ms (warm).", "",
        f"![figures]({fig_path.name})", "",
    ]
    if ex["clauses"]:
        lines += [
            "## Extraction (hand-labelled clauses)", "",
            "| clauses | labelled items | amount+cap exact | tier exact | item recall | item precision |",
            "|---|---|---|---|---|---|",
            f"| {ex['clauses']} | {ex['labelled_items']} | {ex['amount_cap_exact']} | {ex['tier_exact']} | {ex['item_recall']} | {ex['item_precision']} |",
            ""]
    lines += [
        "## Matching (enterprise profiles)", "",
        "| profiles | expected | predicted | precision | recall | amount accuracy | expired flagged | other-region items shown as applicable | latency p50 / max |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {ma['profiles']} | {ma['expected_items']} | {ma['predicted_items']} | {ma['precision']} | {ma['recall']} | "
        f"{ma['amount_accuracy']} ({ma['amounts_checked']}) | {ma['expired_flagged']} | {ma['other_region_violations']} | "
        f"{ma['latency_ms_p50']} / {ma['latency_ms_max']} ms |", "",
    ]
    if ma["should_not_checked"] or ma["superseded_flagged"] is not None or ma["elsewhere_found"] is not None:
        lines += [
            "| items that must not be applicable (checked) | shown as applicable | superseded items flagged | elsewhere items listed |",
            "|---|---|---|---|",
            f"| {ma['should_not_checked']} | {ma['should_not_violations']} | {ma['superseded_flagged']} | {ma['elsewhere_found']} |", ""]
    bad_c = [c for c in r.clauses if not (c.amount_cap_exact and c.tier_exact)]
    if bad_c:
        lines += ["## Clauses not exact", ""]
        for c in bad_c:
            lines.append(f"- `{c.id}` ({c.doc}): expected {list(c.expected)}, got {list(c.predicted)}")
        lines.append("")
    bad_p = [p for p in r.profiles if p.missed or p.extra or p.wrong_amounts or p.violations or p.should_not_violations
             or p.superseded_flagged < p.superseded_expected or p.elsewhere_found < p.elsewhere_expected]
    if bad_p:
        lines += ["## Profiles with differences", ""]
        for p in bad_p:
            lines.append(f"- `{p.id}`: " + "; ".join(
                [f"missed {x}" for x in p.missed] + [f"extra {x}" for x in p.extra]
                + [f"amount {x}" for x in p.wrong_amounts] + [f"other-region {x}" for x in p.violations]
                + [f"must not be applicable {x}" for x in p.should_not_violations]
                + ([f"superseded flagged {p.superseded_flagged}/{p.superseded_expected}"] if p.superseded_flagged < p.superseded_expected else [])
                + ([f"elsewhere listed {p.elsewhere_found}/{p.elsewhere_expected}"] if p.elsewhere_found < p.elsewhere_expected else [])))
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _figure(path: Path, r: EvalRun) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ex = r.extraction
    names = ["amount+cap\nexact", "tier\nexact", "item\nrecall", "item\nprecision"]
    vals = [ex["amount_cap_exact"] or 0, ex["tier_exact"] or 0, ex["item_recall"] or 0, ex["item_precision"] or 0]
    ax = axes[0]
    if ex["clauses"]:
        ax.bar(names, vals, color="#4c72b0")
        ax.axhline(0.95, color="#c44e52", ls="--", lw=1, label="target 0.95")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Extraction, {ex['clauses']} clauses ({r.split})")
        for i, v in enumerate(vals):
            ax.text(i, v + 0.01, f"{v:.3f}", ha="center", fontsize=9)
        ax.legend(loc="lower right", fontsize=8)
    else:
        ma = r.matching
        names = ["precision", "recall", "amount\naccuracy", "superseded\nflagged"]
        vals = [ma["precision"] or 0, ma["recall"] or 0, ma["amount_accuracy"] or 0, ma["superseded_flagged"] or 0]
        ax.bar(names, vals, color="#4c72b0")
        ax.axhline(0.9, color="#c44e52", ls="--", lw=1, label="target 0.9")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Matching, {ma['profiles']} profiles ({r.split})")
        for i, v in enumerate(vals):
            ax.text(i, v + 0.01, f"{v:.3f}", ha="center", fontsize=9)
        ax.legend(loc="lower right", fontsize=8)
    ax = axes[1]
    ids = [p.id.replace("profile-", "") for p in r.profiles]
    prec = [p.true_positive / p.predicted if p.predicted else 1.0 for p in r.profiles]
    rec = [p.true_positive / p.expected if p.expected else 1.0 for p in r.profiles]
    y = range(len(ids))
    ax.barh([i + 0.2 for i in y], prec, height=0.4, label="precision", color="#4c72b0")
    ax.barh([i - 0.2 for i in y], rec, height=0.4, label="recall", color="#55a868")
    ax.set_yticks(list(y))
    ax.set_yticklabels(ids, fontsize=7)
    ax.axvline(0.9, color="#c44e52", ls="--", lw=1)
    ax.set_xlim(0, 1.05)
    ma = r.matching
    ax.set_title(f"Matching per profile: P={ma['precision']} R={ma['recall']}")
    ax.legend(loc="lower left", fontsize=8)
    ax = axes[2]
    if r.amounts:
        xs, ys = zip(*r.amounts)
        ax.scatter(xs, ys, s=18, color="#8172b2")
        hi = max(max(xs), max(ys)) * 1.1
        ax.plot([0, hi], [0, hi], color="#999", lw=1)
    ax.set_xlabel("expected estimate (10k CNY)")
    ax.set_ylabel("estimated")
    ax.set_title(f"Amounts: accuracy {ma['amount_accuracy']} ({ma['amounts_checked']} checked)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- timing ----------------------------------------------------------------------------


class _ConstantEmbedder:
    """A model-free embedder so an index can be built and loaded for timing."""

    name, backend, dim = "constant", "none", 8

    def encode_documents(self, texts, progress=False):
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype="float32")
        out[:, 0] = 1.0
        return out

    encode_queries = encode_documents


def timing(repeats: int = 7, profiles: Path = PROFILES, corpus: Sequence[str] | None = None) -> dict[str, Any]:
    """Side-by-side costs on the built-in knowledge base, medians of ``repeats``:
    extracting every item against reading them from the index's ``items.jsonl``
    (what opening a knowledge base now does) and against loading the whole index, and matching one profile (cold: the first call
    in a process, which compiles the gazetteer; warm: every later one)."""
    import statistics
    import tempfile

    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.corpus.items import ItemCatalog
    from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, load_corpus
    from policyqa.index.store import IndexStore
    from policyqa.index.tokenize import JiebaTokenizer
    from policyqa.qa.match import match, parse_profile

    report = load_corpus(list(corpus) if corpus else [builtin_corpus_dir()])
    docs = {d.doc_id: d.meta for d in report.documents}
    chunks = chunk_documents(report.documents)
    rows = _rows(profiles)
    p0, _ = parse_profile(rows[0]["profile"])
    catalog = ItemCatalog.build(docs, chunks)
    t0 = time.perf_counter()
    match(p0, catalog.all_items(), docs)
    cold = (time.perf_counter() - t0) * 1000

    def med(fn) -> float:
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(ts), 1)

    build = med(lambda: ItemCatalog.build(docs, chunks))
    with tempfile.TemporaryDirectory() as tmp:
        IndexStore.build(report.documents, chunks, _ConstantEmbedder(), JiebaTokenizer(), Path(tmp) / "index",
                         chunker_settings=ChunkerConfig().to_dict(), progress=False)
        load = med(lambda: IndexStore.load(Path(tmp) / "index"))
        from policyqa.index.items import ItemFile

        stored = med(lambda: ItemFile.load(Path(tmp) / "index")[0].catalog().all_items())
    lat = []
    parsed = [parse_profile(r["profile"])[0] for r in rows]
    for _ in range(repeats):
        for p in parsed:
            t = time.perf_counter()
            match(p, catalog.all_items(), docs)
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return {
        "documents": len(docs), "chunks": len(chunks), "items": len(catalog),
        "items_build_ms": build, "items_load_ms": stored, "index_load_ms": load,
        "items_build_vs_index_load": round(build / load, 3) if load else None,
        "items_load_vs_build": round(stored / build, 3) if build else None,
        "match_cold_ms": round(cold, 1),
        "match_warm_ms_p50": round(lat[len(lat) // 2], 2), "match_warm_ms_p95": round(lat[int(len(lat) * 0.95) - 1], 2),
        "match_warm_ms_max": round(lat[-1], 2), "profiles_timed": len(lat),
    }
