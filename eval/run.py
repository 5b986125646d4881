"""Run a question set against one or more configurations and score it.

``policyqa eval QUESTIONS.jsonl [--corpus PATH...] [--config NAME...] [--json] [--report FILE.md]``

Each configuration gets an index (built once and reused, keyed by corpus
fingerprint, chunker and embedding model), an answerer, and the same
questions on the same machine, so comparisons are fair.  Follow-up questions
(``followup_of``) are asked with their conversation's history.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.clean import clean_text
from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, load_corpus
from policyqa.corpus.types import Chunk, Document
from policyqa.eval.baseline import recursive_chunks
from policyqa.eval.breakdown import declined
from policyqa.eval.metrics import QuestionResult, aggregate, chunk_relevant, fact_flags, recall_at_k
from policyqa.eval.questions import Question, assign_splits, load_questions, select_split
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore, IndexStoreError, corpus_fingerprint
from policyqa.index.tokenize import JiebaTokenizer
from policyqa.qa.service import DEFAULT_RETRIEVAL, make_answerer
from policyqa.qa.types import Answer, Turn


@dataclass(frozen=True)
class EvalConfig:
    """A retrieval/answer configuration to evaluate.

    ``chunker``: "structure" (ours) or "recursive" (Langchain-style character
    splitter, ``max_chars``/``overlap``).  ``answer``: "extractive" (ours) or
    "top3" (the baseline's context: the top three chunks, never refusing).
    """

    name: str
    retrieval: RetrievalConfig = DEFAULT_RETRIEVAL
    chunker: str = "structure"
    max_chars: int = ChunkerConfig.max_chars
    min_chars: int = ChunkerConfig.min_chars
    overlap: int = 0
    answer: str = "extractive"

    def chunker_settings(self) -> dict:
        if self.chunker == "recursive":
            return {"name": "recursive-character", "max_chars": self.max_chars, "overlap": self.overlap}
        return ChunkerConfig(self.max_chars, self.min_chars).to_dict()


CONFIGS: dict[str, EvalConfig] = {
    "default": EvalConfig("default"),
    "bm25": EvalConfig("bm25", RetrievalConfig(mode="bm25")),
    "dense": EvalConfig("dense", RetrievalConfig(mode="dense")),
    "hybrid-rrf-equal": EvalConfig("hybrid-rrf-equal", RetrievalConfig(rrf_k=5, weights=(1.0, 1.0))),
    "hybrid-rrf60": EvalConfig("hybrid-rrf60", RetrievalConfig(rrf_k=60, weights=(1.0, 0.5))),
    "hybrid-minmax": EvalConfig("hybrid-minmax", RetrievalConfig(fusion="minmax")),
    "hybrid-minmax-sparse": EvalConfig("hybrid-minmax-sparse", RetrievalConfig(fusion="minmax", weights=(0.7, 0.3))),
    "chunks-250": EvalConfig("chunks-250", max_chars=250, min_chars=60),
    "chunks-400": EvalConfig("chunks-400", max_chars=400, min_chars=80),
    "chunks-600": EvalConfig("chunks-600", max_chars=600, min_chars=100),
    # Langchain-Chatchat's common setup: recursive split 750/150, dense only, top 3.
    "baseline": EvalConfig("baseline", RetrievalConfig(mode="dense"), chunker="recursive", max_chars=750, overlap=150, answer="top3"),
}


@dataclass
class Run:
    config: EvalConfig
    results: list[QuestionResult] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)
    recall_curve: list[float] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def _chunks_for(cfg: EvalConfig, docs: Sequence[Document]) -> list[Chunk]:
    if cfg.chunker == "recursive":
        return [c for d in docs for c in recursive_chunks(d, cfg.max_chars, cfg.overlap)]
    return chunk_documents(docs, ChunkerConfig(cfg.max_chars, cfg.min_chars))


def index_for(cfg: EvalConfig, docs: Sequence[Document], cache: Path, embedder, tokenizer, progress: bool) -> IndexStore:
    """Reuse or build the index for a configuration's chunker over ``docs``."""
    # the documents' text and their metadata as this version derives it (region, dates …): an index
    # cached by an older metadata code is not reused with stale jurisdictions
    fp = corpus_fingerprint({d.doc_id: hashlib.sha256((d.text + json.dumps(d.meta.to_dict(), sort_keys=True, ensure_ascii=False)).encode("utf-8")).hexdigest()
                             for d in docs})
    key = json.dumps([cfg.chunker_settings(), embedder.name, embedder.backend], sort_keys=True)
    path = cache / f"{fp[:12]}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    try:
        store = IndexStore.load(path, embedder, tokenizer=tokenizer, chunker_settings=cfg.chunker_settings())
        if store.sentences is None or store.sentences.missing(store.chunks):  # built by an older version
            if progress:
                print(f"[{cfg.name}] embedding the sentences of {len(store.chunks)} chunks -> {path}", file=sys.stderr)
            store.ensure_sentences(progress=progress)
            store.save()
        return store
    except IndexStoreError:
        pass
    chunks = _chunks_for(cfg, docs)
    if progress:
        print(f"[{cfg.name}] building index: {len(docs)} documents, {len(chunks)} chunks -> {path}", file=sys.stderr)
    return IndexStore.build(docs, chunks, embedder, tokenizer, path, chunker_settings=cfg.chunker_settings(), progress=progress)


def answer_body(a: Answer) -> str:
    """The answer without its list of sources (what facts and ROUGE are scored on)."""
    return a.text.split("\n来源：", 1)[0].strip()


def _top3_answer(question: str, store: IndexStore, retrieval: RetrievalConfig) -> Callable:
    retriever = store.retriever(retrieval)

    def ask(q: str, history=None) -> Answer:
        t0 = time.perf_counter()
        hits = retriever.search(q, k=10)
        body = "\n".join(h.chunk.text for h in hits[:3])
        ms = (time.perf_counter() - t0) * 1000
        return Answer(q, q, body, body, refused=not hits, hits=tuple(hits), timings_ms={"retrieve": ms, "compose": 0.0, "total": ms})

    return ask


def run_config(cfg: EvalConfig, questions: Sequence[Question], docs: Sequence[Document], cache: Path, embedder, tokenizer,
               progress: bool = True, store=None, threshold: float | None = None) -> Run:
    """Answer and score ``questions``; ``store`` (any index backend) instead of the cached in-process index;
    ``threshold`` overrides the answerability threshold of ``qa/models/answerable.json`` (to measure the
    trade-off between false refusals and declined out-of-corpus questions)."""
    store = store if store is not None else index_for(cfg, docs, cache, embedder, tokenizer, progress)
    if cfg.answer == "top3":
        ask = _top3_answer("", store, cfg.retrieval)
    else:
        answerer = make_answerer(store, cfg.retrieval, llm=None, threshold=threshold)  # the service's own wiring
        ask = lambda q, history=None: answerer.answer(q, history=history)  # noqa: E731
    by_id = {q.id: q for q in questions}
    answers: dict[str, Answer] = {}
    run = Run(cfg)
    curve = [0.0] * 10
    n_curve = 0
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc=f"eval {cfg.name}", unit="q", file=sys.stderr)
    for q in iterator:
        history: list[Turn] = []
        prev = q.followup_of
        chain = []
        while prev and prev in by_id:
            chain.append(by_id[prev])
            prev = by_id[prev].followup_of
        for pq in reversed(chain):
            pa = answers.get(pq.id)
            history.append(Turn(pq.question, answer_body(pa) if pa else "", pa.resolved_question if pa else ""))
        t0 = time.perf_counter()
        a = ask(q.question, history=history or None)
        latency = (time.perf_counter() - t0) * 1000
        answers[q.id] = a
        ranked = [h.chunk for h in a.hits[:10]]
        evidence = clean_text(q.evidence) if q.evidence else ""
        flags = tuple(chunk_relevant(c, evidence, q.docs) for c in ranked) if evidence else None
        res = QuestionResult(
            id=q.id, kind=q.kind, relevant=flags, ranked_doc_ids=tuple(c.doc_id for c in ranked), gold_docs=tuple(q.docs),
            answer=answer_body(a), must_include=tuple(q.must_include), reference=q.answer, refused=a.refused,
            out_of_corpus=q.out_of_corpus, latency_ms=latency,
        )
        run.results.append(res)
        if flags is not None:
            n_curve += 1
            for k in range(1, 11):
                curve[k - 1] += recall_at_k(flags, k)
        body = answer_body(a)
        run.details.append({
            "id": q.id, "kind": q.kind, "question": q.question, "resolved": a.resolved_question,
            "answer": body, "refused": a.refused, "region_note": a.region_note, "notes": list(a.notes),
            "citations": [{"doc_id": c.doc_id, "chunk_id": c.chunk_id} for c in a.citations],
            "relevant_rank": next((i + 1 for i, f in enumerate(flags or ()) if f), None),
            "top": [f"{c.chunk_id} ({c.section[:30]})" for c in ranked[:3]],
            "must_include": list(q.must_include),
            "facts_found": fact_flags(body, q.must_include),
            "out_of_corpus": q.out_of_corpus, "followup_of": q.followup_of or None, "decision": a.decision,
            "latency_ms": round(latency, 1),
        })
    run.recall_curve = [c / n_curve if n_curve else 0.0 for c in curve]
    run.summary = aggregate(run.results)
    # out-of-corpus questions refused, or answered with an explicit "not covered for that region" lead
    ooc = [d for d in run.details if d["out_of_corpus"]]
    run.summary["ooc_declined_rate"] = (sum(declined(d["refused"], d["region_note"]) for d in ooc) / len(ooc)) if ooc else None
    return run


