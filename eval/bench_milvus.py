"""Milvus vs the in-process store, side by side in one run.

    python -m policyqa.eval.bench_milvus quality [--ncp DIR] [--split test]
    python -m policyqa.eval.bench_milvus scale [--sizes 2000 100000] [--queries 30]

``quality``: the evaluation questions (team set over the built-in documents,
and the NCP set over its corpus when ``--ncp`` is given) answered from the
in-process index and from the same index migrated into Milvus Lite (same
chunks, same vectors: only the engine differs), scored with the evaluation
metrics (evidence recall@5, MRR@10, facts, refusals).  BM25-only runs and the
overlap of the two engines' top-10 lists separate the BM25 differences
(tokenisation and statistics) from everything else.

``scale``: synthetic corpora (``eval/bench.py``'s recombined built-in
chunks, vectors mixed from real ones) of each size, built into both backends
(Milvus Lite: the embedded engine, not a cluster), then query latency (BM25
and dense search with pre-encoded queries: the engine only) and the time to
add and to remove one 20-chunk document, including the in-process ``save``.

Results: JSON on stdout (and ``--out``); ``--markdown`` prints table rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEAM = ROOT / "eval" / "questions" / "team.jsonl"


def _p(xs: Sequence[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _lat(seconds: Sequence[float]) -> dict[str, float]:
    ms = [x * 1000 for x in seconds]
    return {"p50_ms": round(_p(ms, 0.5), 2), "p95_ms": round(_p(ms, 0.95), 2), "n": len(ms)}


# --- quality ----------------------------------------------------------------------------


def quality(questions_path: Path, corpus: Sequence[str] | None, workdir: Path, split: str, embedder, tokenizer,
            configs: Sequence[str] = ("default", "bm25")) -> dict[str, Any]:
    from policyqa.corpus.pipeline import builtin_corpus_dir, load_corpus
    from policyqa.eval.questions import load_questions, select_split
    from policyqa.eval.run import CONFIGS, index_for, run_config
    from policyqa.index.milvus_store import MilvusConfig, MilvusStore

    questions, _ = load_questions(str(questions_path))
    questions = select_split(questions, split)
    docs = list(load_corpus(corpus or [builtin_corpus_dir()]).documents)
    out: dict[str, Any] = {"questions": str(questions_path), "split": split, "n_questions": len(questions)}
    cfg0 = CONFIGS["default"]
    local = index_for(cfg0, docs, workdir / "eval-indexes", embedder, tokenizer, progress=True)
    t0 = time.perf_counter()
    uri = workdir / f"milvus-{questions_path.stem}.db"
    shutil.rmtree(uri, ignore_errors=True)
    milvus = MilvusStore.from_store(local, MilvusConfig(str(uri)))
    out["migrate_seconds"] = round(time.perf_counter() - t0, 2)
    out["n_chunks"] = local.n_chunks
    for name in configs:
        cfg = CONFIGS[name]
        runs = {}
        for label, store in (("inprocess", local), ("milvus", milvus)):
            runs[label] = run_config(cfg, questions, docs, workdir, embedder, tokenizer, progress=False, store=store)
        a, b = runs["inprocess"], runs["milvus"]
        keys = ("recall@5", "mrr@10", "facts_all", "refusal_rate", "false_refusal_rate", "latency_ms_p50")
        row = {label: {k: r.summary.get(k) for k in keys} for label, r in runs.items()}
        tops_a = [d["top"] for d in a.details]
        tops_b = [d["top"] for d in b.details]
        row["same_top3"] = round(sum(x == y for x, y in zip(tops_a, tops_b)) / max(1, len(tops_a)), 3)
        row["same_answer"] = round(sum(x["answer"] == y["answer"] for x, y in zip(a.details, b.details)) / max(1, len(a.details)), 3)
        row["delta"] = {k: (round(row["milvus"][k] - row["inprocess"][k], 4)
                            if isinstance(row["milvus"][k], (int, float)) and isinstance(row["inprocess"][k], (int, float)) else None)
                        for k in ("recall@5", "mrr@10", "facts_all")}
        out[name] = row
        print(f"[{questions_path.stem} {name}] {json.dumps(row, ensure_ascii=False)}", file=sys.stderr, flush=True)
    milvus.close()
    return out


# --- scale ------------------------------------------------------------------------------


def _real_query_vectors(queries: Sequence[str], embedder) -> np.ndarray:
    from policyqa.corpus.clean import normalize_query

    return np.asarray(embedder.encode_queries([normalize_query(q) for q in queries]), dtype=np.float32)


def scale(n: int, workdir: Path, queries: Sequence[str], qvecs: np.ndarray, base_vectors: np.ndarray, seed: int = 0,
          reuse: bool = False, backends: Sequence[str] = ("inprocess", "milvus-lite")) -> dict[str, Any]:
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.eval.bench import PrecomputedEmbedder, synthetic_corpus, synthetic_vectors
    from policyqa.index.dense import l2_normalize
    from policyqa.index.milvus_store import MilvusConfig, MilvusStore
    from policyqa.index.store import IndexStore
    from policyqa.index.tokenize import JiebaTokenizer

    real = list(load_corpus().documents)
    docs, chunks = synthetic_corpus(real, chunk_documents(real), n + 20, seed=seed)
    extra_doc = docs[-1]  # the last synthetic document (20 chunks) is the one added and removed
    extra_chunks = [c for c in chunks if c.doc_id == extra_doc.doc_id]
    docs, chunks = docs[:-1], [c for c in chunks if c.doc_id != extra_doc.doc_id]
    all_chunks = chunks + extra_chunks
    vecs = synthetic_vectors(len(all_chunks), base_vectors, seed=seed)

    class QueryEmb:
        name, backend, dim = "bench", "precomputed", int(qvecs.shape[1])

        def encode_queries(self, texts):
            return qvecs[[queries.index(t) if t in queries else 0 for t in texts]]

    emb = PrecomputedEmbedder([c.indexed_text() for c in all_chunks], vecs, "bench", "precomputed", QueryEmb())
    from policyqa.eval.bench import _TimedTokenizer

    tok = _TimedTokenizer(JiebaTokenizer())
    tok.userdict, tok.stopwords, tok.hmm = tok.inner.userdict, tok.inner.stopwords, tok.inner.hmm  # for Milvus's analyzer
    settings = {"bench": n}
    out: dict[str, Any] = {"n_chunks": len(chunks)}
    qn = [q for q in queries]
    for label in backends:
        r: dict[str, Any] = {}
        t0 = time.perf_counter()
        ix, uri = workdir / f"ix-{n}", workdir / f"m-{n}.db"
        if reuse and label == "inprocess" and (ix / "manifest.json").exists():
            store = IndexStore.load(ix, emb, tokenizer=tok)
            r["load_s"] = round(time.perf_counter() - t0, 2)
        elif reuse and label == "milvus-lite" and uri.exists():
            store = MilvusStore.load(MilvusConfig(str(uri)), emb, tokenizer=tok)
            r["load_s"] = round(time.perf_counter() - t0, 2)
        elif label == "inprocess":
            store = IndexStore.build(docs, chunks, emb, tok, ix, chunker_settings=settings, progress=False)
            r["build_s"] = round(time.perf_counter() - t0, 2)
        else:
            shutil.rmtree(uri, ignore_errors=True)
            store = MilvusStore.build(docs, chunks, emb, tok, MilvusConfig(str(uri)), chunker_settings=settings, progress=False)
            r["build_s"] = round(time.perf_counter() - t0, 2)
        print(f"[scale {n} {label}] ready {r}", file=sys.stderr, flush=True)
        from policyqa.index.hybrid import RetrievalConfig

        for mode in ("bm25", "dense", "hybrid"):
            ret = store.retriever(RetrievalConfig(mode=mode))
            ret.search(qn[0], 10)  # warm
            times = []
            for q in qn:
                t = time.perf_counter()
                ret.search(q, 10)
                times.append(time.perf_counter() - t)
            r[f"query_{mode}"] = _lat(times)
        tok.seconds = 0.0
        t = time.perf_counter()
        store.add([extra_doc], extra_chunks)
        t1 = time.perf_counter()
        store.save()
        t2 = time.perf_counter()
        r["add_20_chunks_s"] = round(t1 - t, 3)
        r["add_tokenize_s"] = round(tok.seconds, 3)  # jieba time inside add (in-process BM25 re-index)
        r["add_save_s"] = round(t2 - t1, 3)
        tok.seconds = 0.0
        t = time.perf_counter()
        store.remove(extra_doc.doc_id)
        t1 = time.perf_counter()
        store.save()
        r["remove_20_chunks_s"] = round(t1 - t, 3)
        r["remove_tokenize_s"] = round(tok.seconds, 3)
        r["remove_save_s"] = round(time.perf_counter() - t1, 3)
        out[label] = r
        print(f"[scale {n} {label}] {json.dumps(r)}", file=sys.stderr, flush=True)
        if label == "milvus-lite":
            store.close()
        del store
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m policyqa.eval.bench_milvus", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    q = sub.add_parser("quality", help="recall@5 / MRR@10 of Milvus vs in-process on the team (and NCP) sets")
    q.add_argument("--ncp", help="the NCP set's folder (questions: dev.jsonl, corpus: corpus.jsonl)")
    q.add_argument("--split", default="test", choices=("tune", "test", "all"))
    q.add_argument("--configs", nargs="+", default=["default", "bm25"])
    s = sub.add_parser("scale", help="build, query, add/remove at synthetic sizes")
    s.add_argument("--sizes", nargs="+", type=int, default=[2000, 100_000])
    s.add_argument("--queries", type=int, default=30)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--reuse", action="store_true", help="load the indexes a previous run left in --workdir instead of building")
    s.add_argument("--backends", nargs="+", default=["inprocess", "milvus-lite"], choices=("inprocess", "milvus-lite"))
    for x in (q, s):
        x.add_argument("--workdir", help="keep indexes here (default: a temporary directory; quality reuses $POLICYQA_HOME/eval-indexes)")
        x.add_argument("--out", help="write the JSON result here too")
    args = p.parse_args(argv)
    from policyqa.index.embeddings import load_embedder
    from policyqa.index.tokenize import JiebaTokenizer

    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="bench-milvus-")
        workdir = Path(tmp)
    embedder = load_embedder()
    result: dict[str, Any] = {"command": "python -m policyqa.eval.bench_milvus " + " ".join(argv if argv is not None else sys.argv[1:])}
    try:
        if args.what == "quality":
            from policyqa.settings import Settings

            cache_home = Settings.from_env().home
            tok = JiebaTokenizer()
            result["team"] = quality(TEAM, None, cache_home if not args.workdir else workdir, args.split, embedder, tok, args.configs)
            if args.ncp:
                ncp = Path(args.ncp)
                result["ncp"] = quality(ncp / "dev.jsonl", [str(ncp / "corpus.jsonl")], cache_home if not args.workdir else workdir,
                                        args.split, embedder, tok, args.configs)
        else:
            from policyqa.eval.bench import load_queries
            from policyqa.corpus.pipeline import chunk_documents, load_corpus

            queries = load_queries(args.queries)
            qvecs = _real_query_vectors(queries, embedder)
            real = list(load_corpus().documents)
            real_chunks = chunk_documents(real)
            base = np.asarray(embedder.encode_documents([c.indexed_text() for c in real_chunks[:200]]), dtype=np.float32)
            from policyqa.corpus.clean import normalize_query

            queries = [normalize_query(q) for q in queries]
            for n in args.sizes:
                result[f"scale_{n}"] = scale(n, workdir, queries, qvecs, base, seed=args.seed, reuse=args.reuse,
                                             backends=args.backends)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