def failed(detail: dict, result: QuestionResult) -> list[str]:
    why = []
    if result.out_of_corpus:
        if not result.refused:
            why.append("answered an out-of-corpus question")
        return why
    if result.refused:
        why.append("refused")
    if result.relevant is not None and not any(result.relevant[:5]):
        why.append("evidence not in top 5")
    if result.must_include:
        from policyqa.eval.metrics import facts_all

        if not facts_all(result.answer, result.must_include):
            why.append("missing facts")
    return why


def write_report(path: Path, runs: Sequence[Run], questions_path: str, corpus_label: str, command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    png = path.with_suffix(".png")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for r in runs:
            ax.plot(range(1, 11), r.recall_curve, marker="o", label=r.config.name)
        ax.set_xlabel("k")
        ax.set_ylabel("evidence recall@k")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title(f"recall@k — {Path(questions_path).name}")
        fig.tight_layout()
        fig.savefig(png, dpi=110)
        plt.close(fig)
    except Exception as e:  # a missing chart must not lose the report
        png = None
        print(f"chart not written: {e}", file=sys.stderr)
    keys = ["n", "recall@1", "recall@5", "recall@10", "mrr@10", "doc_recall@5", "facts_all", "facts_mean", "rouge_l",
            "refusal_rate", "ooc_declined_rate", "false_refusal_rate", "latency_ms_p50", "latency_ms_p95"]
    lines = [f"# Evaluation: {Path(questions_path).name}", "", f"Corpus: {corpus_label}  ", f"Command: `{command}`", ""]
    lines += ["| config | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for r in runs:
        lines.append(f"| {r.config.name} | " + " | ".join(_fmt(r.summary.get(k)) for k in keys) + " |")
    if png:
        lines += ["", f"![recall@k]({png.name})"]
    for r in runs:
        lines += ["", f"## {r.config.name}", "", "| kind | n | recall@5 | mrr@10 | facts_all | rouge_l | refusal | false refusal |", "|---|---|---|---|---|---|---|---|"]
        for kind, s in sorted(r.summary.get("by_kind", {}).items()):
            lines.append(f"| {kind} | {s['n']} | {_fmt(s['recall@5'])} | {_fmt(s['mrr@10'])} | {_fmt(s['facts_all'])} | {_fmt(s['rouge_l'])} | {_fmt(s['refusal_rate'])} | {_fmt(s['false_refusal_rate'])} |")
        fails = [(d, res, failed(d, res)) for d, res in zip(r.details, r.results)]
        fails = [f for f in fails if f[2]]
        lines += ["", f"### Failed questions ({len(fails)})", ""]
        for d, res, why in fails:
            lines.append(f"- **{d['id']}** ({d['kind']}) {_md(d['question'])} — {', '.join(why)}")
            if d["resolved"] and d["resolved"] != d["question"]:
                lines.append(f"  - resolved: {_md(d['resolved'])}")
            lines.append(f"  - evidence rank: {d['relevant_rank']}; top 3: {_md('; '.join(d['top']))}")
            lines.append(f"  - answer: {_md(d['answer'][:200])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.0f}"
    return str(v)


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def write_details(path: Path, run: Run) -> None:
    """One JSON line per question (``policyqa eval --details``): what scripts outside
    the project score from.  Fields: id, kind, split, question, resolved, answer,
    refused, region_note, notes, citations [{doc_id, chunk_id}], relevant_rank
    (evidence rank in the top 10, or null), must_include, facts_found (one bool
    per fact), out_of_corpus, followup_of, latency_ms, config."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for d in run.details:
            f.write(json.dumps({**d, "config": run.config.name}, ensure_ascii=False) + "\n")


def evaluate(questions_path: str, corpus: Sequence[str] | None, config_names: Sequence[str], cache: Path, embedder=None, tokenizer=None, progress: bool = True, split: str = "all",
             threshold: float | None = None) -> tuple[list[Run], list]:
    """Run ``config_names`` over the questions of ``split`` ("tune", "test" or "all"); ``threshold``:
    see :func:`run_config`."""
    questions, errors = load_questions(questions_path)
    for e in errors:
        print(f"{questions_path}: {e}", file=sys.stderr)
    halves = assign_splits(questions)
    questions = select_split(questions, split)
    report = load_corpus(corpus or [builtin_corpus_dir()])
    for s in report.skipped:
        print(s.reason, file=sys.stderr)
    if embedder is None:
        from policyqa.index.embeddings import load_embedder

        embedder = load_embedder()
    tokenizer = tokenizer or JiebaTokenizer()
    runs = []
    for n in config_names:
        run = run_config(CONFIGS[n] if isinstance(n, str) else n, questions, report.documents, cache, embedder, tokenizer, progress,
                         threshold=threshold)
        for d in run.details:
            d["split"] = halves.get(d["id"], "")
        runs.append(run)
        if progress:
            s = run.summary
            print(f"[{run.config.name}] recall@5={_fmt(s['recall@5'])} mrr@10={_fmt(s['mrr@10'])} facts_all={_fmt(s['facts_all'])} "
                  f"rouge_l={_fmt(s['rouge_l'])} refusal={_fmt(s['refusal_rate'])} false_refusal={_fmt(s['false_refusal_rate'])}",
                  file=sys.stderr)
    return runs, errors
